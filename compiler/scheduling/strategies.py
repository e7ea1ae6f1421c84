"""Search strategies behind one entry point, `schedule_workloads`.

Every search has the same three steps, autotvm style:

  1. enumerate the candidate space of `kind` and keep the candidates that fit the buffers
     (bandwidth-independent);
  2. shortlist finalists with the vectorised estimate at a fixed ladder of bandwidths
     (`shortlist`: bandwidth-independent too);
  3. when there is more than one finalist, simulate the layer under each (`measure`) and
     keep the best on the search's `Goal`: for latency the fastest, skipping finalists whose
     exact lower bound cannot beat the best so far (branch and bound: the result is the
     minimum over all finalists); for energy or EDP the lowest, measuring every finalist.

Because steps 1–2 never look at the chip's DRAM bandwidth and the simulator is monotone in
it, more bandwidth never makes the chosen schedule of a layer worse on its objective, nor
the network: for a fixed program more bandwidth changes no event, only fewer cycles, hence
less leakage and clock energy.

Spaces:
  EXHAUSTIVE  every tile size of `candidates.tile_options`, every loop order, dataflow,
              buffering mode and packing of groups; its finalists include the heuristic's,
              so it is never slower than HEURISTIC;
  HEURISTIC   a few large tile sizes per dimension, double buffered, packing none or as
              many groups as fill the array (falls back to the exhaustive space when none
              of them fits).

Identical layer shapes (ResNet repeats most of its blocks) are scheduled once per call.
For HEURISTIC, steps 1–2 run for every GEMM shape of the network in one vectorised pass
(`batched`, the same numbers as one layer at a time), and a layer whose schedule an earlier
call, or an earlier layer of this call, already chose from identical inputs takes it from
`memo` (the key spells out every input, buffer capacities through each candidate's fit and
spill flags).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import fields, replace
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from compiler.scheduling.batched import Finalists, Shortlisted, Spaces, distinct, heuristic_finalists
from compiler.scheduling.challengers import Candidates, Pool
from compiler.scheduling.candidates import GemmCandidates, candidate_footprint, gemm_candidates, smallest_candidate
from compiler.scheduling.estimate import CostTerms, gemm_terms, vector_lane_ops, vector_terms
from compiler.scheduling.footprint import (
    Footprint,
    gemm_footprint,
    overflow_reason,
    slices_constants,
    vector_footprint,
    vector_tiles,
)
from compiler.scheduling.measure import Search, best_of_each
from compiler.scheduling.objective import Goal
from compiler.scheduling.roles import roles
from compiler.scheduling.memo import SCHEDULES, BoundedCache, candidate_flags, layer_key, schedule_key
from compiler.scheduling.schedule import (
    LOOP_ORDERS,
    InfeasibleSchedule,
    LayerSchedule,
    SchedulerKind,
    VectorSchedule,
)
from compiler.scheduling.shortlist import ascending_compute, shortlist
from compiler.scheduling.tiling import loop_positions
from compiler.target import Target
from compiler.workload import Workload, WorkloadKind

if TYPE_CHECKING:
    from compiler.codegen.memo import MeasuredCodes


def schedule_workloads(
    workloads: tuple[Workload, ...],
    chip: Target,
    kind: SchedulerKind = SchedulerKind.HEURISTIC,
    goal: Goal | None = Goal(),
    measured: MeasuredCodes | None = None,
) -> tuple[LayerSchedule, ...]:
    """One schedule per workload, in order, best on `goal` among the finalists of `kind`
    (`goal` None: the finalist of least estimated cycles, nothing measured), the code of
    every layer the measure step simulates recorded in `measured`, if given. Raises
    `InfeasibleSchedule` if a layer cannot fit."""
    keys = [layer_key(workload) for workload in workloads]
    distinct_shapes: dict[tuple, Workload] = {}
    for key, workload in zip(keys, workloads, strict=True):
        distinct_shapes.setdefault(key, workload)
    known, pending = _heuristic_gemm_search(distinct_shapes, chip, kind, goal)
    problems: dict[tuple, Problem] = {}  # by memo key: layers that differ only in room share it
    memo_keys: dict[tuple, tuple] = {}  # layer key -> memo key, for the layers measured here
    for key, (found, memo_key) in pending.items():
        problems.setdefault(memo_key, Problem(distinct_shapes[key], found.finalists, found.pool, found.spill))
        memo_keys[key] = memo_key
    if kind is SchedulerKind.HEURISTIC:  # the vector layers' searches, measured in the same rounds
        for key, workload in distinct_shapes.items():
            if workload.kind is WorkloadKind.VECTOR:
                memo_key, flags = _vector_memo_key(workload, chip, kind, goal)
                schedule = SCHEDULES.get(memo_key)
                if schedule is not None:
                    known[key] = schedule
                    continue
                memo_keys[key] = memo_key
                if memo_key not in problems:  # the space of the flags just found
                    problems[memo_key] = Problem(workload, *_heuristic_finalists(workload, chip, _vector_space(workload, chip, flags)))
    chosen = dict(zip(problems, _best_finalists(list(problems.values()), chip, goal, measured), strict=True))
    for memo_key, schedule in chosen.items():
        SCHEDULES.put(memo_key, schedule)
    for key, workload in distinct_shapes.items():
        if key in memo_keys:
            known[key] = chosen[memo_keys[key]]
            if measured is not None:
                measured.share(key, known[key], layer_key(problems[memo_keys[key]].workload))
        elif workload.kind is WorkloadKind.VECTOR and kind is not SchedulerKind.LEARNED:
            known[key] = _memoised_vector_search(workload, chip, kind, goal)
        elif key not in known:
            known[key] = schedule_workload(workload, chip, kind, goal)
    return tuple(known[key] for key in keys)


def _vector_memo_key(
    workload: Workload, chip: Target, kind: SchedulerKind, goal: Goal | None
) -> tuple[tuple, tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
    """A vector workload's key in `memo`, keyed like a GEMM search's, by its space's fit and
    sliced-constant flags (the only ways capacities enter it), and those flags: layers that
    differ only in the room kept tensors take are searched once."""
    flags = _vector_flags(workload, chip)
    _, _, fits, sliced = flags
    (packed,) = candidate_flags(fits, sliced, np.array([len(fits)]))
    return schedule_key(kind, workload.shape_key, chip, packed, goal), flags


def _memoised_vector_search(workload: Workload, chip: Target, kind: SchedulerKind, goal: Goal | None) -> LayerSchedule:
    """A vector workload's schedule in a space other than HEURISTIC's (which
    `schedule_workloads` measures with the other layers), through `memo`."""
    memo_key, _ = _vector_memo_key(workload, chip, kind, goal)
    schedule = SCHEDULES.get(memo_key)
    if schedule is None:
        schedule = schedule_workload(workload, chip, kind, goal)
        SCHEDULES.put(memo_key, schedule)
    return schedule


def schedule_workload(workload: Workload, chip: Target, kind: SchedulerKind, goal: Goal | None = Goal()) -> LayerSchedule:
    """The best finalist on `goal` of one workload in the search space of `kind` (module doc),
    the HEURISTIC search's capacity challengers included (`challengers`)."""
    if kind is SchedulerKind.LEARNED:
        from compiler.scheduling.learned import ranks  # loads the ranker (xgboost) on first use

        if not ranks(workload):
            kind = SchedulerKind.HEURISTIC
    if kind is SchedulerKind.HEURISTIC:
        return _best_finalist(workload, *_heuristic_finalists(workload, chip), chip, goal)
    return _best_finalist(workload, finalists(workload, chip, kind), None, chip, goal)


