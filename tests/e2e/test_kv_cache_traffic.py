"""A decode step's KV-cache traffic in closed form: the cache is read once and only the new
token's keys and values are written (the append stays in place; issue 14).

On the edge chip (int8, 1 byte an element) and the bf16 data-centre chip (2 bytes), a small
Llama decoder's cache is read straight from DRAM by the attention GEMMs. Each extra cached
token adds, per layer, its keys and its values for every KV head: layers × 2 × kv_heads ×
head_dim × bytes, worked out below by hand. Nothing written depends on the cache's length.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tessera.api import simulate

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "accelerators"
LAYERS, HIDDEN, HEADS, KV_HEADS = 2, 512, 8, 2
HEAD_DIM = HIDDEN // HEADS  # 64


def _decode(chip: str, kv_len: int) -> dict:
    model = f"llama:layers={LAYERS},hidden={HIDDEN},heads={HEADS},kv_heads={KV_HEADS},vocab=1000,phase=decode,kv_len={kv_len}"
    return simulate(EXAMPLES / f"{chip}.yaml", model).summary()


@pytest.mark.parametrize(("chip", "element_bytes"), [("edge", 1), ("datacenter_bf16", 2)])
def test_each_cached_token_is_read_once_and_the_cache_is_never_rewritten(chip: str, element_bytes: int) -> None:
    short, long = _decode(chip, 256), _decode(chip, 1024)
    per_token = LAYERS * 2 * KV_HEADS * HEAD_DIM * element_bytes  # 512 B int8, 1,024 B bf16
    assert long["dram_read_bytes"] - short["dram_read_bytes"] == (1024 - 256) * per_token
    assert long["dram_write_bytes"] == short["dram_write_bytes"] >= per_token  # the new token's K and V, whatever the cache
