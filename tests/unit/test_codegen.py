"""Codegen: closed-form instruction streams, and verify() on many workloads × chips × schedules."""

from __future__ import annotations

import numpy as np
import pytest
from codegen_cases import chip, conv, example_chip, gemm, workloads

from accel_spec.types import Dataflow, OpClass, Operand, Precision
from compiler.codegen import generate_program
from compiler.scheduling import LOOP_ORDERS, Dim, Schedule, SchedulerKind, VectorSchedule, schedule_workloads
from compiler.target import target_of
from compiler.target.isa import Opcode
from compiler.verify import verify_program, verify_schedule
from compiler.workload import Workload, WorkloadKind

INT8 = Precision.INT8


def _program(workload, schedule, accel, precision=INT8):
    program = generate_program((workload,), (schedule,), target_of(accel, precision))
    verify_program(program, (workload,), target_of(accel, precision))
    return program


def test_gemm_that_fits_one_tile_is_load_load_gemm_store():
    accel = chip()
    w = gemm("one", 32, 48, 16)
    program = _program(w, Schedule(Dataflow.WEIGHT_STATIONARY, 32, 48, 16, (Dim.M, Dim.N, Dim.K), True), accel)
    instr = program.instructions
    assert list(instr["opcode"]) == [Opcode.LOAD, Opcode.LOAD, Opcode.GEMM, Opcode.STORE]
    assert list(instr["operand"][[0, 1, 3]]) == [Operand.INPUT, Operand.WEIGHT, Operand.OUTPUT]
    assert list(instr["bytes"][[0, 1, 3]]) == [32 * 48, 48 * 16, 32 * 16]
    assert (instr["m"][2], instr["k"][2], instr["n"][2], instr["accumulate"][2]) == (32, 48, 16, 0)
    assert [list(program.dependencies(i)) for i in range(4)] == [[], [], [1, 0], [2]]


def test_edge_tiles_are_exact_never_rounded_up():
    accel = chip(buffers={"spad": (1 << 24, ["input", "weight"]), "acc": (1 << 24, ["output"])})
    w = gemm("wide", 8, 8, 1000)
    program = _program(w, Schedule(Dataflow.OUTPUT_STATIONARY, 8, 8, 256, (Dim.M, Dim.K, Dim.N), False), accel)
    gemms = program.instructions[program.instructions["opcode"] == Opcode.GEMM]
    assert list(gemms["n"]) == [256, 256, 256, 232]


@pytest.mark.parametrize("order", LOOP_ORDERS)
def test_input_reloads_follow_the_loop_order(order):
    """M=64,K=64,N=64 in 16-tiles: the input tile (m,k) is reloaded once per n-loop iteration
    unless N is inside both M and K loops."""
    accel = chip()
    w = gemm("g", 64, 64, 64)
    program = _program(w, Schedule(Dataflow.OUTPUT_STATIONARY, 16, 16, 16, order, True), accel)
    instr = program.instructions
    loads = instr[(instr["opcode"] == Opcode.LOAD) & (instr["operand"] == Operand.INPUT)]
    n_inside = order.index(Dim.N) == 2
    reloads = 1 if n_inside else 4
    assert loads["bytes"].sum() == reloads * 64 * 64
    weights = instr[(instr["opcode"] == Opcode.LOAD) & (instr["operand"] == Operand.WEIGHT)]
    assert weights["bytes"].sum() == (1 if order.index(Dim.M) == 2 else 4) * 64 * 64


def test_k_outer_order_spills_when_the_accumulator_is_too_small():
    accel = chip(buffers={"spad": (1 << 20, ["input", "weight"]), "acc": (2 * 16 * 16 * 4, ["output"])})
    w = gemm("g", 32, 64, 32)
    s = Schedule(Dataflow.OUTPUT_STATIONARY, 16, 16, 16, (Dim.K, Dim.M, Dim.N), True)
    instr = _program(w, s, accel).instructions
    refills = (instr["opcode"] == Opcode.LOAD) & (instr["operand"] == Operand.OUTPUT)
    stores = instr["opcode"] == Opcode.STORE
    # 4 output tiles × 3 k-tiles after the first: one refill and one spill each
    assert refills.sum() == 12
    assert instr["bytes"][refills].sum() == 12 * 16 * 16 * 4
    assert stores.sum() == 12 + 4
    assert instr["bytes"][stores].sum() == 12 * 16 * 16 * 4 + 32 * 32
    assert (instr["accumulate"][instr["opcode"] == Opcode.GEMM] == 1).sum() == 12