class Problem(NamedTuple):
    """One layer's finalists to measure (`_best_finalists`), with their `Footprint.spill`
    flags when known and the pool of its capacity challengers (`challengers`)."""

    workload: Workload
    found: Finalists
    pool: Pool | None
    spills: tuple[bool, ...] | None = None


def _best_finalists(
    problems: list[Problem], chip: Target, goal: Goal | None, measured: MeasuredCodes | None = None
) -> list[LayerSchedule]:
    """Step 3 of several layers at once: measure each layer's finalists, most promising
    first, and the candidates of its pool they do not beat that qualify as capacity
    challengers, and keep its best on `goal` (`measure.Search`; the layers' measurements
    taken in rounds, `measure.best_of_each`); without a goal, the first finalist."""
    chosen: list[LayerSchedule | None] = []
    searches: list[Search] = []
    for workload, (schedules, estimates, bounds), pool, spills in problems:
        order = np.argsort(estimates, kind="stable")
        if goal is None or (len(schedules) == 1 and pool is None):
            chosen.append(schedules[int(order[0])])
        else:
            chosen.append(None)
            searches.append(Search(workload, schedules, bounds, order, goal, spills, pool))
    best = iter(best_of_each(searches, chip, measured))
    return [next(best) if schedule is None else schedule for schedule in chosen]


