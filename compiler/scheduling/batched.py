"""Steps 1–2 of the HEURISTIC search (`strategies`) for many GEMM workloads in one pass.

Scoring one layer's few thousand candidates is dominated by the fixed cost of the hundreds
of numpy calls the estimate makes, not by the candidates. So the candidate spaces of every
distinct GEMM shape of a network are concatenated, with the shape's fields as
per-candidate columns (`columns.WorkloadColumns`), and the footprint, the estimate terms
and the shortlist run once over all of them (`shortlist.segment_shortlist`). Every number
is computed elementwise by the same formulas as the one-layer search, and each space's
winners are picked by the same rule, so the finalists are exactly those of
`strategies.finalists` on each workload alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields

import numpy as np

from compiler.scheduling.candidates import GemmCandidates, gemm_candidates
from compiler.scheduling.chip import Chip
from compiler.scheduling.columns import WorkloadColumns
from compiler.scheduling.estimate import gemm_terms
from compiler.scheduling.footprint import gemm_footprint
from compiler.scheduling.memo import BoundedCache, shape_key
from compiler.scheduling.schedule import LOOP_ORDERS, LayerSchedule, SchedulerKind
from compiler.scheduling.shortlist import segment_shortlist
from compiler.scheduling.tiling import loop_positions
from compiler.workload import Workload

Finalists = tuple[tuple[LayerSchedule, ...], np.ndarray, np.ndarray]
"""(schedules, estimated cycles, lower bounds), as `strategies.finalists` returns them."""


@dataclass(frozen=True)
class Spaces:
    """The HEURISTIC candidate spaces of several GEMM workloads, concatenated.

    Attributes:
        cands: every candidate, space after space.
        columns: the shape of each candidate's workload.
        sizes: candidates per space.
        fits, spill: each candidate's `Footprint.fits` and `Footprint.spill`.
    """

    cands: GemmCandidates
    columns: WorkloadColumns
    sizes: np.ndarray
    fits: np.ndarray
    spill: np.ndarray

    @classmethod
    def of(cls, workloads: Sequence[Workload], chip: Chip) -> "Spaces":
        """The spaces of `workloads` on `chip`, with their fit and spill flags."""
        key = (tuple(shape_key(w) for w in workloads), chip.rows, chip.cols, chip.dataflows)
        grid = _GRIDS.get(key)
        if grid is None:
            grid = _Grid.of(workloads, chip)
            _GRIDS.put(key, grid, cost=len(grid.cands))
        footprint = gemm_footprint(
            grid.columns, chip, grid.cands.tiles, grid.positions, grid.cands.double_buffer, grid.cands.groups
        )
        return cls(grid.cands, grid.columns, grid.sizes, footprint.fits(chip), footprint.spill)

    @property
    def starts(self) -> np.ndarray:
        """Index of each space's first candidate."""
        return np.concatenate([[0], np.cumsum(self.sizes)[:-1]]).astype(np.int64)

    def flags(self) -> list[tuple[np.ndarray, np.ndarray]]:
        """(fits, spill) of each space's candidates."""
        edges = np.cumsum(self.sizes)[:-1]
        return list(zip(np.split(self.fits, edges), np.split(self.spill, edges), strict=True))

    def select(self, spaces: np.ndarray) -> "Spaces":
        """Only the spaces at indices `spaces`, in that (ascending) order."""
        keep = np.zeros(len(self.sizes), dtype=bool)
        keep[spaces] = True
        mask = np.repeat(keep, self.sizes)
        return Spaces(
            self.cands.take(mask), self.columns.take(mask), self.sizes[keep], self.fits[mask], self.spill[mask]
        )


@dataclass(frozen=True)
class _Grid:
    """The part of `Spaces` that buffer capacities, widths and bandwidth do not change."""

    cands: GemmCandidates
    columns: WorkloadColumns
    sizes: np.ndarray
    positions: np.ndarray

    @classmethod
    def of(cls, workloads: Sequence[Workload], chip: Chip) -> "_Grid":
        spaces = [gemm_candidates(w.gemm, chip, SchedulerKind.HEURISTIC) for w in workloads]
        sizes = np.array([len(space) for space in spaces], dtype=np.int64)
        cands = GemmCandidates.concatenate(spaces)
        grid = cls(cands, WorkloadColumns.of(workloads, sizes), sizes, loop_positions(cands.order, LOOP_ORDERS))
        for array in _arrays(grid):
            array.flags.writeable = False  # shared by every search that finds it in _GRIDS
        return grid


def _arrays(grid: _Grid) -> list[np.ndarray]:
    columns = grid.columns
    return [
        *(getattr(grid.cands, f.name) for f in fields(GemmCandidates)),
        *(getattr(columns.gemm, f.name) for f in fields(columns.gemm)),
        *(getattr(columns.conv, f.name) for f in fields(columns.conv)),
        columns.side_input_elements,
        *columns.vector_ops.values(),
        grid.sizes,
        grid.positions,
    ]


_GRIDS: BoundedCache[_Grid] = BoundedCache(capacity=250_000)
"""Candidate grids by (shapes, array rows, array columns, dataflows): everything
`gemm_candidates` and `WorkloadColumns` read. About 250 bytes per candidate, so at most
about 60 MB: a handful of networks at a few array sizes, what one sweep worker revisits."""


def heuristic_finalists(spaces: Spaces, chip: Chip) -> list[Finalists | None]:
    """HEURISTIC finalists of each space; None where no candidate fits (that workload
    needs the one-layer search, which falls back to the exhaustive space or raises)."""
    if len(spaces.sizes) == 0:
        return []
    starts = spaces.starts
    feasible = np.logical_or.reduceat(spaces.fits, starts)
    terms = gemm_terms(spaces.columns, chip, spaces.cands, spaces.spill)
    results: list[Finalists | None] = []
    for space, chosen in enumerate(segment_shortlist(terms, spaces.fits, starts)):
        if not feasible[space]:
            results.append(None)
            continue
        chosen_terms = terms.take(chosen)
        results.append(
            distinct(
                [spaces.cands.schedule(int(i)) for i in chosen],
                chosen_terms.cycles(chip.dram_bytes_per_cycle),
                chosen_terms.lower_bound(chip.dram_bytes_per_cycle),
            )
        )
    return results


def distinct(schedules: Sequence[LayerSchedule], estimates: np.ndarray, bounds: np.ndarray) -> Finalists:
    """The first occurrence of each schedule, with its estimate and bound."""
    first: dict[LayerSchedule, int] = {}
    for index, schedule in enumerate(schedules):
        first.setdefault(schedule, index)
    keep = list(first.values())
    return tuple(first), estimates[keep], bounds[keep]
