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

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, fields, replace
from functools import partial

import numpy as np

from accel_spec.types import Dataflow
from compiler.scheduling.candidates import gemm_space, scalesim_mapping
from compiler.scheduling.challengers import Candidates, Pool
from compiler.scheduling.columns import WorkloadColumns
from compiler.scheduling.estimate import CostTerms, TilingTerms, tiling_terms
from compiler.scheduling.footprint import tiled_footprint
from compiler.scheduling.memo import BoundedCache
from compiler.scheduling.schedule import LOOP_ORDERS, LayerSchedule, Schedule, SchedulerKind
from compiler.scheduling.shortlist import tiled_shortlist
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
        terms: each space's tilings' loop-order-independent estimate terms (joined only for
            the spaces searched, `heuristic_finalists`).
        fits, spill: (arrangements, tilings) `Footprint.fits` and `Footprint.spill`.
        demand: (buffers, arrangements, tilings) `Footprint.demand`.
    """

    grid: "_Grid"
    terms: tuple[TilingTerms, ...]
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
                SPACES.put((shape, array), space, cost=space.grid.index.size)
        spaces = [found[w.shape_key] for w in workloads]
        grid = _Grid.joined([space.grid for space in spaces])
        columns = WorkloadColumns.of(workloads, grid.sizes)
        demand, spill, fits = tiled_footprint(columns, chip, grid.tiles, grid.positions[:, :, 0], grid.double_buffer,
                                              grid.groups)  # fmt: skip
        counts = np.concatenate([space.terms.counts for space in spaces], axis=1)
        fits &= scalesim_mapping(chip, grid.dataflow, grid.positions, counts)
        return cls(grid, tuple(space.terms for space in spaces), fits, spill, demand)

    def flags(self) -> list[tuple[np.ndarray, np.ndarray]]:
        """(fits, spill) of each space's candidates, as (arrangements, tilings) arrays."""
        edges = np.cumsum(self.grid.sizes)[:-1]
        return list(zip(np.split(self.fits, edges, axis=1), np.split(self.spill, edges, axis=1), strict=True))


@dataclass(frozen=True)
class _Grid:
    """The part of `Spaces` that only the shapes, the array and its dataflows decide.

    Attributes:
        dataflow, tiles, groups: the tilings of every space, space after space.
        sizes: tilings per space.
        order, double_buffer: the arrangements every tiling comes with.
        positions: (3, arrangements, 1) loop positions of each arrangement.
        index: (arrangements, tilings) each candidate's index in its own space.
    """

    dataflow: np.ndarray
    tiles: np.ndarray
    groups: np.ndarray
    sizes: np.ndarray
    order: np.ndarray
    double_buffer: np.ndarray
    positions: np.ndarray
    index: np.ndarray

    @classmethod
    def of(cls, workloads: Sequence[Workload], chip: Target) -> "_Grid":
        by_gemm = {}  # workloads that differ only in placement (`compiler.memory`) share their GEMM's space
        for w in workloads:
            if w.gemm not in by_gemm:
                by_gemm[w.gemm] = gemm_space(w.gemm, chip, SchedulerKind.HEURISTIC)
        spaces = [by_gemm[w.gemm] for w in workloads]
        first = spaces[0]
        return cls(
            dataflow=np.concatenate([s.dataflow for s in spaces]),
            tiles=np.concatenate([s.tiles for s in spaces], axis=1),
            groups=np.concatenate([s.groups for s in spaces]),
            sizes=np.array([len(space.groups) for space in spaces], dtype=np.int64),
            order=first.order,
            double_buffer=first.double_buffer,
            positions=loop_positions(first.order, LOOP_ORDERS)[:, :, None],
            index=np.concatenate([s.index for s in spaces], axis=1),
        )

    @classmethod
    def joined(cls, grids: Sequence["_Grid"]) -> "_Grid":
        """The spaces of `grids`, one after another (they share their arrangements)."""
        first = grids[0]
        return replace(
            first,
            dataflow=np.concatenate([g.dataflow for g in grids]),
            tiles=np.concatenate([g.tiles for g in grids], axis=1),
            groups=np.concatenate([g.groups for g in grids]),
            sizes=np.concatenate([g.sizes for g in grids]),
            index=np.concatenate([g.index for g in grids], axis=1),
        )

    def spaces(self) -> list["_Grid"]:
        """Each space alone, its per-tiling arrays copied into one read-only block of its own
        (kept in `SPACES`; the arrangements are shared, read-only)."""
        for array in (self.order, self.double_buffer, self.positions):
            array.flags.writeable = False
        stacked = np.concatenate([self.dataflow[None], self.tiles, self.groups[None], self.index], dtype=np.int64,
                                 casting="no")  # fmt: skip
        grids = []
        for _, size, block in _blocks(stacked, self.starts, self.sizes):
            sizes = np.array([size], dtype=np.int64)
            sizes.flags.writeable = False
            grids.append(_Grid(block[0], block[1:4], block[4], sizes, self.order, self.double_buffer, self.positions,
                               block[5:]))  # fmt: skip
        return grids

    @property
    def starts(self) -> np.ndarray:
        """Index of each space's first tiling."""
        return np.concatenate([[0], np.cumsum(self.sizes)[:-1]]).astype(np.int64)

    def schedules(self, arrangement: np.ndarray, tiling: np.ndarray) -> list[Schedule]:
        """The candidates of `tiling` under `arrangement` (equal-length index arrays)."""
        orders = [LOOP_ORDERS[o] for o in self.order[arrangement].tolist()]
        return [
            Schedule(Dataflow(dataflow), tm, tk, tn, order, double_buffer, groups)
            for dataflow, tm, tk, tn, order, double_buffer, groups in zip(
                self.dataflow[tiling].tolist(),
                *self.tiles[:, tiling].tolist(),
                orders,
                self.double_buffer[arrangement].tolist(),
                self.groups[tiling].tolist(),
            )
        ]


