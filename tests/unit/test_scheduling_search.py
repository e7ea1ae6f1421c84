"""The search: bandwidth-independent finalists, exact estimate terms, exact measurement,
branch and bound, and what that buys (monotone choices, packed depthwise layers)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from codegen_cases import chip, conv, example_chip, gemm, workloads

from accel_spec import with_overrides
from accel_spec.technology import resolve
from accel_spec.types import OpClass, Operand, Precision
from compiler.codegen import generate_program
from compiler.codegen.layer import layer_code
from compiler.codegen.memo import cached_layer_code
from compiler.scheduling import InfeasibleSchedule, SchedulerKind, VectorSchedule, schedule_workloads
from compiler.scheduling.candidates import gemm_candidates
from compiler.scheduling.estimate import gemm_terms, vector_terms
from compiler.scheduling.footprint import slices_constants, vector_footprint
from compiler.scheduling import simulated
from compiler.scheduling.measure import Search, best, best_of_each, measure_cycles
from compiler.scheduling.objective import Goal, Objective
from compiler.scheduling.strategies import _heuristic_finalists, _vector_flags, _vector_space, finalists
from compiler.target import TimingMode, target_of
from compiler.target.isa import Engine, Opcode, Program
from compiler.verify import verify_program
from compiler.workload import Workload, WorkloadKind
from simulator import run
from simulator.kernels.engines import COL_BUSY, COL_CHANNEL_READ, COL_CHANNEL_WRITE, COL_CYCLES
from simulator.run import execute

INT8 = Precision.INT8
ROTARY = Workload("rotary", "Mul", WorkloadKind.VECTOR, input_elements=65536, output_elements=65536,
                  weight_elements=8192, side_input_elements=65536, vector_ops={OpClass.ELEMENTWISE: 131072})
KNOWN_ROTARY = dataclasses.replace(ROTARY, name="known_rotary", constant_period=8192)
"""The rotary table with its broadcast known (a [128, 64] table over [1, 8, 128, 64])."""
CHANNEL_SCALE = Workload("scale", "Mul", WorkloadKind.VECTOR, input_elements=64 * 28 * 28,
                         output_elements=64 * 28 * 28, weight_elements=2 * 64, constant_period=64 * 28 * 28,
                         constant_repeat=28 * 28, vector_ops={OpClass.ELEMENTWISE: 2 * 64 * 28 * 28})
"""Two per-channel constants [64, 1, 1] over [1, 64, 28, 28]."""
CASES = workloads() + (
    ROTARY, KNOWN_ROTARY, CHANNEL_SCALE, conv("dw", 28, 28, 96, 96, 3, groups=96), conv("g4", 14, 14, 64, 64, 3, groups=4)
)
CHIPS = {
    "gemmini": lambda: example_chip("gemmini"),
    "edge": lambda: example_chip("edge"),
    "unified": lambda: chip(8, 8, {"ub": (64 * 1024, ["input", "weight", "output"])}),
}


def _counters(workload, schedule, accel):
    c = target_of(accel, INT8)
    code = layer_code(workload, schedule, c, 0)
    return execute(Program(code.instructions, code.dep_ptr, code.deps, ("x",)), c).counters[0]


# LEARNED is left out on purpose: its ranker sees the bandwidth (compiler.scheduling.learned).
@pytest.mark.parametrize("kind", [SchedulerKind.HEURISTIC, SchedulerKind.EXHAUSTIVE])
@pytest.mark.parametrize("name", sorted(CHIPS))
def test_finalists_do_not_depend_on_the_dram_bandwidth(name, kind):
    accel = CHIPS[name]()
    base = target_of(accel, INT8)
    for workload in CASES:
        expected = finalists(workload, base, kind)[0]
        for factor in (0.25, 3.0, 64.0):
            other = dataclasses.replace(base, dram_bytes_per_cycle=factor * base.dram_bytes_per_cycle)
            assert finalists(workload, other, kind)[0] == expected, workload.name


@pytest.mark.parametrize("name", sorted(CHIPS))
def test_estimate_terms_count_matrix_time_and_channel_bytes_exactly(name):
    """What `lower_bound` and `bound` rely on: the same busy cycles and burst bytes as the
    simulator (on any candidate: codegen and the simulator ignore capacity); and `bound`,
    which adds the transfers in series with the main engine, is still below the cycles."""
    accel = CHIPS[name]()
    c = target_of(accel, INT8)
    rng = np.random.default_rng(5)
    for workload in CASES:
        if workload.gemm is None:
            chunks, double_buffer = np.array([1, 3, 64, 1000, 3, 1000]), np.array([True, False, True, True, True, False])
            sliced = np.array([False] * 4 + [slices_constants(workload)] * 2)
            terms = vector_terms(workload, c, chunks, double_buffer, sliced)
            schedules = [VectorSchedule(int(n), bool(db), bool(s)) for n, db, s in zip(chunks, double_buffer, sliced)]
            engine = Engine.VECTOR
        else:
            cands = gemm_candidates(workload.gemm, c, SchedulerKind.EXHAUSTIVE)
            terms = gemm_terms(workload, c, cands)
            picked = rng.choice(np.flatnonzero(terms.iterations <= 1024), size=12, replace=False)
            terms = terms.take(picked)
            schedules = [cands.schedule(int(i)) for i in picked]
            engine = Engine.MATRIX
        bounds = terms.bound(c.dram_bytes_per_cycle)
        for index, schedule in enumerate(schedules):
            counters = _counters(workload, schedule, accel)
            assert counters[COL_BUSY + engine] == terms.floor[index], (workload.name, schedule.describe())
            channel = counters[COL_CHANNEL_READ] + counters[COL_CHANNEL_WRITE]
            assert channel == terms.channel_bytes[index], (workload.name, schedule.describe())
            assert terms.lower_bound(c.dram_bytes_per_cycle)[index] <= bounds[index] <= counters[COL_CYCLES]


def test_fine_vector_chunks_are_bounded_by_their_chain_through_dram():
    """CHANNEL_SCALE (50,176 elements, in and out over DRAM) on the edge chip in 4,096 chunks:
    chunk c's first VEC waits for chunk c − 2's STORE (double buffered), which waits for that
    chunk's VEC, so the first VECs of chunks 0, 2, ..., 4094 are 2,047 links apart, each at
    least a VEC cycle, a transfer cycle and the DRAM latency: 2,047 · (2 + L). Single
    buffered the chain has 4,095 links. The simulation never beats it, and with so many
    chunks the chain, not the bytes, is the bound."""
    accel = example_chip("edge")
    c = target_of(accel, INT8)
    latency = c.latency
    assert latency == 60  # 120 ns at 500 MHz, by hand
    chunks, double_buffer = np.array([4096, 4096]), np.array([True, False])
    terms = vector_terms(CHANNEL_SCALE, c, chunks, double_buffer)
    assert terms.chain.tolist() == [2047 * 62, 4095 * 62]
    bounds = terms.bound(c.dram_bytes_per_cycle)
    assert bounds.tolist() == [2047 * 62, 4095 * 62]
    for index, (n, db) in enumerate(zip(chunks, double_buffer)):
        cycles = _counters(CHANNEL_SCALE, VectorSchedule(int(n), bool(db), False), accel)[COL_CYCLES]
        assert bounds[index] <= cycles


def test_a_layer_measured_alone_takes_the_cycles_it_adds_to_the_network():
    accel = example_chip("gemmini")
    c = target_of(accel, INT8)
    schedules = schedule_workloads(CASES, target_of(accel, INT8))
    target = target_of(accel, INT8)
    result = run(generate_program(CASES, schedules, target), target, resolve(accel, INT8))
    for workload, schedule, layer in zip(CASES, schedules, result.layers):
        assert measure_cycles(workload, schedule, c) == layer.cycles, workload.name


@pytest.mark.parametrize("timing", list(TimingMode))
@pytest.mark.parametrize("name", sorted(CHIPS))
def test_layers_simulated_as_one_program_count_as_each_alone(name, timing):
    """`Simulated` (a round of `best_of_each`): every finalist of every case on the chip in
    one program gives each layer the counters, bits and (shifted) cycles it has alone, so
    rounds measure what one layer at a time would."""
    c = target_of(CHIPS[name](), INT8, timing=timing)
    codes, names = [], []
    for workload in CASES:
        for schedule in finalists(workload, c, SchedulerKind.HEURISTIC)[0]:
            codes.append(cached_layer_code(workload, schedule, c))
            names.append(workload.name)
    together = simulated.Simulated(codes, names, c, fresh=True)
    assert len(together.cycles) == len(codes) > len(CASES)
    for index, (code, name_) in enumerate(zip(codes, names, strict=True)):
        alone = execute(Program(code.instructions, code.dep_ptr, code.deps, (name_,)), c)
        counts, program = together.layer(index)
        assert program.layer_names == (name_,) and len(program) == len(code.instructions)
        assert together.cycles[index] == alone.counters[0, COL_CYCLES]
        for field in ("start", "end", "counters", "sram_bits"):
            assert np.array_equal(getattr(counts, field), getattr(alone, field)), (name_, field)


def test_layers_simulated_before_on_the_chip_are_not_simulated_again(monkeypatch):
    """`Simulated` takes the counts `LAYER_COUNTS` holds for the chip's timing (no kernel
    call when it holds every layer), equal to a fresh simulation; another bandwidth is
    another timing: simulated again."""
    accel = CHIPS["edge"]()
    c = target_of(accel, INT8)
    codes = [cached_layer_code(w, finalists(w, c, SchedulerKind.HEURISTIC)[0][0], c) for w in CASES]
    names = [w.name for w in CASES]
    fresh = simulated.Simulated(codes, names, c, fresh=True)
    runs = []
    monkeypatch.setattr(simulated, "validated_execute", lambda *a: runs.append(a) or pytest.fail("simulated again"))
    kept = simulated.Simulated(codes, names, dataclasses.replace(c, capacity=tuple(2 * b for b in c.capacity)))
    assert not runs and np.array_equal(kept.counters, fresh.counters) and np.array_equal(kept.sram_bits, fresh.sram_bits)
    with pytest.raises(ValueError, match="instruction cycles"):
        kept.layer(0)
    slower = dataclasses.replace(c, dram_bytes_per_cycle=c.dram_bytes_per_cycle / 2)
    with pytest.raises(pytest.fail.Exception, match="simulated again"):
        simulated.Simulated(codes, names, slower)


@pytest.mark.parametrize("objective", [Objective.LATENCY, Objective.ENERGY])
@pytest.mark.parametrize("name", sorted(CHIPS))
def test_searches_in_rounds_choose_what_each_chooses_alone(name, objective):
    """`best_of_each` over every case's search (finalists and capacity challengers) equals
    `best` on each alone, for latency (branch and bound) and energy (every finalist)."""
    accel = CHIPS[name]()
    c, goal = target_of(accel, INT8), Goal(objective, resolve(accel, INT8))
    problems = []
    for workload in CASES:
        if workload.kind is WorkloadKind.GEMM:
            (schedules, estimates, bounds), pool = _heuristic_finalists(workload, c)
            problems.append((workload, schedules, bounds, np.argsort(estimates, kind="stable"), pool))
    together = best_of_each([Search(w, s, b, o, goal, None, p) for w, s, b, o, p in problems], c)
    assert together == [best(w, s, b, o, c, goal, None, p) for w, s, b, o, p in problems]


@pytest.mark.parametrize("name", sorted(CHIPS))
def test_branch_and_bound_finds_the_fastest_finalist(name):
    accel = CHIPS[name]()
    c = target_of(accel, INT8)
    for workload in CASES:
        schedules, estimates, bounds = finalists(workload, c, SchedulerKind.HEURISTIC)
        measured = [measure_cycles(workload, s, c) for s in schedules]
        assert all(bound <= cycles for bound, cycles in zip(bounds, measured))
        worst_first = np.argsort(-estimates, kind="stable")
        for order in (np.argsort(estimates, kind="stable"), worst_first):
            chosen = best(workload, schedules, bounds, order, c)
            assert measure_cycles(workload, chosen, c) == min(measured), workload.name


@pytest.mark.parametrize("name", sorted(CHIPS))
def test_more_dram_bandwidth_never_slows_a_chosen_layer(name):
    accel = CHIPS[name]()
    previous = None
    for factor in (0.5, 1, 2, 8):
        faster = with_overrides(accel, {"dram.bandwidth": f"{factor * accel.dram.bandwidth!r} B/s"})
        schedules = schedule_workloads(CASES, target_of(faster, INT8))
        target = target_of(faster, INT8)
        layers = run(generate_program(CASES, schedules, target), target, resolve(faster, INT8)).layers
        cycles = np.array([layer.cycles for layer in layers])
        if previous is not None:
            assert np.all(cycles <= previous)
        previous = cycles


def test_depthwise_layers_pack_groups_into_each_pass():
    """MobileNetV2's first depthwise layer (112×112, 32 channels) on a 64×64 array."""
    accel = example_chip("edge")
    c = target_of(accel, INT8)
    depthwise = conv("dw", 112, 112, 32, 32, 3, groups=32)
    packed = schedule_workloads((depthwise,), target_of(accel, INT8))[0]
    assert packed.groups_per_pass > 1
    unpacked = dataclasses.replace(packed, groups_per_pass=1)
    assert 3 * measure_cycles(depthwise, packed, c) < measure_cycles(depthwise, unpacked, c)


