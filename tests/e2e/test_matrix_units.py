"""Several matrix units side by side (`matrix.units`): closed-form fold times, what the chip
costs, and the decode step they let reach the DRAM roofline on the TPU v5e-class example."""

from __future__ import annotations

from pathlib import Path

import pytest

from accel_spec.types import Dataflow
from cli_runner import EXAMPLES, assert_bad_input, tessera
from compiler.target.timing import gemm_cycles
from tessera.api import load_accelerator, simulate

TPU_V5E = EXAMPLES / "tpu_v5e.yaml"
WS, OS = int(Dataflow.WEIGHT_STATIONARY), int(Dataflow.OUTPUT_STATIONARY)


def test_units_fold_like_one_wide_array_and_fill_like_one_unit() -> None:
    """m=64, k=128, n=512 weight-stationary on four 128×128 units: one fold of all 512 columns,
    64 streamed + 128 loaded + 128 + 128 − 2 fill/drain = 446 cycles. One 128×512 array fills and
    drains across 512 columns: 64 + 128 + 128 + 512 − 2 = 830. One 128×128 unit: four folds of 446."""
    assert gemm_cycles(64, 128, 512, WS, 128, 512, unit_cols=128) == 446
    assert gemm_cycles(64, 128, 512, WS, 128, 512) == 830
    assert gemm_cycles(64, 128, 512, WS, 128, 128) == 4 * 446
    # output-stationary m=256, k=50, n=300 on 2 units of 128×150: 2 × 1 folds of 50 + 128 + 150 − 2
    assert gemm_cycles(256, 50, 300, OS, 128, 300, unit_cols=150) == 2 * 326


def test_four_units_cost_four_arrays_of_area_and_peak(tmp_path: Path) -> None:
    one = tmp_path / "one.yaml"
    one.write_text(TPU_V5E.read_text().replace("units: 4", "units: 1"))
    four, single = load_accelerator(TPU_V5E), load_accelerator(one)
    assert four.matrix.pes == 4 * single.matrix.pes == 4 * 128 * 128
    model = "gemm:m=8,k=128,n=128"
    area_four = simulate(TPU_V5E, model).to_json()["area_breakdown_mm2"]["matrix"]
    area_one = simulate(one, model).to_json()["area_breakdown_mm2"]["matrix"]
    assert area_four == pytest.approx(4 * area_one, rel=1e-12)


def test_units_need_the_systolic_mapping(tmp_path: Path) -> None:
    chip = tmp_path / "eyeriss_units.yaml"
    chip.write_text((EXAMPLES / "eyeriss.yaml").read_text().replace("  rows: 12", "  units: 2\n  rows: 12"))
    assert_bad_input(tessera("check-spec", str(chip)), "eyeriss_units.yaml", "matrix", "units: 2", "systolic")


LLAMA_3_8B_DECODE = "llama:layers=32,hidden=4096,heads=32,kv_heads=8,ffn=14336,vocab=128256,phase=decode,kv_len=4096"
LAYERS, HIDDEN, KV_WIDTH, FFN, VOCAB, CACHED = 32, 4096, 8 * 128, 14336, 128256, 4096
WEIGHTS = LAYERS * (2 * HIDDEN * HIDDEN + 2 * HIDDEN * KV_WIDTH + 3 * HIDDEN * FFN) + HIDDEN * VOCAB
NORMS = (2 * LAYERS + 1) * HIDDEN  # the RMSNorm scales: two a layer and the final one
CACHE = LAYERS * 2 * KV_WIDTH * (CACHED + 1)  # K and V of every cached token and the new one
BF16 = 2


@pytest.fixture(scope="module")
def decode():
    return simulate(TPU_V5E, LLAMA_3_8B_DECODE, precision="bf16").result


def test_decode_step_reads_weights_and_cache_once(decode) -> None:
    """Reads: every weight, norm scale and cache element once (by hand: 7,504,658,432 weights,
    266,240 norm scales and 268,500,992 cache elements at 2 bytes), plus this token's embedding
    row, the rotary tables and the norms' scalars (< 64 KiB). Writes: the new token's K and V
    per layer and the logits, nothing else (the hidden-state input, read by the first norm, its
    division and the residual add, is loaded once and kept on chip with the norm's scalar)."""
    assert WEIGHTS == 7_504_658_432 and NORMS == 266_240 and CACHE == 268_500_992
    compulsory = (WEIGHTS + NORMS + CACHE) * BF16
    assert compulsory <= decode.dram_read_bytes < compulsory + 64 * 1024
    assert decode.dram_write_bytes == LAYERS * 2 * KV_WIDTH * BF16 + VOCAB * BF16


def test_decode_step_is_within_ten_percent_of_its_dram_roofline(decode) -> None:
    """819 GB/s at 1.5 GHz moves 546 bytes a cycle; four MXUs load 4 × 128 bf16 weights (1,024
    bytes) a cycle, so DRAM, not the array, bounds the step."""
    roofline = decode.dram_read_bytes / 546
    assert roofline <= decode.total_cycles <= 1.10 * roofline


def test_one_unit_is_bound_by_its_weight_path(tmp_path: Path) -> None:
    """One 128×128 MXU loads 128 weights a cycle: 7.5 G weights take at least 58.6 M cycles
    (39 ms at 1.5 GHz), twice the DRAM time — why the chip has four."""
    one = tmp_path / "one.yaml"
    one.write_text(TPU_V5E.read_text().replace("units: 4", "units: 1"))
    result = simulate(one, LLAMA_3_8B_DECODE, precision="bf16").result
    assert result.total_cycles >= WEIGHTS / 128 > 2 * result.dram_read_bytes / 546
