"""Buffer capacity: how many bytes each buffer must hold for a (vector of) schedule(s).

Live tiles, per operand (× 2 slots with double buffering; × G products packed per pass):
  INPUT buffer   the input tile (a conv window, see `tiling`)
  WEIGHT buffer  the weight tile
  OUTPUT buffer  the partial sums the loop order keeps live, at accumulator precision
                 (one tile when spilling), plus the fused side-input tile
A buffer holding several operands holds the sum of their tiles. The same counts are what
`compiler.verify` finds live in a generated program.

Constants of vector workloads (`Workload.weight_elements`: a LayerNorm's scale and bias,
the rotary cos/sin table of a `Mul`, the rows a `Gather` reads) go to the WEIGHT buffer,
in one of three ways:
  streamed   a constant at least as large as the output is laid out like it (gathered
             rows, full-size operands): each chunk loads its proportional share, like the
             input, one slot per buffering slot (`streams_constants`);
  resident   a smaller constant is broadcast, and a chunk of outputs may touch all of it:
             it is loaded once per layer and stays (one slot, for every chunk);
  sliced     when the resident copy does not fit and the broadcast is known
             (`Workload.constant_period`), each chunk loads the slice of every constant
             its outputs read, one slot per buffering slot (`slices_constants`). A run of
             n consecutive outputs reads at most min(period / repeat, ⌈(n − 1) / repeat⌉ + 1)
             elements of each constant (the repeat-aligned blocks it meets; exactly
             min(period, n) for repeat 1), and that is what its chunk loads: the constant
             is read again for every chunk that needs it, and the channel carries it each
             time (`constant_slice_elements`). Chunks cover every output, so together they
             read every constant element at least once.
The search keeps a constant resident whenever that fits (one load instead of many) and
slices it only where it does not (`VectorSchedule.sliced_constants`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from typing import NamedTuple

import numpy as np

from accel_spec.types import Operand
from compiler.scheduling.columns import CONV_KERNEL_FIELDS, WorkloadColumns, per_tiling, reserved_table
from compiler.scheduling.footprint_kernel import arranged_footprint as kernel_arranged_footprint
from compiler.scheduling.footprint_kernel import tiling_bytes as kernel_tiling_bytes
from compiler.scheduling.schedule import Dim
from compiler.scheduling.tiling import (
    input_tile_elements,
    psum_group_elements,
    side_tile_elements,
    tile_count,
)
from compiler.scheduling.roles import roles
from compiler.target import Target, nbytes
from compiler.workload import Workload


@dataclass(frozen=True)
class Footprint:
    """Bytes per buffer and operand, for one schedule or an array of candidates.

    Attributes:
        by_operand: (3, ...) bytes each operand occupies, indexed by `Operand` (the side
            input is counted with OUTPUT, the buffer it is loaded into).
        spill: partial sums are spilled to DRAM between K iterations.
        reserved: (buffers, ...) bytes of each buffer held by tensors the memory plan keeps
            on chip (`Workload.reserved`), which the tiles share the buffer with.
    """

    by_operand: np.ndarray
    spill: np.ndarray
    reserved: np.ndarray

    def demand(self, chip: Target) -> np.ndarray:
        """(buffers, ...) bytes each buffer must hold: tiles and kept tensors."""
        shape = np.broadcast_shapes(self.by_operand.shape[1:], self.reserved.shape[1:])
        demand = np.zeros((len(chip.buffer_names),) + shape, dtype=np.int64)
        for operand in Operand:
            demand[chip.buffer(operand)] += self.by_operand[operand]
        return demand + self.reserved

    def fits(self, chip: Target) -> np.ndarray:
        """True where every buffer holds its tiles (`demand` within capacity), found buffer
        by buffer: no (buffers, ...) demand array to build for thousands of candidates."""
        shape = np.broadcast_shapes(self.by_operand.shape[1:], self.reserved.shape[1:])
        fits = np.ones(shape, dtype=bool)
        for index, capacity in enumerate(chip.capacity_array.tolist()):
            demand = self.reserved[index]
            for operand in Operand:
                if chip.buffer(operand) == index:
                    demand = demand + self.by_operand[operand]
            fits &= demand <= capacity
        return fits


def gemm_footprint(
    workload: Workload,
    chip: Target,
    tiles: np.ndarray,
    positions: np.ndarray,
    double_buffer,
    groups=1,
) -> Footprint:
    """Footprint of GEMM schedules; `tiles` and `positions` are (3, ...) arrays by Dim,
    `groups` the products packed per pass (a full pass is the largest)."""
    gemm = workload.gemm
    assert gemm is not None
    extents = (gemm.m, gemm.k, gemm.n)
    tm, tk, tn = tiles
    packed = np.asarray(groups, dtype=np.int64)
    counts = np.stack([tile_count(e, t) for e, t in zip(extents, tiles)])
    slots = np.where(double_buffer, 2, 1)
    flags = roles(workload, chip)
    side = flags.side_tile * nbytes(packed * side_tile_elements(tm, tn, workload), flags.side_bits)
    group = nbytes(packed * psum_group_elements(positions, counts, tiles, extents), chip.accumulator_bits)
    single = nbytes(packed * tm * tn, chip.accumulator_bits)
    by_operand = np.stack(
        np.broadcast_arrays(
            flags.input_tile * slots * nbytes(packed * input_tile_elements(tm, tk, workload), flags.input_bits),
            flags.weight_tile * slots * nbytes(packed * tk * tn, flags.weight_bits),
            slots * (group + side),
        )
    )
    reserved = _aligned(flags.reserved, by_operand.ndim)
    keep = Footprint(by_operand, np.zeros(by_operand.shape[1:], dtype=bool), reserved)
    spill = ~keep.fits(chip) & (group > single)
    by_operand[Operand.OUTPUT] = slots * (np.where(spill, single, group) + side)
    return Footprint(by_operand, spill, reserved)


class TilingBytes(NamedTuple):
    """What a grid's tilings alone decide of their candidates' footprints (`tiling_bytes`):
    every array read-only, so that a sweep keeps them for the points of an array whose plan
    places the layers alike (`batched`).

    Attributes:
        tiles: (buffers, tilings) one slot of the input and weight tiles, by the buffer
            holding them.
        side, single: (tilings) one side-input tile; one tile of partial sums.
        accumulates: (tilings) K takes more than one tile.
        workload_of: (tilings) the workload each tiling belongs to.
        tm, tn, groups: (tilings) the tile extents along M and N and the products a tile packs.
        m, n: (workloads) each workload's extents.
    """

    tiles: np.ndarray
    side: np.ndarray
    single: np.ndarray
    accumulates: np.ndarray
    workload_of: np.ndarray
    tm: np.ndarray
    tn: np.ndarray
    groups: np.ndarray
    m: np.ndarray
    n: np.ndarray


def tiling_bytes(columns: WorkloadColumns, sizes: np.ndarray, chip: Target, tiles: np.ndarray, groups: np.ndarray) -> TilingBytes:
    """The `TilingBytes` of a grid's tilings (`tiles` (3, tilings) by Dim, `groups` products a
    tile), those of the workloads of `columns` (one entry each) one after another, `sizes` of
    each (`footprint_kernel.tiling_bytes`)."""
    count = len(sizes)
    column = partial(per_tiling, size=count)
    flags = roles(columns, chip)
    extents = [np.ascontiguousarray(tiles[dim], dtype=np.int64) for dim in Dim]
    packed = np.ascontiguousarray(groups, dtype=np.int64)
    m, n = column(columns.gemm.m), column(columns.gemm.n)
    found = kernel_tiling_bytes(
        *extents, packed, np.asarray(sizes, dtype=np.int64), m, column(columns.gemm.k), n, column(columns.gemm.batch),
        np.ones(count, dtype=bool), *(column(getattr(columns.conv, name)) for name in CONV_KERNEL_FIELDS),
        column(columns.side_input_elements),
        np.stack([np.broadcast_to(flags.input_tile, count), np.broadcast_to(flags.weight_tile, count),
                  np.broadcast_to(flags.side_tile, count)]),
        flags.bits_per_candidate(count), np.array([chip.buffer(operand) for operand in Operand], dtype=np.int64),
        len(chip.buffer_names), chip.accumulator_bits,
    )  # fmt: skip
    result = TilingBytes(*found, extents[Dim.M], extents[Dim.N], packed, m, n)
    for array in result:
        array.flags.writeable = False
    return result


def arranged_footprint(
    tiling: TilingBytes, reserved: np.ndarray, chip: Target, positions: np.ndarray, double_buffer: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(demand (buffers, arrangements, tilings), spill, fits (arrangements, tilings)) of every
    candidate of a grid whose tilings' bytes are `tiling`: tiling t under arrangement a
    (`positions` (3, arrangements) by Dim, `double_buffer`), beside `reserved` (buffers,
    workloads) bytes of kept tensors (`footprint_kernel.arranged_footprint`)."""
    return kernel_arranged_footprint(
        tiling.tiles, tiling.side, tiling.single, tiling.accumulates, tiling.workload_of, tiling.tm, tiling.tn,
        tiling.groups, tiling.m, tiling.n, np.ascontiguousarray(reserved, dtype=np.int64),
        np.ascontiguousarray(positions, dtype=np.int64), np.ascontiguousarray(double_buffer, dtype=bool),
        chip.buffer(Operand.OUTPUT), np.asarray(chip.capacity_array), chip.accumulator_bits,
    )  # fmt: skip