def test_conv_input_window_includes_the_halo():
    accel = chip()
    w = conv("c", 8, 8, 4, 4, 3)  # out 8×8, K = 4·9 = 36
    # one output row (8 pixels) and all channels: rows 1·1 + 2 halo = 3, cols 8, 4 channels
    s = Schedule(Dataflow.OUTPUT_STATIONARY, 8, 36, 4, (Dim.M, Dim.N, Dim.K), True)
    instr = _program(w, s, accel).instructions
    loads = instr[(instr["opcode"] == Opcode.LOAD) & (instr["operand"] == Operand.INPUT)]
    assert list(loads["bytes"]) == [3 * 8 * 4] * 8


CHIPS = {
    "tiny": lambda: example_chip("tiny"),
    "gemmini": lambda: example_chip("gemmini"),
    "tpu_v1": lambda: example_chip("tpu_v1"),
    "eyeriss": lambda: example_chip("eyeriss"),
    "unified": lambda: chip(8, 8, {"ub": (64 * 1024, ["input", "weight", "output"])}),
}


@pytest.mark.parametrize("kind", list(SchedulerKind))
@pytest.mark.parametrize("name", sorted(CHIPS))
def test_scheduled_programs_verify_on_every_chip(name, kind):
    accel = CHIPS[name]()
    precision = accel.matrix.input_precision
    cases = workloads()
    schedules = schedule_workloads(cases, target_of(accel, precision), kind)
    program = generate_program(cases, schedules, target_of(accel, precision))
    verify_program(program, cases, target_of(accel, precision))
    assert program.layer_names == tuple(w.name for w in cases)


@pytest.mark.parametrize("double_buffer", [True, False])
@pytest.mark.parametrize("dataflow", list(Dataflow))
@pytest.mark.parametrize("order", LOOP_ORDERS)
def test_every_order_and_dataflow_verifies_including_spills(order, dataflow, double_buffer):
    # room for two 8×8 int32 partial-sum tiles and two side-input tiles, not a K-outer group
    small_acc = chip(4, 4, {"spad": (1 << 16, ["input", "weight"]), "acc": (2 * 8 * 8 * 5, ["output"])})
    unified = chip(4, 4, {"ub": (1 << 16, ["input", "weight", "output"])})
    cases = (conv("c", 9, 9, 6, 10, 3, side_input_elements=9 * 9 * 10,
                  vector_ops={OpClass.ELEMENTWISE: 9 * 9 * 10}),
             gemm("g", 20, 30, 20, batch=2))
    for accel in (small_acc, unified):
        schedules = tuple(Schedule(dataflow, 8, 8, 8, order, double_buffer) for _ in cases)
        for schedule, workload in zip(schedules, cases):
            verify_schedule(schedule, workload, target_of(accel, INT8))
        program = generate_program(cases, schedules, target_of(accel, INT8))
        verify_program(program, cases, target_of(accel, INT8))


def test_layers_are_separated_by_a_barrier():
    accel = chip()
    cases = workloads()[:3]
    program = generate_program(cases, schedule_workloads(cases, target_of(accel, INT8)), target_of(accel, INT8))
    layer = program.instructions["layer"]
    for index in range(1, len(cases)):
        first = int(np.flatnonzero(layer == index)[0])
        previous_last = first - 1
        assert program.instructions["opcode"][previous_last] == Opcode.STORE
        assert previous_last in program.dependencies(first)


def test_vector_epilogue_ops_are_conserved_exactly():
    accel = chip()
    w = gemm("g", 50, 16, 30, vector_ops={OpClass.ELEMENTWISE: 1501, OpClass.TRANSCENDENTAL: 7})
    instr = _program(w, Schedule(Dataflow.OUTPUT_STATIONARY, 16, 16, 16, (Dim.M, Dim.N, Dim.K), True), accel).instructions
    vec = instr[instr["opcode"] == Opcode.VEC]
    assert vec["elements"][vec["op_class"] == OpClass.ELEMENTWISE].sum() == 1501
    assert vec["elements"][vec["op_class"] == OpClass.TRANSCENDENTAL].sum() == 7


def test_packed_passes_carry_their_groups_and_conserve_macs():
    """10 groups of a 6×6 depthwise layer packed 4 per pass: passes of 4, 4 and 2 groups,
    each tile's transfers covering all of its groups."""
    accel = chip()
    w = conv("dw", 6, 6, 10, 10, 3, groups=10)  # per group M=36, K=9, N=1
    s = Schedule(Dataflow.WEIGHT_STATIONARY, 36, 9, 1, (Dim.M, Dim.N, Dim.K), True, groups_per_pass=4)
    instr = _program(w, s, accel).instructions
    gemms = instr[instr["opcode"] == Opcode.GEMM]
    assert gemms["groups"].tolist() == [4, 4, 2]
    assert (gemms["groups"] * gemms["m"] * gemms["k"] * gemms["n"]).sum() == w.macs
    weights = instr[(instr["opcode"] == Opcode.LOAD) & (instr["operand"] == Operand.WEIGHT)]
    assert weights["bytes"].tolist() == [4 * 9, 4 * 9, 2 * 9]
    stores = instr[instr["opcode"] == Opcode.STORE]
    assert stores["bytes"].tolist() == [4 * 36, 4 * 36, 2 * 36]


