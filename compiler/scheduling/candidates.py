"""The candidate schedules of a GEMM workload, as arrays (one entry per candidate).

Under `TimingMode.SCALESIM` the space is SCALE-Sim's mapping instead: one fold of the
array per tile along the dims the dataflow spreads, the streamed dim innermost
(`scalesim_mapping`), no packing; only the streamed tile size and buffering are chosen.

Tile sizes along a dimension of extent E come from three families: multiples of the array
dimension that the dataflow spreads that GEMM dimension over (A·2^i), powers of two, and E
itself (so a layer that fits entirely is one tile). The exhaustive space crosses every
size of M, K and N with the six loop orders, every supported dataflow, double buffering on
and off and every packing of `group_options`; the heuristic space keeps a few large sizes
per dimension, spread geometrically, with every A·2^i among them (a tile that fills the
array's width exactly: skipping it left half a 256-wide array idle on 2000-wide FC layers),
double buffering, and packing none or as many products as fill the array, which is where
good schedules live when they fit.
"""

from __future__ import annotations

import functools
import itertools
from dataclasses import dataclass

import numpy as np

from accel_spec.types import Dataflow
from compiler.scheduling.footprint import Footprint, gemm_footprint
from compiler.scheduling.schedule import LOOP_ORDERS, Dim, Schedule, SchedulerKind
from compiler.scheduling.space_kernel import space_tables
from compiler.scheduling.tiling import loop_positions, tile_count
from compiler.target import Target, TimingMode
from compiler.workload import GemmShape, Workload

HEURISTIC_SIZE_RANKS = np.array([0, 1, 2, 4, 6, 8])
"""Which sizes per dimension (0 = E, then descending) the heuristic keeps: the three
largest, then every other one, spanning a factor of about 256 for powers of two."""

STREAMED_DIM: dict[Dataflow, Dim] = {
    Dataflow.OUTPUT_STATIONARY: Dim.K,
    Dataflow.WEIGHT_STATIONARY: Dim.M,
    Dataflow.INPUT_STATIONARY: Dim.N,
}
"""The dim each dataflow streams through the array (the one it does not spread over it)."""


