"""Machine semantics on hand-made programs (closed forms) and invariants on random ones.

Each hand-made case runs on both the kernel and the reference simulator.
"""

from __future__ import annotations

import dataclasses
import math
from fractions import Fraction

import numpy as np
import pytest
from programs import ProgramBuilder, make_machine, random_program

from accel_spec.types import Dataflow, Operand, OpClass
from compiler.isa import Engine
from simulator.kernels.engines import (
    COL_BUSY,
    COL_CYCLES,
    COL_MACS,
    COL_STALL,
    N_CAUSES,
    SRAM_READ,
    SRAM_WRITE,
)
from simulator.reference import simulate_reference
from simulator.result import StallCause
from simulator.run import execute

SIMULATORS = pytest.mark.parametrize(
    "simulate", [execute, simulate_reference], ids=["kernel", "reference"]
)


def stall(counts, engine: Engine, cause: StallCause, layer: int = 0) -> int:
    return int(counts.counters[layer, COL_STALL + engine * N_CAUSES + cause])


def total_cycles(counts) -> int:
    return int(counts.end.max(initial=0))


# GEMM 10×6 · 6×7 on a 4×4 array, by hand from the SCALE-Sim fold formulas
HAND_GEMM_CYCLES = {
    Dataflow.OUTPUT_STATIONARY: 3 * 2 * (6 + 4 + 4 - 2),  # ceil(10/4)·ceil(7/4)·(k+R+C-2)
    Dataflow.WEIGHT_STATIONARY: 2 * 2 * (10 + 8 + 4 - 2),  # ceil(6/4)·ceil(7/4)·(m+2R+C-2)
    Dataflow.INPUT_STATIONARY: 2 * 3 * (7 + 8 + 4 - 2),  # ceil(6/4)·ceil(10/4)·(n+2R+C-2)
}


@SIMULATORS
@pytest.mark.parametrize("dataflow", list(Dataflow))
def test_single_gemm_closed_form(simulate, dataflow):
    machine = make_machine(dram_bytes_per_cycle=1e9, latency_cycles=5, outstanding=4)
    b = ProgramBuilder(machine)
    x = b.load(Operand.INPUT, 60)
    w = b.load(Operand.WEIGHT, 42)
    g = b.gemm(10, 6, 7, dataflow, deps=[x, w])
    b.store(Operand.OUTPUT, 280, deps=[g])
    counts = simulate(b.build(), machine)

    load_time = 1 + 1 + 5  # two one-cycle transfers back to back on the channel, then latency
    store_time = 1 + 5
    gemm = HAND_GEMM_CYCLES[dataflow]
    assert total_cycles(counts) == load_time + gemm + store_time
    assert counts.counters[0, COL_CYCLES] == load_time + gemm + store_time
    assert counts.counters[0, COL_BUSY + Engine.MATRIX] == gemm
    assert stall(counts, Engine.MATRIX, StallCause.DRAM) == load_time
    assert stall(counts, Engine.STORE, StallCause.DEPENDENCY) == load_time + gemm


@SIMULATORS
def test_load_only_takes_bytes_over_bandwidth_plus_latency(simulate):
    machine = make_machine(dram_bytes_per_cycle=0.5, burst=16, latency_cycles=7, outstanding=8)
    b = ProgramBuilder(machine)
    for _ in range(3):
        b.load(Operand.WEIGHT, 96)
    counts = simulate(b.build(), machine)
    assert total_cycles(counts) == 3 * 96 / 0.5 + 7
    assert counts.counters[0, COL_BUSY + Engine.LOAD] == 3 * 96 / 0.5
    assert stall(counts, Engine.LOAD, StallCause.DRAM) == 0


@SIMULATORS
@pytest.mark.parametrize("nbytes", [64 * 34, 340 * 64, 1000])
def test_transfer_rounding_on_a_fractional_bandwidth(simulate, nbytes):
    """34 GB/s at 700 MHz: 340/7 bytes per cycle; exact quotients are not charged an extra cycle."""
    machine = make_machine(dram_bytes_per_cycle=34e9 / 7e8, burst=64, latency_cycles=0)
    b = ProgramBuilder(machine)
    b.load(Operand.INPUT, nbytes)
    counts = simulate(b.build(), machine)
    rounded = math.ceil(nbytes / 64) * 64
    assert total_cycles(counts) == math.ceil(Fraction(rounded) / Fraction(340, 7))


