"""Whole-pipeline closed forms: one GEMM layer at the two ends of the roofline.

With bandwidth to spare, a layer costs its systolic-array compute time (the SCALE-Sim fold
formula) plus the exposed transfer of its first operands and its last result; starved of
bandwidth, it costs its DRAM bytes over the channel rate, plus latency, give or take one
tile's compute. Both are computed here by hand from the chip's numbers, not read back from
the simulator.
"""

from __future__ import annotations

import math

import pytest

from accel_spec import load_accelerator_text
from accel_spec.types import Dataflow
from tessera.api import simulate

M, K, N = 96, 80, 72  # not multiples of the 16x16 array: partial folds included
FOLD_CYCLES = {
    # SCALE-Sim's fold formula on a 16×16 array, worked out by hand: folds × (stream + fill + drain).
    # OS: ceil(M/16)·ceil(N/16) = 6·5 folds, each K + 16 + 16 − 2 = 110 cycles.
    Dataflow.OUTPUT_STATIONARY: 6 * 5 * (80 + 16 + 16 - 2),  # 3300
    # WS: ceil(K/16)·ceil(N/16) = 5·5 folds, each M + 2·16 + 16 − 2 = 142 cycles.
    Dataflow.WEIGHT_STATIONARY: 5 * 5 * (96 + 2 * 16 + 16 - 2),  # 3550
    # IS: ceil(K/16)·ceil(M/16) = 5·6 folds, each N + 2·16 + 16 − 2 = 118 cycles.
    Dataflow.INPUT_STATIONARY: 5 * 6 * (72 + 2 * 16 + 16 - 2),  # 3540
}
CHIP = """\
name: closed-form
clock: 1 GHz
technology: 28 nm
matrix: {{rows: 16, cols: 16, dataflows: [{dataflow}], input_precision: int8, accumulator_precision: int32}}
buffers:
  inputs: {{capacity: 1 MiB, holds: [input]}}
  weights: {{capacity: 1 MiB, holds: [weight]}}
  acc: {{capacity: 1 MiB, holds: [output]}}
vector: {{lanes: 16}}
dram: {{type: DDR4, bandwidth: {bandwidth}, latency: {latency}, burst: 1 B}}
"""


def chip(dataflow: Dataflow, bandwidth: str, latency: str = "1 ns"):
    text = CHIP.format(dataflow=dataflow.label, bandwidth=bandwidth, latency=latency)
    return load_accelerator_text(text, f"closed-form-{dataflow.short}")


@pytest.mark.parametrize("dataflow", list(Dataflow), ids=lambda d: d.short)
def test_compute_bound_layer_costs_the_fold_formula(dataflow: Dataflow) -> None:
    accel = chip(dataflow, "1 TB/s")  # 1000 bytes per cycle
    run = simulate(accel, f"gemm:m={M},k={K},n={N}", verify=True)
    compute = FOLD_CYCLES[dataflow]
    # Everything fits one tile: the input and weight loads precede the GEMM, the store follows.
    exposed = math.ceil(M * K / 1000) + 1 + math.ceil(K * N / 1000) + 1 + math.ceil(M * N / 1000) + 1
    assert run.result.layers[0].compute_cycles == compute
    assert compute <= run.result.total_cycles <= compute + exposed


@pytest.mark.parametrize("dataflow", list(Dataflow), ids=lambda d: d.short)
def test_bandwidth_bound_layer_costs_its_bytes(dataflow: Dataflow) -> None:
    accel = chip(dataflow, "100 MB/s", latency="100 ns")  # 0.1 byte per cycle, 100 cycles latency
    run = simulate(accel, f"gemm:m={M},k={K},n={N}", verify=True)
    moved = run.result.dram_read_bytes + run.result.dram_write_bytes
    assert moved == M * K + K * N + M * N  # one tile: every byte moves exactly once
    transfer = moved / 0.1
    one_tile_compute = FOLD_CYCLES[dataflow]
    assert transfer <= run.result.total_cycles <= transfer + 3 * 100 + one_tile_compute + 3
