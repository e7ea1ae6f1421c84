"""The numbers the simulator needs from a chip, in cycles, bits and indices.

`Machine` is the boundary between the validated `Accelerator` (SI units, names, enums) and
the Numba kernel (ints, floats and small arrays). Converting once here keeps the kernel free
of units and lookups, and lets tests build a machine directly without a YAML file.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from accel_spec.schema import Accelerator
from accel_spec.components.pe import accumulator_for
from accel_spec.types import Dataflow, Operand, OpClass, Precision
from simulator.timing_model import latency_cycles


@dataclass(frozen=True)
class Machine:
    """A chip reduced to the simulator's parameters.

    Attributes:
        clock: hertz; converts cycles to seconds.
        rows, cols: systolic array shape (R × C).
        dataflows: dataflows the array supports (a GEMM with another one is rejected).
        input_bits: bits per input/weight element (the operand precision).
        accumulator_bits: bits per partial sum / output element in the OUTPUT buffer (also
            the precision at which VEC instructions read and write it).
        buffer_names: on-chip buffers; instructions store indices into this tuple.
        operand_buffer: index of the buffer holding each `Operand` (INPUT, WEIGHT, OUTPUT).
        vector_lanes: SIMD lanes of the vector unit.
        vector_rates: ops per lane per cycle, indexed by `OpClass`.
        dram_bytes_per_cycle: DRAM bandwidth / clock (a float).
        burst: DRAM transfer granularity in bytes; transfers round up to whole bursts.
        latency_cycles: DRAM access latency, ceil(latency · clock).
        outstanding: most transfers in flight on the DRAM channel.
    """

    clock: float
    rows: int
    cols: int
    dataflows: tuple[Dataflow, ...]
    input_bits: int
    accumulator_bits: int
    buffer_names: tuple[str, ...]
    operand_buffer: tuple[int, int, int]
    vector_lanes: int
    vector_rates: tuple[float, float, float]
    dram_bytes_per_cycle: float
    burst: int
    latency_cycles: int
    outstanding: int

    @property
    def pes(self) -> int:
        """Processing elements: MACs per cycle at full utilisation."""
        return self.rows * self.cols

    @property
    def vector_lane_ops_per_cycle(self) -> np.ndarray:
        """lanes × rate for each op class (float64, indexed by `OpClass`)."""
        return self.vector_lanes * np.asarray(self.vector_rates, dtype=np.float64)


def machine_of(accel: Accelerator, precision: Precision | None = None) -> Machine:
    """Reduce a chip to simulator parameters; `precision` overrides the array's input precision.

    Partial sums use `accumulator_for(precision, matrix.accumulator_precision)`, the same
    accumulator the technology model charges MAC energy for.
    """
    if accel.dram.burst < 1 or accel.dram.bandwidth <= 0:
        raise ValueError("DRAM burst must be at least one byte and bandwidth positive")
    names = accel.buffer_names()
    operand_precision = precision if precision is not None else accel.matrix.input_precision
    accumulator = accumulator_for(operand_precision, accel.matrix.accumulator_precision)
    throughput = accel.vector.throughput
    return Machine(
        clock=float(accel.clock),
        rows=accel.matrix.rows,
        cols=accel.matrix.cols,
        dataflows=tuple(accel.matrix.dataflows),
        input_bits=operand_precision.bits,
        accumulator_bits=accumulator.bits,
        buffer_names=names,
        operand_buffer=tuple(names.index(accel.buffer_for(op)) for op in Operand),
        vector_lanes=accel.vector.lanes,
        vector_rates=tuple(float(throughput.rate(c)) for c in OpClass),
        dram_bytes_per_cycle=float(accel.dram.bandwidth) / float(accel.clock),
        burst=int(accel.dram.burst),
        latency_cycles=latency_cycles(float(accel.dram.latency), float(accel.clock)),
        outstanding=int(accel.dram.outstanding),
    )