@SIMULATORS
@pytest.mark.parametrize("outstanding, expected", [(1, 4 * (1 + 100)), (2, 101 + 102), (4, 4 + 100)])
def test_outstanding_limit(simulate, outstanding, expected):
    """Four one-cycle loads with 100-cycle latency: Q bounds how many overlap their latency.

    Q = 2: loads 0 and 1 issue at 0 and 1 (done 101, 102); load 2 waits for load 0 (issues at
    101), load 3 for load 1 (issues at 102, done 203).
    """
    machine = make_machine(dram_bytes_per_cycle=1e9, latency_cycles=100, outstanding=outstanding)
    b = ProgramBuilder(machine)
    for _ in range(4):
        b.load(Operand.INPUT, 16)
    counts = simulate(b.build(), machine)
    assert total_cycles(counts) == expected
    assert stall(counts, Engine.LOAD, StallCause.DRAM) == expected - 100 - 4


@SIMULATORS
def test_stall_causes(simulate):
    machine = make_machine(dram_bytes_per_cycle=8.0, burst=16, latency_cycles=5, outstanding=4)
    b = ProgramBuilder(machine)
    x = b.load(Operand.INPUT, 80)  # [0, 10) on the channel, data at 15
    g = b.gemm(4, 4, 4, Dataflow.OUTPUT_STATIONARY, deps=[x])  # waits 15 for DRAM; 10 cycles
    v = b.vec(OpClass.ELEMENTWISE, 16, deps=[g])  # waits 25 for the GEMM: dependency; 4 cycles
    x2 = b.load(Operand.INPUT, 16, deps=[g])  # LOAD free at 10, waits for the GEMM (25): buffer
    b.store(Operand.OUTPUT, 16, deps=[v])  # channel free at 27, waits for the VEC (29): dependency
    counts = simulate(b.build(), machine)
    assert stall(counts, Engine.MATRIX, StallCause.DRAM) == 15
    assert stall(counts, Engine.VECTOR, StallCause.DEPENDENCY) == 25
    assert stall(counts, Engine.LOAD, StallCause.BUFFER) == 25 - 10
    assert stall(counts, Engine.STORE, StallCause.DEPENDENCY) == 29
    assert counts.start[x2] == 25 and counts.end[x2] == 25 + 2 + 5
    assert counts.counters[0, COL_STALL : COL_STALL + 4 * N_CAUSES].sum() == 15 + 25 + 15 + 29


@SIMULATORS
def test_stall_ties_go_to_dram(simulate):
    machine = make_machine(dram_bytes_per_cycle=1.0, burst=1, latency_cycles=0, outstanding=4)
    b = ProgramBuilder(machine)
    s = b.store(Operand.OUTPUT, 12)  # holds the channel for [0, 12)
    g = b.gemm(4, 4, 4, Dataflow.WEIGHT_STATIONARY)  # [0, 12): ceil(4/4)·ceil(4/4)·(4+8+4-2)=14
    v = b.vec(OpClass.ELEMENTWISE, 48, deps=[s])  # [12, 24)
    b.gemm(4, 4, 4, Dataflow.WEIGHT_STATIONARY, deps=[s, v])
    b.vec(OpClass.ELEMENTWISE, 4, deps=[g, s])  # g ends 14, s ends 12: the GEMM binds
    b.load(Operand.INPUT, 4, deps=[s])  # channel free at 12 and the STORE ends at 12: DRAM
    counts = simulate(b.build(), machine)
    assert counts.end[g] == 14
    assert stall(counts, Engine.VECTOR, StallCause.DRAM) == 12
    assert stall(counts, Engine.VECTOR, StallCause.DEPENDENCY) == 0  # second VEC starts at 24
    assert stall(counts, Engine.MATRIX, StallCause.DEPENDENCY) == 24 - 14
    assert stall(counts, Engine.LOAD, StallCause.DRAM) == 12