def test_resident_constants_that_do_not_fit_name_the_layer_and_buffer():
    accel = chip(buffers={"a": (1 << 20, ["input", "output"]), "w": (4096, ["weight"])})
    with pytest.raises(InfeasibleSchedule) as error:
        schedule_workloads((ROTARY,), target_of(accel, INT8))
    assert str(error.value).startswith("layer rotary: ")
    assert "8 KiB of weight in buffer 'w' (capacity 4 KiB)" in error.value.reason


def test_broadcast_constants_that_do_not_fit_are_sliced_per_chunk():
    """The 8 KiB rotary table with a 4 KiB weight buffer: sliced, every chunk loading the
    table rows its outputs read; the program verifies, and the table is read once per
    batch of heads (8 times here: 64 KiB). With room for it, the table stays resident."""
    small = chip(buffers={"a": (1 << 20, ["input", "output"]), "w": (4096, ["weight"])})
    (schedule,) = schedule_workloads((KNOWN_ROTARY,), target_of(small, INT8))
    assert schedule.sliced_constants
    program = generate_program((KNOWN_ROTARY,), (schedule,), target_of(small, INT8))
    verify_program(program, (KNOWN_ROTARY,), target_of(small, INT8))
    instr = program.instructions
    constant_bytes = instr["bytes"][(instr["opcode"] == Opcode.LOAD) & (instr["operand"] == Operand.WEIGHT)]
    assert constant_bytes.sum() == 8 * 8192
    roomy = chip(buffers={"a": (1 << 20, ["input", "output"]), "w": (1 << 20, ["weight"])})
    assert not schedule_workloads((KNOWN_ROTARY,), target_of(roomy, INT8))[0].sliced_constants


