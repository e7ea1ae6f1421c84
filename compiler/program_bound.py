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
from tessera.identity_memo import IdentityMemo

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
    capacity = _capacities(accel)
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
    inputs, weights, layers = _TOTALS.get(workloads, precision, lambda: _totals(workloads, precision))
    capacity = _capacities(accel)
    return -(-inputs // capacity[Operand.INPUT]) + -(-weights // capacity[Operand.WEIGHT]) + 2 * layers


def _totals(workloads: tuple[Workload, ...], precision: PrecisionAssignment) -> tuple[int, int, int]:
    """The input and weight bytes of all GEMM layers of `workloads`, and how many there are."""
    gemms = [w for w in workloads if w.gemm is not None]
    inputs, weights = (sum(_moved_bytes(w, operand, precision) for w in gemms) for operand in _OPERANDS)
    return inputs, weights, len(gemms)


def _capacities(accel: Accelerator) -> dict[Operand, int]:
    """The capacity of the buffer each of `_OPERANDS` passes through."""
    return {operand: accel.buffers[accel.buffer_for(operand)].capacity for operand in _OPERANDS}


_TOTALS: IdentityMemo[tuple[int, int, int]] = IdentityMemo(capacity=16)
"""`_totals` of the networks (and formats) of a sweep a worker is on, by their tuples."""


def physical_memory_bytes() -> int | None:
    """This machine's RAM, where the OS tells it (None elsewhere)."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        return None
