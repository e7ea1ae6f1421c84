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
    capacity = {operand: accel.buffers[accel.buffer_for(operand)].capacity for operand in _OPERANDS}
    bounds = []
    for workload in workloads:
        if workload.gemm is None:
            continue
        moved = tuple((operand, _moved_bytes(workload, operand, precision), capacity[operand]) for operand in _OPERANDS)
        count = sum(math.ceil(size / room) for _, size, room in moved)
        bounds.append(LayerBound(workload.name, count, moved))
    return bounds


_OPERANDS = (Operand.INPUT, Operand.WEIGHT)
"""The operands whose every element passes through their buffer."""


def _moved_bytes(workload: Workload, operand: Operand, precision: PrecisionAssignment) -> int:
    """Bytes of `operand` (input or weight) of a GEMM workload, at the format of its class."""
    elements = workload.input_elements if operand is Operand.INPUT else workload.weight_elements
    return math.ceil(elements * precision.of_class(workload.operand_classes[operand]).bytes)


def instruction_ceiling(workloads: tuple[Workload, ...], accel: Accelerator, precision: PrecisionAssignment) -> int:
    """At least the sum of `layer_bounds`' instructions, from the network's totals alone: a
    sum of ceil(bytes / capacity) over n layers is at most ceil(total bytes / capacity) + n.
    The totals do not depend on the chip, so a sweep finds them once per network and format
    (kept while the same tuple of workloads is asked again) and checks a point in constant
    time; only a network this ceiling does not clear needs every layer's bound."""
    key = (id(workloads), precision)
    found = _TOTALS.get(key)
    if found is None or found[0] is not workloads:
        gemms = [w for w in workloads if w.gemm is not None]
        totals = tuple(sum(_moved_bytes(w, operand, precision) for w in gemms) for operand in _OPERANDS)
        found = (workloads, totals, len(gemms))
        _TOTALS[key] = found
        while len(_TOTALS) > _NETWORKS:
            del _TOTALS[next(iter(_TOTALS))]
    _, (inputs, weights), layers = found
    capacity = {operand: accel.buffers[accel.buffer_for(operand)].capacity for operand in _OPERANDS}
    return -(-inputs // capacity[Operand.INPUT]) + -(-weights // capacity[Operand.WEIGHT]) + 2 * layers


_NETWORKS = 16
"""Networks whose totals a process keeps: the model variants of a sweep a worker is on."""

_TOTALS: dict[tuple[int, PrecisionAssignment], tuple[tuple[Workload, ...], tuple[int, int], int]] = {}
"""(id of the workloads tuple, formats) -> (that tuple, its input and weight bytes, its GEMM
layers); holding the tuple keeps its id from being reused while the entry lives."""


def physical_memory_bytes() -> int | None:
    """This machine's RAM, where the OS tells it (None elsewhere)."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        return None
