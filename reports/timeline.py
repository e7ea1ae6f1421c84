"""Static Gantt chart of a traced simulation: one row per engine, instructions coloured by layer.

The same data as the Perfetto trace (`simulator.trace`), drawn for a paper: a LOAD/STORE
spans its DRAM-channel occupancy, a GEMM/VEC its execution. The top row holds one slice per
layer over the cycles charged to it, named where the name fits.

A network has up to millions of instructions, far more than a figure has pixels, so on each
engine consecutive instructions of the same layer separated by less than `MERGE_FRACTION`
of the run are merged into one bar (vectorised with numpy); the picture is the same, and
rendering cost is bounded by the figure's width rather than the program's length.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from matplotlib.figure import Figure
from matplotlib.text import Text
from matplotlib.transforms import Bbox

from compiler.target.isa import ENGINE_OF_OPCODE, Engine, Opcode
from reports.style import FULL_WIDTH_IN, TOL_LIGHT, keep_if_fits, new_figure, styled
from reports.units import si_scale
from simulator.trace import occupied_until

MERGE_FRACTION = 1 / 4000
LAYERS_ROW = "layers"


@dataclass(frozen=True)
class Bars:
    """Merged bars of one engine: start and end cycles, and the layer of each bar."""

    engine: Engine
    start: np.ndarray
    end: np.ndarray
    layer: np.ndarray


def engine_bars(simulation) -> tuple[Bars, ...]:
    """Merged busy intervals of every engine (see the module docstring); needs a traced run."""
    trace = simulation.result.trace
    if trace is None:
        raise ValueError("the simulation has no trace: simulate with trace=True")
    instructions = simulation.compiled.program.instructions
    opcode = instructions["opcode"]
    start = trace.start
    end = occupied_until(instructions, trace.end, simulation.compiled.target)
    engine_of = np.array([ENGINE_OF_OPCODE[op] for op in Opcode])[opcode]
    tolerance = max(1.0, float(simulation.result.total_cycles) * MERGE_FRACTION)
    return tuple(
        _merge(engine, start[engine_of == engine], end[engine_of == engine], instructions["layer"][engine_of == engine], tolerance)
        for engine in Engine
    )


def _merge(engine: Engine, start: np.ndarray, end: np.ndarray, layer: np.ndarray, tolerance: float) -> Bars:
    """Merge runs of one layer whose gaps are below `tolerance` (engines are in-order: starts ascend)."""
    if len(start) == 0:
        empty = np.empty(0, dtype=np.int64)
        return Bars(engine, empty, empty, empty)
    running_end = np.maximum.accumulate(end)
    breaks = np.flatnonzero((layer[1:] != layer[:-1]) | (start[1:] - running_end[:-1] > tolerance)) + 1
    firsts = np.concatenate([[0], breaks])
    return Bars(engine, start[firsts], np.maximum.reduceat(end, firsts), layer[firsts])


def layer_spans(simulation) -> tuple[np.ndarray, np.ndarray]:
    """Start and end cycle of each layer's slice: consecutive, as in the Perfetto ``layers`` track."""
    cycles = np.array([layer.cycles for layer in simulation.result.layers], dtype=np.int64)
    ends = np.cumsum(cycles)
    return ends - cycles, ends


@styled
def timeline_figure(simulation) -> Figure:
    """The Gantt chart described in the module docstring."""
    bars = engine_bars(simulation)
    clock = simulation.result.clock
    scale = si_scale(simulation.result.total_cycles / clock, "s")
    figure = new_figure(FULL_WIDTH_IN, 2.6)
    ax = figure.add_subplot()
    rows = [LAYERS_ROW, *(engine.name.lower() for engine in Engine)]
    factor = scale.factor / clock
    for row, engine_bar in enumerate(bars, start=1):
        spans = np.column_stack([engine_bar.start, engine_bar.end - engine_bar.start]) * factor
        ax.broken_barh(spans, (row - 0.4, 0.8), facecolors=_layer_colors(engine_bar.layer), linewidth=0)
    first, last = layer_spans(simulation)
    names = simulation.compiled.program.layer_names
    indices = np.arange(len(first))
    ax.broken_barh(np.column_stack([first, last - first]) * factor, (-0.4, 0.8), facecolors=_layer_colors(indices),
                   edgecolors="white", linewidth=0.3)
    ax.set_yticks(range(len(rows)), rows)
    ax.set_ylim(len(rows) - 0.5, -0.5)
    ax.set_xlim(0, simulation.result.total_cycles * factor)
    ax.set_xlabel(scale.label("time"))
    ax.set_ylabel("engine")
    ax.grid(axis="y", visible=False)
    ax.set_title(f"Timeline of {simulation.compiled.source} on {simulation.accel.name}", fontsize=9)
    order = np.argsort(-(last - first), kind="stable")
    slice_of = {
        ax.text((first[i] + last[i]) / 2 * factor, 0, names[i], ha="center", va="center", fontsize=5.5): i
        for i in order
    }

    def slice_box(text: Text) -> Bbox:
        """Display box of the layer slice a label names: the label must fit inside it."""
        index = slice_of[text]
        corners = ax.transData.transform([(first[index] * factor, 0.45), (last[index] * factor, -0.45)])
        return Bbox.from_extents(*corners.min(axis=0), *corners.max(axis=0))

    keep_if_fits(figure, slice_of, within=slice_box)
    return figure


def _layer_colors(layers: np.ndarray) -> list[str]:
    return [TOL_LIGHT[i % (len(TOL_LIGHT) - 1)] for i in layers.tolist()]
