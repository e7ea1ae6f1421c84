"""Technology model: energy per event and area per component for one chip.

`resolve(accel, precision)` turns the chip's process node, memory type and buffer sizes into
the constants the simulator multiplies event counts by. Every default comes from a published
table (see `accel_spec/technology_tables.py`, each constant with its citation); the chip's
`overrides` section replaces any of them, and `Technology.sources` records, per constant,
whether the cited default or an override was used, so a result never hides where a number
came from.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from accel_spec import technology_tables as tables
from accel_spec.schema import Accelerator
from accel_spec.types import Precision
from tessera.errors import InputError, Problem


@dataclass(frozen=True)
class Technology:
    """Resolved constants for one chip at one operand precision (SI units).

    Attributes:
        mac_energy: joules per multiply-accumulate on the systolic array.
        sram_energy_per_byte: joules per byte read or written, by buffer name.
        dram_energy_per_byte: joules per byte moved over the DRAM interface.
        vector_op_energy: joules per lane operation on the vector unit.
        leakage_power: watts of static power of the whole chip.
        area: square metres by component: ``matrix``, ``vector`` and each buffer name.
        sources: for each constant name, ``default: <citation>`` or ``override``.
    """

    mac_energy: float
    sram_energy_per_byte: Mapping[str, float]
    dram_energy_per_byte: float
    vector_op_energy: float
    leakage_power: float
    area: Mapping[str, float]
    sources: Mapping[str, str]

    @property
    def total_area(self) -> float:
        """Chip area in square metres (sum of the components)."""
        return sum(self.area.values())


def resolve(accel: Accelerator, precision: Precision | None = None) -> Technology:
    """The energy and area constants of `accel` with operands at `precision`.

    `precision` defaults to the matrix engine's input precision. Logic energy and area are
    Horowitz's 45 nm figures scaled to the chip's node; SRAM energy per byte depends on each
    buffer's per-bank capacity; every field of ``accel.overrides`` that is set replaces the
    default. Raises InputError when a default is needed for a node outside the tables.
    """
    operand = precision or accel.matrix.input_precision
    accumulator = tables.accumulator_for(operand, accel.matrix.accumulator_precision)
    overrides = accel.overrides
    sources: dict[str, str] = {}

    def pick(name: str, default: Callable[[], float], citation: str) -> float:
        value = getattr(overrides, name)
        if value is not None:
            sources[name] = "override"
            return value
        sources[name] = f"default: {citation}"
        try:
            return default()
        except ValueError as error:
            raise InputError(f"accelerator {accel.name!r}", Problem("technology", str(error))) from None

    node = accel.node_nm
    scaled = f"{tables.HOROWITZ_2014}, scaled to {node:g} nm by {tables.STILLMAKER_2017}"
    mac_energy = pick(
        "mac_energy",
        lambda: tables.mac_energy_45nm(operand, accumulator) * tables.energy_scale(node),
        f"{operand.value} multiply + {accumulator.value} add, {scaled}",
    )
    sram_energy = {
        name: pick(
            "sram_energy_per_byte",
            lambda b=buffer: tables.sram_energy_per_byte_45nm(b.capacity / b.banks)
            * tables.energy_scale(node),
            f"64-bit access energy by array capacity (per bank), {scaled}",
        )
        for name, buffer in accel.buffers.items()
    }
    dram_per_bit = pick(
        "dram_energy_per_bit",
        lambda: tables.dram_energy_per_bit(accel.dram.type),
        f"{accel.dram.type.value}: {tables.dram_source(accel.dram.type)}",
    )
    vector_energy = pick(
        "vector_op_energy",
        lambda: tables.lane_energy_45nm(accel.vector.precision) * tables.energy_scale(node),
        f"{accel.vector.precision.value} multiply-add, {scaled}",
    )
    mac_area = pick(
        "mac_area",
        lambda: tables.mac_area_45nm(operand, accumulator) * tables.area_scale(node),
        f"{operand.value} multiplier + {accumulator.value} adder, {scaled}",
    )
    lane_area = pick(
        "vector_lane_area",
        lambda: tables.lane_area_45nm(accel.vector.precision) * tables.area_scale(node),
        f"{accel.vector.precision.value} multiplier + adder, {scaled}",
    )
    kib_area = pick(
        "sram_area_per_kib",
        lambda: tables.sram_area_per_kib(node),
        tables.BITCELL_SOURCES,
    )
    leakage_density = pick(
        "leakage_power_per_mm2",
        lambda: tables.LEAKAGE_POWER_PER_MM2,
        tables.JOUPPI_2017,
    )
    area = {
        "matrix": accel.matrix.pes * mac_area,
        "vector": accel.vector.lanes * lane_area,
        **{name: buffer.capacity / 1024 * kib_area for name, buffer in accel.buffers.items()},
    }
    total_mm2 = sum(area.values()) / _M2_PER_MM2
    return Technology(
        mac_energy=mac_energy,
        sram_energy_per_byte=MappingProxyType(sram_energy),
        dram_energy_per_byte=dram_per_bit * 8,
        vector_op_energy=vector_energy,
        leakage_power=leakage_density * total_mm2,
        area=MappingProxyType(area),
        sources=MappingProxyType(sources),
    )


_M2_PER_MM2 = 1e-6