def kept_bytes(workloads: Sequence[Workload], chip: Target) -> np.ndarray:
    """(buffers, workloads) bytes the tensors the memory plan keeps around each of `workloads`
    take in each buffer of `chip` (`Workload.reserved`; zeros where none are kept): what
    `arranged_footprint` adds to every candidate's tiles."""
    reserved = reserved_table(workloads)
    return reserved if len(reserved) else np.zeros((len(chip.buffer_names), len(workloads)), dtype=np.int64)


def _aligned(reserved: np.ndarray, ndim: int) -> np.ndarray:
    """`reserved` ((buffers,) or (buffers, candidates)) with axes that broadcast against
    by_operand-shaped arrays of `ndim` dimensions (candidates last)."""
    return reserved.reshape(reserved.shape[:1] + (1,) * (ndim - reserved.ndim) + reserved.shape[1:])


def streams_constants(workload: Workload) -> bool:
    """A vector workload's constants stream with its chunks (else: resident or sliced)."""
    return workload.weight_elements >= workload.output_elements


def slices_constants(workload: Workload) -> bool:
    """A vector workload's constants may be sliced per chunk (module doc): there are some,
    they are not streamed, and how they broadcast is known."""
    return workload.weight_elements > 0 and not streams_constants(workload) and workload.constant_period > 0


