"""Sensitivity of a sweep: each objective (rows) against each swept parameter (columns).

Each line is one model variant and each marker the MEDIAN of the objective over every other
swept parameter, among the rows that were evaluated (status ok, constraints not applied: the
figure shows what a parameter does, not which designs are allowed). The median is robust to
the extreme corners of a grid and, unlike the best value, does not jump when one lucky
combination appears.

"Model variant" means the model columns other than the one on the x axis: the `model`
column for a hardware or schedule parameter; for a model axis (``mobilenetv2:width``), the
other axes of the same builder (one line per resolution), so that a line always varies only
its x parameter. A model axis applies to its builder's variants only: in a sweep that mixes
families (resnet18 beside ``bert:seq`` and ``llama:phase`` axes), the panels of
``bert:seq`` show the BERT rows, whose value of that axis is set.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from explorer.space import MODEL_COLUMN
from explorer.labels import short_labels
from reports.pareto_plots import objective_axes
from reports.style import FULL_WIDTH_IN, marker, new_figure, palette, styled
from reports.sweep_data import Parameter, SweepData
from reports.units import wide_range

MAX_PANEL_LEGEND = 4
"""Panels with more lines than this share one legend below the figure."""

AGGREGATE = "median"
"""How the other parameters are aggregated (named in the figure's title)."""


def x_parameters(data: SweepData) -> tuple[Parameter, ...]:
    """Parameters drawn on an x axis: every swept one except the model column itself."""
    return tuple(p for p in data.parameters if p.name != MODEL_COLUMN)


def line_columns(data: SweepData, x: Parameter) -> list[str]:
    """Columns whose combinations are the lines of the panels of `x` (see the module docstring)."""
    swept = {p.name for p in data.parameters}
    if x.name in data.spec.model_axes:
        builder = _builder(x.name)
        return [c for c in data.spec.model_axes if c in swept and c != x.name and _builder(c) == builder]
    return [MODEL_COLUMN] if MODEL_COLUMN in swept else []


def _builder(model_axis: str) -> str:
    return model_axis.partition(":")[0]


def sensitivity_table(data: SweepData, x: Parameter) -> pd.DataFrame:
    """Median of every objective per (line, x value), with a ``line`` label column; sorted by x.

    Rows where `x` is not set (a model axis of another builder) are left out.
    """
    ok = data.ok()
    ok = ok[ok[x.name].notna()]
    columns = line_columns(data, x)
    objectives = pd.DataFrame({o.value: o.values(ok) for o in data.objectives}, index=ok.index)
    frame = pd.concat([ok[[*columns, x.name]], objectives], axis=1)
    grouped = frame.groupby([*columns, x.name], sort=True, dropna=False)[list(objectives.columns)].agg(AGGREGATE).reset_index()
    if columns:
        parameters = {p.name: p for p in data.parameters}
        raw = grouped[columns].apply(lambda r: ", ".join(_line_part(parameters[c], r[c]) for c in columns), axis=1)
        grouped["line"] = short_labels(raw.tolist()) if columns == [MODEL_COLUMN] else raw.tolist()
    else:
        grouped["line"] = "all points"
    return grouped


def _line_part(parameter: Parameter, value: object) -> str:
    text = parameter.format(value)
    return text if parameter.name == MODEL_COLUMN else f"{parameter.name.split(':')[-1]}={text}"


@styled
def sensitivity_figure(data: SweepData) -> Figure:
    """The grid of panels described in the module docstring."""
    xs = x_parameters(data)
    objectives = data.objectives
    axes_by_objective = objective_axes(data)
    columns = max(len(xs), 1)
    width = max(FULL_WIDTH_IN, 2.3 * columns)
    figure = new_figure(width, 1.9 * len(objectives) + 0.8)
    grid = figure.subplots(len(objectives), columns, squeeze=False, sharey="row")
    shared: dict[tuple[str, ...], Axes] = {}
    for col, x in enumerate(xs):
        table = sensitivity_table(data, x)
        lines = list(dict.fromkeys(table["line"]))
        colors = palette(len(lines))
        for row, objective in enumerate(objectives):
            ax = grid[row][col]
            axis = axes_by_objective[objective]
            for index, line in enumerate(lines):
                part = table[table["line"] == line]
                positions = _positions(x, part[x.name], table[x.name])
                ax.plot(positions, part[objective.value] * axis.scale.factor, color=colors[index],
                        marker=marker(index), markersize=3.5, linewidth=1.2, label=line)
            ax.set_yscale("log" if axis.log else "linear")
            if col == 0:
                ax.set_ylabel(axis.label)
            _x_axis(ax, x, table[x.name], label=row == len(objectives) - 1)
        if len(lines) > MAX_PANEL_LEGEND:
            shared.setdefault(tuple(lines), grid[0][col])
        elif len(lines) > 1:
            grid[0][col].legend(fontsize=6, handlelength=1.5, loc="best")
    for lines, ax in shared.items():
        figure.legend(*ax.get_legend_handles_labels(), loc="outside lower center", ncols=min(len(lines), 3), fontsize=7)
    if not xs:
        grid[0][0].set_axis_off()
    figure.suptitle(f"Sensitivity: {AGGREGATE} of each objective over the other parameters, per model variant")
    return figure


def _positions(x: Parameter, values: pd.Series, every: pd.Series) -> np.ndarray:
    """Numeric parameters are plotted at their values; others at the index of their category."""
    if x.numeric:
        return values.to_numpy(dtype=np.float64)
    categories = list(dict.fromkeys(every.astype(str)))
    return np.array([categories.index(str(v)) for v in values], dtype=np.float64)


def _x_axis(ax: Axes, x: Parameter, every: pd.Series, label: bool) -> None:
    ax.set_xlabel(x.axis_label.replace(" [", "\n[") if label else "")
    if x.numeric:
        values = np.unique(every.to_numpy(dtype=np.float64))
        if wide_range(values, ratio=4.0):
            ax.set_xscale("log", base=2)
        ax.set_xticks(values)
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _pos: x.format(v)))
        ax.xaxis.set_minor_formatter(FuncFormatter(lambda _v, _pos: ""))
    else:
        categories = list(dict.fromkeys(every.astype(str)))
        ax.set_xticks(range(len(categories)))
        ax.set_xticklabels(short_labels(categories))
    ax.tick_params(axis="x", labelrotation=45 if len(set(every)) > 4 else 0)