@dataclass(frozen=True)
class _Space:
    """One shape's HEURISTIC tilings on one chip and their estimate terms, as `SPACES` keeps
    them."""

    grid: _Grid
    terms: TilingTerms

    @classmethod
    def scored(cls, workloads: Sequence[Workload], chip: Target) -> list["_Space"]:
        """The spaces of `workloads` (distinct shapes), their terms scored in one pass."""
        grid = _Grid.of(workloads, chip)
        terms = tiling_terms(WorkloadColumns.of(workloads, grid.sizes), chip, grid.dataflow, grid.tiles, grid.groups)
        # every field is int64, (tilings,) or (3, tilings): one block per space, viewed back
        arrays = [getattr(terms, f.name) for f in fields(TilingTerms)]
        rows = np.cumsum([0] + [1 if a.ndim == 1 else len(a) for a in arrays])
        stacked = np.concatenate([a.reshape(-1, a.shape[-1]) for a in arrays], dtype=np.int64, casting="no")
        spaces = []
        for own, (_, _, block) in zip(grid.spaces(), _blocks(stacked, grid.starts, grid.sizes), strict=True):
            parts = [block[r] if a.ndim == 1 else block[r : r + len(a)] for a, r in zip(arrays, rows.tolist())]
            spaces.append(cls(own, TilingTerms(*parts)))
        return spaces


def _blocks(stacked: np.ndarray, starts: np.ndarray, sizes: np.ndarray) -> Iterator[tuple[int, int, np.ndarray]]:
    """(start, size, read-only copy of `stacked`'s columns) of each space: a space kept in
    `SPACES` holds its own numbers only, not the batch it was scored with."""
    for start, size in zip(starts.tolist(), sizes.tolist()):
        block = stacked[:, start : start + size].copy()
        block.flags.writeable = False  # shared by every search that finds it
        yield start, size, block


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
    feasible = np.logical_or.reduceat(spaces.fits.any(axis=0), starts)
    searched = np.asarray(selected, dtype=np.int64)[feasible[selected]]
    results: dict[int, Shortlisted] = {}
    if len(searched):
        keep = np.zeros(len(starts), dtype=bool)
        keep[searched] = True
        tilings = np.flatnonzero(np.repeat(keep, grid.sizes))
        sizes = grid.sizes[searched]
        columns = slice(None) if len(tilings) == len(grid.groups) else tilings  # every space searched: no copies
        fits, spill = spaces.fits[:, columns], spaces.spill[:, columns]
        terms = _arranged(spaces, searched, spill, chip)
        local_starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
        chosen = tiled_shortlist(terms, fits, grid.index[:, columns], local_starts)
        arrangement, tiling = np.divmod(np.concatenate(chosen), len(tilings))
        picked = _picked(terms, arrangement, tiling)
        estimates = picked.cycles(chip.dram_bytes_per_cycle)
        bound = np.where(fits, terms.bound(chip.dram_bytes_per_cycle), np.inf)  # of every candidate
        bounds = bound[arrangement, tiling]
        schedules = grid.schedules(arrangement, tilings[tiling])
        spills = spill[arrangement, tiling].tolist()
        open_bound = bound.copy()  # finalists are measured anyway: never examined as challengers
        open_bound[arrangement, tiling] = np.inf
        least = open_bound.min(axis=0)
        finalist = np.isinf(open_bound) & np.isfinite(bound)
        per_tiling = replace(terms, serial_latency=np.broadcast_to(terms.serial_latency, np.shape(terms.floor)))
        end = 0
        for space, count, start, size in zip(searched.tolist(), (len(c) for c in chosen), local_starts.tolist(),
                                             sizes.tolist(), strict=True):  # fmt: skip
            window = slice(end, end + count)
            end += count
            found = (tuple(schedules[window]), estimates[window], bounds[window])  # distinct: `tiled_shortlist`
            own = slice(start, start + size)
            pool = Pool(float(least[own].min()), partial(_candidates, spaces, per_tiling, bound, finalist, spill, tilings, own))
            results[space] = Shortlisted(found, tuple(spills[window]), pool)
    return [results.get(int(space)) for space in selected]


