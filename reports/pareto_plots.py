"""Pareto figures of a sweep: one per pair of objectives, and a pairwise matrix for ≥ 3 objectives.

In every panel each plottable row (status ok, finite objectives) is one point:

- points of the Pareto front (the rows of pareto.csv) are large, opaque, black-edged;
- the other points that satisfy the constraints are small and faint;
- points that violate a constraint are faint grey crosses;
- the black step line is the front of the two plotted objectives among the feasible points
  (the attainment boundary in that projection; with ≥ 3 objectives some front points lie
  behind it, since they win on an objective that is not drawn);
- a constraint on a plotted objective is a dashed line, its infeasible side lightly shaded.

Colours follow `reports.coloring`. The collections carry labels (`DOMINATED`, `VIOLATING`,
`FRONT`, `FRONT_LINE`) so tests and users can find them.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from explorer.objectives import Comparison, Direction, Objective
from explorer.pareto import pareto_mask
from reports.coloring import Coloring
from reports.style import FULL_WIDTH_IN, GREY, HIGHLIGHT, RASTERIZE_ABOVE, new_figure, styled
from reports.sweep_data import SweepData
from reports.units import Scale, si_scale, wide_range

DOMINATED = "dominated"
VIOLATING = "violates a constraint"
FRONT = "Pareto front"
FRONT_LINE = "front of this pair"

_DOMINATED_ALPHA = 0.3


@dataclass(frozen=True)
class Axis:
    """How one objective is drawn: its display scale and whether the axis is logarithmic."""

    objective: Objective
    scale: Scale
    log: bool

    @property
    def label(self) -> str:
        arrow = "↓" if self.objective.direction is Direction.MINIMIZE else "↑"
        return f"{self.objective.value} {arrow} [{self.scale.unit}]"

    def values(self, rows: pd.DataFrame) -> np.ndarray:
        return np.asarray(self.objective.values(rows), dtype=np.float64) * self.scale.factor


def accuracy_note(objectives: tuple[Objective, ...]) -> str:
    """Said on every figure that plots accuracy: it is the published FP32 figure, not the run's."""
    return "\n(accuracy: published FP32 ImageNet top-1, whatever the run's precision)" if Objective.ACCURACY in objectives else ""


def objective_axes(data: SweepData) -> dict[Objective, Axis]:
    """Display scale and log/linear choice of every objective, from the plottable rows."""
    ok = data.ok()
    axes = {}
    for objective in data.objectives:
        values = np.asarray(objective.values(ok), dtype=np.float64)
        axes[objective] = Axis(objective, si_scale(values, objective.unit), wide_range(values))
    return axes


@styled
def pareto_pair_figure(data: SweepData, x: Objective, y: Objective, coloring: Coloring) -> Figure:
    """One pair of objectives: the figure described in the module docstring."""
    figure = new_figure(FULL_WIDTH_IN * 0.8, 3.8)
    ax = figure.add_subplot()
    axes = objective_axes(data)
    draw_pair(ax, data, axes[x], axes[y], coloring)
    ax.set_title(f"{y.value} vs {x.value}: {len(data.front)} front points of {len(data.ok())}{accuracy_note((x, y))}")
    _legends(figure, ax, coloring)
    coloring.add_colorbar(figure, ax)
    return figure


@styled
def pareto_matrix_figure(data: SweepData, coloring: Coloring) -> Figure:
    """Pairwise matrix of ≥ 2 objectives: pairs below the diagonal, histograms on it."""
    objectives = data.objectives
    count = len(objectives)
    size = FULL_WIDTH_IN
    figure = new_figure(size, size * 0.92)
    grid = figure.subplots(count, count, squeeze=False)
    axes = objective_axes(data)
    ok = data.ok()
    front = ok[ok["point_id"].isin(set(data.front["point_id"]))]
    for row, y in enumerate(objectives):
        for col, x in enumerate(objectives):
            ax = grid[row][col]
            if col > row:
                ax.set_axis_off()
            elif col == row:
                _histogram(ax, axes[x], ok, front)
            else:
                draw_pair(ax, data, axes[x], axes[y], coloring)
            if row < count - 1 and col <= row:
                ax.set_xlabel("")
            if col > 0 and col < row:
                ax.set_ylabel("")
    _legends(figure, grid[0][count - 1], coloring, inside=True)
    coloring.add_colorbar(figure, grid[0][count - 1])
    title = f"Pareto front over {', '.join(o.value for o in objectives)}: {len(front)} of {len(ok)} points"
    figure.suptitle(title + accuracy_note(objectives))
    return figure


def pairs(objectives: tuple[Objective, ...]) -> list[tuple[Objective, Objective]]:
    """Every pair (x, y) of objectives, in spec order."""
    return list(combinations(objectives, 2))