def test_a_vector_space_of_kept_tiles_and_terms_equals_one_made_anew():
    """`_vector_flags` and `_vector_space` take each candidate's tiles and terms from those of
    its constants resident or sliced kept per shape and array (`VECTOR_TILES`,
    `VECTOR_TERMS`): on a unified buffer where some candidates slice the rotary table and
    others keep it, the fit and sliced flags are `Footprint.fits`', and the demand and every
    term equal `vector_footprint`'s and `vector_terms`' of the candidates' own flags, to the
    last bit, at two bandwidths sharing the kept entries."""
    for kib in (10, 12):
        c = target_of(chip(buffers={"u": (kib * 1024, ["input", "weight", "output"])}), INT8)
        for chip_ in (c, dataclasses.replace(c, dram_bytes_per_cycle=c.dram_bytes_per_cycle * 3)):
            chunks, double_buffer, fits, sliced = _vector_flags(KNOWN_ROTARY, chip_)
            assert sliced.any() and (fits & ~sliced).any()
            resident = vector_footprint(KNOWN_ROTARY, chip_, chunks, double_buffer).fits(chip_)
            slices = vector_footprint(KNOWN_ROTARY, chip_, chunks, double_buffer, sliced=True).fits(chip_)
            assert np.array_equal(sliced, ~resident & slices) and np.array_equal(fits, resident | slices)
            space = _vector_space(KNOWN_ROTARY, chip_)
            expected = vector_terms(KNOWN_ROTARY, chip_, chunks, double_buffer, sliced)
            demand = vector_footprint(KNOWN_ROTARY, chip_, chunks, double_buffer, sliced=sliced).demand(chip_)
            assert np.array_equal(space.demand, demand) and space.demand.dtype == demand.dtype
            for field in dataclasses.fields(expected):
                got, want = getattr(space.terms, field.name), getattr(expected, field.name)
                assert np.array_equal(got, want) and np.asarray(got).dtype == np.asarray(want).dtype, field.name


