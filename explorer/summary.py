"""The end-of-sweep report on the terminal: the Pareto front as a rich table, and where results are."""

from __future__ import annotations

import math

from rich.table import Table

from accel_spec.units import Dimension, format_quantity
from explorer.api import SweepResult
from explorer.manifest import MANIFEST_NAME
from explorer.model_quality import quality_lines
from explorer.space import MODEL_COLUMN, DesignSpace
from explorer.store import PARETO_NAME, RESULTS_NAME

MAX_FRONT_ROWS = 20


def front_table(result: SweepResult) -> Table:
    """The front's varying parameters and objective values, best first objective on top."""
    front = result.front.table
    units = {axis.path: axis.dimension for axis in result.spec.hardware}
    columns = DesignSpace(result.spec).columns
    varying = [c for c in columns if result.table[c].astype(str).nunique() > 1]
    if MODEL_COLUMN not in varying and MODEL_COLUMN in result.table:
        varying.append(MODEL_COLUMN)
    title = f"Pareto front: {len(front)} of {len(result.table)} points"
    if len(front) > MAX_FRONT_ROWS:
        title += f" (first {MAX_FRONT_ROWS} shown)"
    table = Table(title=title)
    table.add_column("point_id")
    for column in varying:
        table.add_column(column)
    for objective in result.front.objectives:
        table.add_column(f"{objective.value} [{objective.unit}]", justify="right")
    for _, row in front.head(MAX_FRONT_ROWS).iterrows():
        cells = [str(row["point_id"])] + [_fmt(row[c], units.get(c)) for c in varying]
        cells += [f"{row[o.value]:.4g}" for o in result.front.objectives]
        table.add_row(*cells)
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
        reference = ", ".join(f"{o.value} {v:.4g}" for o, v in zip(result.front.objectives, result.front.reference))
        lines.append(f"hypervolume {result.front.hypervolume:.4g} (reference: {reference})")
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
