"""Steps 1–2 of the HEURISTIC search (`strategies`) for many GEMM workloads in one pass.

Scoring one layer's few thousand candidates is dominated by the fixed cost of the hundreds
of numpy calls the estimate makes, not by the candidates. So the candidate spaces of every
distinct GEMM shape of a network are scored together, with the shape's fields as
per-tiling columns (`columns.WorkloadColumns`). Each space is factored into tilings ×
arrangements (`candidates.GemmSpace`): the per-tile arithmetic runs once per tiling
(`estimate.TilingTerms`), the six loop orders only multiply reload counts and pick spill
or not, and the shortlist expands to all arrangements only the tilings that can win
(`shortlist.tiled_shortlist`). Every number is computed elementwise by the same formulas
as the one-layer search, and each space's winners are picked by the same rule, so the
finalists are exactly those of `strategies.finalists` on each workload alone.

What does not depend on buffer capacities is kept per process and per shape
(`BoundedCache`): each shape's tilings and their terms, by everything they read, so a sweep
point that changes only capacities or bandwidth recomputes footprints and the shortlist
only, and one whose plan places a tensor differently rescores only the shapes that changed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, fields, replace
from functools import partial

import numpy as np

from accel_spec.types import Dataflow
from compiler.scheduling.candidates import gemm_space, scalesim_mapping
from compiler.scheduling.challengers import Candidates, Pool
from compiler.scheduling.columns import WorkloadColumns
from compiler.scheduling.estimate import CostTerms, TilingTerms, tiling_terms
from compiler.scheduling.footprint import TilingBytes, arranged_footprint, kept_bytes, tiling_bytes
from compiler.scheduling.memo import BoundedCache
from compiler.scheduling.schedule import LOOP_ORDERS, LayerSchedule, Schedule, SchedulerKind
from compiler.scheduling.shortlist import ascending_compute, tiled_shortlist
from compiler.scheduling.tiling import loop_positions
from compiler.target import Target
from compiler.workload import Workload

Finalists = tuple[tuple[LayerSchedule, ...], np.ndarray, np.ndarray]
"""(schedules, estimated cycles, lower bounds), as `strategies.finalists` returns them."""


@dataclass(frozen=True)
class Shortlisted:
    """One space's finalists, whether each spills partial sums (its code depends on it),
    and every candidate of the space that fits (`challengers`)."""

    finalists: Finalists
    spill: tuple[bool, ...]
    pool: Pool


@dataclass(frozen=True)
class Spaces:
    """The HEURISTIC candidate spaces of several GEMM workloads, factored and concatenated.

    Attributes:
        grid: the tilings of every space and their shared arrangements.
        terms: every tiling's loop-order-independent estimate terms.
        fits, spill: (arrangements, tilings) `Footprint.fits` and `Footprint.spill`.
        demand: (buffers, arrangements, tilings) `Footprint.demand`.
    """

    grid: "_Grid"
    terms: TilingTerms
    fits: np.ndarray
    spill: np.ndarray
    demand: np.ndarray

    @classmethod
    def of(cls, workloads: Sequence[Workload], chip: Target) -> "Spaces":
        """The spaces of `workloads` on `chip`, with their fit and spill flags. Each shape's
        tilings and their terms come from `SPACES`, or are scored with the other missing
        shapes' in one pass; workloads of one shape (they differ only in the room kept
        tensors take) share them: only their flags differ."""
        array = (chip.rows, chip.cols, chip.unit_cols, chip.dataflows, chip.timing, chip.pipelined, chip.row_stationary,
                 chip.reduction_depth, chip.pe_width, chip.storage_bits, chip.accumulator_bits, chip.burst,
                 chip.vector_ops_per_cycle)  # fmt: skip
        found: dict[tuple, _Space] = {}
        missing: dict[tuple, Workload] = {}
        for workload in workloads:
            shape = workload.shape_key
            if shape not in found and shape not in missing:
                space = SPACES.get((shape, array))
                if space is None:
                    missing[shape] = workload
                else:
                    found[shape] = space
        if missing:
            for shape, space in zip(missing, _Space.scored(list(missing.values()), chip), strict=True):
                found[shape] = space
                SPACES.put((shape, array), space, cost=space.block.shape[1] * space.arrangements.order.size)
        grid, terms, bytes_by_chip = _joined(tuple(found[w.shape_key] for w in workloads))
        tilings = bytes_by_chip.get(chip.tile_bytes_key)
        if tilings is None:
            columns = WorkloadColumns.of(workloads, np.ones(len(workloads), dtype=np.int64))
            tilings = bytes_by_chip[chip.tile_bytes_key] = tiling_bytes(columns, grid.sizes, chip, grid.tiles, grid.groups)
        demand, spill, fits = arranged_footprint(tilings, kept_bytes(workloads, chip), chip, grid.positions[:, :, 0],
                                                 grid.double_buffer)  # fmt: skip
        fits &= scalesim_mapping(chip, grid.dataflow, grid.positions, terms.counts)
        return cls(grid, terms, fits, spill, demand)

    def feasible(self) -> np.ndarray:
        """Whether each space has a candidate that fits."""
        return np.logical_or.reduceat(self.fits.any(axis=0), self.grid.starts)


def _joined(spaces: tuple[_Space, ...]) -> tuple[_Grid, TilingTerms, dict[tuple, TilingBytes]]:
    """The grid and terms of `spaces` one after another: their blocks joined in one copy,
    read-only, and the bytes of their tilings by chip (`footprint.tiling_bytes`, by
    `Target.tile_bytes_key`, which holds every field they read: the workloads of one join
    differ in nothing else but kept tensors, which they do not read), filled by the caller.
    The last few joins are kept (`JOINS`): a sweep deals the points of one array to one
    worker in a row, and points whose memory plans place every layer alike search the same
    spaces."""
    key = tuple(id(space) for space in spaces)
    found = JOINS.pop(key, None)
    if found is None or not all(kept is space for kept, space in zip(found[0], spaces, strict=True)):
        block = np.concatenate([space.block for space in spaces], axis=1)
        block.flags.writeable = False
        grid = _Grid.of_block(block, np.array([space.block.shape[1] for space in spaces], dtype=np.int64),
                              spaces[0].arrangements)  # fmt: skip
        found = (spaces, grid, _terms_of_block(block, grid.index.shape[0]), {})
    JOINS[key] = found  # the most recent last
    while len(JOINS) > _KEPT_JOINS:
        del JOINS[next(iter(JOINS))]
    return found[1], found[2], found[3]


_KEPT_JOINS = 4
"""Joined spaces kept: a few memory plans of the array a worker is on (MobileNetV2: 2 MB each)."""

JOINS: dict[tuple[int, ...], tuple[tuple[_Space, ...], _Grid, TilingTerms, dict[tuple, TilingBytes]]] = {}
"""(ids of the spaces joined) -> (those spaces, their grid and terms, their tilings' bytes by
chip), least recent first; holding the spaces keeps their ids from being reused while the
entry lives."""


@dataclass(frozen=True)
class _Arrangements:
    """The (loop order, buffering) pairs every tiling of a HEURISTIC space comes with
    (read-only, shared by every space kept in `SPACES`).

    Attributes:
        order, double_buffer: (arrangements,) indices into `LOOP_ORDERS` and flags.
        positions: (3, arrangements, 1) loop positions of each arrangement by Dim.
    """

    order: np.ndarray
    double_buffer: np.ndarray
    positions: np.ndarray


_GRID_ROWS = 6
"""Rows of a space's block before its candidates' indices: dataflow, the three tile extents
by Dim, groups, the space's tilings by compute cycles."""