def constant_slice_elements(workload: Workload, outputs):
    """Constant elements a chunk of `outputs` consecutive output elements loads when its
    constants are sliced: that many of each constant's repeat-aligned blocks it may meet
    (module doc), for every constant."""
    outputs = np.asarray(outputs, dtype=np.int64)
    repeat = workload.constant_repeat
    distinct = workload.constant_period // repeat
    blocks = np.minimum(distinct, -(-(outputs - 1) // repeat) + 1)
    return (workload.weight_elements // distinct) * blocks


def vector_chunk_elements(workload: Workload, chunks) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Largest input, side-input and output chunk (elements) when split into `chunks`."""
    chunks = np.asarray(chunks, dtype=np.int64)
    return (
        tile_count(workload.input_elements, chunks),
        tile_count(workload.side_input_elements, chunks),
        tile_count(workload.output_elements, chunks),
    )


def vector_constant_elements(workload: Workload, chunks, sliced=False):
    """Constant elements of the largest constant load: a chunk's share when streamed, its
    slice where `sliced`, else all (resident)."""
    chunks = np.asarray(chunks, dtype=np.int64)
    whole = np.full(np.shape(chunks), workload.weight_elements, dtype=np.int64)
    if streams_constants(workload):
        return tile_count(workload.weight_elements, chunks)
    if not slices_constants(workload):
        return whole
    return np.where(sliced, constant_slice_elements(workload, tile_count(workload.output_elements, chunks)), whole)


def vector_footprint(workload: Workload, chip: Target, chunks, double_buffer, sliced=False) -> Footprint:
    """Footprint of vector schedules: input chunk in the INPUT buffer; constants in the
    WEIGHT buffer (one resident copy, or a slot per chunk when streamed or `sliced`); side
    input and the output chunk (worked on in place at accumulator precision) in the OUTPUT
    buffer."""
    by_operand = vector_tiles(workload, chip, chunks, double_buffer, sliced)
    return Footprint(by_operand, np.zeros(by_operand.shape[1:], dtype=bool), _aligned(roles(workload, chip).reserved, by_operand.ndim))


def vector_tiles(workload: Workload, chip: Target, chunks, double_buffer, sliced=False) -> np.ndarray:
    """`Footprint.by_operand` of `vector_footprint`: the bytes of each operand's chunks, which
    neither the buffers' capacities nor the kept tensors change."""
    slots = np.where(double_buffer, 2, 1)
    inputs, side, outputs = vector_chunk_elements(workload, chunks)
    per_chunk = streams_constants(workload) | (np.asarray(sliced) & slices_constants(workload))
    constant_slots = np.where(per_chunk, slots, 1)
    flags = roles(workload, chip)
    constants = flags.weight_tile * nbytes(vector_constant_elements(workload, chunks, sliced), flags.weight_bits)
    return np.stack(
        np.broadcast_arrays(
            flags.input_tile * slots * nbytes(inputs, flags.input_bits),
            constant_slots * constants,
            slots * (flags.side_tile * nbytes(side, flags.side_bits) + nbytes(outputs, chip.accumulator_bits)),
        )
    )


def overflow_reason(footprint: Footprint, chip: Target, what: str) -> str:
    """Say which buffer a (scalar) footprint overflows and with which operands.

    e.g. ``smallest tile needs 18.0 KiB of input in buffer 'spad' (capacity 16 KiB)``.
    """
    demand = footprint.demand(chip).reshape(len(chip.buffer_names), -1)[:, 0]
    by_operand = footprint.by_operand.reshape(len(Operand), -1)[:, 0]
    reserved = footprint.reserved.reshape(len(chip.buffer_names), -1)[:, 0]
    problems = []
    for index, name in enumerate(chip.buffer_names):
        if demand[index] <= chip.capacity_array[index]:
            continue
        parts = [op.label for op in Operand if chip.buffer(op) == index and by_operand[op] > 0]
        parts += [f"{_kib(reserved[index])} of tensors kept on chip"] if reserved[index] else []
        problems.append(
            f"{what} needs {_kib(demand[index])} of {' + '.join(parts)} in buffer '{name}' "
            f"(capacity {_kib(chip.capacity_array[index])})"
        )
    return "; ".join(problems)


def _kib(value) -> str:
    if value < 1024:
        return f"{int(value)} B"
    kib = float(value) / 1024
    return f"{int(kib)} KiB" if kib == int(kib) and kib >= 1 else f"{kib:.1f} KiB"
