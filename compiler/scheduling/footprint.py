"""Buffer capacity: how many bytes each buffer must hold for a (vector of) schedule(s).

Live tiles, per operand (× 2 slots with double buffering; × G products packed per pass):
  INPUT buffer   the input tile (a conv window, see `tiling`)
  WEIGHT buffer  the weight tile
  OUTPUT buffer  the partial sums the loop order keeps live, at accumulator precision
                 (one tile when spilling), plus the fused side-input tile
A buffer holding several operands holds the sum of their tiles. The same counts are what
`compiler.verify` finds live in a generated program.

Constants of vector workloads (`Workload.weight_elements`: a LayerNorm's scale and bias,
the rotary cos/sin table of a `Mul`, the rows a `Gather` reads) go to the WEIGHT buffer.
A constant smaller than the output is broadcast: a chunk of outputs may touch all of it,
and without its broadcast shape no smaller slice can be sized safely, so it is loaded once
per layer and stays resident (one slot, for every chunk). A constant at least as large as
the output is laid out like it (gathered rows, full-size operands), so it streams with the
chunks: each loads its proportional share, like the input (`streams_constants`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from accel_spec.types import Operand
from compiler.scheduling.chip import Chip, nbytes
from compiler.scheduling.tiling import (
    input_tile_elements,
    psum_group_elements,
    side_tile_elements,
    tile_count,
)
from compiler.workload import Workload


@dataclass(frozen=True)
class Footprint:
    """Bytes per buffer and operand, for one schedule or an array of candidates.

    Attributes:
        by_operand: (3, ...) bytes each operand occupies, indexed by `Operand` (the side
            input is counted with OUTPUT, the buffer it is loaded into).
        spill: partial sums are spilled to DRAM between K iterations.
    """

    by_operand: np.ndarray
    spill: np.ndarray

    def demand(self, chip: Chip) -> np.ndarray:
        """(buffers, ...) bytes each buffer must hold."""
        demand = np.zeros((len(chip.buffer_names),) + self.by_operand.shape[1:], dtype=np.int64)
        for operand in Operand:
            demand[chip.buffer(operand)] += self.by_operand[operand]
        return demand

    def fits(self, chip: Chip) -> np.ndarray:
        """True where every buffer holds its tiles."""
        capacity = chip.capacity.reshape((-1,) + (1,) * (self.by_operand.ndim - 1))
        return np.all(self.demand(chip) <= capacity, axis=0)


def gemm_footprint(
    workload: Workload,
    chip: Chip,
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
    side = nbytes(packed * side_tile_elements(tm, tn, workload), chip.operand_bits)
    group = nbytes(packed * psum_group_elements(positions, counts, tiles, extents), chip.accumulator_bits)
    single = nbytes(packed * tm * tn, chip.accumulator_bits)
    by_operand = np.stack(
        [
            slots * nbytes(packed * input_tile_elements(tm, tk, workload), chip.operand_bits),
            slots * nbytes(packed * tk * tn, chip.operand_bits),
            slots * (group + side),
        ]
    )
    keep = Footprint(by_operand, np.zeros(by_operand.shape[1:], dtype=bool))
    spill = ~keep.fits(chip) & (group > single)
    by_operand[Operand.OUTPUT] = slots * (np.where(spill, single, group) + side)
    return Footprint(by_operand, spill)


def streams_constants(workload: Workload) -> bool:
    """A vector workload's constants stream with its chunks (else: resident, see module doc)."""
    return workload.weight_elements >= workload.output_elements


def vector_chunk_elements(workload: Workload, chunks) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Largest input, side-input and output chunk (elements) when split into `chunks`."""
    chunks = np.asarray(chunks, dtype=np.int64)
    return (
        tile_count(workload.input_elements, chunks),
        tile_count(workload.side_input_elements, chunks),
        tile_count(workload.output_elements, chunks),
    )


def vector_constant_elements(workload: Workload, chunks):
    """Constant elements one load brings in: a chunk's share when streamed, else all."""
    if streams_constants(workload):
        return tile_count(workload.weight_elements, np.asarray(chunks, dtype=np.int64))
    return np.full(np.shape(chunks), workload.weight_elements, dtype=np.int64)


def vector_footprint(workload: Workload, chip: Chip, chunks, double_buffer) -> Footprint:
    """Footprint of vector schedules: input chunk in the INPUT buffer; constants in the
    WEIGHT buffer (one resident copy, or a slot per chunk when streamed); side input and
    the output chunk (worked on in place at accumulator precision) in the OUTPUT buffer."""
    slots = np.where(double_buffer, 2, 1)
    inputs, side, outputs = vector_chunk_elements(workload, chunks)
    constant_slots = slots if streams_constants(workload) else 1
    by_operand = np.stack(
        [
            slots * nbytes(inputs, chip.operand_bits),
            constant_slots * nbytes(vector_constant_elements(workload, chunks), chip.operand_bits),
            slots * (nbytes(side, chip.operand_bits) + nbytes(outputs, chip.accumulator_bits)),
        ]
    )
    return Footprint(by_operand, np.zeros(by_operand.shape[1:], dtype=bool))


def overflow_reason(footprint: Footprint, chip: Chip, what: str) -> str:
    """Say which buffer a (scalar) footprint overflows and with which operands.

    e.g. ``smallest tile needs 18.0 KiB of input in buffer 'spad' (capacity 16 KiB)``.
    """
    demand = footprint.demand(chip).reshape(len(chip.buffer_names), -1)[:, 0]
    by_operand = footprint.by_operand.reshape(len(Operand), -1)[:, 0]
    problems = []
    for index, name in enumerate(chip.buffer_names):
        if demand[index] <= chip.capacity[index]:
            continue
        parts = [op.label for op in Operand if chip.buffer(op) == index and by_operand[op] > 0]
        problems.append(
            f"{what} needs {_kib(demand[index])} of {' + '.join(parts)} in buffer '{name}' "
            f"(capacity {_kib(chip.capacity[index])})"
        )
    return "; ".join(problems)


def _kib(value) -> str:
    if value < 1024:
        return f"{int(value)} B"
    kib = float(value) / 1024
    return f"{int(kib)} KiB" if kib == int(kib) and kib >= 1 else f"{kib:.1f} KiB"
