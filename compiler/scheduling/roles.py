"""What the memory plan means for a workload's schedule: which operands move over DRAM and
which need tiles, per candidate.

A workload's `placement` (`compiler.memory.placement`) puts each operand at a memory level.
For scheduling that comes down to two flags per operand: whether its transfers go over the
DRAM channel (they cost channel time; on-chip transfers cost a buffer port's time, which the
estimate does not charge), and whether it needs tiles in its buffer at all (not when it is
*direct*: kept in the very buffer the array reads it from). Tensors kept on chip occupy
`reserved` bytes of each buffer, which tiles cannot use. Each operand moves and occupies
its buffer at the width of its `TensorClass` (weights, activations, KV cache:
`Target.storage_bits`); partial sums stay at the accumulator's. The flags accept a `Workload` (one
value each) or per-candidate `WorkloadColumns` (arrays), like the rest of the estimate.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from accel_spec.types import Operand
from compiler.scheduling.columns import per_tiling
from compiler.scheduling.memo import BoundedCache
from compiler.target import LEVEL_DRAM, Target, level_of
from compiler.workload import Workload


@dataclass(frozen=True)
class Roles:
    """Per-operand flags of a workload (scalars) or of candidates (arrays).

    Attributes:
        input_dram, weight_dram, side_dram, output_dram: the operand moves over DRAM.
        input_tile, weight_tile, side_tile: the operand needs tiles in its buffer.
        reserved: (buffers, ...) bytes of each buffer kept tensors occupy.
        input_bits, weight_bits, side_bits, output_bits: bits of one stored element of
            each operand (`Workload.operand_classes` on `Target.storage_bits`).
    """

    input_dram: np.ndarray
    weight_dram: np.ndarray
    side_dram: np.ndarray
    output_dram: np.ndarray
    input_tile: np.ndarray
    weight_tile: np.ndarray
    side_tile: np.ndarray
    reserved: np.ndarray
    input_bits: np.ndarray
    weight_bits: np.ndarray
    side_bits: np.ndarray
    output_bits: np.ndarray

    def bits_per_candidate(self, size: int) -> np.ndarray:
        """(4, `size`) int64 bits of the input, weight, side input and output, one column per
        candidate: the per-tiling kernels' `bits` (`terms_kernel`, `footprint_kernel`)."""
        return np.stack([per_tiling(bits, size) for bits in (self.input_bits, self.weight_bits, self.side_bits,
                                                              self.output_bits)])  # fmt: skip


def roles(workload, chip: Target) -> Roles:
    """The flags of `workload` (a `Workload` or `WorkloadColumns`) on `chip`; a `Workload`'s
    are kept (`ROLES`: codegen, the estimate and the footprints each ask for them, a dozen
    times a sweep point), read-only."""
    if not isinstance(workload, Workload):
        return _roles(workload, chip)
    key = (workload.shape_key, workload.reserved, chip.tile_bytes_key)
    found = ROLES.get(key)
    if found is None:
        found = _roles(workload, chip)
        for value in vars(found).values():
            if isinstance(value, np.ndarray):
                value.flags.writeable = False
        ROLES.put(key, found)
    return found


ROLES: BoundedCache[Roles] = BoundedCache(capacity=4096)
"""`roles` of a `Workload` by its `shape_key` (its placement and the operand classes that set
its widths), its reserved bytes and `Target.tile_bytes_key` (every chip field `roles` reads:
the buffers of the operands and their levels, the storage widths). About a kilobyte an entry;
a sweep point's layers take a hundred or two (their reserved bytes change from point to
point, so most entries serve one point: the least recently used go first)."""


def _roles(workload, chip: Target) -> Roles:
    """`roles`, computed."""
    placement = workload.placement
    levels = [np.asarray(getattr(placement, name), dtype=np.int64) for name in ("input", "weight", "side", "output")]
    own = [level_of(chip.buffer(operand)) for operand in (Operand.INPUT, Operand.WEIGHT, Operand.OUTPUT)]
    reserved = np.asarray(workload.reserved, dtype=np.int64)
    if reserved.size == 0:
        reserved = np.zeros(len(chip.buffer_names), dtype=np.int64)
    bits = chip.bits_of(workload.operand_classes)
    return Roles(
        input_dram=levels[0] == LEVEL_DRAM,
        weight_dram=levels[1] == LEVEL_DRAM,
        side_dram=levels[2] == LEVEL_DRAM,
        output_dram=levels[3] == LEVEL_DRAM,
        input_tile=levels[0] != own[0],
        weight_tile=levels[1] != own[1],
        side_tile=levels[2] != own[2],
        reserved=reserved,
        input_bits=bits[0],
        weight_bits=bits[1],
        side_bits=bits[2],
        output_bits=bits[3],
    )
