"""The numbers of an `Accelerator` that scheduling and codegen use, resolved once.

Buffers are referred to by index (the order of `Accelerator.buffer_names()`, the same
index instructions store), operands by `Operand`, and times in cycles, so the vectorised
code below never looks anything up by name.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from accel_spec.schema import Accelerator
from accel_spec.types import Dataflow, Operand, OpClass, Precision
from simulator.timing_model import latency_cycles


@dataclass(frozen=True)
class Chip:
    """An accelerator reduced to what tiling needs.

    Attributes:
        rows, cols: systolic array shape.
        dataflows: dataflows the array supports.
        buffer_names: on-chip buffers, in instruction-index order.
        capacity: bytes of each buffer (int64 array, by buffer index).
        buffer_of: buffer index holding each operand, indexed by `Operand`.
        operand_bits, accumulator_bits: element widths of operands and partial sums.
        dram_bytes_per_cycle, burst, latency: DRAM channel parameters in cycles.
        vector_ops_per_cycle: lanes × rate of each `OpClass`.
    """

    rows: int
    cols: int
    dataflows: tuple[Dataflow, ...]
    buffer_names: tuple[str, ...]
    capacity: np.ndarray
    buffer_of: tuple[int, int, int]
    operand_bits: int
    accumulator_bits: int
    dram_bytes_per_cycle: float
    burst: int
    latency: int
    vector_ops_per_cycle: tuple[float, float, float]

    @classmethod
    def of(cls, accel: Accelerator, precision: Precision) -> "Chip":
        names = accel.buffer_names()
        vector = accel.vector
        return cls(
            rows=accel.matrix.rows,
            cols=accel.matrix.cols,
            dataflows=tuple(accel.matrix.dataflows),
            buffer_names=names,
            capacity=np.array([int(accel.buffers[name].capacity) for name in names], dtype=np.int64),
            buffer_of=tuple(names.index(accel.buffer_for(op)) for op in Operand),  # type: ignore[arg-type]
            operand_bits=precision.bits,
            accumulator_bits=accel.matrix.accumulator_precision.bits,
            dram_bytes_per_cycle=accel.dram.bandwidth / accel.clock,
            burst=int(accel.dram.burst),
            latency=latency_cycles(accel.dram.latency, accel.clock),
            vector_ops_per_cycle=tuple(  # type: ignore[arg-type]
                vector.lanes * vector.throughput.rate(op) for op in OpClass
            ),
        )

    def buffer(self, operand: Operand) -> int:
        """Index of the buffer holding `operand`."""
        return self.buffer_of[operand]

    def key_without_capacity(self) -> tuple:
        """Every field but the buffer capacities, hashable: with a search's fit and spill
        flags (the only way capacities enter it) the key of what scheduling decides
        (`scheduling.memo`)."""
        return (
            self.rows,
            self.cols,
            self.dataflows,
            self.buffer_names,
            self.buffer_of,
            self.operand_bits,
            self.accumulator_bits,
            self.dram_bytes_per_cycle,
            self.burst,
            self.latency,
            self.vector_ops_per_cycle,
        )


def nbytes(elements, bits: int):
    """Bytes of `elements` values of `bits` bits each, rounded up (scalars or arrays)."""
    return (np.asarray(elements, dtype=np.int64) * bits + 7) // 8
