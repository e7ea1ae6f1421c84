"""Cost-model quality: a learned surrogate's predictions against the simulator, per objective.

Reads the records of `reports.sweep_data.SURROGATE_NAME` (objective, predicted, simulated,
split). Each objective gets one panel: test points opaque, training points faint, the
diagonal y = x, and the error metrics of each split, which also go into the caption:

- MAPE, the mean absolute percentage error |predicted − simulated| / |simulated|;
- Spearman's ρ, the rank correlation: what a search that only ranks candidates needs;
- R², 1 − SS_res / SS_tot, of the predictions against the simulated values.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

from explorer.model_quality import Quality, quality
from explorer.objectives import Objective
from reports.style import FULL_WIDTH_IN, GREY, color, new_figure, styled
from reports.units import si_scale, wide_range


def parity_metrics(surrogate: pd.DataFrame) -> dict[tuple[str, str], Quality]:
    """(objective, split) → metrics, for every pair present in the records."""
    metrics = {}
    for (objective, split), rows in surrogate.groupby(["objective", "split"], sort=True):
        metrics[(str(objective), str(split))] = quality(rows["predicted"].to_numpy(), rows["simulated"].to_numpy())
    return metrics


def parity_caption(surrogate: pd.DataFrame) -> str:
    """One sentence per objective and split, for the figure caption."""
    return "; ".join(f"{objective} ({split}): {m.describe()}" for (objective, split), m in parity_metrics(surrogate).items())


@styled
def parity_figure(surrogate: pd.DataFrame) -> Figure:
    """One predicted-vs-simulated panel per objective (see the module docstring)."""
    objectives = list(dict.fromkeys(surrogate["objective"].astype(str)))
    figure = new_figure(max(FULL_WIDTH_IN, 2.6 * len(objectives)), 3.0)
    panels = figure.subplots(1, len(objectives), squeeze=False)[0]
    metrics = parity_metrics(surrogate)
    for ax, name in zip(panels, objectives):
        objective = Objective(name)
        rows = surrogate[surrogate["objective"] == name]
        both = np.concatenate([rows["predicted"].to_numpy(dtype=np.float64), rows["simulated"].to_numpy(dtype=np.float64)])
        scale = si_scale(both, objective.unit)
        log = wide_range(both, ratio=10.0)
        for split, shade, alpha in (("train", GREY, 0.35), ("test", color(3), 0.9)):
            part = rows[rows["split"] == split]
            ax.scatter(part["simulated"] * scale.factor, part["predicted"] * scale.factor, s=10, color=shade,
                       alpha=alpha, linewidths=0, label=f"{split} ({len(part)})")
        low, high = float(np.nanmin(both)) * scale.factor, float(np.nanmax(both)) * scale.factor
        ax.plot([low, high], [low, high], color="black", linewidth=0.8, label="y = x")
        ax.set_xscale("log" if log else "linear")
        ax.set_yscale("log" if log else "linear")
        if log:  # a decade or two: label 1-2-5 steps in plain numbers; default minor labels collide
            for axis in (ax.xaxis, ax.yaxis):
                axis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
                axis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
                axis.set_minor_formatter(NullFormatter())
        ax.set_xlabel(scale.label(f"simulated {name}"))
        ax.set_ylabel(scale.label(f"predicted {name}"))
        test = metrics.get((name, "test"))
        if test is not None:
            ax.set_title(f"test: MAPE {test.mape:.1%}, ρ {test.spearman:.2f}", fontsize=8)
        ax.legend(fontsize=7, loc="upper left")
    figure.suptitle("Cost model: predicted vs simulated")
    return figure
