"""Off-chip DRAM: energy per bit read and written, by memory type.

Figures are per bit moved across the interface, device and I/O together, read and write given
separately where the source does; where it gives one figure, both take it and the provenance
says so. Types without a figure of their own in a source we could check are derived by the
rule stated for them, labelled as an assumption.
"""

from __future__ import annotations

from accel_spec.components import Constant
from accel_spec.types import DramType

PJ = 1e-12

HOROWITZ_DRAM = (
    "M. Horowitz, 'Computing's energy problem', ISSCC 2014, energy table: DDR3 1.3-2.6 nJ per 64-bit "
    "access (midpoint); one figure for read and write"
)
OCONNOR_2017 = (
    "M. O'Connor et al., 'Fine-Grained DRAM: Energy-Efficient DRAM for Extreme Bandwidth Systems', MICRO 2017, "
    "HBM2 baseline 3.9 pJ/bit; one figure for read and write"
)
MICRON_GDDR6 = "Micron, 'Ultra-Bandwidth Solutions' GDDR6 product brief, 2020: 7.5 pJ/bit; one figure for read and write"
_VDDQ_RULE = (
    "assumption: DDR3 figure x (VDDQ / 1.5 V)^2 (I/O-dominated energy scales with CV^2; VDDQ from the JEDEC "
    "standard: {vddq} V); no source states this rule"
)
_VDDQ = {
    DramType.DDR4: 1.2,  # JESD79-4
    DramType.DDR5: 1.1,  # JESD79-5
    DramType.LPDDR4: 1.1,  # JESD209-4
    DramType.LPDDR4X: 0.6,  # JESD209-4-1
    DramType.LPDDR5: 0.5,  # JESD209-5
}
DDR3_PJ_PER_BIT = (1.3e3 + 2.6e3) / 2 / 64
_PJ_PER_BIT: dict[DramType, tuple[float, float, str]] = {
    DramType.DDR3: (DDR3_PJ_PER_BIT, DDR3_PJ_PER_BIT, HOROWITZ_DRAM),
    **{
        t: (DDR3_PJ_PER_BIT * (v / 1.5) ** 2, DDR3_PJ_PER_BIT * (v / 1.5) ** 2, _VDDQ_RULE.format(vddq=v))
        for t, v in _VDDQ.items()
    },
    DramType.GDDR6: (7.5, 7.5, MICRON_GDDR6),
    DramType.HBM2: (3.9, 3.9, OCONNOR_2017),
    DramType.HBM2E: (3.9, 3.9, "assumption: HBM2E (a speed grade of JESD235) equal to HBM2; " + OCONNOR_2017),
    DramType.HBM3: (3.9, 3.9, "assumption: HBM3 bounded by the HBM2 figure; " + OCONNOR_2017),
}

CONSTANTS = tuple(
    Constant(f"dram_{t.value}_{way}", value * PJ, "J per bit", source)
    for t, (read, write, source) in _PJ_PER_BIT.items()
    for way, value in (("read", read), ("write", write))
)


def read_energy_per_bit(dram_type: DramType) -> float:
    """Joules per bit read (device and interface; not scaled with the logic node)."""
    return _PJ_PER_BIT[dram_type][0] * PJ


def write_energy_per_bit(dram_type: DramType) -> float:
    """Joules per bit written (device and interface; not scaled with the logic node)."""
    return _PJ_PER_BIT[dram_type][1] * PJ


def source(dram_type: DramType) -> str:
    """Where the figures for `dram_type` come from."""
    return _PJ_PER_BIT[dram_type][2]
