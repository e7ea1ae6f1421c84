"""The end-of-sweep report on the terminal: the Pareto front as a rich table, and where results are."""

from __future__ import annotations

import math

import numpy as np
from rich.markup import escape
from rich.table import Table

from accel_spec.units import Dimension, format_quantity
from explorer.api import SweepResult
from explorer.labels import short_labels
from explorer.manifest import MANIFEST_NAME
from explorer.model_quality import quality_lines
from explorer.space import MODEL_COLUMN, DesignSpace
from explorer.store import PARETO_NAME, RESULTS_NAME
from reports.units import format_si, si_scale

MAX_FRONT_ROWS = 20


def front_table(result: SweepResult) -> Table:
    """The front's varying parameters and objective values, best first objective on top.

    Objectives are shown in engineering units (one SI prefix per column, in its header);
    model specs are shortened to what tells them apart, with the full specs in the caption;
    no cell is cut short (long values wrap).
    """
    front = result.front.table
    units = {axis.path: axis.dimension for axis in result.spec.hardware}
    columns = DesignSpace(result.spec).columns
    varying = [c for c in columns if result.table[c].astype(str).nunique() > 1]
    if MODEL_COLUMN not in varying and MODEL_COLUMN in result.table:
        varying.append(MODEL_COLUMN)
    shown = front.head(MAX_FRONT_ROWS)
    models = list(dict.fromkeys(result.table[MODEL_COLUMN].astype(str)))
    short = dict(zip(models, short_labels(models)))
    title = f"Pareto front: {len(front)} of {len(result.table)} points"
    if len(front) > MAX_FRONT_ROWS:
        title += f" (first {MAX_FRONT_ROWS} shown)"
    table = Table(title=title)
    table.add_column("point_id", overflow="fold")
    for column in varying:
        table.add_column(escape(column), overflow="fold")
    scales = {o: si_scale(np.asarray(o.values(shown), dtype=np.float64), o.unit) for o in result.front.objectives}
    for objective, scale in scales.items():
        table.add_column(escape(f"{objective.value} [{scale.unit}]"), justify="right", overflow="fold")
    for _, row in shown.iterrows():
        cells = [str(row["point_id"])]
        cells += [short[str(row[c])] if c == MODEL_COLUMN else _fmt(row[c], units.get(c)) for c in varying]
        cells += [f"{float(o.values(row)) * scale.factor:.4g}" for o, scale in scales.items()]
        table.add_row(*(escape(cell) for cell in cells))
    legend = [f"{label} = {model}" for model, label in short.items() if label != model and model in set(shown[MODEL_COLUMN])]
    if legend:
        table.caption = escape("\n".join(legend))
        table.caption_justify = "left"
    return table


def _fmt(value: object, dimension: Dimension | None) -> str:
    if isinstance(value, float) and math.isnan(value):
        return ""
    if dimension is not None and isinstance(value, (int, float)):
        return format_quantity(value, dimension)
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def closing_lines(result: SweepResult) -> list[str]:
    """Counts, hypervolume, and the files written."""
    counts = ", ".join(f"{status} {count}" for status, count in sorted(result.manifest.status_counts.items()))
    lines = [f"{len(result.table)} points ({counts})"]
    if result.front.hypervolume is not None and result.front.reference is not None:
        objectives = result.front.objectives
        reference = ", ".join(f"{o.value} {format_si(v, o.unit)}" for o, v in zip(objectives, result.front.reference))
        volume_unit = "·".join(f"({o.unit})" if " " in o.unit else o.unit for o in objectives)
        lines.append(f"hypervolume {result.front.hypervolume:.4g} {volume_unit} (reference: {reference})")
    else:
        lines.append("no point is ok and within the constraints: the front is empty")
    if result.surrogate is not None:
        lines += quality_lines(result.surrogate)
    if result.out_dir is not None:
        folder = result.out_dir
        lines.append(f"results: {folder / RESULTS_NAME}  front: {folder / PARETO_NAME}  manifest: {folder / MANIFEST_NAME}")
    return lines


def every_point_failed(result: SweepResult) -> str | None:
    """When no point was evaluated at all (every one an error), what to tell the user; else None.

    Errors are exceptions in the evaluator, so a sweep made only of them found nothing: the
    command says so and exits 1 rather than reporting an empty front as a success.
    """
    statuses = result.table["status"] if len(result.table) else None
    if statuses is None or not (statuses == "error").all():
        return None
    reasons = result.table["reason"].value_counts()
    return (f"every one of the {len(result.table)} points failed; the most common reason "
            f"({reasons.iloc[0]} points): {reasons.index[0]} (the reason column of the results has each)")