def _best_finalist(workload: Workload, found: Finalists, pool: Pool | None, chip: Target, goal: Goal | None) -> LayerSchedule:
    """`_best_finalists` of one layer."""
    return _best_finalists([Problem(workload, found, pool)], chip, goal)[0]


def _heuristic_gemm_search(
    distinct_shapes: dict[tuple, Workload], chip: Target, kind: SchedulerKind, goal: Goal | None
) -> tuple[dict[tuple, LayerSchedule], dict[tuple, tuple[Shortlisted, tuple]]]:
    """Steps 1–2 for every GEMM shape at once (`batched`), skipping those whose schedule is
    memoised (`memo`): (schedules known, {shape: (finalists, memo key)} to measure).
    Layers with one memo key (they differ only in room that changes no candidate's flags)
    share one shortlist, and `schedule_workloads` measures it once.

    Shapes whose HEURISTIC space has no candidate that fits, vector workloads and other
    kinds are left to `schedule_workload`, one layer at a time.
    """
    gemms = [(key, w) for key, w in distinct_shapes.items() if w.kind is WorkloadKind.GEMM]
    if kind is not SchedulerKind.HEURISTIC or not gemms:
        return {}, {}
    spaces = Spaces.of([w for _, w in gemms], chip)
    known: dict[tuple, LayerSchedule] = {}
    searched: dict[tuple, int] = {}  # memo key -> the space searched for it
    memo_keys: dict[tuple, tuple] = {}  # layer key -> memo key, for the layers to measure
    flags = candidate_flags(spaces.fits, spaces.spill, spaces.grid.sizes)
    for space, ((key, workload), fits, packed) in enumerate(zip(gemms, spaces.feasible().tolist(), flags, strict=True)):
        if not fits:
            continue
        memo_key = schedule_key(kind, workload.shape_key, chip, packed, goal)
        schedule = SCHEDULES.get(memo_key)
        if schedule is not None:
            known[key] = schedule
        else:
            searched.setdefault(memo_key, space)
            memo_keys[key] = memo_key
    found = heuristic_finalists(spaces, chip, np.array(list(searched.values()), dtype=np.int64))
    by_memo_key = dict(zip(searched, found, strict=True))
    return known, {key: (by_memo_key[memo_key], memo_key) for key, memo_key in memo_keys.items()}


def finalists(workload: Workload, chip: Target, kind: SchedulerKind) -> Finalists:
    """(schedules, estimated cycles, lower bounds) of the finalists the search measures.

    Which schedules are finalists never depends on the chip's DRAM bandwidth (`shortlist`);
    their estimates and bounds, used only to order and prune the measurements, do.
    LEARNED is the exception: a trained ranker picks its finalists (`learned`).
    """
    if kind is SchedulerKind.LEARNED:
        from compiler.scheduling.learned import learned_finalists  # loads the ranker (xgboost) on first use

        return learned_finalists(workload, chip)
    return _finalists(workload, _space(workload, chip, kind), chip, kind)


def _heuristic_finalists(workload: Workload, chip: Target, space: "_SearchSpace | None" = None) -> tuple[Finalists, Pool]:
    """The HEURISTIC finalists of one workload and every candidate of its space (`_space`,
    when the caller has not made it) that fits."""
    if space is None:
        space = _space(workload, chip, SchedulerKind.HEURISTIC)
    index = np.flatnonzero(space.fits)
    terms = space.terms.take(index)
    bound = terms.bound(chip.dram_bytes_per_cycle)
    terms = replace(terms, channel_bytes=terms.channel_bytes[None])  # one arrangement

    def candidates() -> Candidates:
        return Candidates(
            terms, bound[None], space.demand[:, None, index], index[None], space.spill[None, index],
            lambda _, i: space.schedule(int(index[i])), np.zeros((1, len(index)), dtype=bool), slice(0, len(index)),
            ascending_compute(terms.compute, np.array([0]), np.array([len(index)])),
        )  # fmt: skip

    pool = Pool(float(bound.min()), candidates)
    return _finalists(workload, space, chip, SchedulerKind.HEURISTIC), pool