@pytest.mark.parametrize("groups", [2, 3])
@pytest.mark.parametrize("dataflow", list(Dataflow))
@pytest.mark.parametrize("order", LOOP_ORDERS)
def test_packed_schedules_verify_in_every_order_including_spills(order, dataflow, groups):
    small_acc = chip(4, 4, {"spad": (1 << 16, ["input", "weight"]), "acc": (2 * 3 * 8 * 8 * 5, ["output"])})
    grouped = conv("g", 9, 9, 12, 12, 3, groups=6, side_input_elements=9 * 9 * 12,
                   vector_ops={OpClass.ELEMENTWISE: 9 * 9 * 12})
    schedule = Schedule(dataflow, 8, 8, 2, order, True, groups_per_pass=groups)
    verify_schedule(schedule, grouped, target_of(small_acc, INT8))
    _program(grouped, schedule, small_acc)


def _vector_program(workload, chunks, double_buffer=True, sliced=False):
    accel = chip(buffers={"a": (1 << 20, ["input", "output"]), "w": (1 << 20, ["weight"])})
    return _program(workload, VectorSchedule(chunks, double_buffer, sliced), accel)


def test_broadcast_constants_are_loaded_once_and_read_by_every_chunk():
    rotary = Workload("mul", "Mul", WorkloadKind.VECTOR, input_elements=4096, output_elements=4096,
                      weight_elements=512, vector_ops={OpClass.ELEMENTWISE: 4096})
    program = _vector_program(rotary, 8)
    instr = program.instructions
    constants = np.flatnonzero((instr["opcode"] == Opcode.LOAD) & (instr["operand"] == Operand.WEIGHT))
    assert constants.size == 1 and instr["bytes"][constants[0]] == 512
    readers = [i for i in range(len(program)) if constants[0] in program.dependencies(i)]
    assert len(readers) == 8 and set(instr["opcode"][readers]) == {Opcode.VEC}


@pytest.mark.parametrize("double_buffer", [True, False])
def test_output_sized_constants_stream_with_the_chunks(double_buffer):
    gather = Workload("gather", "Gather", WorkloadKind.VECTOR, input_elements=64, output_elements=3000,
                      weight_elements=3000, vector_ops={OpClass.ELEMENTWISE: 3000})
    instr = _vector_program(gather, 7, double_buffer).instructions
    constants = instr[(instr["opcode"] == Opcode.LOAD) & (instr["operand"] == Operand.WEIGHT)]
    assert constants["bytes"].tolist() == np.diff(np.arange(8) * 3000 // 7).tolist()


@pytest.mark.parametrize("double_buffer", [True, False])
def test_sliced_constants_load_the_slice_each_chunk_reads(double_buffer):
    """A [512] table broadcast over 4096 outputs (period 512, two constants of it): 8 chunks
    of 512 outputs each read the whole period, 32 chunks of 128 a quarter of it; either way
    every chunk loads its slice into a slot of its own (the table read 8 times in all), and
    the program verifies (capacity, compulsory constant bytes)."""
    table = Workload("mul", "Mul", WorkloadKind.VECTOR, input_elements=4096, output_elements=4096,
                     weight_elements=1024, vector_ops={OpClass.ELEMENTWISE: 4096}, constant_period=512)
    for chunks, per_chunk in ((8, 1024), (32, 256)):
        instr = _vector_program(table, chunks, double_buffer, sliced=True).instructions
        constants = instr[(instr["opcode"] == Opcode.LOAD) & (instr["operand"] == Operand.WEIGHT)]
        assert constants["bytes"].tolist() == [per_chunk] * chunks
        assert constants["bytes"].sum() == 8 * 1024


def test_per_channel_slices_count_the_channels_a_chunk_meets():
    """A [6, 1, 1] scale over [1, 6, 10, 10] (period 600, repeat 100) in 7 chunks of 85 or 86
    outputs: a run of n outputs meets at most ⌈(n − 1) / 100⌉ + 1 = 2 channels."""
    scale = Workload("mul", "Mul", WorkloadKind.VECTOR, input_elements=600, output_elements=600,
                     weight_elements=6, vector_ops={OpClass.ELEMENTWISE: 600}, constant_period=600,
                     constant_repeat=100)
    instr = _vector_program(scale, 7, sliced=True).instructions
    constants = instr[(instr["opcode"] == Opcode.LOAD) & (instr["operand"] == Operand.WEIGHT)]
    assert constants["bytes"].tolist() == [2] * 7
