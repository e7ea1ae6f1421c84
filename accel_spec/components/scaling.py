"""Process node, supply voltage and device flavour: how a published number moves to the chip.

Energies published at one node and voltage are scaled by the ratio of Stillmaker & Baas's
fitted energy-versus-VDD curves, E(V) = a·V² + b·V + c, evaluated at the chip's node and supply
and at the source's; areas by their node-to-node area factors. Below 65 nm the paper fits
high-performance (HP) and low-power (LP) devices separately; `Device` picks the row. Nodes
between the tabulated ones interpolate log-log. Leakage power is scaled like switching energy
(the rule hwcomponents-library uses; an assumption, since Stillmaker & Baas give no leakage fit).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum

STILLMAKER_2017 = (
    "A. Stillmaker, B. Baas, 'Scaling equations for the accurate prediction of CMOS device performance "
    "from 180 nm to 7 nm', Integration 58:74-81, 2017"
)


class Device(Enum):
    """Transistor flavour of the energy fits below 65 nm (one row each in Stillmaker & Baas)."""

    HP = "hp"
    LP = "lp"


# Stillmaker & Baas 2017, energy fit coefficients (a, b, c) of E(V) = a·V² + b·V + c, per node:
# bulk rows for 180-65 nm, HP and LP rows for 45-7 nm. Transcribed in two public scripts that
# agree with each other (UCLA NanoCAD's nodeScale.py, all rows; hwcomponents-library's
# scaling module, LP 45/32 and HP 20-7).
_ENERGY_FIT: dict[Device, dict[float, tuple[float, float, float]]] = {
    Device.HP: {
        180: (0.0, 24.64, -17.98),
        130: (7.171, -6.709, 2.904),
        90: (4.762, -4.781, 2.092),
        65: (3.755, -4.398, 1.975),
        45: (1.018, -0.3107, 0.1539),
        32: (0.8367, -0.4341, 0.1701),
        20: (0.373, -0.1582, 0.04104),
        16: (0.2958, -0.1241, 0.03024),
        14: (0.2363, -0.09675, 0.02239),
        10: (0.2068, -0.09311, 0.02375),
        7: (0.1776, -0.09097, 0.02447),
    },
    Device.LP: {
        180: (0.0, 24.64, -17.98),
        130: (7.171, -6.709, 2.904),
        90: (4.762, -4.781, 2.092),
        65: (3.755, -4.398, 1.975),
        45: (1.103, -0.362, 0.2767),
        32: (0.9559, -0.7823, 0.471),
        20: (0.2632, -0.14, 0.06841),
        16: (0.2139, -0.1187, 0.05639),
        14: (0.1556, -0.06472, 0.03066),
        10: (0.1261, -0.0518, 0.02769),
        7: (0.09365, -0.03409, 0.02043),
    },
}
# Stillmaker & Baas 2017, area scaling factors to 45 nm (their node-to-node area table, 45 nm row).
_AREA_VS_45NM: dict[float, float] = {
    180: 19.0, 130: 6.4, 90: 2.8, 65: 1.5, 45: 1.0, 32: 0.46,
    20: 0.21, 16: 0.19, 14: 0.17, 10: 0.1, 7: 0.059,
}  # fmt: skip
# Nominal core supply per node, used when a chip gives no voltage. Assumption: typical foundry
# core voltages (180-65 nm) and the nominal supplies of the Predictive Technology Model cards
# (45-7 nm), which Stillmaker & Baas's fits cover.
NOMINAL_VDD: dict[float, float] = {
    180: 1.8, 130: 1.3, 90: 1.2, 65: 1.1, 45: 1.0, 32: 0.9,
    20: 0.9, 16: 0.85, 14: 0.8, 10: 0.75, 7: 0.7,
}  # fmt: skip
NOMINAL_VDD_SOURCE = "assumption: typical core supply per node (PTM nominal supplies for 45-7 nm)"
_NODES = tuple(sorted(_AREA_VS_45NM))
NODE_RANGE_NM = (_NODES[0], _NODES[-1])


@dataclass(frozen=True)
class Process:
    """Where a number lives: node in nanometres, supply in volts, device flavour."""

    node_nm: float
    voltage: float
    device: Device = Device.HP

    def energy(self) -> float:
        """Stillmaker & Baas's fitted energy at this node and supply (arbitrary unit)."""
        return _fitted_energy(self.node_nm, self.voltage, self.device)

    def area(self) -> float:
        """Area factor of this node relative to 45 nm."""
        return _area_factor(self.node_nm)

    def energy_from(self, source: Process) -> float:
        """Factor that turns an energy published at `source` into one at this process."""
        return self.energy() / source.energy()

    def area_from(self, source: Process) -> float:
        """Factor that turns an area published at `source`'s node into one at this node."""
        return self.area() / source.area()


@functools.lru_cache(maxsize=256)
def _fitted_energy(node_nm: float, voltage: float, device: Device) -> float:
    """`Process.energy`, kept per process: a chip's technology scales some twenty constants
    from their sources' processes to its own, and a sweep resolves a chip at every point."""
    check_node(node_nm)
    low, high = _bracket(node_nm)
    return loglog(node_nm, (low, high), [_energy_at(device, n, voltage) for n in (low, high)])


@functools.lru_cache(maxsize=256)
def _area_factor(node_nm: float) -> float:
    """`Process.area`, kept per node (`_fitted_energy`)."""
    check_node(node_nm)
    return loglog(node_nm, _NODES, [_AREA_VS_45NM[n] for n in _NODES])


@functools.lru_cache(maxsize=256)
def nominal(node_nm: float, device: Device = Device.HP) -> Process:
    """The process at `node_nm` with its nominal supply (interpolated between nodes); kept
    per node and device (`_fitted_energy`)."""
    check_node(node_nm)
    voltage = loglog(node_nm, _NODES, [NOMINAL_VDD[n] for n in _NODES])
    return Process(node_nm, voltage, device)


def check_node(node_nm: float) -> None:
    """Raise ValueError unless the scaling tables cover `node_nm`."""
    low, high = NODE_RANGE_NM
    if not math.isfinite(node_nm) or not (low <= node_nm <= high):
        raise ValueError(
            f"process node {node_nm:g} nm is outside the technology tables ({low:g}-{high:g} nm, "
            f"{STILLMAKER_2017}); use a node in that range or give every constant in `overrides`"
        )


def _bracket(node_nm: float) -> tuple[float, float]:
    """The two tabulated nodes around `node_nm` (a tabulated node and its neighbour)."""
    index = 1
    while index < len(_NODES) - 1 and node_nm > _NODES[index]:
        index += 1
    return _NODES[index - 1], _NODES[index]


def _energy_at(device: Device, node: float, voltage: float) -> float:
    a, b, c = _ENERGY_FIT[device][node]
    value = a * voltage**2 + b * voltage + c
    if value <= 0:
        raise ValueError(f"supply {voltage:g} V is outside Stillmaker & Baas's fit for {node:g} nm")
    return value


def loglog(x: float, xs: Sequence[float], ys: Sequence[float]) -> float:
    """Piecewise log-log interpolation through increasing `xs`; the end segments extrapolate."""
    index = 1
    while index < len(xs) - 1 and x > xs[index]:
        index += 1
    x0, x1, y0, y1 = xs[index - 1], xs[index], ys[index - 1], ys[index]
    slope = math.log(y1 / y0) / math.log(x1 / x0)
    return y0 * (x / x0) ** slope
