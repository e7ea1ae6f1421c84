"""The fast search paths give exactly the one-layer search's answers.

Scoring all layers in one pass (`scheduling.batched`), memoising schedules and layer code by
content (`scheduling.memo`, `codegen.memo`) must change nothing: these tests compare each
fast path against the plain computation, and check that the memo keys spell out every input.
"""

from __future__ import annotations

import re
from dataclasses import fields
from functools import cache
from pathlib import Path

import numpy as np
import pytest
from codegen_cases import example_chip

from accel_spec import with_overrides
from compiler.codegen import generate_program
from compiler.codegen.layer import layer_code
from compiler.codegen.memo import cached_layer_code, cached_layer_codes, spills_partial_sums
from compiler.codegen.program import assemble
from compiler.lowering import lower
from compiler.models import load_model
from compiler.pipeline import CompileOptions, clear_compile_caches, compile_workloads
from compiler.scheduling import SchedulerKind, schedule_workloads
from compiler.scheduling.batched import Spaces, heuristic_finalists
from compiler.scheduling.columns import WorkloadColumns
from compiler.scheduling.estimate import CostTerms
from compiler.scheduling.memo import SCHEDULES, BoundedCache, candidate_flags, layer_key
from compiler.scheduling.shortlist import ascending_compute, shortlist, tiled_shortlist
from compiler.scheduling.strategies import finalists
from compiler.scheduling.tiling import input_tile_elements
from compiler.target import Target, TimingMode, target_of
from compiler.workload import Workload, WorkloadKind

ROOT = Path(__file__).resolve().parents[2]
IGNORED_WORKLOAD_FIELDS = {
    "name", "op", "weight_is_activation", "fused",
    "input_tensors", "weight_tensor", "side_tensors", "output_tensor", "graph_output", "cache_append",
}
"""Workload fields that neither scheduling nor codegen reads (names only label errors; the
tensor names are the memory planner's, which turns them into `placement` and `reserved`;
`cache_append` is lowering's, which turns it into the workload's element counts)."""


@cache
def _lowered(model: str) -> tuple[Workload, ...]:
    return lower(load_model(model))


def _clear() -> None:
    clear_compile_caches()


def test_chip_key_spells_out_every_field_but_capacity():
    chip = target_of(example_chip("edge"), example_chip("edge").matrix.input_precision)
    names = [f.name for f in fields(Target) if f.name != "capacity"]
    assert chip.key_without_capacity == tuple(getattr(chip, name) for name in names)


def test_chip_key_of_tile_bytes_spells_out_every_field_but_capacities_and_the_dram_channel():
    chip = target_of(example_chip("edge"), example_chip("edge").matrix.input_precision)
    left_out = {"capacity", "dram_peak_bytes_per_cycle", "dram_bytes_per_cycle", "burst", "latency", "outstanding",
                "dram_capacity"}  # fmt: skip
    names = [f.name for f in fields(Target) if f.name not in left_out]
    assert chip.tile_bytes_key == tuple(getattr(chip, name) for name in names)


def test_layer_key_covers_every_field_scheduling_and_codegen_read():
    workload = _lowered("resnet50")[3]
    key = layer_key(workload)
    read = {f.name for f in fields(Workload)} - IGNORED_WORKLOAD_FIELDS
    assert workload.shape_key == (workload.unplaced_key, workload.placement)
    assert len(workload.unplaced_key) + 2 == len(read)  # and the placement and reserved bytes
    assert key == (workload.shape_key, workload.reserved)
    pattern = re.compile(r"\.(" + "|".join(sorted(IGNORED_WORKLOAD_FIELDS - {"name"})) + r")\b")
    for folder in ("compiler/scheduling", "compiler/codegen"):
        for path in (ROOT / folder).glob("*.py"):
            assert not pattern.search(path.read_text()), f"{path} reads a field the memo keys ignore"


