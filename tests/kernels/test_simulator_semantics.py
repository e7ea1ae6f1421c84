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

from accel_spec.types import Dataflow, OpClass, Operand, Precision
from compiler.target import level_of
from compiler.target.isa import Engine
from simulator.kernels.engines import (
    COL_BUSY,
    COL_CYCLES,
    COL_DRAM_READ,
    COL_DRAM_WRITE,
    COL_MACS,
    COL_ONCHIP_READ,
    COL_ONCHIP_WRITE,
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
    machine = make_machine(dram_bytes_per_cycle=1e9, latency=5)
    b = ProgramBuilder(machine)
    x = b.load(Operand.INPUT, 60)
    w = b.load(Operand.WEIGHT, 42)
    g = b.gemm(10, 6, 7, dataflow, deps=[x, w])
    b.store(Operand.OUTPUT, 280, deps=[g])
    counts = simulate(b.build(), machine)

    load_time = 1 + 1 + 5  # two one-cycle transfers back to back on the channel, then latency
    store_time = 1 + 5
    gemm = HAND_GEMM_CYCLES[dataflow]
    cycles = load_time + gemm + store_time
    assert total_cycles(counts) == cycles
    assert counts.counters[0, COL_CYCLES] == cycles
    assert counts.counters[0, COL_BUSY + Engine.MATRIX] == gemm
    # before the GEMM: its operands arriving; after it: the output's store (both DRAM)
    assert stall(counts, Engine.MATRIX, StallCause.DRAM) == load_time + store_time
    assert stall(counts, Engine.STORE, StallCause.DEPENDENCY) == load_time + gemm
    assert stall(counts, Engine.STORE, StallCause.DRAM) == 5  # the store's own latency
    assert busy_plus_stalls(counts, Engine.MATRIX) == busy_plus_stalls(counts, Engine.STORE) == cycles


def busy_plus_stalls(counts, engine: Engine, layer: int = 0) -> int:
    first = COL_STALL + engine * N_CAUSES
    return int(counts.counters[layer, COL_BUSY + engine] + counts.counters[layer, first : first + N_CAUSES].sum())


@SIMULATORS
def test_load_only_takes_bytes_over_bandwidth_plus_latency(simulate):
    machine = make_machine(dram_bytes_per_cycle=0.5, burst=16, latency=7)
    b = ProgramBuilder(machine)
    for _ in range(3):
        b.load(Operand.WEIGHT, 96)
    counts = simulate(b.build(), machine)
    assert total_cycles(counts) == 3 * 96 / 0.5 + 7
    assert counts.counters[0, COL_BUSY + Engine.LOAD] == 3 * 96 / 0.5
    assert stall(counts, Engine.LOAD, StallCause.DRAM) == 7  # the last load's data in flight


@SIMULATORS
@pytest.mark.parametrize("nbytes", [64 * 34, 340 * 64, 1000])
def test_transfer_rounding_on_a_fractional_bandwidth(simulate, nbytes):
    """34 GB/s at 700 MHz: 340/7 bytes per cycle; exact quotients are not charged an extra cycle."""
    machine = make_machine(dram_bytes_per_cycle=34e9 / 7e8, burst=64, latency=0)
    b = ProgramBuilder(machine)
    b.load(Operand.INPUT, nbytes)
    counts = simulate(b.build(), machine)
    rounded = math.ceil(nbytes / 64) * 64
    assert total_cycles(counts) == math.ceil(Fraction(rounded) / Fraction(340, 7))


@SIMULATORS
def test_onchip_transfers_use_the_buffer_ports_not_the_channel(simulate):
    """Base machine: activations read port 16 B/cycle, weights write port 4 B/cycle, DRAM 8 B/cycle.

    A 64 B LOAD from the activations buffer takes 64/16 = 4 cycles on its read port, no DRAM
    latency; meanwhile a DRAM load runs on the channel. A 10 B STORE into the weights buffer
    takes ceil(10/4) = 3 cycles on its write port.
    """
    machine = make_machine(latency=5)
    b = ProgramBuilder(machine)
    onchip = b.load(Operand.WEIGHT, 64, level=level_of(0))
    dram = b.load(Operand.INPUT, 32)
    kept = b.store(Operand.OUTPUT, 10, level=level_of(1))
    counts = simulate(b.build(), machine)
    assert (counts.start[onchip], counts.end[onchip]) == (0, 4)
    assert (counts.start[dram], counts.end[dram]) == (4, 4 + 4 + 5)  # LOAD engine is in order
    assert (counts.start[kept], counts.end[kept]) == (0, 3)
    assert counts.counters[0, COL_DRAM_READ : COL_DRAM_READ + 3].sum() == 32
    assert counts.counters[0, COL_DRAM_WRITE : COL_DRAM_WRITE + 3].sum() == 0
    assert (counts.counters[0, COL_ONCHIP_READ], counts.counters[0, COL_ONCHIP_WRITE]) == (64, 10)
    activations, weights = counts.sram_bits[0]
    assert activations[SRAM_READ] == (64 + 10) * 8  # the on-chip load's source, the store's source
    assert weights[SRAM_WRITE] == (64 + 10) * 8  # the on-chip load lands here, and the store


@SIMULATORS
def test_pipelined_folds_overlap_the_next_load_and_the_drain(simulate):
    """WS on a 4×4 array with a double-buffered stationary operand, by hand.

    GEMM 1: 6×8·8×8, 2·2 = 4 folds of T = 6 rows: its first weights shift in [0, 4), streams
    start at 4, 4 + 6, 4 + 12, 4 + 18 (max(T, R) = 6 apart); the array accepts the next stream
    at 4 + 18 + 6 = 28 and the last results drain at 28 + R + C − 2 = 34. GEMM 2 (3×4·4×4, one
    fold of T = 3) shifts its weights into the shadow copy from 22 (the last stream's start),
    ready at 26, and streams at max(28, 26) = 28: its own results at 28 + 3 + 6 = 37. Back to
    back, the second GEMM pays neither its load nor the first one's drain.
    """
    machine = make_machine(pipelined=True)
    b = ProgramBuilder(machine)
    first = b.gemm(6, 8, 8, Dataflow.WEIGHT_STATIONARY)
    second = b.gemm(3, 4, 4, Dataflow.WEIGHT_STATIONARY)
    counts = simulate(b.build(), machine)
    assert (counts.start[first], counts.end[first]) == (0, 34)
    assert (counts.start[second], counts.end[second]) == (28, 37)
    assert counts.counters[0, COL_BUSY + Engine.MATRIX] == 37
    serial = 4 * (6 + 8 + 4 - 2) + (3 + 8 + 4 - 2)  # the fold model: 72 + 13
    assert simulate(b.build(), make_machine()).end[second] == serial


@SIMULATORS
def test_a_continued_fold_pays_its_load_fill_and_drain_once(simulate):
    """WS on a 4×4 array, one fold (k = n = 4) streamed in pieces of 4 and 6 rows.

    Back to back the two GEMMs cost the fold of 10 rows: 10 + 2R + C − 2 = 20 cycles, the
    second only its 6 rows. After a gap (waiting 50 cycles for a load) the continuation
    streams its 6 rows and drains on its own (R + C − 2 = 6), without reloading weights;
    the array is busy only while it streams.
    """
    machine = make_machine(dram_bytes_per_cycle=1.0, burst=1, latency=0)
    b = ProgramBuilder(machine)
    first = b.gemm(4, 4, 4, Dataflow.WEIGHT_STATIONARY)
    second = b.gemm(6, 4, 4, Dataflow.WEIGHT_STATIONARY, continues=True)
    counts = simulate(b.build(), machine)
    assert (counts.end[first], counts.end[second]) == (14, 20)
    assert counts.end[second] == HAND_FOLD_OF_TEN_ROWS

    b = ProgramBuilder(machine)
    b.gemm(4, 4, 4, Dataflow.WEIGHT_STATIONARY)
    late = b.load(Operand.INPUT, 50)  # on the channel [0, 50)
    after_gap = b.gemm(6, 4, 4, Dataflow.WEIGHT_STATIONARY, continues=True, deps=[late])
    counts = simulate(b.build(), machine)
    assert (counts.start[after_gap], counts.end[after_gap]) == (50, 50 + 6 + 6)
    assert counts.counters[0, COL_BUSY + Engine.MATRIX] == 14 + 6

    pipelined = make_machine(pipelined=True)
    b = ProgramBuilder(pipelined)
    b.gemm(4, 4, 4, Dataflow.WEIGHT_STATIONARY)  # weights in [0, 4), stream [4, 8), drain to 14
    streamed_on = b.gemm(6, 4, 4, Dataflow.WEIGHT_STATIONARY, continues=True)
    counts = simulate(b.build(), pipelined)
    assert (counts.start[streamed_on], counts.end[streamed_on]) == (8, 8 + 6 + 6)


HAND_FOLD_OF_TEN_ROWS = 10 + 2 * 4 + 4 - 2


@SIMULATORS
def test_pieces_of_a_fold_broken_by_a_gap_drain_on_their_own_and_end_in_stream_order(simulate):
    """WS on a 4×4 array: a fold of 4 rows [0, 14), its continuation of 6 rows waits for a
    load until 50 and drains on its own, [50, 62); a piece of 2 rows streams right after it,
    [56, 58), and its rows leave the array after the 6 ahead of them, R + C − 2 = 6 later:
    it ends at 64, not at 58 (before the piece ahead of it, as if the gap had not broken the
    fold's stream). A fold that streams unbroken still pays one drain (the test above)."""
    machine = make_machine(dram_bytes_per_cycle=1.0, burst=1, latency=0)
    b = ProgramBuilder(machine)
    b.gemm(4, 4, 4, Dataflow.WEIGHT_STATIONARY)
    late = b.load(Operand.INPUT, 50)
    after_gap = b.gemm(6, 4, 4, Dataflow.WEIGHT_STATIONARY, continues=True, deps=[late])
    behind = b.gemm(2, 4, 4, Dataflow.WEIGHT_STATIONARY, continues=True)
    counts = simulate(b.build(), machine)
    assert (counts.start[after_gap], counts.end[after_gap]) == (50, 62)
    assert (counts.start[behind], counts.end[behind]) == (56, 56 + 2 + 6)
    assert counts.counters[0, COL_BUSY + Engine.MATRIX] == 14 + 6 + 2

    b = ProgramBuilder(machine)  # a new fold streams unbroken again: its piece pays no drain of its own
    b.gemm(4, 4, 4, Dataflow.WEIGHT_STATIONARY)
    late = b.load(Operand.INPUT, 50)
    b.gemm(6, 4, 4, Dataflow.WEIGHT_STATIONARY, continues=True, deps=[late])
    fold = b.gemm(4, 4, 4, Dataflow.WEIGHT_STATIONARY)
    piece = b.gemm(6, 4, 4, Dataflow.WEIGHT_STATIONARY, continues=True)
    counts = simulate(b.build(), machine)
    assert counts.end[piece] - counts.start[fold] == HAND_FOLD_OF_TEN_ROWS


@SIMULATORS
def test_a_mapping_that_keeps_some_pes_busy_stretches_the_folds(simulate):
    """12 of the 4×4 array's 16 PEs busy: the WS fold of 10 rows, 20 cycles on 16 PEs, takes
    ceil(20 · 16 / 12) = 27."""
    machine = make_machine()
    b = ProgramBuilder(machine)
    g = b.gemm(10, 4, 4, Dataflow.WEIGHT_STATIONARY, active=12)
    counts = simulate(b.build(), machine)
    assert counts.end[g] == 27


@SIMULATORS
def test_stall_causes(simulate):
    machine = make_machine(dram_bytes_per_cycle=8.0, burst=16, latency=5)
    b = ProgramBuilder(machine)
    x = b.load(Operand.INPUT, 80)  # [0, 10) on the channel, data at 15
    g = b.gemm(4, 4, 4, Dataflow.OUTPUT_STATIONARY, deps=[x])  # waits 15 for DRAM; [15, 25)
    v = b.vec(OpClass.ELEMENTWISE, 16, deps=[g])  # waits 25 for the GEMM: dependency; [25, 29)
    x2 = b.load(Operand.INPUT, 16, deps=[g])  # LOAD free at 10, waits for the GEMM (25): buffer
    b.store(Operand.OUTPUT, 16, deps=[v])  # channel free at 27, waits for the VEC (29): dependency
    counts = simulate(b.build(), machine)  # the store ends the layer at 29 + 2 + 5 = 36 (DRAM)
    assert stall(counts, Engine.MATRIX, StallCause.DRAM) == 15 + (36 - 25)
    assert stall(counts, Engine.VECTOR, StallCause.DEPENDENCY) == 25
    assert stall(counts, Engine.VECTOR, StallCause.DRAM) == 36 - 29
    assert stall(counts, Engine.LOAD, StallCause.BUFFER) == 25 - 10
    assert stall(counts, Engine.LOAD, StallCause.DRAM) == 36 - 27
    assert stall(counts, Engine.STORE, StallCause.DEPENDENCY) == 29
    assert stall(counts, Engine.STORE, StallCause.DRAM) == 5
    assert counts.start[x2] == 25 and counts.end[x2] == 25 + 2 + 5
    for engine in Engine:
        assert busy_plus_stalls(counts, engine) == 36


@SIMULATORS
def test_dependency_kinds(simulate):
    """Waiting for a STORE to drain a slot or for compute to free one is BUFFER; for data from
    DRAM (a LOAD's, or a refill after a DRAM STORE) DRAM; for a computed result DEPENDENCY;
    a tie between the channel and a dependency goes to DRAM."""
    machine = make_machine(dram_bytes_per_cycle=1.0, burst=1, latency=0)
    b = ProgramBuilder(machine)
    s = b.store(Operand.OUTPUT, 12)  # [0, 12) on the channel
    g = b.gemm(4, 4, 4, Dataflow.WEIGHT_STATIONARY)  # [0, 14): 1·1·(4+8+4-2)
    v = b.vec(OpClass.ELEMENTWISE, 48, deps=[s])  # waits 12 for the store's slot: buffer; [12, 24)
    b.gemm(4, 4, 4, Dataflow.WEIGHT_STATIONARY, deps=[s, v])  # waits 24 - 14 for the VEC
    b.vec(OpClass.ELEMENTWISE, 4, deps=[g, s])  # the GEMM binds at 14 but the engine is busy to 24
    refill = b.load(Operand.OUTPUT, 4, deps=[s])  # channel free at 12 = the store's end: DRAM
    counts = simulate(b.build(), machine)
    assert counts.end[g] == 14
    assert stall(counts, Engine.VECTOR, StallCause.BUFFER) == 12
    assert stall(counts, Engine.MATRIX, StallCause.DEPENDENCY) == 24 - 14
    assert stall(counts, Engine.LOAD, StallCause.DRAM) == 12
    assert (counts.start[refill], counts.end[refill]) == (12, 16)


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
    machine = make_machine(operand_precision=Precision.INT4)  # activations: input+output
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
    machine = make_machine(dram_bytes_per_cycle=1e9, latency=0)
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
            latency=int(rng.integers(0, 40)),
            pipelined=bool(rng.integers(0, 2)),
        )
        yield random_program(rng, machine, int(rng.integers(20, 300)), layers=4), machine


def test_invariants_on_random_programs():
    for program, machine in _random_cases(60):
        counts = execute(program, machine)
        total = total_cycles(counts)
        assert counts.counters[:, COL_CYCLES].sum() == total
        for engine in Engine:
            busy = counts.counters[:, COL_BUSY + engine].sum()
            assert busy <= total
        assert np.all(counts.end >= counts.start)


def test_more_bandwidth_never_delays_anything():
    """Every start/end is a max-plus expression in durations over fixed orders, hence monotone."""
    for program, machine in _random_cases(60):
        slow = execute(program, machine)
        doubled = dataclasses.replace(machine, dram_bytes_per_cycle=2 * machine.dram_bytes_per_cycle)
        fast = execute(program, doubled)
        assert np.all(fast.end <= slow.end)
        assert total_cycles(fast) <= total_cycles(slow)