def test_exhaustive_measures_the_heuristic_finalists_too():
    c = target_of(example_chip("gemmini"), INT8)
    for workload in (gemm("fc", 512, 1024, 256), ROTARY):
        heuristic = set(finalists(workload, c, SchedulerKind.HEURISTIC)[0])
        assert heuristic <= set(finalists(workload, c, SchedulerKind.EXHAUSTIVE)[0])


@pytest.mark.parametrize(("chip", "model"), [("edge", "mobilenetv2:width=0.5,resolution=96"), ("gemmini", "bert:layers=1,seq=64")])
def test_estimate_terms_stay_exact_and_bounds_hold_on_planned_layers(chip, model):
    """Layers whose operands the memory plan keeps on chip (direct inputs, on-chip stores):
    the busy floor is still the simulated busy time, the channel bytes the simulated ones,
    and `bound` never exceeds the simulated cycles."""
    from compiler.lowering import lower
    from compiler.memory.planner import plan_memory
    from compiler.models import load_model

    c = target_of(example_chip(chip), INT8)
    planned = [w for w in plan_memory(lower(load_model(model)), c).workloads if w.gemm is not None]
    assert any(w.placement.input != 0 for w in planned)
    rng = np.random.default_rng(11)
    for workload in planned[:12]:
        cands = gemm_candidates(workload.gemm, c, SchedulerKind.HEURISTIC)
        terms = gemm_terms(workload, c, cands)
        picked = rng.choice(np.flatnonzero(terms.iterations <= 512), size=min(6, int((terms.iterations <= 512).sum())), replace=False)
        bounds = terms.take(picked).bound(c.dram_bytes_per_cycle)
        for index, bound in zip(picked, bounds):
            schedule = cands.schedule(int(index))
            code = layer_code(workload, schedule, c, 0)
            counters = execute(Program(code.instructions, code.dep_ptr, code.deps, ("x",)), c).counters[0]
            assert counters[COL_BUSY + Engine.MATRIX] == terms.floor[index], (workload.name, schedule.describe())
            assert counters[COL_CHANNEL_READ] + counters[COL_CHANNEL_WRITE] == terms.channel_bytes[index]
            assert bound <= counters[COL_CYCLES], (workload.name, schedule.describe())
