"""Wires: buffers to the array, and PE to PE.

Energy per bit per millimetre of an on-chip wire, from Keckler et al.'s 40 nm figure, scaled by
the square of the supply (a wire's capacitance per millimetre changes little between nodes,
so only CV² moves; an assumption stated in the provenance). Distances come from the floor
plan implied by the areas: a word read from a buffer travels from the buffer's centre to the
array's edge, half the sum of the two blocks' sides; a forwarded operand travels one PE pitch.
"""

from __future__ import annotations

import math

from accel_spec.components import Constant

KECKLER_2011 = (
    "S. W. Keckler, W. J. Dally, B. Khailany, M. Garland, D. Glasco, 'GPUs and the future of parallel "
    "computing', IEEE Micro 31(5), 2011, Table 1: 256-bit transfer over 10 mm of on-chip wire, 310 pJ at 40 nm"
)
WIRE_J_PER_BIT_MM = Constant("wire_energy_40nm", 310e-12 / (256 * 10), "J per bit per mm", KECKLER_2011)
WIRE_VOLTAGE = 0.9
"""Supply of Keckler's 40 nm figure (assumption: the node's nominal 0.9 V)."""

CONSTANTS = (WIRE_J_PER_BIT_MM,)

_M_PER_MM = 1e-3


def wire_energy_per_bit_mm(voltage: float) -> float:
    """Joules per bit per millimetre at `voltage` (CV² from Keckler's 0.9 V figure)."""
    return WIRE_J_PER_BIT_MM.value * (voltage / WIRE_VOLTAGE) ** 2


def side_mm(area_m2: float) -> float:
    """Side in millimetres of a square block of `area_m2`."""
    return math.sqrt(max(area_m2, 0.0)) / _M_PER_MM


def buffer_to_array_mm(buffer_area_m2: float, array_area_m2: float) -> float:
    """Wire length from a buffer's centre to the array's: half the sum of the blocks' sides."""
    return (side_mm(buffer_area_m2) + side_mm(array_area_m2)) / 2