@pytest.mark.parametrize(
    ("chip_name", "timing", "override"),
    [("eyeriss", TimingMode.TESSERA, {"matrix.rows": 6}),  # row-stationary: active PEs follow the array
     ("edge", TimingMode.SCALESIM, {"matrix.rows": 8})],  # SCALE-Sim: a GEMM continues a fold of the array
)
def test_layer_code_is_never_shared_between_chips_that_code_it_differently(
    chip_name: str, timing: TimingMode, override: dict
) -> None:
    """Two chips with the same buffers but another array: the cached code of each is the code
    generated for it afresh (the code key holds the array shape where codegen reads it)."""
    _clear()
    workload = next(w for w in _lowered("resnet18") if w.conv is not None and w.conv.kernel_h == 3)
    chips = [target_of(accel, None, timing) for accel in (example_chip(chip_name), with_overrides(example_chip(chip_name), override))]
    for chip in chips:
        schedule = schedule_workloads((workload,), chip, SchedulerKind.HEURISTIC)[0]
        fresh = layer_code(workload, schedule, chip, 0, spills_partial_sums(workload, schedule, chip))
        cached = cached_layer_code(workload, schedule, chip)
        assert np.array_equal(cached.instructions, fresh.instructions)


def test_bounded_cache_drops_least_recently_used_by_cost():
    cache_ = BoundedCache[str](capacity=10)
    cache_.put("a", "A", cost=4)
    cache_.put("b", "B", cost=4)
    assert cache_.get("a") == "A"  # now most recent
    cache_.put("c", "C", cost=4)  # over capacity: drops b
    assert (cache_.get("a"), cache_.get("b"), cache_.get("c")) == ("A", None, "C")
    cache_.put("huge", "H", cost=11)
    assert cache_.get("huge") is None and len(cache_) == 2


def test_candidate_flags_of_spaces_together_are_each_spaces_alone_and_tell_them_apart():
    """A network's spaces' flags, packed at once, are each space's packed alone; flipping
    one candidate's fit or spill flag changes its space's entry and no other."""
    rng = np.random.default_rng(3)
    sizes = np.array([5, 1, 40, 17])
    fits = rng.random((6, sizes.sum())) < 0.6
    spill = rng.random((6, sizes.sum())) < 0.3
    together = candidate_flags(fits, spill, sizes)
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    for start, size, packed in zip(starts, sizes, together, strict=True):
        own = slice(start, start + size)
        assert candidate_flags(fits[:, own], spill[:, own], np.array([size])) == [packed]
        assert packed[0] == 6 and len(packed[1]) == 2 * size  # six rows, 12 flags a candidate: two bytes
    for flags in (fits, spill):
        flags[4, 44] = not flags[4, 44]  # a candidate of the third space
        changed = candidate_flags(fits, spill, sizes)
        assert [a == b for a, b in zip(changed, together, strict=True)] == [True, True, False, True]
        flags[4, 44] = not flags[4, 44]
    one = rng.random(9) < 0.5  # a vector space: one flag of each kind per candidate
    assert candidate_flags(one, ~one, np.array([9])) != candidate_flags(~one, one, np.array([9]))


def test_each_candidates_flags_are_the_bits_of_its_word():
    """`tiling_words` puts row r's fit flag at bit r and its spill flag at bit rows + r, so
    the flags read back from the words; more rows than a word holds are refused."""
    from compiler.scheduling.flags_kernel import MAX_ROWS, tiling_words

    rng = np.random.default_rng(5)
    for rows in (1, 6, MAX_ROWS):
        fits, spill = rng.random((rows, 50)) < 0.5, rng.random((rows, 50)) < 0.5
        words = tiling_words(fits, spill)
        bits = (words[None, :] >> np.arange(2 * rows, dtype=np.uint64)[:, None]) & np.uint64(1)
        assert np.array_equal(bits.astype(bool), np.concatenate([fits, spill]))
    with pytest.raises(ValueError, match="at most 32"):
        candidate_flags(np.ones((MAX_ROWS + 1, 3), dtype=bool), np.ones((MAX_ROWS + 1, 3), dtype=bool), np.array([3]))


