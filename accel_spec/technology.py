"""Technology model: energy per event and area per component for one chip.

`resolve(accel, precision)` turns the chip's process node, memory type and buffer sizes into
the constants the simulator multiplies event counts by. Every default comes from a published
table (see `accel_spec/technology_tables.py`, each constant with its citation); the chip's
`overrides` section replaces any of them, and `Technology.sources` records, per constant,
whether the cited default or an override was used, so a result never hides where a number
came from.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


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