class _SearchSpace(NamedTuple):
    """A one-workload candidate space: the schedule of a candidate index, every candidate's
    estimate terms, which fit, their (buffers, candidates) demand and spill flags."""

    schedule: Callable[[int], LayerSchedule]
    terms: CostTerms
    fits: np.ndarray
    demand: np.ndarray
    spill: np.ndarray


def _finalists(workload: Workload, space: _SearchSpace, chip: Target, kind: SchedulerKind) -> Finalists:
    """`finalists` of the `_space` of `kind` (not LEARNED) of `workload`."""
    chosen = shortlist(space.terms, space.fits, kind)
    schedules = [space.schedule(int(i)) for i in chosen]
    estimates = space.terms.cycles(chip.dram_bytes_per_cycle)[chosen]
    bounds = space.terms.bound(chip.dram_bytes_per_cycle)[chosen]
    if kind is SchedulerKind.EXHAUSTIVE:
        heuristic = finalists(workload, chip, SchedulerKind.HEURISTIC)
        schedules += heuristic[0]
        estimates = np.concatenate([estimates, heuristic[1]])
        bounds = np.concatenate([bounds, heuristic[2]])
    return distinct(schedules, estimates, bounds)


def estimate_cycles(workload: Workload, schedule: LayerSchedule, chip: Target) -> float:
    """The scheduler's cycle estimate of one workload under one schedule."""
    if isinstance(schedule, VectorSchedule):
        terms = vector_terms(
            workload, chip, np.array([schedule.chunks]), np.array([schedule.double_buffer]), schedule.sliced_constants
        )
    else:
        terms = gemm_terms(workload, chip, GemmCandidates.of(schedule))
    return float(terms.cycles(chip.dram_bytes_per_cycle)[0])


def _space(workload: Workload, chip: Target, kind: SchedulerKind) -> _SearchSpace:
    """The candidate space of `kind` of one workload."""
    if workload.kind is WorkloadKind.VECTOR:
        return _vector_space(workload, chip)
    cands = gemm_candidates(workload.gemm, chip, kind)
    footprint, fits = candidate_footprint(workload, chip, cands)
    if not fits.any() and kind is SchedulerKind.HEURISTIC:
        cands = gemm_candidates(workload.gemm, chip, SchedulerKind.EXHAUSTIVE)
        footprint, fits = candidate_footprint(workload, chip, cands)
    if not fits.any():
        smallest = smallest_candidate(chip)
        footprint = gemm_footprint(
            workload, chip, smallest.tiles, loop_positions(smallest.order, LOOP_ORDERS), smallest.double_buffer
        )
        raise InfeasibleSchedule(workload.name, overflow_reason(footprint, chip, "smallest tile"))
    return _SearchSpace(cands.schedule, gemm_terms(workload, chip, cands), fits, footprint.demand(chip), footprint.spill)


def _vector_space(
    workload: Workload, chip: Target, flags: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None = None
) -> _SearchSpace:
    """Power-of-two chunk counts, double buffered or not; constants resident where that
    fits, else sliced per chunk where their broadcast is known (`footprint`). `flags`:
    `_vector_flags`, when the caller has found them."""
    chunks, double_buffer, fits, sliced = _vector_flags(workload, chip) if flags is None else flags

    def schedule(index: int) -> VectorSchedule:
        return VectorSchedule(
            chunks=int(chunks[index]), double_buffer=bool(double_buffer[index]), sliced_constants=bool(sliced[index])
        )

    _, _, resident_tiles, sliced_tiles = _vector_tiles(workload, chip)
    resident_terms, sliced_terms = _vector_terms(workload, chip, chunks, double_buffer)
    tiles, terms = resident_tiles, resident_terms
    if sliced_tiles is not None and sliced_terms is not None:  # each candidate's tiles and terms, as `sliced` says
        tiles = np.where(sliced, sliced_tiles, resident_tiles)
        terms = replace(resident_terms, channel_bytes=np.where(sliced, sliced_terms.channel_bytes, resident_terms.channel_bytes),
                        exposed_bytes=np.where(sliced, sliced_terms.exposed_bytes, resident_terms.exposed_bytes))  # fmt: skip
    return _SearchSpace(schedule, terms, fits, tiles + roles(workload, chip).reserved[:, None], np.zeros(len(chunks), dtype=bool))


