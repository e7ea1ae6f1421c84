"""How many tokens of KV cache a chip holds for one decoder: the one place this is derived.

Weights stay in DRAM for the whole run; what is left of DRAM holds the KV cache. Every layer
caches one key and one value vector per token for each of its kv_heads, head_dim elements each.
The cache is paged (vLLM's PagedAttention: Kwon et al., SOSP 2023): it is allocated in blocks of
`block_tokens` tokens, so it holds whole blocks and a request holds ceil(tokens / block) of them.
Weights are counted at the weights' format and the cache at the KV cache's
(`accel_spec.precision.PrecisionAssignment`, the formats the step programs are compiled for).
"""

from __future__ import annotations

from dataclasses import dataclass

from accel_spec.schema import Accelerator
from accel_spec.precision import PrecisionAssignment
from accel_spec.types import Precision
from compiler.zoo.params import ModelSpec


@dataclass(frozen=True)
class DecoderShape:
    """The dimensions of a Llama-style decoder that fix its weight and KV-cache sizes."""

    layers: int
    hidden: int
    heads: int
    kv_heads: int
    ffn: int
    vocab: int

    @classmethod
    def of(cls, spec: ModelSpec) -> DecoderShape:
        """The shape of a resolved `llama:` spec."""
        return cls(*(int(spec[name]) for name in ("layers", "hidden", "heads", "kv_heads", "ffn", "vocab")))

    @property
    def head_dim(self) -> int:
        """Elements per attention head: hidden / heads."""
        return self.hidden // self.heads

    @property
    def weight_elements(self) -> int:
        """Parameters: per layer Q and O (H² each), K and V (H·kv_heads·head_dim each), gate,
        up and down (H·F each) and two RMSNorm scales (H each); then the final norm (H), the LM
        head (H·vocab) and the token embedding table (vocab·H, held in DRAM though the zoo graph
        starts from embedded tokens) — the matrices of `compiler/zoo/llama.py`."""
        h, kv = self.hidden, self.kv_heads * self.head_dim
        per_layer = 2 * h * h + 2 * h * kv + 3 * h * self.ffn + 2 * h
        return self.layers * per_layer + h + 2 * h * self.vocab

    @property
    def kv_elements_per_token(self) -> int:
        """Cached elements per token: a key and a value per layer and kv_head, head_dim each."""
        return 2 * self.layers * self.kv_heads * self.head_dim


@dataclass(frozen=True)
class KvBudget:
    """The chip's DRAM split between the weights and the KV cache, in bytes and tokens."""

    dram_bytes: int
    weight_bytes: int
    bytes_per_token: float
    capacity_tokens: int
    block_tokens: int = 1

    @property
    def capacity_blocks(self) -> int:
        """Blocks of `block_tokens` tokens the cache holds."""
        return self.capacity_tokens // self.block_tokens


def kv_budget(
    accel: Accelerator, shape: DecoderShape, precision: PrecisionAssignment | Precision, block_tokens: int = 1
) -> KvBudget:
    """KV capacity = (DRAM capacity − weight bytes) / KV bytes per token, in whole blocks of
    `block_tokens` tokens, counted in tokens (0 when the weights alone fill DRAM); weights at
    `precision.weights`, the cache at `precision.kv` (a `Precision` is all three)."""
    formats = PrecisionAssignment.of(precision)
    weight_bytes = int(shape.weight_elements * formats.weights.bytes)
    per_token = shape.kv_elements_per_token * formats.kv.bytes
    free = accel.dram.capacity - weight_bytes
    blocks = int(free // (per_token * block_tokens)) if free > 0 else 0
    return KvBudget(int(accel.dram.capacity), weight_bytes, per_token, blocks * block_tokens, block_tokens)
