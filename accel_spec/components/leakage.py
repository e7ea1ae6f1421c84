"""Static power of logic, per unit of area, at the 40 nm node it was characterised at.

Aladdin's characterisation of a commercial 40 nm library gives each functional unit's leakage
and area; their ratio for the 32-bit multiplier (the unit that dominates a PE's arithmetic) is
the leakage density applied to the arithmetic of PEs and vector lanes. Registers use their own
per-bit figure (`pe.REGISTER_LEAKAGE_W`) and SRAMs CACTI's (`sram`). Leakage is moved to the
chip's node and supply with the switching-energy ratio (`scaling`).
"""

from __future__ import annotations

from accel_spec.components import Constant
from accel_spec.components.pe import ALADDIN_2014

LOGIC_LEAKAGE_W_PER_M2 = Constant(
    "logic_leakage_density_40nm",
    7.79e-2 * 1e-3 / (6.35e3 * 1e-12),
    "W per m²",
    ALADDIN_2014.replace("REG_1ns_* (per bit)", "MUL leakage 7.79e-2 mW over area 6.35e3 µm² (32-bit multiplier)"),
)

CONSTANTS = (LOGIC_LEAKAGE_W_PER_M2,)
