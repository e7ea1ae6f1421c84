"""The clock network: the buffers and wires that deliver the clock to every register, every cycle.

The registers' own clock pins are charged by `pe.REGISTER_CLOCK_J` (pipeline registers every
cycle, clock-gated register files per write). The tree that drives them is charged here, per
register bit it reaches, every cycle the chip runs: its buffers and wires grow with the number
of sinks they drive, and they toggle whether or not a leaf is gated.

The figure per register bit comes from DianNao's 65 nm layout (Chen et al., ASPLOS 2014,
Table 6), which breaks power and area down by cell type: the clock network drew 271.97 mW at
0.98 GHz, its registers covered 0.26 mm². That area counted in the model's own register cells
(Aladdin's, moved to 65 nm) gives the register bits the tree drove, so the energy per bit per
cycle is consistent with how this model counts registers.
"""

from __future__ import annotations

from accel_spec.components import Constant
from accel_spec.components.pe import ALADDIN_PROCESS, REGISTER_AREA_M2
from accel_spec.components.scaling import Process

DIANNAO_2014 = (
    "T. Chen, Z. Du, N. Sun, J. Wang, C. Wu, Y. Chen, O. Temam, 'DianNao: a small-footprint high-throughput "
    "accelerator for ubiquitous machine-learning', ASPLOS 2014, Table 6 (65 nm layout, 0.98 GHz)"
)
DIANNAO_CLOCK_POWER_W = Constant("diannao_clock_network_power", 271.97e-3, "W", DIANNAO_2014 + ": clock network 271.97 mW")
DIANNAO_REGISTER_AREA_M2 = Constant("diannao_register_area", 0.26e-6, "m²", DIANNAO_2014 + ": registers 0.26 mm²")
DIANNAO_CLOCK_HZ = Constant("diannao_clock", 0.98e9, "Hz", DIANNAO_2014 + ": 0.98 GHz")
DIANNAO_PROCESS = Process(65, 1.0)
"""DianNao's process: 65 nm; assumption: the 1.0 V nominal supply of a 65 nm general-purpose library."""

CONSTANTS = (DIANNAO_CLOCK_POWER_W, DIANNAO_REGISTER_AREA_M2, DIANNAO_CLOCK_HZ)


def diannao_register_bits() -> float:
    """Register bits of DianNao's layout, counted in the model's register cells at 65 nm."""
    bit_area = REGISTER_AREA_M2.value * DIANNAO_PROCESS.area_from(ALADDIN_PROCESS)
    return DIANNAO_REGISTER_AREA_M2.value / bit_area


def tree_energy_per_bit_65nm() -> float:
    """Joules per register bit per cycle of the clock tree, at DianNao's 65 nm and 1.0 V."""
    return DIANNAO_CLOCK_POWER_W.value / DIANNAO_CLOCK_HZ.value / diannao_register_bits()