@pytest.mark.parametrize("bytes_per_cycle", [3.7, np.inf])
@pytest.mark.parametrize("double_buffer", [True, False])
def test_tiled_shortlist_equals_shortlist_of_each_space(double_buffer: bool, bytes_per_cycle: float):
    """The factored shortlist (its kernel) picks, per space, exactly what `shortlist` picks
    on that space's candidates listed in rank order (small ranges: many ties, across
    tilings and within them), double buffered or not; its estimates and bounds are
    `CostTerms.cycles`'s and `CostTerms.bound`'s, and the least bound of a space's other
    fitting candidates is theirs. A space left out (the fourth) is not touched."""
    rng = np.random.default_rng(7)
    sizes = np.array([5, 1, 40, 17, 3])
    arrangements, tilings = 6, int(sizes.sum())
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])

    def ints(high, shape=(tilings,)):
        return rng.integers(1, high, shape)

    terms = CostTerms(
        compute=ints(50), floor=ints(50), channel_bytes=ints(400, (arrangements, tilings)),
        exposed_bytes=ints(40), tail=ints(5), iterations=ints(9), double_buffer=double_buffer, latency=3,
        serial_bytes=ints(40, (3, tilings)), serial_latency=6,
    )
    fits = rng.random((arrangements, tilings)) < 0.7
    fits[0, starts] = True  # every space has a fitting candidate
    rank = np.empty((arrangements, tilings), dtype=np.int64)
    for start, size in zip(starts, sizes):
        rank[:, start : start + size] = rng.permutation(arrangements * size).reshape(arrangements, size)
    listed = np.array([0, 1, 2, 4])
    by_compute = ascending_compute(terms.compute, starts, sizes)
    together = tiled_shortlist(terms, fits, rank, starts[listed], sizes[listed], bytes_per_cycle, by_compute)
    every = np.where(fits, terms.bound(bytes_per_cycle), np.inf)
    assert np.isinf(together.bound[:, starts[3] : starts[3] + sizes[3]]).all()
    assert not together.finalist[:, starts[3] : starts[3] + sizes[3]].any()
    ends = np.cumsum(together.counts)
    for space, end, count, least in zip(listed, ends, together.counts, together.least, strict=True):
        start, size = starts[space], sizes[space]
        arrangement, tiling = np.divmod(np.arange(arrangements * size), size)
        tiling += start
        by_rank = np.argsort(rank[arrangement, tiling])
        arrangement, tiling = arrangement[by_rank], tiling[by_rank]
        alone = CostTerms(
            compute=terms.compute[tiling], floor=terms.floor[tiling],
            channel_bytes=terms.channel_bytes[arrangement, tiling], exposed_bytes=terms.exposed_bytes[tiling],
            tail=terms.tail[tiling], iterations=terms.iterations[tiling],
            double_buffer=np.full(len(tiling), double_buffer), latency=3,
            serial_bytes=terms.serial_bytes[:, tiling], serial_latency=6,
        )
        expected = shortlist(alone, fits[arrangement, tiling], SchedulerKind.HEURISTIC)
        window = slice(end - count, end)
        found_a, found_t = np.divmod(together.finalists[window], tilings)
        assert rank[found_a, found_t].tolist() == expected.tolist()
        assert together.estimates[window].tolist() == alone.cycles(bytes_per_cycle)[expected].tolist()
        assert together.bounds[window].tolist() == alone.bound(bytes_per_cycle)[expected].tolist()
        own = every[:, start : start + size]
        assert np.array_equal(together.bound[:, start : start + size], own)
        finalist = np.zeros_like(fits)
        finalist[found_a, found_t] = True
        assert np.array_equal(together.finalist[:, start : start + size], finalist[:, start : start + size])
        others = own[~finalist[:, start : start + size]]
        assert least == (others.min() if others.size else np.inf)