@SIMULATORS
def test_layer_cycles_without_barriers(simulate):
    """A layer that finishes inside an earlier layer's time adds no cycles."""
    machine = make_machine()
    b = ProgramBuilder(machine, ("long", "short", "empty", "tail"))
    b.gemm(16, 16, 16, Dataflow.OUTPUT_STATIONARY, layer=0)  # 16·22 = 352 cycles
    b.vec(OpClass.ELEMENTWISE, 40, layer=1)  # 10 cycles, overlapping
    b.vec(OpClass.ELEMENTWISE, 4000, layer=3)  # ends at 10 + 1000
    counts = simulate(b.build(), machine)
    assert counts.counters[:, COL_CYCLES].tolist() == [352, 0, 0, 1010 - 352]


@SIMULATORS
def test_sram_traffic_follows_operand_buffers_and_precisions(simulate):
    machine = make_machine(input_bits=4, accumulator_bits=32)  # activations: input+output
    b = ProgramBuilder(machine)
    b.load(Operand.WEIGHT, 30)
    b.gemm(10, 6, 7, Dataflow.OUTPUT_STATIONARY, accumulate=True)
    b.vec(OpClass.REDUCTION, 5)
    b.store(Operand.OUTPUT, 9)
    counts = simulate(b.build(), machine)
    activations, weights = counts.sram_bits[0]
    input_reads, weight_reads, outputs = 10 * 6 * 2, 6 * 7 * 3, 10 * 7
    assert weights[SRAM_WRITE] == 30 * 8
    assert weights[SRAM_READ] == weight_reads * 4
    assert activations[SRAM_READ] == input_reads * 4 + outputs * 32 + 5 * 32 + 9 * 8
    assert activations[SRAM_WRITE] == outputs * 32 + 5 * 32


@SIMULATORS
def test_packed_groups_take_the_packed_pass_and_count_only_useful_work(simulate):
    """Three 10×2·2×1 products packed block-diagonally on a 4×4 WS array: one pass of the
    10×6·6×3 product, 3·10·2·1 MACs, and only the three 2×1 weight blocks read."""
    machine = make_machine(dram_bytes_per_cycle=1e9, latency_cycles=0)
    b = ProgramBuilder(machine)
    b.gemm(10, 2, 1, Dataflow.WEIGHT_STATIONARY, groups=3)
    counts = simulate(b.build(), machine)
    packed = 2 * 1 * (10 + 2 * 4 + 4 - 2)  # ceil(6/4)·ceil(3/4)·(m+2R+C-2)
    one_group = 1 * 1 * (10 + 2 * 4 + 4 - 2)
    assert total_cycles(counts) == packed < 3 * one_group
    assert counts.counters[0, COL_MACS] == 3 * 10 * 2 * 1
    activations, weights = counts.sram_bits[0]
    assert weights[SRAM_READ] == 3 * 2 * 1 * 8
    passes, outputs = 2, 10 * 3
    assert activations[SRAM_READ] == 10 * 6 * 1 * 8 + outputs * (passes - 1) * 32
    assert activations[SRAM_WRITE] == outputs * passes * 32


def _random_cases(count: int):
    rng = np.random.default_rng(2024)
    for _ in range(count):
        machine = make_machine(
            dram_bytes_per_cycle=float(rng.choice([0.5, 3.0, 34e9 / 7e8])),
            latency_cycles=int(rng.integers(0, 40)),
            outstanding=int(rng.integers(1, 6)),
        )
        yield random_program(rng, machine, int(rng.integers(20, 300)), layers=4), machine


def test_invariants_on_random_programs():
    for program, machine in _random_cases(60):
        counts = execute(program, machine)
        total = total_cycles(counts)
        assert counts.counters[:, COL_CYCLES].sum() == total
        for engine in Engine:
            busy = counts.counters[:, COL_BUSY + engine].sum()
            first = COL_STALL + engine * N_CAUSES
            idle = counts.counters[:, first : first + N_CAUSES].sum()
            assert busy <= total
            assert busy + idle <= total
        assert np.all(counts.end >= counts.start)


def test_more_bandwidth_never_delays_anything():
    """Every start/end is a max-plus expression in durations over fixed orders, hence monotone."""
    for program, machine in _random_cases(60):
        slow = execute(program, machine)
        doubled = dataclasses.replace(machine, dram_bytes_per_cycle=2 * machine.dram_bytes_per_cycle)
        fast = execute(program, doubled)
        assert np.all(fast.end <= slow.end)
        assert total_cycles(fast) <= total_cycles(slow)