@dataclass(frozen=True)
class _Grid:
    """The part of `Spaces` that only the shapes, the array and its dataflows decide.

    Attributes:
        dataflow, tiles, groups: the tilings of every space, space after space.
        by_compute: each space's tilings (indices within it) in ascending compute cycles
            (`CostTerms.compute`, ties in tiling order), space after space: the order in
            which the challengers' kernel passes over rivals (`challengers_kernel`).
        sizes: tilings per space.
        order, double_buffer: the arrangements every tiling comes with.
        positions: (3, arrangements, 1) loop positions of each arrangement.
        index: (arrangements, tilings) each candidate's index in its own space.
        made: the candidates' schedules made so far, by flat position (arrangement ·
            tilings + tiling): a join is kept for the next points of its array (`JOINS`),
            whose finalists and challengers are mostly those of the points before, and each
            is made once (a MobileNetV2 point made some 110).
    """

    dataflow: np.ndarray
    tiles: np.ndarray
    groups: np.ndarray
    by_compute: np.ndarray
    sizes: np.ndarray
    order: np.ndarray
    double_buffer: np.ndarray
    positions: np.ndarray
    index: np.ndarray
    made: dict[int, Schedule] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def of_block(cls, block: np.ndarray, sizes: np.ndarray, arrangements: _Arrangements) -> "_Grid":
        """The grid whose tilings are the columns of `block` (`_Space.block`'s layout), `sizes`
        of them per space."""
        return cls(block[0], block[1:4], block[4], block[5], sizes, arrangements.order, arrangements.double_buffer,
                   arrangements.positions, block[_GRID_ROWS : _GRID_ROWS + arrangements.order.size])  # fmt: skip

    @property
    def starts(self) -> np.ndarray:
        """Index of each space's first tiling."""
        return np.concatenate([[0], np.cumsum(self.sizes)[:-1]]).astype(np.int64)

    def schedule(self, arrangement: int, tiling: int) -> Schedule:
        """The candidate of `tiling` under `arrangement`, made once (`made`) from the grid's
        numbers read one by one: a point makes a few dozen, finalists and capacity challengers."""
        flat = arrangement * len(self.groups) + tiling
        found = self.made.get(flat)
        if found is None:
            found = self.made[flat] = Schedule(
                Dataflow(int(self.dataflow[tiling])), int(self.tiles[0, tiling]), int(self.tiles[1, tiling]),
                int(self.tiles[2, tiling]), LOOP_ORDERS[int(self.order[arrangement])],
                bool(self.double_buffer[arrangement]), int(self.groups[tiling]),
            )  # fmt: skip
        return found

    def schedules(self, arrangement: np.ndarray, tiling: np.ndarray) -> list[Schedule]:
        """The candidates of `tiling` under `arrangement` (equal-length index arrays)."""
        return [self.schedule(a, t) for a, t in zip(arrangement.tolist(), tiling.tolist(), strict=True)]


