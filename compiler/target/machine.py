"""The target machine: every number of a chip that a later stage reads, derived once.

`target_of(accel, precision, timing)` turns the validated `Accelerator` (SI units, names,
enums) into a `Target`: cycles, bits, bytes per cycle and buffer indices. Scheduling,
codegen, verification, the simulator and the reports all read this one object, so no stage
recomputes a chip quantity (bytes per cycle, the accumulator's width, a level's capacity)
and two stages cannot disagree about it.

Memory levels. Instructions name buffers by index into `buffer_names` (the chip file's
order) and a transfer's far end by a *level*: `LEVEL_DRAM` (0) or `level_of(buffer)`
(buffer index + 1), an on-chip buffer that keeps a tensor between layers (`compiler.memory`).
Each on-chip buffer has one read and one write port, shared resources timed like the DRAM
channel: a transfer of b bytes occupies the port for ceil(b / port bytes per cycle) cycles.
A port the chip file leaves unspecified is wide enough for the array: one element of
accumulator width per array row or column per cycle, so it never throttles the array.

DRAM. The channel carries `dram_peak_bytes_per_cycle`; Little's law bounds what it sustains
by the bursts the controller keeps in flight: outstanding × burst / latency bytes per cycle.
`dram_bytes_per_cycle` is the smaller of the two; `outstanding` left empty in the chip file
means enough bursts to sustain the peak (the bandwidth–delay product).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from enum import Enum
from functools import cached_property, lru_cache

import numpy as np

from accel_spec.schema import Accelerator
from accel_spec.components.pe import accumulator_for, channel_width, reduction_depth
from accel_spec.precision import PrecisionAssignment
from accel_spec.types import Dataflow, IdentityHashed, OpClass, Operand, PeMapping, Precision, TensorClass
from compiler.hashed_key import HashedKey
from compiler.target.timing import fill_drain_cycles, latency_cycles

LEVEL_DRAM = 0
"""Level index of off-chip DRAM; on-chip buffer b is level b + 1 (`level_of`)."""


def level_of(buffer: int) -> int:
    """The level index of on-chip buffer `buffer` (its index in `Target.buffer_names`)."""
    return buffer + 1


class TimingMode(IdentityHashed, Enum):
    """How the systolic array is timed.

    TESSERA   the chip's own pipeline: where the array double-buffers its stationary operand
              (`matrix.stationary_double_buffer`), the next fold's operand loads while the
              current fold streams and the drain overlaps the next fill
              (`compiler.target.timing`); otherwise folds run back to back as in SCALESIM.
    SCALESIM  SCALE-Sim 3.0.0's fold model: every fold pays its load, fill and drain in
              series, for users who migrate from SCALE-Sim and for the agreement tests.
    """

    TESSERA = "tessera"
    SCALESIM = "scalesim"


@dataclass(frozen=True)
class Target:
    """A chip reduced to the numbers the compiler and the simulator use.

    Attributes:
        name: the chip's name (for messages).
        clock: hertz; converts cycles to seconds.
        rows, cols: systolic array shape (R × C), C counting the columns of every unit
            (`MatrixEngine.array_cols`): folds and operand accesses are those of this array.
        unit_cols: columns of one unit, which set the array's fill and drain (R + unit_cols − 2).
        dataflows: dataflows the array supports.
        timing: the timing mode the program is compiled and simulated for.
        pipelined: folds overlap (TESSERA timing on an array that double-buffers its
            stationary operand).
        row_stationary: convolutions are spread over the PEs by Eyeriss's row-stationary
            mapping (`timing.row_stationary_pes`), under TESSERA timing.
        reduction_depth: weights a weight-stationary PE holds along the reduction and adds
            into its own partial sum before passing it on (`timing`, "Reduction depth"): the
            values its weight storage (`matrix.pe_storage.weight`) holds at the MAC's format,
            half of them where the stationary operand is double-buffered; 1 without such
            storage, and under SCALESIM timing (one weight per PE, as SCALE-Sim times it).
        pe_width: partial sums a weight-stationary PE holds, across which it can spread its
            weight store and reuse each input (`timing`, "Channel width"): what its output
            storage (`matrix.pe_storage.output`) holds at the accumulator's width; 1 without
            it, and under SCALESIM timing.
        formats: the format weights, activations and the KV cache are stored and moved in
            (`storage_bits`, by `TensorClass`; each operand's width is `scheduling.roles`').
        operand_precision, accumulator_precision: the format the array multiplies in
            (`formats.compute`: the wider operand of a mixed pair) and that of partial sums
            (`accumulator_for` it, as the energy model charges).
        operand_bits, accumulator_bits: their widths in bits.
        buffer_names: on-chip buffers; instructions store indices into this tuple.
        capacity: bytes of each buffer.
        buffer_of: index of the buffer holding each `Operand` (INPUT, WEIGHT, OUTPUT).
        read_port, write_port: bytes per cycle of each buffer's ports.
        vector_lanes: SIMD lanes of the vector unit.
        vector_rates: ops per lane per cycle, indexed by `OpClass`.
        dram_peak_bytes_per_cycle: DRAM bandwidth / clock.
        dram_bytes_per_cycle: sustained bandwidth, min(peak, Little's law bound).
        burst: DRAM transfer granularity in bytes; transfers round up to whole bursts.
        latency: DRAM access latency in whole cycles.
        outstanding: bursts in flight on the channel.
        dram_capacity: bytes of DRAM.
    """

    name: str
    clock: float
    rows: int
    cols: int
    unit_cols: int
    dataflows: tuple[Dataflow, ...]
    timing: TimingMode
    pipelined: bool
    row_stationary: bool
    reduction_depth: int
    pe_width: int
    formats: PrecisionAssignment
    operand_precision: Precision
    accumulator_precision: Precision
    buffer_names: tuple[str, ...]
    capacity: tuple[int, ...]
    buffer_of: tuple[int, int, int]
    read_port: tuple[float, ...]
    write_port: tuple[float, ...]
    vector_lanes: int
    vector_rates: tuple[float, float, float]
    dram_peak_bytes_per_cycle: float
    dram_bytes_per_cycle: float
    burst: int
    latency: int
    outstanding: int
    dram_capacity: int

    @property
    def operand_bits(self) -> int:
        return self.operand_precision.bits

    @property
    def accumulator_bits(self) -> int:
        return self.accumulator_precision.bits

    @cached_property
    def storage_bits(self) -> tuple[int, int, int]:
        """Bits of one stored element of each `TensorClass` (activation, weight, KV)."""
        return tuple(self.formats.of_class(c).bits for c in TensorClass)  # type: ignore[return-value]

    def bits_of(self, classes) -> np.ndarray:
        """Bits of one stored element of each operand of the given `TensorClass` (an int, or an
        array such as `Workload.operand_classes`), as int64; read-only for a tuple of classes."""
        if isinstance(classes, tuple):
            return _tuple_bits(self.storage_bits, classes)
        return np.asarray(self.storage_bits, dtype=np.int64)[np.asarray(classes, dtype=np.int64)]

    @property
    def pes(self) -> int:
        """Processing elements: MACs per cycle at full utilisation."""
        return self.rows * self.cols

    @property
    def fill_drain(self) -> int:
        """Cycles of a fold's skew in and drain out: R + C − 2 of one unit."""
        return int(fill_drain_cycles(self.rows, self.cols, self.unit_cols))

    @cached_property
    def capacity_array(self) -> np.ndarray:
        """`capacity` as a read-only int64 array, by buffer index."""
        array = np.array(self.capacity, dtype=np.int64)
        array.flags.writeable = False
        return array

    @property
    def vector_ops_per_cycle(self) -> tuple[float, float, float]:
        """lanes × rate of each `OpClass`."""
        return tuple(self.vector_lanes * rate for rate in self.vector_rates)  # type: ignore[return-value]

    @cached_property
    def vector_lane_ops_per_cycle(self) -> np.ndarray:
        """lanes × rate for each op class (float64, indexed by `OpClass`)."""
        return np.asarray(self.vector_ops_per_cycle, dtype=np.float64)

    def buffer(self, operand: Operand) -> int:
        """Index of the buffer holding `operand`."""
        return self.buffer_of[operand]

    @property
    def shared_buffers(self) -> tuple[int, ...]:
        """Buffers that hold no operand of the array (an L2): they only keep tensors between
        layers, which reach the operand buffers by on-chip transfers."""
        return tuple(b for b in range(len(self.buffer_names)) if b not in self.buffer_of)

    @property
    def activation_buffer(self) -> int:
        """The buffer that keeps activations between layers: the one the array reads its
        input operand from (TPU v1's Unified Buffer, Eyeriss's global buffer)."""
        return self.buffer_of[Operand.INPUT]

    @cached_property
    def key_without_capacity(self) -> tuple:
        """Every field but the buffer capacities, hashable: with a search's fit and spill
        flags (the only way capacities enter it) the key of what scheduling decides
        (`scheduling.memo`). Spelled out from the fields, so a new field cannot be missed;
        built once per target, with its hash (every layer's memo key reads it)."""
        return HashedKey(getattr(self, f.name) for f in fields(self) if f.name != "capacity")

    @cached_property
    def tile_bytes_key(self) -> tuple:
        """Every field but the buffer capacities and the DRAM channel's (bandwidth, burst,
        latency, outstanding requests, capacity), hashable: the key of the bytes a layer's
        tiles take (`memory.planner.working_sets`), which read none of those. Spelled out
        from the fields like `key_without_capacity`."""
        return HashedKey(getattr(self, f.name) for f in fields(self) if f.name not in _NOT_TILE_BYTES)


_NOT_TILE_BYTES = frozenset({"capacity", "dram_peak_bytes_per_cycle", "dram_bytes_per_cycle", "burst", "latency", "outstanding",
                             "dram_capacity"})  # fmt: skip
"""The `Target` fields `Target.tile_bytes_key` leaves out."""


def target_of(
    accel: Accelerator,
    precision: PrecisionAssignment | Precision | None = None,
    timing: TimingMode = TimingMode.TESSERA,
) -> Target:
    """The `Target` of `accel` with operands at `precision` (a format for all, or one per
    operand class; default: the array's input precision for all), timed by `timing`."""
    if accel.dram.burst < 1 or accel.dram.bandwidth <= 0:
        raise ValueError("DRAM burst must be at least one byte and bandwidth positive")
    matrix = accel.matrix
    formats = PrecisionAssignment.of(precision if precision is not None else matrix.input_precision)
    operand = formats.compute
    accumulator = accumulator_for(operand, matrix.accumulator_precision)
    names = accel.buffer_names()
    clock = float(accel.clock)
    peak = float(accel.dram.bandwidth) / clock
    latency = latency_cycles(float(accel.dram.latency), clock)
    burst = int(accel.dram.burst)
    outstanding = accel.dram.outstanding
    if outstanding is None:
        outstanding = max(1, math.ceil(peak * max(latency, 1) / burst))
    sustained = min(peak, outstanding * burst / latency) if latency > 0 else peak
    array_port = max(matrix.rows, matrix.array_cols) * accumulator.bits / 8
    buffers = [accel.buffers[name] for name in names]
    pipelined = timing is TimingMode.TESSERA and matrix.stationary_double_buffer
    return Target(
        name=accel.name,
        clock=clock,
        rows=matrix.rows,
        cols=matrix.array_cols,
        unit_cols=matrix.cols,
        dataflows=tuple(matrix.dataflows),
        timing=timing,
        pipelined=pipelined,
        row_stationary=timing is TimingMode.TESSERA and matrix.mapping is PeMapping.ROW_STATIONARY,
        reduction_depth=_reduction_depth(accel, operand, timing, pipelined),
        pe_width=_pe_width(accel, accumulator, timing),
        formats=formats,
        operand_precision=operand,
        accumulator_precision=accumulator,
        buffer_names=names,
        capacity=tuple(int(b.capacity) for b in buffers),
        buffer_of=tuple(names.index(accel.buffer_for(op)) for op in Operand),  # type: ignore[arg-type]
        read_port=tuple(_port(b.read_bytes_per_cycle, array_port) for b in buffers),
        write_port=tuple(_port(b.write_bytes_per_cycle, array_port) for b in buffers),
        vector_lanes=accel.vector.lanes,
        vector_rates=tuple(float(accel.vector.throughput.rate(c)) for c in OpClass),  # type: ignore[arg-type]
        dram_peak_bytes_per_cycle=peak,
        dram_bytes_per_cycle=sustained,
        burst=burst,
        latency=latency,
        outstanding=int(outstanding),
        dram_capacity=int(accel.dram.capacity),
    )


def _reduction_depth(accel: Accelerator, operand: Precision, timing: TimingMode, pipelined: bool) -> int:
    """`Target.reduction_depth`: `pe.reduction_depth` of the chip's weight storage at `operand`'s
    width; 1 under SCALESIM timing."""
    if timing is TimingMode.SCALESIM:
        return 1
    storage = accel.matrix.pe_storage
    weight_bytes = storage.bytes_of(Operand.WEIGHT) if storage is not None else None
    return reduction_depth(weight_bytes, operand.bits, pipelined)


def _pe_width(accel: Accelerator, accumulator: Precision, timing: TimingMode) -> int:
    """`Target.pe_width`: `pe.channel_width` of the chip's output storage at `accumulator`'s
    width; 1 under SCALESIM timing."""
    storage = accel.matrix.pe_storage
    if timing is TimingMode.SCALESIM or storage is None:
        return 1
    return channel_width(storage.bytes_of(Operand.OUTPUT), accumulator.bits)


@lru_cache(maxsize=256)
def _tuple_bits(storage_bits: tuple[int, int, int], classes: tuple[TensorClass, ...]) -> np.ndarray:
    """`Target.bits_of` a workload's `operand_classes`, once per formats and classes: a
    compile asks for them about 600 times per network, and a handful of distinct tuples exist."""
    bits = np.asarray(storage_bits, dtype=np.int64)[np.asarray(classes, dtype=np.int64)]
    bits.flags.writeable = False
    return bits


def _port(bytes_per_cycle: int | None, array_port: float) -> float:
    """A port's bytes per cycle: the chip file's, else wide enough for the array."""
    return array_port if bytes_per_cycle is None else float(bytes_per_cycle)


def nbytes(elements, bits: int):
    """Bytes of `elements` values of `bits` bits each, rounded up (scalars or arrays)."""
    return (np.asarray(elements, dtype=np.int64) * bits + 7) // 8
