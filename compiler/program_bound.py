"""A lower bound on a compiled program's size, known before any schedule is searched.

Every element of a GEMM's input and weight operands passes through the on-chip buffer that
holds that operand, and one transfer instruction moves at most that buffer's capacity. So a
layer compiles to at least ceil(input bytes / input buffer) + ceil(weight bytes / weight
buffer) instructions, whatever its tiles, loop order or dataflow. A `gemm:m=2^40` layer on a
small chip needs billions of instructions: `tessera.api` refuses it with this bound instead
of letting the scheduler try to allocate terabytes.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass

from accel_spec.precision import PrecisionAssignment
from accel_spec.schema import Accelerator
from accel_spec.types import Operand
from compiler.target.isa import INSTRUCTION_DTYPE
from compiler.workload import Workload

BYTES_PER_INSTRUCTION = INSTRUCTION_DTYPE.itemsize + 8
"""One instruction record plus its entry in the int64 dependency pointer array."""


@dataclass(frozen=True)
class LayerBound:
    """The fewest instructions a layer can compile to, and why: per operand, the bytes it moves
    and the capacity of the buffer they pass through."""

    workload: str
    instructions: int
    moved: tuple[tuple[Operand, int, int], ...]

    @property
    def reason(self) -> str:
        """The bound in words (formatted only for the layer a refusal names)."""
        return " and ".join(
            f"{moved:,} {operand.label} bytes through a {capacity:,}-byte buffer" for operand, moved, capacity in self.moved
        )


def layer_bounds(
    workloads: tuple[Workload, ...], accel: Accelerator, precision: PrecisionAssignment
) -> list[LayerBound]:
    """Per GEMM layer, the transfers its input and weight operands need at the least, each
    operand at the format of its class."""
    capacity = {operand: accel.buffers[accel.buffer_for(operand)].capacity for operand in (Operand.INPUT, Operand.WEIGHT)}
    bounds = []
    for workload in workloads:
        if workload.gemm is None:
            continue
        classes = workload.operand_classes
        moved = tuple(
            (operand, math.ceil(elements * precision.of_class(classes[operand]).bytes), capacity[operand])
            for operand, elements in ((Operand.INPUT, workload.input_elements), (Operand.WEIGHT, workload.weight_elements))
        )
        count = sum(math.ceil(size / room) for _, size, room in moved)
        bounds.append(LayerBound(workload.name, count, moved))
    return bounds


def physical_memory_bytes() -> int | None:
    """This machine's RAM, where the OS tells it (None elsewhere)."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        return None
