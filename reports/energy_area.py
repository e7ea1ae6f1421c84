"""Energy and area of one simulation by component (docs/technology.md lists them).

Two horizontal bar charts side by side, each bar labelled with its share of the total. The
components are the keys of `SimResult.energy_breakdown` (``mac``, ``pe_registers``,
``pe_storage``, ``forwarding``, ``sram:<buffer>``, ``interconnect``, ``dram``, ``vector``,
``clock``, ``leakage``) and `SimResult.area_breakdown_mm2`, placed (``matrix``, ``pe_storage``,
``vector``, one entry per buffer, ``control``).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from reports.style import FULL_WIDTH_IN, color, new_figure, styled
from reports.units import Scale, si_scale

_ENERGY_NAMES = {
    "mac": "MAC", "pe_registers": "PE registers", "pe_storage": "PE scratchpads", "forwarding": "PE-to-PE wires",
    "interconnect": "buffer wires", "dram": "DRAM", "dram_phy": "DRAM PHY", "vector": "vector unit", "clock": "clock",
    "leakage": "leakage",
}  # fmt: skip
_AREA_NAMES = {"matrix": "matrix array", "pe_storage": "PE scratchpads", "vector": "vector unit", "control": "control"}


def component_label(key: str, names: Mapping[str, str]) -> str:
    """``sram:weights`` → ``SRAM weights``; known keys by `names`; a buffer name → ``SRAM <name>``."""
    if key in names:
        return names[key]
    return f"SRAM {key.removeprefix('sram:')}"


@styled
def energy_area_figure(simulation) -> Figure:
    """Energy (left) and area (right) by component."""
    result = simulation.result
    figure = new_figure(FULL_WIDTH_IN, 2.8)
    energy_ax, area_ax = figure.subplots(1, 2)
    energy = dict(result.energy_breakdown)
    energy_scale = si_scale(np.array(list(energy.values())), "J")
    _bars(energy_ax, {component_label(k, _ENERGY_NAMES): v for k, v in energy.items()}, energy_scale, color(3))
    energy_ax.set_xlabel(energy_scale.label("energy per inference"))
    energy_ax.set_title(f"energy: {result.energy_j * energy_scale.factor:.3g} {energy_scale.unit} in total", fontsize=9)
    area = dict(result.area_breakdown_mm2)
    _bars(area_ax, {component_label(k, _AREA_NAMES): v for k, v in area.items()}, Scale(1.0, "mm²"), color(2))
    area_ax.set_xlabel("area [mm²]")
    area_ax.set_title(f"area: {result.area_mm2:.3g} mm² in total", fontsize=9)
    figure.suptitle(f"{simulation.compiled.source} on {simulation.accel.name}", fontsize=9)
    return figure


def _bars(ax: Axes, values: dict[str, float], scale: Scale, shade: str) -> None:
    labels = list(values)
    numbers = np.array([values[k] for k in labels], dtype=np.float64) * scale.factor
    total = numbers.sum()
    positions = np.arange(len(labels))
    ax.barh(positions, numbers, color=shade, height=0.7)
    ax.set_yticks(positions, labels)
    ax.invert_yaxis()
    ax.grid(axis="y", visible=False)
    for y, value in zip(positions, numbers):
        share = value / total if total > 0 else 0.0
        ax.annotate(f"{share:.0%}", (value, y), xytext=(3, 0), textcoords="offset points", va="center", fontsize=7)
    ax.set_xlim(0, numbers.max() * 1.18 if len(numbers) and numbers.max() > 0 else 1)