def _terms_of_block(block: np.ndarray, arrangements: int) -> TilingTerms:
    """The `TilingTerms` rows of a block (`_Space.block`'s layout), as views."""
    parts = []
    row = _GRID_ROWS + arrangements
    for rows in _TERM_ROWS:
        parts.append(block[row] if rows == 0 else block[row : row + rows])
        row += max(rows, 1)
    return TilingTerms(*parts)


_TERM_ROWS = tuple(3 if f.name in ("counts", "serial_bytes") else 0 for f in fields(TilingTerms))
"""Rows of each `TilingTerms` field in a block: 3 for the (3, tilings) ones, 0 for a
(tilings,) one (a single row)."""


@dataclass(frozen=True)
class _Space:
    """One shape's HEURISTIC tilings on one chip and their estimate terms, as `SPACES` keeps
    them: every per-tiling number (int64) in one read-only block of its own, a column per
    tiling, so that a network's spaces join in one copy.

    Attributes:
        block: the rows dataflow, tiles (3, by Dim), groups, the tilings by compute cycles
            (`_Grid.by_compute`), each candidate's index in the space (one row per
            arrangement), then the `TilingTerms` fields in order (three rows for `counts`
            and `serial_bytes`).
        arrangements: the arrangements every tiling comes with.
    """

    block: np.ndarray
    arrangements: _Arrangements

    @classmethod
    def scored(cls, workloads: Sequence[Workload], chip: Target) -> list["_Space"]:
        """The spaces of `workloads` (distinct shapes), their terms scored in one pass."""
        by_gemm = {}  # workloads that differ only in placement (`compiler.memory`) share their GEMM's space
        for w in workloads:
            if w.gemm not in by_gemm:
                by_gemm[w.gemm] = gemm_space(w.gemm, chip, SchedulerKind.HEURISTIC)
        spaces = [by_gemm[w.gemm] for w in workloads]
        first = spaces[0]
        dataflow = np.concatenate([s.dataflow for s in spaces])
        tiles = np.concatenate([s.tiles for s in spaces], axis=1)
        groups = np.concatenate([s.groups for s in spaces])
        sizes = np.array([len(space.groups) for space in spaces], dtype=np.int64)
        terms = tiling_terms(WorkloadColumns.of(workloads, sizes), chip, dataflow, tiles, groups)
        starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
        by_compute = ascending_compute(terms.compute, starts, sizes)
        arrays = [dataflow[None], tiles, groups[None], by_compute[None], np.concatenate([s.index for s in spaces], axis=1)]
        # in `_TERM_ROWS`' layout, which `_terms_of_block` reads back (a field of another shape fails here)
        arrays += [getattr(terms, f.name).reshape(max(rows, 1), len(groups))
                   for f, rows in zip(fields(TilingTerms), _TERM_ROWS, strict=True)]  # fmt: skip
        stacked = np.concatenate(arrays, dtype=np.int64, casting="no")
        arrangements = _Arrangements(first.order, first.double_buffer, loop_positions(first.order, LOOP_ORDERS)[:, :, None])
        for array in (arrangements.order, arrangements.double_buffer, arrangements.positions):
            array.flags.writeable = False
        spaces_ = []
        for start, size in zip(starts.tolist(), sizes.tolist()):
            block = stacked[:, start : start + size].copy()  # its own numbers only, not the batch's
            block.flags.writeable = False  # shared by every search that finds it
            spaces_.append(cls(block, arrangements))
        return spaces_