def test_plain_gemm_windows_as_a_one_by_one_convolution():
    gemm = _lowered("bert:layers=2")[0]
    assert gemm.conv is None and gemm.gemm is not None
    tm, tk = np.meshgrid(np.arange(1, gemm.gemm.m + 1, 7), np.arange(1, gemm.gemm.k + 1, 5))
    columns = WorkloadColumns.of([gemm], np.array([tm.size]))
    assert np.array_equal(input_tile_elements(tm.ravel(), tk.ravel(), columns), tm.ravel() * tk.ravel())


@pytest.mark.parametrize(("chip_name", "model"), [("edge", "resnet50"), ("gemmini", "bert:layers=2"), ("eyeriss", "mobilenetv2")])
def test_batched_finalists_equal_one_layer_finalists(chip_name, model):
    accel = example_chip(chip_name)
    chip = target_of(accel, accel.matrix.input_precision)
    gemms = list({w.shape_key: w for w in _lowered(model) if w.kind is WorkloadKind.GEMM}.values())
    everything = np.arange(len(gemms))
    for workload, found in zip(gemms, heuristic_finalists(Spaces.of(gemms, chip), chip, everything), strict=True):
        if found is None:
            continue
        schedules, estimates, bounds = finalists(workload, chip, SchedulerKind.HEURISTIC)
        assert found.finalists[0] == schedules, workload.name
        assert found.finalists[1].tolist() == estimates.tolist() and found.finalists[2].tolist() == bounds.tolist()
        assert found.spill == tuple(spills_partial_sums(workload, s, chip) for s in schedules)


def test_a_grid_makes_one_candidates_schedule_as_it_makes_many():
    accel = example_chip("edge")
    chip = target_of(accel, accel.matrix.input_precision)
    gemms = list({w.shape_key: w for w in _lowered("mobilenetv2") if w.kind is WorkloadKind.GEMM}.values())
    grid = Spaces.of(gemms, chip).grid
    arrangement, tiling = np.divmod(np.arange(0, grid.index.size, 97), len(grid.groups))
    many = grid.schedules(arrangement, tiling)
    _clear()  # another grid, its schedules made one at a time
    other = Spaces.of(gemms, chip).grid
    assert other is not grid and not other.made
    assert [other.schedule(a, t) for a, t in zip(arrangement.tolist(), tiling.tolist())] == many
    assert len(many) > 100 and all(type(s.tile_m) is int and type(s.groups_per_pass) is int for s in many)
    # each made once per grid: asked again, in any mix of one and many, the same objects
    assert all(a is b for a, b in zip(grid.schedules(arrangement[::-1], tiling[::-1]), many[::-1], strict=True))
    assert other.schedules(arrangement, tiling)[0] is other.schedule(int(arrangement[0]), int(tiling[0]))


