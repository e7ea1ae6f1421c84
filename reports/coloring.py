"""How sweep points are coloured: by a swept parameter or the model variant (`--color-by`).

A parameter with at most `MAX_CATEGORIES` distinct values (or any non-numeric one, such as
the model) gets one Okabe–Ito colour per value and a legend; a numeric parameter with more
values gets the sequential `cividis` scale and a colour bar (log-scaled when it spans a wide
range, as buffer sizes do).
"""

from __future__ import annotations

from dataclasses import dataclass

import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.colors import LogNorm, Normalize, to_rgba
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import FuncFormatter

from explorer.labels import short_labels
from reports.style import GREY, SEQUENTIAL_CMAP, color, palette
from reports.sweep_data import Parameter, SweepData
from reports.units import wide_range

MAX_CATEGORIES = 8


@dataclass(frozen=True)
class Coloring:
    """Colours of rows by one parameter (or a single colour when `parameter` is None).

    Attributes:
        parameter: the parameter, or None.
        categories: the distinct values in order (categorical colouring), else empty.
        labels: legend text of each category.
        norm: value → [0, 1] for a numeric scale, else None.
    """

    parameter: Parameter | None
    categories: tuple[object, ...]
    labels: tuple[str, ...]
    norm: Normalize | None

    def colors(self, rows: pd.DataFrame) -> np.ndarray:
        """(len(rows), 4) RGBA array."""
        if self.parameter is None:
            return np.tile(to_rgba(color(3)), (len(rows), 1))
        values = rows[self.parameter.name]
        if self.norm is not None:
            cmap = mpl.colormaps[SEQUENTIAL_CMAP]
            return cmap(self.norm(values.to_numpy(dtype=np.float64)))
        rgba = np.array([to_rgba(c) for c in palette(len(self.categories))] + [to_rgba(GREY)])
        index = pd.Categorical(values, categories=list(self.categories)).codes
        return rgba[np.where(index >= 0, index, len(self.categories))]

    def legend_handles(self) -> list[Line2D]:
        """One legend entry per category (empty for a numeric scale or a single colour)."""
        colors = palette(len(self.labels))
        return [
            Line2D([], [], linestyle="", marker="o", markersize=6, color=c, label=label)
            for c, label in zip(colors, self.labels)
        ]

    @property
    def title(self) -> str:
        return "" if self.parameter is None else self.parameter.axis_label

    def add_colorbar(self, figure: Figure, axes: object) -> None:
        """A colour bar for a numeric scale (no-op for categories)."""
        if self.norm is None or self.parameter is None:
            return
        mappable = mpl.cm.ScalarMappable(norm=self.norm, cmap=SEQUENTIAL_CMAP)
        bar = figure.colorbar(mappable, ax=axes, shrink=0.8, pad=0.02)
        bar.set_label(self.parameter.axis_label)
        parameter = self.parameter
        bar.ax.yaxis.set_major_formatter(FuncFormatter(lambda value, _pos: parameter.format(value)))
        bar.ax.yaxis.set_minor_formatter(FuncFormatter(lambda _value, _pos: ""))


def default_color_by(data: SweepData) -> str | None:
    """The model variant when several are swept, else the first swept parameter, else None."""
    names = [p.name for p in data.parameters]
    if "model" in names:
        return "model"
    return names[0] if names else None


def make_coloring(data: SweepData, color_by: str | None) -> Coloring:
    """The colouring by `color_by` (a swept parameter; InputError listing them otherwise)."""
    if color_by is None:
        return Coloring(None, (), (), None)
    parameter = data.parameter(color_by)
    values = data.table[color_by].dropna()
    distinct = pd.unique(values)
    if parameter.numeric and len(distinct) > MAX_CATEGORIES:
        numbers = values.to_numpy(dtype=np.float64)
        vmin, vmax = float(numbers.min()), float(numbers.max())
        norm = LogNorm(vmin, vmax) if wide_range(numbers) else Normalize(vmin, vmax)
        return Coloring(parameter, (), (), norm)
    categories = tuple(sorted(distinct.tolist())) if parameter.numeric else tuple(distinct.tolist())
    labels = short_labels([parameter.format(v) for v in categories])
    return Coloring(parameter, categories, tuple(labels), None)
