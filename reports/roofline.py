"""Roofline of one simulation: every layer of the network as a point under the chip's roofs.

x is the arithmetic intensity of the layer as simulated (operations per byte of DRAM traffic,
reads and writes), y its achieved performance (operations per second of the cycles it was
charged). A layer with MACs counts 2 operations per MAC and sits under the matrix roof
(2 · PEs · clock); a layer with only vector work counts its lane operations and sits under
the vector roof (lanes · clock · elementwise rate). The slanted roof is the DRAM bandwidth;
the ridge point, where it meets the matrix roof, is marked. Layers that moved no DRAM bytes
have no finite intensity and are counted in the title instead of drawn.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from matplotlib.figure import Figure

from reports.style import FULL_WIDTH_IN, GREY, HIGHLIGHT, color, keep_if_fits, new_figure, styled
from reports.units import si_scale

MAX_LABELS = 12
"""At most this many layers are named (the largest first, where the name does not collide)."""

MATRIX_LAYERS = "layers with MACs"
VECTOR_LAYERS = "vector-only layers"


@dataclass(frozen=True)
class RooflinePoints:
    """Per-layer roofline coordinates (only layers with work and DRAM traffic)."""

    names: tuple[str, ...]
    ops: np.ndarray  # operations of the layer
    intensity: np.ndarray  # operations per byte
    performance: np.ndarray  # operations per second
    matrix: np.ndarray  # bool: counted in MAC operations (else vector lane operations)
    skipped: int  # layers without work or without DRAM traffic


def roofline_points(simulation) -> RooflinePoints:
    """Intensity and achieved performance of each layer of a `tessera.api.Simulation`."""
    result = simulation.result
    layers = result.layers
    macs = np.array([layer.macs for layer in layers], dtype=np.float64)
    lane_ops = np.array([sum(layer.vector_ops) for layer in layers], dtype=np.float64)
    traffic = np.array([layer.dram_read_bytes + layer.dram_write_bytes for layer in layers], dtype=np.float64)
    seconds = np.array([layer.cycles for layer in layers], dtype=np.float64) / result.clock
    matrix = macs > 0
    ops = np.where(matrix, 2.0 * macs, lane_ops)
    keep = (ops > 0) & (traffic > 0) & (seconds > 0)
    safe_traffic = np.where(keep, traffic, 1.0)
    safe_seconds = np.where(keep, seconds, 1.0)
    return RooflinePoints(
        names=tuple(layer.name for layer, k in zip(layers, keep) if k),
        ops=ops[keep],
        intensity=(ops / safe_traffic)[keep],
        performance=(ops / safe_seconds)[keep],
        matrix=matrix[keep],
        skipped=int((~keep).sum()),
    )


@dataclass(frozen=True)
class Roofs:
    """The chip's peaks: matrix and vector operations per second, DRAM bytes per second."""

    matrix_ops_s: float
    vector_ops_s: float
    dram_bytes_s: float

    @property
    def ridge(self) -> float:
        """Intensity (ops/byte) at which the matrix roof meets the bandwidth roof."""
        return self.matrix_ops_s / self.dram_bytes_s


def roofs_of(accel) -> Roofs:
    """Peaks of an `accel_spec.schema.Accelerator`."""
    return Roofs(
        matrix_ops_s=2.0 * accel.matrix.pes * accel.clock,
        vector_ops_s=accel.vector.lanes * accel.clock * accel.vector.throughput.elementwise,
        dram_bytes_s=accel.dram.bandwidth,
    )


@styled
def roofline_figure(simulation) -> Figure:
    """The roofline described in the module docstring."""
    points = roofline_points(simulation)
    roofs = roofs_of(simulation.accel)
    scale = si_scale(roofs.matrix_ops_s, "ops/s")
    figure = new_figure(FULL_WIDTH_IN * 0.85, 4.0)
    ax = figure.add_subplot()
    ax.set_xscale("log")
    ax.set_yscale("log")

    low = min(float(points.intensity.min()) if len(points.names) else roofs.ridge, roofs.ridge) / 4
    high = max(float(points.intensity.max()) if len(points.names) else roofs.ridge, roofs.ridge) * 4
    x = np.geomspace(low, high, 200)
    ax.plot(x, np.minimum(roofs.matrix_ops_s, roofs.dram_bytes_s * x) * scale.factor, color="black", linewidth=1.4,
            label=f"matrix roof ({roofs.matrix_ops_s * scale.factor:.3g} {scale.unit})")
    ax.plot(x, np.minimum(roofs.vector_ops_s, roofs.dram_bytes_s * x) * scale.factor, color=GREY, linewidth=1.0,
            linestyle="--", label=f"vector roof ({roofs.vector_ops_s * scale.factor:.3g} {scale.unit})")
    ax.axvline(roofs.ridge, color=HIGHLIGHT, linestyle=":", linewidth=1.0)
    ax.annotate(f"ridge {roofs.ridge:.3g} ops/B", (roofs.ridge, roofs.matrix_ops_s * scale.factor),
                xytext=(-4, -12), textcoords="offset points", ha="right", color=HIGHLIGHT, fontsize=7)

    for matrix, label, index, shape in ((True, MATRIX_LAYERS, 3, "o"), (False, VECTOR_LAYERS, 0, "^")):
        chosen = points.matrix == matrix
        ax.scatter(points.intensity[chosen], points.performance[chosen] * scale.factor, s=22, marker=shape,
                   color=color(index), edgecolors="black", linewidths=0.4, label=label, zorder=3)
    ax.set_xlim(low, high)
    ax.set_xlabel("arithmetic intensity [ops/byte of DRAM traffic]")
    ax.set_ylabel(scale.label("achieved performance"))
    skipped = f"; {points.skipped} layers without DRAM traffic not shown" if points.skipped else ""
    ax.set_title(f"Roofline of {simulation.compiled.source}\non {simulation.accel.name}{skipped}", fontsize=9)
    ax.legend(loc="lower right", fontsize=7)

    order = np.argsort(-points.ops, kind="stable")[:MAX_LABELS]
    labels = [
        ax.annotate(points.names[i], (points.intensity[i], points.performance[i] * scale.factor), xytext=(3, 3),
                    textcoords="offset points", fontsize=6, color="#333333")
        for i in order
    ]
    keep_if_fits(figure, labels, within=lambda _text: ax.get_window_extent())
    return figure