def _candidates(spaces: Spaces, terms: CostTerms, bound: np.ndarray, finalist: np.ndarray, spill: np.ndarray,
                tilings: np.ndarray, own: slice) -> Candidates:  # fmt: skip
    """The candidates of the space whose tilings are `tilings[own]` (`terms`, its
    `serial_latency` one per tiling, `bound`, `finalist` — whether each is a finalist that
    fits — and `spill` are over all of `tilings`)."""
    first = int(tilings[own.start])  # a space's tilings are consecutive in the grid
    columns = slice(first, first + own.stop - own.start)
    grid = spaces.grid

    def schedule(arrangement: int, tiling: int) -> Schedule:
        return grid.schedules(np.array([arrangement]), np.array([first + tiling]))[0]

    return Candidates(
        replace(terms, compute=terms.compute[own], floor=terms.floor[own], channel_bytes=terms.channel_bytes[:, own],
                exposed_bytes=terms.exposed_bytes[own], tail=terms.tail[own], iterations=terms.iterations[own],
                serial_bytes=terms.serial_bytes[:, own], serial_latency=terms.serial_latency[own]),
        bound[:, own],
        spaces.demand[:, :, columns],
        grid.index[:, columns],
        spill[:, own],
        schedule,
        np.ascontiguousarray(finalist[:, own]),  # the kernel's signature: a C-contiguous mask
    )  # fmt: skip


def _arranged(spaces: Spaces, searched: np.ndarray, spill: np.ndarray, chip: Target) -> CostTerms:
    """Estimate terms of every candidate of the `searched` spaces (ascending), whose spill
    flags are `spill`: per tiling, but the channel bytes per (arrangement, tiling); one
    buffering mode (the heuristic's) for all."""
    grid = spaces.grid
    (double_buffer,) = np.unique(grid.double_buffer)
    parts = [spaces.terms[space] for space in searched.tolist()]
    selected = TilingTerms(*(np.concatenate([getattr(p, f.name) for p in parts], axis=-1) for f in fields(TilingTerms)))
    channel_bytes = selected.grid_channel_bytes(grid.positions[:, :, 0], spill)
    return selected.arranged(channel_bytes, bool(double_buffer), chip.latency)


def _picked(terms: CostTerms, arrangement: np.ndarray, tiling: np.ndarray) -> CostTerms:
    """The terms of the candidates (arrangement, tiling), one entry each."""
    return CostTerms(
        compute=terms.compute[tiling],
        floor=terms.floor[tiling],
        channel_bytes=terms.channel_bytes[arrangement, tiling],
        exposed_bytes=terms.exposed_bytes[tiling],
        tail=terms.tail[tiling],
        iterations=terms.iterations[tiling],
        double_buffer=np.full(len(tiling), terms.double_buffer),
        latency=terms.latency,
        serial_bytes=terms.serial_bytes[:, tiling],
        serial_latency=np.broadcast_to(terms.serial_latency, np.shape(terms.floor))[tiling],
    )


def distinct(schedules: Sequence[LayerSchedule], estimates: np.ndarray, bounds: np.ndarray) -> Finalists:
    """The first occurrence of each schedule, with its estimate and bound."""
    first: dict[LayerSchedule, int] = {}
    for index, schedule in enumerate(schedules):
        first.setdefault(schedule, index)
    keep = list(first.values())
    return tuple(first), estimates[keep], bounds[keep]
