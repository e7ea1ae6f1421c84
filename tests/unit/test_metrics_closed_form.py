"""Whole-run metrics and the roofline lower bound against values worked out by hand.

Each expected value is a literal computed in the comment beside it, never a call into the
code under test: a planted one-line bug (EDP as energy / latency, one op per MAC in TOPS/W,
a lower bound without the output bytes or without the vector unit's op-class rates) fails
here.
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from accel_spec import load_accelerator_text
from accel_spec.types import OpClass, Precision
from compiler.roofline import lower_bound_cycles, planned_dram_bytes
from compiler.target import target_of
from compiler.workload import GemmShape, Workload, WorkloadKind
from tessera.api import Simulation

CHIP = """\
name: hand
clock: 1 GHz
technology: 28 nm
matrix: {rows: 4, cols: 4, dataflows: [ws], input_precision: int8, accumulator_precision: int32}
buffers:
  inputs: {capacity: 1 MiB, holds: [input]}
  weights: {capacity: 1 MiB, holds: [weight]}
  acc: {capacity: 1 MiB, holds: [output]}
vector:
  lanes: 4
  throughput: {elementwise: 1.0, transcendental: 0.25, reduction: 0.5}
dram: {type: DDR4, bandwidth: BANDWIDTH}
"""


def chip(bandwidth: str, precision: Precision = Precision.INT8):
    return target_of(load_accelerator_text(CHIP.replace("BANDWIDTH", bandwidth), "hand.yaml"), precision)


def test_summary_metrics_of_a_run_with_round_numbers() -> None:
    # 10^9 MACs in 2 ms (2,000,000 cycles at 1 GHz) for 3 mJ.
    result = SimpleNamespace(total_cycles=2_000_000, latency_s=2e-3, energy_j=3e-3, area_mm2=1.5, macs=10**9,
                             utilization=0.25, dram_read_bytes=100, dram_write_bytes=50)
    compiled = SimpleNamespace(plan=SimpleNamespace(compulsory_bytes=(100, 50), spill_bytes=(0, 0)))
    summary = Simulation(accel=None, compiled=compiled, result=result).summary()
    assert (summary["dram_compulsory_bytes"], summary["dram_spill_bytes"]) == (150, 0)
    assert summary["edp_js"] == pytest.approx(6e-6, rel=1e-12)  # 3 mJ × 2 ms = 6 µJ·s
    assert summary["power_w"] == pytest.approx(1.5, rel=1e-12)  # 3 mJ / 2 ms
    assert summary["throughput_ops_s"] == pytest.approx(1e12, rel=1e-12)  # 2 ops per MAC: 2·10^9 / 2 ms
    assert summary["tops_per_w"] == pytest.approx(2e9 / 3e-3 / 1e12, rel=1e-12)  # 2·10^9 ops / 3 mJ = 0.667 TOPS/W
    assert summary["tops_per_w"] == pytest.approx(0.6666666666666666, rel=1e-12)


def test_the_memory_bound_counts_the_output_bytes() -> None:
    # GEMM 64×32·32×16 at int8: input 64·32 = 2048 B, weights 32·16 = 512 B, output 64·16 = 1024 B.
    gemm = Workload("mm", "MatMul", WorkloadKind.GEMM, input_elements=64 * 32, weight_elements=32 * 16,
                    output_elements=64 * 16, gemm=GemmShape(m=64, k=32, n=16))
    assert planned_dram_bytes(gemm, Precision.INT8) == 3584  # 2048 + 512 + 1024
    # 1 GB/s at 1 GHz is 1 byte per cycle: 3584 cycles; compute is 32768 MACs / 16 PEs = 2048.
    assert lower_bound_cycles(gemm, chip("1 GB/s")) == 3584
    # fp16 doubles the bytes: 7168 cycles.
    assert lower_bound_cycles(gemm, chip("1 GB/s", Precision.FP16)) == 7168
    # With bandwidth to spare, the array bounds it: 64·32·16 / 16 = 2048 cycles.
    assert lower_bound_cycles(gemm, chip("1 TB/s")) == 2048


def test_the_vector_bound_uses_each_op_class_rate() -> None:
    # Softmax-like work on 4 lanes: 4096 transcendental ops at 0.25 per lane per cycle take
    # 4096 / (4 · 0.25) = 4096 cycles; 8192 reduction steps at 0.5 take 8192 / (4 · 0.5) = 4096;
    # 1000 elementwise ops at 1.0 take 250: 8442 cycles (DRAM: 64 bytes at 1 kB per cycle).
    softmax = Workload("sm", "Softmax", WorkloadKind.VECTOR, input_elements=32, output_elements=32,
                       vector_ops={OpClass.TRANSCENDENTAL: 4096, OpClass.REDUCTION: 8192, OpClass.ELEMENTWISE: 1000})
    assert lower_bound_cycles(softmax, chip("1 TB/s")) == 8442