SPACES: BoundedCache[_Space] = BoundedCache(capacity=6_000_000)
"""Each shape's tilings and terms by (`Workload.shape_key`, every chip field `gemm_space` and
`tiling_terms` read: array rows, columns and columns per unit (its fill and drain), dataflows,
timing, pipelining, row-stationary mapping (its active PEs), reduction depth and channel width, operand and accumulator widths,
burst, vector rates). Cost: candidates (36 bytes each), so at most 216 MB a process: the spaces
of MobileNetV2 or ResNet-50 on about 80 array shapes, BERT-base on about 300. A sweep draws
its arrays from a set (rows × columns) while capacities and bandwidth vary freely, and the
cache is least-recently-used: it only pays when it holds every array the sweep cycles
through, so it is sized for the 81 arrays of `benchmarks/sweep_throughput.py`'s never-seen
chips (about 25 % of a MobileNetV2 point whose array was seen). Kept per shape, not per
network, so a chip whose memory plan places one tensor differently rescores only the shapes
that changed."""


def heuristic_finalists(spaces: Spaces, chip: Target, selected: np.ndarray) -> list[Shortlisted | None]:
    """HEURISTIC finalists of the spaces at indices `selected` (ascending); None where no
    candidate fits (that workload needs the one-layer search, which falls back to the
    exhaustive space or raises)."""
    grid = spaces.grid
    starts = grid.starts
    searched = np.asarray(selected, dtype=np.int64)[spaces.feasible()[selected]]
    results: dict[int, Shortlisted] = {}
    if len(searched):
        terms = _arranged(spaces, chip)
        found = tiled_shortlist(terms, spaces.fits, grid.index, starts[searched], grid.sizes[searched],
                                chip.dram_bytes_per_cycle, grid.by_compute)  # fmt: skip
        arrangement, tiling = np.divmod(found.finalists, spaces.fits.shape[1])
        schedules = grid.schedules(arrangement, tiling)
        spills = spaces.spill[arrangement, tiling].tolist()
        ends = np.cumsum(found.counts).tolist()
        # the challengers' kernel reads a buffering flag per tiling: made once for every space
        per_tiling = replace(terms, double_buffer=np.full(len(grid.groups), bool(terms.double_buffer)))
        for space, end, count, least in zip(searched.tolist(), ends, found.counts.tolist(), found.least.tolist(),
                                            strict=True):  # fmt: skip
            window = slice(end - count, end)
            finalists = (tuple(schedules[window]), found.estimates[window], found.bounds[window])  # distinct: `tiled_shortlist`
            own = slice(int(starts[space]), int(starts[space] + grid.sizes[space]))
            pool = Pool(least, partial(Candidates, per_tiling, found.bound, spaces.demand, grid.index, spaces.spill,
                                       grid.schedule, found.finalist, own, grid.by_compute))  # fmt: skip
            results[space] = Shortlisted(finalists, tuple(spills[window]), pool)
    return [results.get(int(space)) for space in selected]


def _arranged(spaces: Spaces, chip: Target) -> CostTerms:
    """Estimate terms of every candidate of `spaces`, with their spill flags: per tiling, but
    the channel bytes per (arrangement, tiling); one buffering mode (the heuristic's) for all."""
    grid = spaces.grid
    (double_buffer,) = set(grid.double_buffer.tolist())  # one mode for every arrangement
    channel_bytes = spaces.terms.grid_channel_bytes(grid.positions[:, :, 0], spaces.spill)
    return spaces.terms.arranged(channel_bytes, bool(double_buffer), chip.latency)


def distinct(schedules: Sequence[LayerSchedule], estimates: np.ndarray, bounds: np.ndarray) -> Finalists:
    """The first occurrence of each schedule, with its estimate and bound."""
    first: dict[LayerSchedule, int] = {}
    for index, schedule in enumerate(schedules):
        first.setdefault(schedule, index)
    keep = list(first.values())
    return tuple(first), estimates[keep], bounds[keep]
