"""Per-layer breakdown of one simulation: where each layer's cycles went.

Each bar stacks, for one layer, the busy cycles of the matrix engine and of the vector unit
and the idle cycles of the layer's compute engine (the busier of the two) by cause: waiting
for DRAM, and waiting for other compute or for buffer space ("dependency"). Engines run
concurrently, so a bar can be taller than the cycles the layer added to the run, which are
drawn as a black tick; the roofline lower bound (no schedule can beat it) is a diamond.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from matplotlib.figure import Figure

from compiler.target.isa import Engine
from reports.style import FULL_WIDTH_IN, HIGHLIGHT, color, new_figure, styled
from reports.units import si_scale
from simulator.result import StallCause

SEGMENTS = ("matrix busy", "vector busy", "DRAM stall", "dependency stall")
SEGMENT_COLORS = (color(3), color(2), color(0), color(5))
SIMULATED = "simulated cycles"
LOWER_BOUND = "lower bound"
MAX_NAMED_LAYERS = 80
"""With more layers than this, every k-th name is shown so that names stay readable."""


@dataclass(frozen=True)
class Breakdown:
    """Cycles per layer: `segments[i]` is the row of `SEGMENTS[i]`; `cycles` and `lower_bound` per layer."""

    names: tuple[str, ...]
    segments: np.ndarray  # (len(SEGMENTS), layers)
    cycles: np.ndarray
    lower_bound: np.ndarray


def layer_breakdown(simulation) -> Breakdown:
    """The bar segments of every layer of a `tessera.api.Simulation` (see the module docstring)."""
    layers = simulation.result.layers
    rows = []
    for layer in layers:
        stall = layer.stall[layer.compute_engine]
        rows.append((
            layer.busy[Engine.MATRIX],
            layer.busy[Engine.VECTOR],
            stall[StallCause.DRAM],
            stall[StallCause.DEPENDENCY] + stall[StallCause.BUFFER],
        ))
    return Breakdown(
        names=tuple(layer.name for layer in layers),
        segments=np.array(rows, dtype=np.float64).reshape(len(layers), len(SEGMENTS)).T,
        cycles=np.array([layer.cycles for layer in layers], dtype=np.float64),
        lower_bound=np.array(simulation.lower_bounds, dtype=np.float64),
    )


@styled
def layer_breakdown_figure(simulation) -> Figure:
    """Stacked bars per layer with simulated-cycle ticks and lower-bound diamonds."""
    data = layer_breakdown(simulation)
    count = len(data.names)
    scale = si_scale(np.concatenate([data.cycles, data.segments.sum(axis=0)]), "cycles")
    figure = new_figure(min(max(FULL_WIDTH_IN, 0.11 * count + 1.5), 16.0), 3.8)
    ax = figure.add_subplot()
    positions = np.arange(count)
    bottom = np.zeros(count)
    for label, shade, values in zip(SEGMENTS, SEGMENT_COLORS, data.segments):
        ax.bar(positions, values * scale.factor, bottom=bottom, width=0.8, color=shade, label=label, linewidth=0)
        bottom += values * scale.factor
    ax.scatter(positions, data.cycles * scale.factor, marker="_", s=60, color="black", linewidths=1.4, label=SIMULATED, zorder=3)
    ax.scatter(positions, data.lower_bound * scale.factor, marker="D", s=12, color=HIGHLIGHT, edgecolors="black",
               linewidths=0.3, label=LOWER_BOUND, zorder=4)
    step = max(1, int(np.ceil(count / MAX_NAMED_LAYERS)))
    ax.set_xticks(positions[::step])
    ax.set_xticklabels(data.names[::step], rotation=90, fontsize=6)
    ax.set_xlim(-0.6, count - 0.4)
    ax.set_xlabel("layer [name, in program order]")
    ax.set_ylabel(scale.label("cycles"))
    ax.grid(axis="x", visible=False)
    ax.set_title(f"Per-layer cycles of {simulation.compiled.source} on {simulation.accel.name}", fontsize=9)
    figure.legend(*ax.get_legend_handles_labels(), loc="outside upper center", fontsize=7, ncols=len(SEGMENTS) + 2)
    return figure