def test_workload_columns_hold_each_workloads_fields_in_its_candidates():
    """`WorkloadColumns.of`: workload i's every field in its `counts[i]` candidates, placed
    copies of one layer (its unplaced fields kept per shape) each with its own placement and
    reserved bytes, plain GEMMs as 1×1 convolutions."""
    from dataclasses import fields

    from compiler.memory.placement import Placement
    from compiler.scheduling.columns import ConvColumns, GemmColumns, PlacementColumns

    gemms = [w for w in _lowered("bert:layers=1") if w.kind is WorkloadKind.GEMM][:3]
    convs = [w for w in _lowered("mobilenetv2") if w.kind is WorkloadKind.GEMM][:3]
    placed = [w.placed(Placement(input=1, weight=0, side=2, output=1), (5, 6, 7)) for w in convs]
    workloads = gemms + convs + placed
    counts = np.arange(1, len(workloads) + 1)
    columns = WorkloadColumns.of(workloads, counts)
    owner = np.repeat(np.arange(len(workloads)), counts)
    for candidate, index in enumerate(owner.tolist()):
        w = workloads[index]
        conv = w.conv
        assert [getattr(columns.gemm, f.name)[candidate] for f in fields(GemmColumns)] == [getattr(w.gemm, f.name) for f in fields(GemmColumns)]
        if conv is not None:
            assert [getattr(columns.conv, f.name)[candidate] for f in fields(ConvColumns)] == [getattr(conv, f.name) for f in fields(ConvColumns)]
        else:
            assert (columns.conv.in_h[candidate], columns.conv.in_w[candidate], columns.conv.in_c[candidate]) == (w.gemm.m, 1, w.gemm.k)
        placement = [getattr(columns.placement, f.name)[candidate] for f in fields(PlacementColumns)]
        assert placement == [getattr(w.placement, f.name) for f in fields(PlacementColumns)]
        assert columns.side_input_elements[candidate] == w.side_input_elements
        assert {op: int(ops[candidate]) for op, ops in columns.vector_ops.items() if ops[candidate]} == {
            op: n for op, n in w.vector_ops.items() if n}
        assert columns.operand_classes[:, candidate].tolist() == [int(c) for c in w.operand_classes]
        assert columns.reserved[:, candidate].tolist() == (list(w.reserved) or [0] * columns.reserved.shape[0])
    assert any(w.reserved for w in workloads) and any(w.conv is None for w in workloads)