def _vector_flags(workload: Workload, chip: Target) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(chunks, double buffered, fits, sliced) of every candidate of `_vector_space`;
    raises `InfeasibleSchedule` when none fits."""
    chunks, double_buffer, resident_tiles, sliced_tiles = _vector_tiles(workload, chip)
    room = (chip.capacity_array - roles(workload, chip).reserved)[:, None]  # bytes per buffer the tiles may take
    fits = np.all(resident_tiles <= room, axis=0)
    sliced = np.zeros_like(fits)
    if sliced_tiles is not None:
        sliced = ~fits & np.all(sliced_tiles <= room, axis=0)
        fits = fits | sliced
    if not fits.any():
        one = np.array([max_chunks(workload)])
        footprint = vector_footprint(workload, chip, one, np.array([False]), sliced=slices_constants(workload))
        raise InfeasibleSchedule(workload.name, overflow_reason(footprint, chip, "one element per chunk"))
    return chunks, double_buffer, fits, sliced


def _vector_tiles(workload: Workload, chip: Target) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]:
    """The `VECTOR_TILES` entry of `workload` on `chip`, made if it is missing."""
    key = (workload.shape_key, chip.tile_bytes_key)
    tiles = VECTOR_TILES.get(key)
    if tiles is None:
        powers = 2 ** np.arange(int(max_chunks(workload)).bit_length(), dtype=np.int64)
        chunks = np.concatenate([powers, powers])
        double_buffer = np.repeat([True, False], len(powers))
        def by_buffer(sliced: bool) -> np.ndarray:
            """(buffers, candidates) bytes of the candidates' tiles in each buffer."""
            by_operand = vector_tiles(workload, chip, chunks, double_buffer, sliced=sliced)
            return Footprint(by_operand, np.zeros(len(chunks), dtype=bool), np.zeros((len(chip.buffer_names), 1), np.int64)).demand(chip)

        tiles = (chunks, double_buffer, by_buffer(False), by_buffer(True) if slices_constants(workload) else None)
        for array in tiles:
            if array is not None:
                array.flags.writeable = False  # shared by every chip of this array's tiles
        VECTOR_TILES.put(key, tiles)
    return tiles


VECTOR_TILES: BoundedCache[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]] = BoundedCache(capacity=4096)
"""`_vector_flags`' candidates of a vector shape on a chip, by (`Workload.shape_key`,
`Target.tile_bytes_key`): their chunk counts and buffering, and the bytes their tiles take in
each buffer (buffers, candidates) with constants resident and, where they may be, sliced
(`footprint.vector_tiles` summed by buffer as `Footprint.demand` sums them, read-only). The
capacities and the kept tensors enter only through which fit, found for each chip (a
candidate fits where its tiles take no more than the capacity less the kept tensors in every
buffer: `Footprint.fits`). A kilobyte or two an entry."""


def _vector_terms(
    workload: Workload, chip: Target, chunks: np.ndarray, double_buffer: np.ndarray
) -> tuple[CostTerms, CostTerms | None]:
    """`estimate.vector_terms` of the candidates `chunks` × `double_buffer` of `workload` with
    its constants resident, and sliced where they may be (None otherwise), kept in
    `VECTOR_TERMS`. Slicing changes only a candidate's channel and exposed bytes, elementwise,
    so a space whose candidates slice or not take each one's from one of the two."""
    key = (workload.shape_key, chip.tile_bytes_key, chip.burst, chip.latency)
    terms = VECTOR_TERMS.get(key)
    if terms is None:
        sliced = vector_terms(workload, chip, chunks, double_buffer, True) if slices_constants(workload) else None
        terms = (vector_terms(workload, chip, chunks, double_buffer), sliced)
        for array in (getattr(t, f.name) for t in terms if t is not None for f in fields(t)):
            if isinstance(array, np.ndarray):
                array.flags.writeable = False  # shared by every chip of this array's terms
        VECTOR_TERMS.put(key, terms)
    return terms


VECTOR_TERMS: BoundedCache[tuple[CostTerms, CostTerms | None]] = BoundedCache(capacity=4096)
"""`_vector_terms` by (`Workload.shape_key`, `Target.tile_bytes_key`, burst, latency): every
field `estimate.vector_terms` reads (the capacities and the DRAM bandwidth it does not). A
kilobyte or two an entry."""


def max_chunks(workload: Workload) -> int:
    """Most chunks such that every chunk loads, computes and stores something."""
    sizes = [workload.input_elements, workload.output_elements, max(vector_lane_ops(workload).values())]
    if workload.side_input_elements > 0:
        sizes.append(workload.side_input_elements)
    return max(1, min(sizes))