def draw_pair(ax: Axes, data: SweepData, x: Axis, y: Axis, coloring: Coloring) -> None:
    """Draw one pair of objectives on `ax` (see the module docstring)."""
    ok = data.ok()
    feasible = ok["constraints_ok"].astype(bool).to_numpy()
    on_front = ok["point_id"].isin(set(data.front["point_id"])).to_numpy()
    colors = coloring.colors(ok)
    xs, ys = x.values(ok), y.values(ok)
    dominated = feasible & ~on_front
    ax.scatter(
        xs[dominated], ys[dominated], s=9, c=colors[dominated], alpha=_DOMINATED_ALPHA, linewidths=0,
        label=DOMINATED, rasterized=bool(dominated.sum() > RASTERIZE_ABOVE),
    )
    violating = ~feasible
    ax.scatter(
        xs[violating], ys[violating], s=9, marker="x", c=GREY, alpha=_DOMINATED_ALPHA, linewidths=0.6,
        label=VIOLATING, rasterized=bool(violating.sum() > RASTERIZE_ABOVE),
    )
    ax.scatter(xs[on_front], ys[on_front], s=30, c=colors[on_front], edgecolors="black", linewidths=0.7, label=FRONT, zorder=3)
    _front_line(ax, xs[feasible], ys[feasible], x.objective, y.objective)
    ax.set_xscale("log" if x.log else "linear")
    ax.set_yscale("log" if y.log else "linear")
    ax.set_xlabel(x.label)
    ax.set_ylabel(y.label)
    for axis, vertical in ((x, True), (y, False)):
        for constraint in data.constraints_on(axis.objective):
            _constraint_line(ax, constraint.bound * axis.scale.factor, constraint.comparison, vertical, f"{constraint}")


def _front_line(ax: Axes, xs: np.ndarray, ys: np.ndarray, x: Objective, y: Objective) -> None:
    signs = np.array([1.0 if o.direction is Direction.MINIMIZE else -1.0 for o in (x, y)])
    if len(xs) == 0:
        return
    points = np.column_stack([xs, ys]) * signs
    mask = pareto_mask(points)
    order = np.argsort(xs[mask], kind="stable")
    style = "steps-post" if x.direction is Direction.MINIMIZE else "steps-pre"
    ax.plot(xs[mask][order], ys[mask][order], color="black", linewidth=1.0, drawstyle=style, label=FRONT_LINE, zorder=2)


def _constraint_line(ax: Axes, bound: float, comparison: Comparison, vertical: bool, text: str) -> None:
    """Dashed line at the bound and a light shade over the side that violates it."""
    below_ok = comparison in (Comparison.LE, Comparison.LT)
    if vertical:
        low, high = ax.get_xlim()
        ax.axvline(bound, color=HIGHLIGHT, linestyle="--", linewidth=1.0)
        ax.axvspan(bound, max(high, bound) if below_ok else min(low, bound), color=HIGHLIGHT, alpha=0.07, linewidth=0)
        ax.annotate(text, (bound, 1.0), xycoords=("data", "axes fraction"), xytext=(-3, -3), textcoords="offset points",
                    rotation=90, ha="right", va="top", color=HIGHLIGHT, fontsize=7)
    else:
        low, high = ax.get_ylim()
        ax.axhline(bound, color=HIGHLIGHT, linestyle="--", linewidth=1.0)
        ax.axhspan(bound, max(high, bound) if below_ok else min(low, bound), color=HIGHLIGHT, alpha=0.07, linewidth=0)
        ax.annotate(text, (1.0, bound), xycoords=("axes fraction", "data"), xytext=(-3, 3), textcoords="offset points",
                    ha="right", va="bottom", color=HIGHLIGHT, fontsize=7)


def _histogram(ax: Axes, axis: Axis, ok: pd.DataFrame, front: pd.DataFrame) -> None:
    values = axis.values(ok)
    bins = np.geomspace(values.min(), values.max(), 25) if axis.log and values.min() < values.max() else 24
    ax.hist(values, bins=bins, color=GREY, alpha=0.6)
    for value in axis.values(front):
        ax.axvline(value, ymax=0.12, color="black", linewidth=0.8)
    ax.set_xscale("log" if axis.log else "linear")
    ax.set_xlabel(axis.label)
    ax.set_ylabel("points")


def _legends(figure: Figure, ax: Axes, coloring: Coloring, inside: bool = False) -> None:
    roles = [
        Line2D([], [], linestyle="", marker="o", markersize=6, markerfacecolor=GREY, markeredgecolor="black", label=FRONT),
        Line2D([], [], linestyle="", marker="o", markersize=4, color=GREY, alpha=0.5, label=DOMINATED),
        Line2D([], [], linestyle="", marker="x", markersize=4, color=GREY, label=VIOLATING),
        Line2D([], [], color="black", linewidth=1.0, label=FRONT_LINE),
        Line2D([], [], color=HIGHLIGHT, linestyle="--", linewidth=1.0, label="constraint"),
    ]
    handles = roles + coloring.legend_handles()
    title = coloring.title if coloring.categories else None
    if inside:
        ax.legend(handles=handles, loc="upper right", title=title, fontsize=7, title_fontsize=7)
    else:
        figure.legend(handles=handles, loc="outside right upper", title=title)
