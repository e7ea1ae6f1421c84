"""The candidate schedules of a GEMM workload, as arrays (one entry per candidate).

Tile sizes along a dimension of extent E come from three families: multiples of the array
dimension that the dataflow spreads that GEMM dimension over (A·2^i), powers of two, and E
itself (so a layer that fits entirely is one tile). The exhaustive space crosses every
size of M, K and N with the six loop orders, every supported dataflow, double buffering on
and off and every packing of `group_options`; the heuristic space keeps a few large sizes
per dimension, spread geometrically, double buffering, and packing none or as many
products as fill the array, which is where good schedules live when they fit.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from accel_spec.types import Dataflow
from compiler.scheduling.chip import Chip
from compiler.scheduling.schedule import LOOP_ORDERS, Dim, Schedule, SchedulerKind
from compiler.workload import GemmShape

HEURISTIC_SIZE_RANKS = np.array([0, 1, 2, 4, 6, 8])
"""Which sizes per dimension (0 = E, then descending) the heuristic keeps: the three
largest, then every other one, spanning a factor of about 256 for powers of two."""

SPATIAL_DIMS: dict[Dataflow, dict[Dim, str]] = {
    Dataflow.OUTPUT_STATIONARY: {Dim.M: "rows", Dim.N: "cols"},
    Dataflow.WEIGHT_STATIONARY: {Dim.K: "rows", Dim.N: "cols"},
    Dataflow.INPUT_STATIONARY: {Dim.K: "rows", Dim.M: "cols"},
}
"""Which GEMM dims each dataflow spreads over the array's rows and columns."""


@dataclass(frozen=True)
class GemmCandidates:
    """Candidate schedules as parallel arrays.

    Attributes:
        dataflow: `Dataflow` values (n,).
        tiles: (3, n) tile extents indexed by `Dim`.
        order: (n,) indices into `LOOP_ORDERS`.
        double_buffer: (n,) bools.
        groups: (n,) products of the batch packed per pass.
    """

    dataflow: np.ndarray
    tiles: np.ndarray
    order: np.ndarray
    double_buffer: np.ndarray
    groups: np.ndarray

    def __len__(self) -> int:
        return len(self.order)

    def schedule(self, index: int) -> Schedule:
        """The candidate at `index` as a `Schedule`."""
        tm, tk, tn = (int(t) for t in self.tiles[:, index])
        return Schedule(
            dataflow=Dataflow(int(self.dataflow[index])),
            tile_m=tm,
            tile_k=tk,
            tile_n=tn,
            order=LOOP_ORDERS[int(self.order[index])],
            double_buffer=bool(self.double_buffer[index]),
            groups_per_pass=int(self.groups[index]),
        )

    def take(self, index: np.ndarray) -> "GemmCandidates":
        """The candidates at `index` (indices or a boolean mask)."""
        return GemmCandidates(
            dataflow=self.dataflow[index],
            tiles=self.tiles[:, index],
            order=self.order[index],
            double_buffer=self.double_buffer[index],
            groups=self.groups[index],
        )

    @classmethod
    def concatenate(cls, parts: "list[GemmCandidates]") -> "GemmCandidates":
        """The candidates of `parts`, one after the other."""
        return cls(
            dataflow=np.concatenate([p.dataflow for p in parts]),
            tiles=np.concatenate([p.tiles for p in parts], axis=1),
            order=np.concatenate([p.order for p in parts]),
            double_buffer=np.concatenate([p.double_buffer for p in parts]),
            groups=np.concatenate([p.groups for p in parts]),
        )

    @classmethod
    def of(cls, schedule: Schedule) -> "GemmCandidates":
        """One schedule as a single candidate."""
        return cls(
            dataflow=np.array([int(schedule.dataflow)]),
            tiles=np.array([[schedule.tile(dim)] for dim in Dim], dtype=np.int64),
            order=np.array([LOOP_ORDERS.index(schedule.order)]),
            double_buffer=np.array([schedule.double_buffer]),
            groups=np.array([schedule.groups_per_pass], dtype=np.int64),
        )


def tile_options(extent: int, array_dim: int | None, kind: SchedulerKind) -> np.ndarray:
    """Tile sizes for one dimension, largest first."""
    powers = 2 ** np.arange(int(extent).bit_length(), dtype=np.int64)
    sizes = {int(extent)} | {int(p) for p in powers if p < extent}
    if array_dim is not None:
        sizes |= {int(array_dim * p) for p in powers if array_dim * p < extent}
    ordered = np.array(sorted(sizes, reverse=True), dtype=np.int64)
    if kind is SchedulerKind.HEURISTIC:
        return ordered[HEURISTIC_SIZE_RANKS[HEURISTIC_SIZE_RANKS < len(ordered)]]
    return ordered


def group_options(gemm: GemmShape, chip: Chip, dataflow: Dataflow, kind: SchedulerKind) -> np.ndarray:
    """Products per pass worth packing, ascending.

    Packing multiplies K and N by G (`simulator.timing_model`); where the dataflow spreads
    them over the array, G = min over those axes of (array extent // per-product extent)
    products fill it (WS: min(R // K, C // N); OS: C // N; IS: R // K). More would only add
    folds. The heuristic tries 1 and that fill; the exhaustive space every power of two
    below it too. Never more than the batch.
    """
    extents = (gemm.m, gemm.k, gemm.n)
    spatial = SPATIAL_DIMS[dataflow]
    fill = min(getattr(chip, spatial[dim]) // extents[dim] for dim in (Dim.K, Dim.N) if dim in spatial)
    fill = int(np.clip(fill, 1, gemm.batch))
    options = {1, fill}
    if kind is SchedulerKind.EXHAUSTIVE:
        options |= {int(p) for p in 2 ** np.arange(fill.bit_length()) if p < fill}
    return np.array(sorted(options), dtype=np.int64)


def gemm_candidates(gemm: GemmShape, chip: Chip, kind: SchedulerKind) -> GemmCandidates:
    """Every candidate of the search space `kind` for one GEMM shape."""
    buffering = np.array([True] if kind is SchedulerKind.HEURISTIC else [True, False])
    orders = np.arange(len(LOOP_ORDERS))
    extents = (gemm.m, gemm.k, gemm.n)
    parts = []
    for dataflow in chip.dataflows:
        spatial = SPATIAL_DIMS[dataflow]
        options = [
            tile_options(extents[dim], getattr(chip, spatial[dim]) if dim in spatial else None, kind)
            for dim in Dim
        ]
        groups = group_options(gemm, chip, dataflow, kind)
        grid = np.meshgrid(*options, orders, buffering, groups, indexing="ij")
        flat = [g.ravel() for g in grid]
        parts.append((np.full(flat[0].shape, int(dataflow)), np.stack(flat[:3]), *flat[3:]))
    return GemmCandidates(
        dataflow=np.concatenate([p[0] for p in parts]),
        tiles=np.concatenate([p[1] for p in parts], axis=1),
        order=np.concatenate([p[2] for p in parts]),
        double_buffer=np.concatenate([p[3] for p in parts]).astype(bool),
        groups=np.concatenate([p[4] for p in parts]),
    )


def smallest_candidate(chip: Chip) -> GemmCandidates:
    """The least demanding schedule: 1-element tiles, K innermost, single buffered, unpacked."""
    return GemmCandidates.of(
        Schedule(chip.dataflows[0], 1, 1, 1, (Dim.M, Dim.N, Dim.K), double_buffer=False)
    )