def scalesim_mapping(chip: Target, dataflow, positions: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Which candidates follow SCALE-Sim's order when the chip is timed like SCALE-Sim (all,
    otherwise): with one fold per tile (`gemm_space`), the streamed dim's loop innermost
    among the loops of more than one tile, so consecutive GEMMs stream one fold whole and
    continue it (`compiler.target.timing`). `positions` and `counts` are (3, ...) by Dim."""
    if chip.timing is not TimingMode.SCALESIM:
        return np.ones(np.broadcast_shapes(np.shape(dataflow), positions.shape[1:], counts.shape[1:]), dtype=bool)
    dataflow = np.asarray(dataflow)
    streamed = np.select([dataflow == d for d in STREAMED_DIM], [int(STREAMED_DIM[d]) for d in STREAMED_DIM])
    position = np.choose(streamed, positions)
    ok = np.ones(np.broadcast_shapes(position.shape, counts.shape[1:]), dtype=bool)
    for dim in Dim:
        other = streamed != int(dim)
        ok &= ~(other & (counts[dim] > 1) & (positions[dim] > position))
    return ok | (np.choose(streamed, counts) <= 1)


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
    return np.array(_tile_options(int(extent), array_dim, kind), dtype=np.int64)


@functools.lru_cache(maxsize=65536)
def _tile_options(extent: int, array_dim: int | None, kind: SchedulerKind) -> tuple[int, ...]:
    """`tile_options` as Python ints, kept per (extent, array dim, kind): every layer of a
    network and every chip with that array dimension asks for the same few."""
    powers = [1 << i for i in range(extent.bit_length())]
    sizes = {extent, *(p for p in powers if p < extent)}
    if array_dim is not None:
        sizes |= {array_dim * p for p in powers if array_dim * p < extent}
    ordered = sorted(sizes, reverse=True)
    if kind is SchedulerKind.HEURISTIC:
        kept = {ordered[rank] for rank in HEURISTIC_SIZE_RANKS.tolist() if rank < len(ordered)}
        if array_dim is not None:
            kept |= {array_dim * p for p in powers if array_dim * p < extent}
        return tuple(sorted(kept, reverse=True))
    return tuple(ordered)


def group_options(gemm: GemmShape, chip: Target, dataflow: Dataflow, kind: SchedulerKind) -> np.ndarray:
    """Products per pass worth packing, ascending.

    Packing multiplies K and N by G (`compiler.target.timing`); where the dataflow spreads
    them over the array, G = min over those axes of (array extent // per-product extent)
    products fill it (WS: min(R // K, C // N); OS: C // N; IS: R // K). More would only add
    folds. The heuristic tries 1 and that fill; the exhaustive space every power of two
    below it too. Never more than the batch.
    """
    return np.array(_group_options(gemm, chip, dataflow, kind), dtype=np.int64)


def _group_options(gemm: GemmShape, chip: Target, dataflow: Dataflow, kind: SchedulerKind) -> list[int]:
    """`group_options` as Python ints."""
    extents = (gemm.m, gemm.k, gemm.n)
    spatial = SPATIAL_DIMS[dataflow]
    fill = min(getattr(chip, spatial[dim]) // extents[dim] for dim in (Dim.K, Dim.N) if dim in spatial)
    fill = min(max(int(fill), 1), int(gemm.batch))
    options = {1, fill}
    if kind is SchedulerKind.EXHAUSTIVE:
        options |= {1 << i for i in range(fill.bit_length()) if 1 << i < fill}
    return sorted(options)


@dataclass(frozen=True)
class GemmSpace:
    """A candidate space factored as tilings × arrangements.

    A tiling is a candidate without loop order and buffering (dataflow, tile sizes, groups
    per pass); an arrangement is a (loop order, double buffering) pair. Every tiling of a
    space comes with every arrangement, so what does not depend on the arrangement is
    computed once per tiling (`estimate.TilingTerms`), and candidate i of
    `gemm_candidates` is the tiling and arrangement at which `index` holds i.

    Attributes:
        dataflow, groups: (tilings,) `Dataflow` values and products packed per pass.
        tiles: (3, tilings) tile extents indexed by `Dim`.
        order, double_buffer: (arrangements,) indices into `LOOP_ORDERS` and flags.
        index: (arrangements, tilings) each candidate's position in `gemm_candidates`.
    """

    dataflow: np.ndarray
    tiles: np.ndarray
    groups: np.ndarray
    order: np.ndarray
    double_buffer: np.ndarray
    index: np.ndarray

    def candidates(self) -> GemmCandidates:
        """Every candidate, in the order of `index`."""
        shape = self.index.shape

        def spread(values: np.ndarray) -> np.ndarray:
            out = np.empty(self.index.size, dtype=values.dtype)
            out[self.index] = np.broadcast_to(values, shape)
            return out

        return GemmCandidates(
            dataflow=spread(self.dataflow),
            tiles=np.stack([spread(t) for t in self.tiles]),
            order=spread(self.order[:, None]),
            double_buffer=spread(self.double_buffer[:, None]),
            groups=spread(self.groups),
        )


def gemm_space(gemm: GemmShape, chip: Target, kind: SchedulerKind) -> GemmSpace:
    """The search space `kind` of one GEMM shape, factored (`GemmSpace`).

    Candidates are numbered dataflow by dataflow, then by tile M, K, N, loop order,
    buffering and groups (the last fastest): the order ties are broken in. The sizes and
    packings are chosen here; `space_kernel.space_tables` crosses and numbers them.
    """
    order, double_buffer = _arrangements(kind)
    extents = (gemm.m, gemm.k, gemm.n)
    axes: list[tuple[int, ...]] = []
    for dataflow in chip.dataflows:
        spatial = SPATIAL_DIMS[dataflow]
        if chip.timing is TimingMode.SCALESIM:
            # SCALE-Sim's mapping: one fold of the array per tile, the whole layer streamed fold
            # by fold (`scalesim_mapping`), no packing of groups
            axes += [(min(extents[dim], getattr(chip, spatial[dim])),) if dim in spatial
                     else _tile_options(extents[dim], None, kind) for dim in Dim]  # fmt: skip
            axes.append((1,))
        else:
            axes += [_tile_options(extents[dim], getattr(chip, spatial[dim]) if dim in spatial else None, kind)
                     for dim in Dim]  # fmt: skip
            axes.append(tuple(_group_options(gemm, chip, dataflow, kind)))
    values, dataflows, index = space_tables(
        np.fromiter(itertools.chain.from_iterable(axes), dtype=np.int64),
        np.array([len(axis) for axis in axes], dtype=np.int64).reshape(-1, 4),
        np.array([int(dataflow) for dataflow in chip.dataflows], dtype=np.int64),
        len(order),
    )
    return GemmSpace(
        dataflow=dataflows, tiles=values[:3], groups=values[3], order=order, double_buffer=double_buffer, index=index
    )


@functools.lru_cache(maxsize=None)
def _arrangements(kind: SchedulerKind) -> tuple[np.ndarray, np.ndarray]:
    """(loop order index, double buffering) of every arrangement of `kind`'s space, loop
    order outer; read-only (shared by every space)."""
    buffering = [True] if kind is SchedulerKind.HEURISTIC else [True, False]
    order, double_buffer = (a.ravel() for a in np.meshgrid(np.arange(len(LOOP_ORDERS)), buffering, indexing="ij"))
    double_buffer = np.array(double_buffer, dtype=bool)
    for array in (order, double_buffer):
        array.flags.writeable = False
    return order, double_buffer


def gemm_candidates(gemm: GemmShape, chip: Target, kind: SchedulerKind) -> GemmCandidates:
    """Every candidate of the search space `kind` for one GEMM shape."""
    return gemm_space(gemm, chip, kind).candidates()


def smallest_candidate(chip: Target) -> GemmCandidates:
    """The least demanding schedule: 1-element tiles, K innermost, single buffered, unpacked."""
    return GemmCandidates.of(
        Schedule(chip.dataflows[0], 1, 1, 1, (Dim.M, Dim.N, Dim.K), double_buffer=False)
    )


def candidate_fits(workload: Workload, chip: Target, cands: GemmCandidates) -> np.ndarray:
    """Candidates whose tiles fit the buffers beside the tensors kept on chip, and that
    follow the timing mode's mapping (`candidates.scalesim_mapping`)."""
    return candidate_footprint(workload, chip, cands)[1]


def candidate_footprint(workload: Workload, chip: Target, cands: GemmCandidates) -> tuple[Footprint, np.ndarray]:
    """(footprint of every candidate, `candidate_fits`)."""
    positions = loop_positions(cands.order, LOOP_ORDERS)
    gemm = workload.gemm
    counts = np.stack([tile_count(e, t) for e, t in zip((gemm.m, gemm.k, gemm.n), cands.tiles)])
    footprint = gemm_footprint(workload, chip, cands.tiles, positions, cands.double_buffer, cands.groups)
    return footprint, footprint.fits(chip) & scalesim_mapping(chip, cands.dataflow, positions, counts)
