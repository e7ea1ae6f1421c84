"""The vector unit: one multiplier and one adder per lane at the lane precision (Horowitz)."""

from __future__ import annotations

from accel_spec.components.pe import Arith, arith_area_45nm, arith_energy_45nm
from accel_spec.types import Precision


def lane_energy_45nm(precision: Precision) -> float:
    """Energy of one lane operation, charged as a multiply-add at the lane precision."""
    return arith_energy_45nm(Arith.MULT, precision) + arith_energy_45nm(Arith.ADD, precision)


def lane_area_45nm(precision: Precision) -> float:
    """Area of one lane: a multiplier and an adder at the lane precision."""
    return arith_area_45nm(Arith.MULT, precision) + arith_area_45nm(Arith.ADD, precision)
