"""What a scheduler decides for one workload, and the errors it can raise.

A GEMM workload gets a `Schedule`: dataflow, tile sizes, the order of the three tile loops,
whether tiles are double buffered and how many of its batch's independent products (groups,
heads) share one pass of the array. A vector workload gets a `VectorSchedule`: how many
chunks its elements are streamed in. A fused attention chain gets an `AttentionSchedule`:
its query block, key tile and how K and V are held; a fused chain of convolutions a
`ConvChainSchedule`: its band height; a fused MLP block an `MlpSchedule`: its token band and
intermediate chunk. All are plain frozen values;
`describe()` is the one-line form printed in reports and written to JSON.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum, IntEnum
from itertools import permutations

from accel_spec.types import Dataflow, IdentityHashed


class Dim(IntEnum):
    """The three loops of a GEMM tile nest (values index per-dimension arrays)."""

    M = 0
    K = 1
    N = 2


LoopOrder = tuple[Dim, Dim, Dim]
"""Tile loops from outermost to innermost."""

LOOP_ORDERS: tuple[LoopOrder, ...] = tuple(permutations(Dim))  # type: ignore[assignment]
"""The six loop orders; a candidate's order is an index into this tuple."""


class SchedulerKind(IdentityHashed, Enum):
    """How schedules are searched for."""

    HEURISTIC = "heuristic"
    EXHAUSTIVE = "exhaustive"
    LEARNED = "learned"


@dataclass(frozen=True)
class Schedule:
    """How one GEMM workload is tiled and ordered on the matrix engine.

    Attributes:
        dataflow: the systolic array's dataflow for every GEMM of the layer.
        tile_m, tile_k, tile_n: tile extents (edge tiles are smaller, never padded).
        order: tile loops, outermost first; the loop over passes of the batch (groups,
            heads) is always outside them.
        double_buffer: input, weight, side-input and partial-sum tiles get two slots each,
            so the next tile loads while the current one computes.
        groups_per_pass: G products of the batch packed block-diagonally into every GEMM
            (`compiler.target.timing`): the batch runs in ceil(batch / G) passes, the last
            one with the remaining products. Tiles are per product; a packed tile moves G
            of them.
    """

    dataflow: Dataflow
    tile_m: int
    tile_k: int
    tile_n: int
    order: LoopOrder
    double_buffer: bool
    groups_per_pass: int = 1

    def describe(self) -> str:
        """``WS m128 k256 n64 order=NMK db``, with `` g7`` before `` db`` when packing groups."""
        order = "".join(dim.name for dim in self.order)
        packing = f" g{self.groups_per_pass}" if self.groups_per_pass > 1 else ""
        buffering = " db" if self.double_buffer else ""
        return (
            f"{self.dataflow.short} m{self.tile_m} k{self.tile_k} n{self.tile_n} "
            f"order={order}{packing}{buffering}"
        )

    def tile(self, dim: Dim) -> int:
        """Tile extent along one dimension."""
        return (self.tile_m, self.tile_k, self.tile_n)[dim]


@dataclass(frozen=True)
class VectorSchedule:
    """How a vector workload streams through the vector unit: `chunks` equal slices.

    Each chunk is loaded, processed by one VEC per op class and stored; with double
    buffering chunk c+1 loads while chunk c computes. `sliced_constants`: each chunk loads
    the slice of the broadcast constants its outputs read, instead of one resident copy
    (`scheduling.footprint`; only when the copy does not fit).
    """

    chunks: int
    double_buffer: bool
    sliced_constants: bool = False

    @property
    def dataflow(self) -> None:
        """Vector work uses no systolic-array dataflow."""
        return None

    def describe(self) -> str:
        """``VEC chunks=16 db``, with `` sliced`` before `` db`` when slicing constants."""
        sliced = " sliced" if self.sliced_constants else ""
        return f"VEC chunks={self.chunks}{sliced}" + (" db" if self.double_buffer else "")


@dataclass(frozen=True)
class AttentionSchedule:
    """How a fused attention chain is blocked (`scheduling.attention`).

    Attributes:
        dataflow: the array's dataflow for both products.
        query_block: rows of Q per block (the last block is smaller when it does not divide).
        key_block: keys per K/V tile and per GEMM.
        kv_resident: K and V of a head stay in the WEIGHT buffer across its query blocks;
            otherwise they stream per key tile, double buffered, once per query block.
        pipelined: S and P rows are double buffered and the program is software pipelined:
            block n + 1's QKᵀ runs on the array while block n's softmax runs on the vector
            unit, then block n's PV (one block's S row and P row more on chip).
    """

    dataflow: Dataflow
    query_block: int
    key_block: int
    kv_resident: bool
    pipelined: bool = True

    def describe(self) -> str:
        """``fused WS q64 k512 kv=resident pipelined``."""
        mode = "resident" if self.kv_resident else "streamed"
        overlap = " pipelined" if self.pipelined else ""
        return f"fused {self.dataflow.short} q{self.query_block} k{self.key_block} kv={mode}{overlap}"


@dataclass(frozen=True)
class ConvChainSchedule:
    """How a depth-first chain of convolutions is run (`scheduling.conv_chain`).

    Attributes:
        dataflow: the array's dataflow for every layer's GEMMs.
        band_rows: output rows of the chain's last layer per band (the last band may be
            smaller); every other layer computes, per band, the rows the next one needs
            that it has not computed yet.
        groups_per_pass: per layer, the products of its batch (groups) packed in one GEMM
            (`Schedule.groups_per_pass`; the last pass packs the rest).
    """

    dataflow: Dataflow
    band_rows: int
    groups_per_pass: tuple[int, ...]

    def describe(self) -> str:
        """``fused WS b4 g1/7/1``."""
        packing = "/".join(str(g) for g in self.groups_per_pass)
        return f"fused {self.dataflow.short} b{self.band_rows} g{packing}"


@dataclass(frozen=True)
class MlpSchedule:
    """How a fused MLP block is run (`scheduling.mlp`).

    Attributes:
        dataflow: the array's dataflow for both projections.
        band: tokens (rows) per band (the last band may be smaller).
        chunk: intermediate columns per GEMM and per weight tile (the last may be narrower).
        weights_resident: every weight stays in the WEIGHT buffer, loaded once in the first
            band; otherwise weight chunks stream double buffered, once per band.
    """

    dataflow: Dataflow
    band: int
    chunk: int
    weights_resident: bool

    def describe(self) -> str:
        """``fused WS b64 c256 w=resident``."""
        mode = "resident" if self.weights_resident else "streamed"
        return f"fused {self.dataflow.short} b{self.band} c{self.chunk} w={mode}"


LayerSchedule = Schedule | VectorSchedule | AttentionSchedule | ConvChainSchedule | MlpSchedule


class InfeasibleSchedule(Exception):
    """No schedule of a workload fits the chip's buffers.

    Not an `InputError`: the chip and the model are each valid, they just do not fit
    together. Sweeps record the point as `infeasible` with this message as the reason.
    """

    def __init__(self, workload_name: str, reason: str) -> None:
        self.workload_name = workload_name
        self.reason = reason
        super().__init__(f"layer {workload_name}: {reason}")
