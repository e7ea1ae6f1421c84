"""Scheduling: candidate spaces, footprints, infeasibility, estimate accuracy, speed."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from codegen_cases import chip, conv, example_chip, gemm, workloads

from accel_spec.technology import resolve
from accel_spec.types import Dataflow, OpClass, Operand, Precision
from compiler.scheduling import (
    Dim,
    InfeasibleSchedule,
    Schedule,
    SchedulerKind,
    VectorSchedule,
    estimate_cycles,
    schedule_workloads,
)
from compiler.scheduling.candidates import group_options, tile_options
from compiler.scheduling.footprint import (
    constant_slice_elements,
    gemm_footprint,
    slices_constants,
    vector_footprint,
)
from compiler.scheduling.measure import measure_cycles
from compiler.scheduling.strategies import finalists
from compiler.scheduling.tiling import input_tile_elements, pass_groups, reloads, tile_sizes
from compiler.roofline import compulsory_input_elements
from compiler.target import target_of
from compiler.verify import ProgramError, verify_schedule
from compiler.workload import GemmShape, Workload, WorkloadKind

INT8 = Precision.INT8


def test_describe_matches_the_report_format():
    s = Schedule(Dataflow.WEIGHT_STATIONARY, 128, 256, 64, (Dim.N, Dim.M, Dim.K), True)
    assert s.describe() == "WS m128 k256 n64 order=NMK db"
    packed = Schedule(Dataflow.OUTPUT_STATIONARY, 784, 9, 1, (Dim.M, Dim.N, Dim.K), True, groups_per_pass=7)
    assert packed.describe() == "OS m784 k9 n1 order=MNK g7 db"
    assert VectorSchedule(16, False).describe() == "VEC chunks=16"
    assert VectorSchedule(16, True, sliced_constants=True).describe() == "VEC chunks=16 sliced db"


@pytest.mark.parametrize(
    ("dataflow", "fill"),
    [(Dataflow.WEIGHT_STATIONARY, 7), (Dataflow.OUTPUT_STATIONARY, 32), (Dataflow.INPUT_STATIONARY, 7)],
)
def test_group_options_fill_the_array_axes_the_packed_dims_occupy(dataflow, fill):
    """3×3 depthwise (K=9, N=1 per group, 32 groups) on a 64×64 array: WS packs
    min(64 // 9, 64 // 1) = 7; OS spreads only N over columns: 64 // 1, capped at the
    batch of 32; IS spreads only K over rows: 64 // 9 = 7."""
    c = target_of(chip(64, 64), INT8)
    shape = GemmShape(m=196, k=9, n=1, batch=32)
    assert group_options(shape, c, dataflow, SchedulerKind.HEURISTIC).tolist() == [1, fill]
    exhaustive = group_options(shape, c, dataflow, SchedulerKind.EXHAUSTIVE).tolist()
    assert exhaustive == sorted({1, fill} | {p for p in (2, 4, 8, 16) if p < fill})
    assert group_options(GemmShape(196, 100, 100), c, dataflow, SchedulerKind.EXHAUSTIVE).tolist() == [1]


def test_passes_of_packed_groups():
    assert [int(v) for v in pass_groups(10, 4)] == [3, 2]
    assert [int(v) for v in pass_groups(12, 4)] == [3, 4]
    assert pass_groups(10, np.array([1, 5, 10]))[1].tolist() == [1, 5, 10]


def test_packed_groups_multiply_every_tile():
    accel = chip(buffers={"ub": (1 << 20, ["input", "weight", "output"])})
    c = target_of(accel, INT8)
    w = conv("dw", 8, 8, 16, 16, 3, groups=16, side_input_elements=8 * 8 * 16)
    tiles, positions = np.array([64, 9, 1]), np.array([0, 1, 2])
    one = gemm_footprint(w, c, tiles, positions, True, 1).by_operand
    four = gemm_footprint(w, c, tiles, positions, True, 4).by_operand
    assert one.tolist() == [2 * 8 * 8, 2 * 9, 2 * (64 * 4 + 64)]
    assert (four == 4 * one).all()


def test_vector_constants_are_resident_when_broadcast_and_streamed_when_output_sized():
    accel = chip(buffers={"a": (1 << 20, ["input", "output"]), "w": (1 << 20, ["weight"])})
    c = target_of(accel, INT8)
    rotary = Workload("mul", "Mul", WorkloadKind.VECTOR, input_elements=4096, output_elements=4096,
                      weight_elements=512, vector_ops={OpClass.ELEMENTWISE: 4096})
    gather = Workload("gather", "Gather", WorkloadKind.VECTOR, input_elements=64, output_elements=4096,
                      weight_elements=4096, vector_ops={OpClass.ELEMENTWISE: 4096})
    chunks = np.array([1, 8])
    assert vector_footprint(rotary, c, chunks, True).by_operand[Operand.WEIGHT].tolist() == [512, 512]
    assert vector_footprint(gather, c, chunks, True).by_operand[Operand.WEIGHT].tolist() == [2 * 4096, 2 * 512]


def test_constant_slices_count_the_repeat_aligned_blocks_a_run_of_outputs_meets():
    """Two [8] constants on axis 1 of [1, 8, 6, 6] (period 288, repeat 36): a run of n
    outputs meets at most min(8, ⌈(n − 1) / 36⌉ + 1) channels of each; a [64] table over
    [4, 64] (repeat 1) exactly min(64, n) elements."""
    norm = Workload("bn", "BatchNormalization", WorkloadKind.VECTOR, input_elements=288, output_elements=288,
                    weight_elements=16, constant_period=288, constant_repeat=36)
    runs = np.array([1, 2, 36, 37, 38, 100, 288])
    assert constant_slice_elements(norm, runs).tolist() == [2 * b for b in (1, 2, 2, 2, 3, 4, 8)]
    table = Workload("mul", "Mul", WorkloadKind.VECTOR, input_elements=256, output_elements=256,
                     weight_elements=64, constant_period=64)
    assert constant_slice_elements(table, np.array([1, 63, 64, 65, 256])).tolist() == [1, 63, 64, 64, 64]


def test_sliced_constants_take_a_slot_per_chunk_and_only_with_a_known_broadcast():
    accel = chip(buffers={"a": (1 << 20, ["input", "output"]), "w": (1 << 20, ["weight"])})
    c = target_of(accel, INT8)
    rotary = Workload("mul", "Mul", WorkloadKind.VECTOR, input_elements=4096, output_elements=4096,
                      weight_elements=512, vector_ops={OpClass.ELEMENTWISE: 4096}, constant_period=512)
    chunks = np.array([1, 8, 64])
    weight = vector_footprint(rotary, c, chunks, np.array([True, True, False]), sliced=True).by_operand[Operand.WEIGHT]
    assert weight.tolist() == [2 * 512, 2 * 512, 64]
    assert slices_constants(rotary)
    assert not slices_constants(dataclasses.replace(rotary, constant_period=0))
    assert not slices_constants(dataclasses.replace(rotary, weight_elements=4096))  # streamed already
    unknown = dataclasses.replace(rotary, constant_period=0)
    assert vector_footprint(unknown, c, chunks, True, sliced=True).by_operand[Operand.WEIGHT].tolist() == [512] * 3
    with pytest.raises(ProgramError, match="constants sliced"):
        verify_schedule(VectorSchedule(8, True, sliced_constants=True), unknown, target_of(accel, INT8))


def test_tile_options_include_array_multiples_powers_of_two_and_the_full_dim():
    sizes = set(tile_options(100, 12, SchedulerKind.EXHAUSTIVE).tolist())
    assert {100, 12, 24, 48, 96, 1, 2, 64} <= sizes
    assert max(sizes) == 100


def test_edge_tile_sizes():
    assert tile_sizes(1000, 256).tolist() == [256, 256, 256, 232]


def test_reload_factor_by_loop_order():
    counts = np.array([[4], [3], [5]])  # M, K, N tile counts
    def positions(order):
        return np.array([[order.index(d)] for d in Dim])
    # input (M,K): reused across an innermost N loop, reloaded once per N iteration otherwise
    assert reloads(positions((Dim.M, Dim.K, Dim.N)), counts, (Dim.M, Dim.K))[0] == 1
    assert reloads(positions((Dim.N, Dim.M, Dim.K)), counts, (Dim.M, Dim.K))[0] == 5
    assert reloads(positions((Dim.M, Dim.N, Dim.K)), counts, (Dim.M, Dim.K))[0] == 5
    # weight (K,N) with M innermost is loaded once
    assert reloads(positions((Dim.K, Dim.N, Dim.M)), counts, (Dim.K, Dim.N))[0] == 1


def test_conv_window_formula():
    w = conv("c", 8, 8, 4, 4, 3)
    assert input_tile_elements(8, 36, w) == 3 * 8 * 4  # one output row: 3 input rows
    assert input_tile_elements(4, 9, w) == 3 * 6 * 1  # half a row, one channel
    assert input_tile_elements(64, 36, w) == 8 * 8 * 4  # whole layer: whole input


def test_a_stride_wider_than_the_kernel_reads_only_the_pixels_its_outputs_use():
    """ResNet's downsampling shortcut, a 1×1 convolution of stride 2 on 8×8 (4×4 outputs): a
    row of outputs reads one input row of four of its eight pixels, the whole layer a quarter
    of the input (what the roofline's compulsory traffic counts); a 3×3 of stride 2 still reads
    every row and column it spans."""
    shortcut = conv("shortcut", 8, 8, 4, 4, 1, stride=2)
    assert input_tile_elements(4, 4, shortcut) == 1 * 4 * 4  # one output row
    assert input_tile_elements(2, 4, shortcut) == 1 * 2 * 4  # half a row
    assert input_tile_elements(16, 4, shortcut) == 4 * 4 * 4  # the whole layer: every other row and column
    assert compulsory_input_elements(shortcut) == 4 * 4 * 4 == shortcut.input_elements // 4
    strided = conv("strided", 9, 9, 4, 4, 3, stride=2)  # padding 1: 5×5 outputs
    assert input_tile_elements(5, 36, strided) == 3 * 9 * 4  # one output row: 3 rows, every column
    assert compulsory_input_elements(strided) == strided.input_elements


def test_double_buffering_doubles_tiles_and_shared_buffers_add_up():
    accel = chip(buffers={"ub": (1 << 20, ["input", "weight", "output"])})
    c = target_of(accel, INT8)
    w = gemm("g", 64, 64, 64)
    tiles = np.array([32, 16, 8])
    positions = np.array([0, 2, 1])  # M, N, K: K innermost
    single = gemm_footprint(w, c, tiles, positions, False)
    double = gemm_footprint(w, c, tiles, positions, True)
    assert single.by_operand.tolist() == [32 * 16, 16 * 8, 32 * 8 * 4]
    assert (double.by_operand == 2 * single.by_operand).all()
    assert double.demand(c).tolist() == [2 * (32 * 16 + 16 * 8 + 32 * 8 * 4)]


def test_infeasible_layer_names_the_buffer_and_sizes():
    accel = chip(buffers={"spad": (1 << 20, ["input", "weight"]), "acc": (2, ["output"])})
    with pytest.raises(InfeasibleSchedule) as error:
        schedule_workloads((gemm("fc1", 4, 4, 4),), target_of(accel, INT8))
    assert error.value.workload_name == "fc1"
    assert "buffer 'acc'" in str(error.value) and "output" in str(error.value)
    assert str(error.value).startswith("layer fc1: smallest tile needs")


@pytest.mark.parametrize("kind", list(SchedulerKind))
def test_chosen_schedules_fit(kind):
    accel = example_chip("gemmini")
    cases = workloads()
    for w, s in zip(cases, schedule_workloads(cases, target_of(accel, INT8), kind)):
        verify_schedule(s, w, target_of(accel, INT8))


def test_exhaustive_is_never_slower_than_the_heuristic_finalists():
    """EXHAUSTIVE measures a superset of HEURISTIC's finalists, so it never simulates slower
    than the best of them. (Not than HEURISTIC's pick, which may be a capacity challenger that
    EXHAUSTIVE does not measure, nor than LEARNED's, whose ranker picks its own finalists.)"""
    accel = example_chip("gemmini")
    chip_numbers = target_of(accel, INT8)
    cases = workloads()
    best = schedule_workloads(cases, chip_numbers, SchedulerKind.EXHAUSTIVE)
    for w, e in zip(cases, best):
        heuristic, _, _ = finalists(w, chip_numbers, SchedulerKind.HEURISTIC)
        assert measure_cycles(w, e, chip_numbers) <= min(measure_cycles(w, s, chip_numbers) for s in heuristic)


def test_a_layer_that_fits_is_one_tile():
    accel = example_chip("tpu_v1")
    s = schedule_workloads((gemm("small", 64, 128, 96),), target_of(accel, INT8))[0]
    assert (s.tile_m, s.tile_k, s.tile_n) == (64, 128, 96)


def test_estimate_tracks_the_simulator():
    """Per layer within 25% of simulated cycles (ResNet-50 on the example chips: median
    ratio 0.98–1.03, worst 0.61 for a latency-bound layer with tiny tiles)."""
    from compiler.codegen import generate_program
    from simulator import run

    accel = example_chip("gemmini")
    cases = (
        gemm("fc", 512, 1024, 256),
        conv("conv3x3", 28, 28, 128, 128, 3),
        conv("conv1x1", 28, 28, 256, 512, 1, stride=2),
        Workload("softmax", "Softmax", WorkloadKind.VECTOR, input_elements=1 << 16, output_elements=1 << 16,
                 vector_ops={OpClass.TRANSCENDENTAL: 1 << 16, OpClass.REDUCTION: 1 << 17}),
    )
    schedules = schedule_workloads(cases, target_of(accel, INT8))
    target = target_of(accel, INT8)
    result = run(generate_program(cases, schedules, target), target, resolve(accel, INT8))
    for w, s, layer in zip(cases, schedules, result.layers):
        ratio = estimate_cycles(w, s, target_of(accel, INT8)) / layer.cycles
        assert 0.75 <= ratio <= 1.25, (w.name, s.describe(), ratio)

