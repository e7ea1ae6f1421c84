"""Scheduling: candidate spaces, footprints, infeasibility, estimate accuracy, speed."""

from __future__ import annotations

import time

import numpy as np
import pytest
from codegen_cases import chip, conv, example_chip, gemm, workloads

from accel_spec.types import Dataflow, OpClass, Precision
from compiler.scheduling import (
    Dim,
    InfeasibleSchedule,
    Schedule,
    SchedulerKind,
    VectorSchedule,
    estimate_cycles,
    schedule_workloads,
)
from compiler.scheduling.candidates import tile_options
from compiler.scheduling.chip import Chip
from compiler.scheduling.footprint import gemm_footprint
from compiler.scheduling.tiling import input_tile_elements, reloads, tile_sizes
from compiler.verify import verify_schedule
from compiler.workload import Workload, WorkloadKind

INT8 = Precision.INT8


def test_describe_matches_the_report_format():
    s = Schedule(Dataflow.WEIGHT_STATIONARY, 128, 256, 64, (Dim.N, Dim.M, Dim.K), True)
    assert s.describe() == "WS m128 k256 n64 order=NMK db"
    assert VectorSchedule(16, False).describe() == "VEC chunks=16"


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


def test_double_buffering_doubles_tiles_and_shared_buffers_add_up():
    accel = chip(buffers={"ub": (1 << 20, ["input", "weight", "output"])})
    c = Chip.of(accel, INT8)
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
        schedule_workloads((gemm("fc1", 4, 4, 4),), accel, INT8)
    assert error.value.workload_name == "fc1"
    assert "buffer 'acc'" in str(error.value) and "output" in str(error.value)
    assert str(error.value).startswith("layer fc1: smallest tile needs")


@pytest.mark.parametrize("kind", list(SchedulerKind))
def test_chosen_schedules_fit_and_exhaustive_is_never_worse(kind):
    accel = example_chip("gemmini")
    cases = workloads()
    chosen = schedule_workloads(cases, accel, INT8, kind)
    best = schedule_workloads(cases, accel, INT8, SchedulerKind.EXHAUSTIVE)
    for w, s, e in zip(cases, chosen, best):
        verify_schedule(s, w, accel, INT8)
        assert estimate_cycles(w, e, accel, INT8) <= estimate_cycles(w, s, accel, INT8)


def test_a_layer_that_fits_is_one_tile():
    accel = example_chip("tpu_v1")
    s = schedule_workloads((gemm("small", 64, 128, 96),), accel, INT8)[0]
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
    schedules = schedule_workloads(cases, accel, INT8)
    result = run(generate_program(cases, schedules, accel, INT8), accel)
    for w, s, layer in zip(cases, schedules, result.layers):
        ratio = estimate_cycles(w, s, accel, INT8) / layer.cycles
        assert 0.75 <= ratio <= 1.25, (w.name, s.describe(), ratio)


def test_heuristic_schedules_resnet50_fast():
    from compiler.lowering import lower
    from compiler.models import load_model

    network = lower(load_model("resnet50"))
    accel = example_chip("gemmini")
    schedule_workloads(network, accel, INT8)
    timings = []
    for _ in range(3):
        start = time.perf_counter()
        schedule_workloads(network, accel, INT8)
        timings.append(time.perf_counter() - start)
    assert min(timings) < 0.1