def test_a_join_kept_for_another_chip_gives_the_footprints_of_a_fresh_one():
    """`Spaces.of` keeps its grid's tilings' bytes with the join (`JOINS`, by
    `Target.tile_bytes_key`): layers placed alike beside other kept tensors' bytes, on chips
    of one array with other capacities and bandwidths, get the demand, spill and fit flags
    of a search with no cache, from one entry."""
    from compiler.memory.planner import plan_memory
    from compiler.scheduling.batched import JOINS

    base = example_chip("edge")
    precision = base.matrix.input_precision
    overrides = [{"dram.bandwidth": "10 GB/s"},
                 {"buffers.activations.capacity": "1 MiB", "buffers.weights.capacity": "24 KiB", "dram.bandwidth": "30 GB/s"}]
    chips = [target_of(with_overrides(base, o), precision) for o in overrides]
    planned = [w for w in plan_memory(_lowered("mobilenetv2"), chips[0]).workloads if w.kind is WorkloadKind.GEMM]
    halved = [w.placed(w.placement, tuple(b // 2 for b in w.reserved)) for w in planned]
    cases = [(chips[0], planned), (chips[1], halved)]
    assert any(w.reserved and max(w.reserved) for w in planned)
    fresh = []
    for chip, workloads in cases:
        _clear()
        spaces = Spaces.of(workloads, chip)
        fresh.append((spaces.demand, spaces.spill, spaces.fits))
    assert not np.array_equal(fresh[0][2], fresh[1][2]) and not np.array_equal(fresh[0][0], fresh[1][0])
    _clear()
    for (chip, workloads), expected in zip(cases, fresh, strict=True):
        spaces = Spaces.of(workloads, chip)
        assert all(np.array_equal(got, want) for got, want in zip((spaces.demand, spaces.spill, spaces.fits), expected))
    assert [len(entry[3]) for entry in JOINS.values()] == [1]


def test_a_grid_lists_each_spaces_tilings_by_compute_cycles():
    """`_Grid.by_compute`: each space's tilings, a permutation of its own indices, in
    ascending compute cycles of the terms the challengers' kernel reads, ties in tiling order."""
    accel = example_chip("edge")
    chip = target_of(accel, accel.matrix.input_precision)
    gemms = list({w.shape_key: w for w in _lowered("mobilenetv2") if w.kind is WorkloadKind.GEMM}.values())
    spaces = Spaces.of(gemms, chip)
    grid, compute = spaces.grid, spaces.terms.compute
    for start, size in zip(grid.starts.tolist(), grid.sizes.tolist(), strict=True):
        order = grid.by_compute[start : start + size]
        assert sorted(order.tolist()) == list(range(size))
        keys = list(zip(compute[start + order].tolist(), order.tolist()))
        assert keys == sorted(keys)
    assert len(grid.sizes) > 10


def test_memoised_schedules_and_code_equal_a_fresh_search():
    """Chips differing only in capacity share memo entries yet get their own answers."""
    base = example_chip("edge")
    workloads = _lowered("mobilenetv2")
    chips = [with_overrides(base, {"buffers.activations.capacity": f"{kib} KiB"}) for kib in (96, 256, 1024, 8192)]
    precision = base.matrix.input_precision
    fresh = []
    for accel in chips:
        _clear()
        schedules = schedule_workloads(workloads, target_of(accel, precision))
        fresh.append((schedules, _program_bytes(generate_program(workloads, schedules, target_of(accel, precision)))))
    _clear()
    for accel, expected in zip(chips + chips, fresh + fresh, strict=True):
        schedules = schedule_workloads(workloads, target_of(accel, precision))
        assert schedules == expected[0]
        assert _program_bytes(generate_program(workloads, schedules, target_of(accel, precision))) == expected[1]
    distinct_shapes = len({w.shape_key for w in workloads})
    assert len(SCHEDULES) < len(chips) * distinct_shapes  # some layers were shared


@pytest.mark.parametrize("capacity", ["96 KiB", "256 KiB", "1024 KiB"])
def test_a_compiles_codes_are_those_its_search_measured(capacity: str) -> None:
    """`codegen.memo.MeasuredCodes`: the program takes each layer's code as the search
    recorded it, with the spill flag the search had; it is the code `cached_layer_codes` finds
    from each layer's own footprint (the chip's kept tensors make layers of one shape differ
    in room, some sharing one search)."""
    accel = with_overrides(example_chip("edge"), {"buffers.activations.capacity": capacity})
    compiled = compile_workloads(_lowered("mobilenetv2"), "mobilenetv2", accel, CompileOptions())
    workloads, schedules, target = compiled.plan.workloads, compiled.schedules, compiled.target
    assert len({w.reserved for w in workloads if w.kind is WorkloadKind.GEMM}) > 1
    expected = cached_layer_codes(workloads, schedules, target)
    assert [c.instructions.tobytes() for c in compiled.codes] == [c.instructions.tobytes() for c in expected]
    assert [c.deps.tobytes() for c in compiled.codes] == [c.deps.tobytes() for c in expected]


def test_cached_tilings_are_not_shared_by_arrays_that_fill_differently():
    """A 64-column array and two 32-column units side by side have the same rows and columns
    but not the same fill and drain: neither takes the other's estimate terms from `SPACES`."""
    base = example_chip("edge")
    workloads = _lowered("mobilenetv2")
    split, whole = (target_of(with_overrides(base, o), base.matrix.input_precision)
                    for o in ({"matrix.cols": 32, "matrix.units": 2}, {"matrix.cols": 64, "matrix.units": 1}))  # fmt: skip
    _clear()
    alone = schedule_workloads(workloads, whole)
    _clear()
    schedule_workloads(workloads, split)
    assert schedule_workloads(workloads, whole) == alone


def test_cached_code_is_read_only_and_assembled_like_fresh_code():
    accel = example_chip("gemmini")
    precision = accel.matrix.input_precision
    chip = target_of(accel, precision)
    workloads = _lowered("bert:layers=2")
    schedules = schedule_workloads(workloads, target_of(accel, precision))
    code = cached_layer_code(workloads[0], schedules[0], chip)
    assert not code.instructions.flags.writeable
    fresh = assemble(
        [layer_code(w, s, chip, layer) for layer, (w, s) in enumerate(zip(workloads, schedules))],
        tuple(w.name for w in workloads),
    )
    assert _program_bytes(generate_program(workloads, schedules, target_of(accel, precision))) == _program_bytes(fresh)


def _program_bytes(program) -> bytes:
    return program.instructions.tobytes() + program.dep_ptr.tobytes() + program.deps.tobytes()
