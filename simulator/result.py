"""What a simulation returns: per-layer results that add up to the network's.

`LayerResult` supports `+` (and `sum()`), so the total of a network, or of any group of
layers, is a sum of its layers (ZigZag-style composability). Cycles add because the
simulator attributes to each layer only the time by which it extends the run (see
`simulator.reference`), so the layers' cycles sum to the run's cycles exactly.

Per-engine, per-operand and per-op-class figures are tuples indexed by the `Engine`,
`Operand` and `OpClass` enums (`layer.busy[Engine.MATRIX]`); per-buffer figures are
mappings keyed by the chip's buffer names.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import IntEnum
from functools import cached_property
from types import MappingProxyType

import numpy as np

from compiler.target.isa import Engine
from simulator.energy import EnergyBreakdown

TOTAL_NAME = "total"


class StallCause(IntEnum):
    """Why an engine sat idle before an instruction (see `simulator.reference`)."""

    DRAM = 0  # waiting for data from DRAM or for the DRAM channel
    BUFFER = 1  # waiting for buffer space (write after read) or a buffer's port
    DEPENDENCY = 2  # waiting for another engine's result

    @property
    def label(self) -> str:
        return self.name.lower()


@dataclass(frozen=True)
class Counts:
    """Raw output of one simulation pass, in the layout of `simulator.kernels.engines`.

    Attributes:
        start, end: cycle at which each instruction started and completed (int64, length n).
        counters: int64 [layers, N_COUNTERS] event counters.
        sram_bits: int64 [layers, buffers, 2] bits read (0) and written (1) per buffer.
    """

    start: np.ndarray
    end: np.ndarray
    counters: np.ndarray
    sram_bits: np.ndarray


@dataclass(frozen=True)
class Trace:
    """Per-instruction start and completion cycles, in program order (int64 arrays)."""

    start: np.ndarray
    end: np.ndarray


def _frozen_map(items: Mapping[str, float]) -> Mapping[str, float]:
    return MappingProxyType(dict(items))


def _add_maps(a: Mapping[str, float], b: Mapping[str, float]) -> Mapping[str, float]:
    return _frozen_map({key: a.get(key, 0.0) + b.get(key, 0.0) for key in {**a, **b}})


def _add_tuples(a: tuple, b: tuple) -> tuple:
    return tuple(x + y for x, y in zip(a, b, strict=True))


@dataclass(frozen=True)
class LayerResult:
    """Cycles, activity, traffic and energy of one layer (or a sum of layers).

    Attributes:
        name: layer name; a sum of differently named layers is named ``total``.
        cycles: cycles by which this layer extends the run.
        pes: processing elements of the array (for utilization).
        busy: busy cycles by `Engine` (DMA engines: channel occupancy).
        stall: idle cycles before instructions, ``stall[Engine][StallCause]``.
        macs: multiply-accumulates of the layer's GEMMs.
        dram_read_bytes_by_operand: bytes loaded, by `Operand` (as requested, not
            burst-rounded).
        dram_write_bytes_by_operand: bytes stored, by `Operand`.
        channel_read_bytes, channel_write_bytes: the same traffic rounded up to whole bursts.
        onchip_read_bytes, onchip_write_bytes: bytes loaded from and stored to on-chip
            levels (tensors the memory planner keeps on chip between layers).
        sram_read_bytes, sram_write_bytes: bytes by buffer name.
        vector_ops: lane operations by `OpClass`.
        energy: joules by component.
    """

    name: str
    cycles: int
    pes: int
    busy: tuple[int, ...]
    stall: tuple[tuple[int, ...], ...]
    macs: int
    dram_read_bytes_by_operand: tuple[int, ...]
    dram_write_bytes_by_operand: tuple[int, ...]
    channel_read_bytes: int
    channel_write_bytes: int
    onchip_read_bytes: int
    onchip_write_bytes: int
    sram_read_bytes: Mapping[str, float]
    sram_write_bytes: Mapping[str, float]
    vector_ops: tuple[int, ...]
    energy: EnergyBreakdown

    @property
    def dram_read_bytes(self) -> int:
        """Bytes loaded from DRAM, all operands."""
        return sum(self.dram_read_bytes_by_operand)

    @property
    def dram_write_bytes(self) -> int:
        """Bytes stored to DRAM, all operands."""
        return sum(self.dram_write_bytes_by_operand)

    @property
    def compute_engine(self) -> Engine:
        """The compute engine (MATRIX or VECTOR) with more busy cycles; MATRIX on a tie."""
        if self.busy[Engine.VECTOR] > self.busy[Engine.MATRIX]:
            return Engine.VECTOR
        return Engine.MATRIX

    @property
    def compute_cycles(self) -> int:
        """Busy cycles of `compute_engine`, capped at `cycles`.

        The cap only matters when layers overlap (no barrier between them), since a layer is
        then charged fewer cycles than its instructions span.
        """
        return min(self.cycles, self.busy[self.compute_engine])

    @property
    def stall_by_cause(self) -> Mapping[str, int]:
        """Why `compute_engine` sat idle during the layer: cycles by cause label. In a layer of
        a codegen program (barriers between layers) they add up to cycles − compute_cycles."""
        causes = self.stall[self.compute_engine]
        return MappingProxyType({cause.label: causes[cause] for cause in StallCause})

    @property
    def utilization(self) -> float:
        """MACs / (cycles × PEs); 0 for a layer that takes no cycles."""
        return self.macs / (self.cycles * self.pes) if self.cycles else 0.0

    @property
    def energy_j(self) -> float:
        return self.energy.total

    def __add__(self, other: LayerResult) -> LayerResult:
        if self.pes != other.pes:
            raise ValueError(f"cannot add results of arrays with {self.pes} and {other.pes} PEs")
        return LayerResult(
            name=self.name if self.name == other.name else TOTAL_NAME,
            cycles=self.cycles + other.cycles,
            pes=self.pes,
            busy=_add_tuples(self.busy, other.busy),
            stall=tuple(_add_tuples(a, b) for a, b in zip(self.stall, other.stall, strict=True)),
            macs=self.macs + other.macs,
            dram_read_bytes_by_operand=_add_tuples(
                self.dram_read_bytes_by_operand, other.dram_read_bytes_by_operand
            ),
            dram_write_bytes_by_operand=_add_tuples(
                self.dram_write_bytes_by_operand, other.dram_write_bytes_by_operand
            ),
            channel_read_bytes=self.channel_read_bytes + other.channel_read_bytes,
            channel_write_bytes=self.channel_write_bytes + other.channel_write_bytes,
            onchip_read_bytes=self.onchip_read_bytes + other.onchip_read_bytes,
            onchip_write_bytes=self.onchip_write_bytes + other.onchip_write_bytes,
            sram_read_bytes=_add_maps(self.sram_read_bytes, other.sram_read_bytes),
            sram_write_bytes=_add_maps(self.sram_write_bytes, other.sram_write_bytes),
            vector_ops=_add_tuples(self.vector_ops, other.vector_ops),
            energy=self.energy + other.energy,
        )

    def __radd__(self, other: object) -> LayerResult:
        """Lets `sum(layers)` start from 0."""
        if other == 0:
            return self
        return NotImplemented


@dataclass(frozen=True)
class SimResult:
    """A whole run: its layers, their total, chip area and where the constants came from.

    Attributes:
        total: the sum of the layers.
        clock: hertz, to turn cycles into seconds.
        area_breakdown_mm2: chip area by component (``matrix``, ``vector``, buffers).
        technology_sources: per technology constant, its cited default or ``override``.
        build_layers: makes `layers`, called on their first read: a sweep point reads only
            the total, and a result per layer (energy included) costs BERT-base's 158
            layers more time than its simulation.
        trace: per-instruction start/end cycles when the run asked for a trace.
    """

    total: LayerResult
    clock: float
    area_breakdown_mm2: Mapping[str, float]
    technology_sources: Mapping[str, str]
    build_layers: Callable[[], tuple[LayerResult, ...]] = field(repr=False, compare=False)
    trace: Trace | None = None

    @cached_property
    def layers(self) -> tuple[LayerResult, ...]:
        """One result per entry of `Program.layer_names`, in order."""
        return self.build_layers()

    @property
    def total_cycles(self) -> int:
        return self.total.cycles

    @property
    def latency_s(self) -> float:
        return self.total.cycles / self.clock

    @property
    def energy_j(self) -> float:
        return self.total.energy.total

    @property
    def energy_breakdown(self) -> Mapping[str, float]:
        """Joules by component (`EnergyBreakdown.components`)."""
        return MappingProxyType(self.total.energy.components())

    @property
    def area_mm2(self) -> float:
        return sum(self.area_breakdown_mm2.values())

    @property
    def dram_read_bytes(self) -> int:
        return self.total.dram_read_bytes

    @property
    def dram_write_bytes(self) -> int:
        return self.total.dram_write_bytes

    @property
    def macs(self) -> int:
        return self.total.macs

    @property
    def utilization(self) -> float:
        return self.total.utilization
