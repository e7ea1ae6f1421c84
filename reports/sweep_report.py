"""`tessera report DIR`: the figures and HTML page of a sweep folder.

Figures: the Pareto matrix (≥ 3 objectives), one Pareto figure per pair of objectives, the
sensitivity grid, and the cost-model parity plot when the folder has `surrogate.parquet`.
The page adds the sweep summary, the Pareto table and the reproducibility block from
manifest.json.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from explorer.objectives import Objective
from reports import html
from reports.coloring import default_color_by, make_coloring
from reports.pareto_plots import objective_axes, pairs, pareto_matrix_figure, pareto_pair_figure
from reports.parity import parity_caption, parity_figure
from reports.report import FigureSpec, Report, prepare_folder, write_report
from reports.sensitivity import AGGREGATE, sensitivity_figure, x_parameters
from reports.style import DEFAULT_FORMATS, Format
from reports.sweep_data import SURROGATE_NAME, SweepData, load_sweep_folder

REPORT_FOLDER = "report"
"""Default output folder, inside the sweep folder."""

MAX_TABLE_ROWS = 200


def sweep_report(
    folder: str | Path,
    out_dir: str | Path | None = None,
    formats: Sequence[Format] = DEFAULT_FORMATS,
    color_by: str | None = None,
) -> Report:
    """Write the report of the sweep in `folder` to `out_dir` (default `folder/report`).

    `color_by` names the swept parameter that colours the points (default: the model variant,
    else the first swept parameter). Bad input raises `tessera.errors.InputError`.
    """
    data = load_sweep_folder(folder)
    coloring = make_coloring(data, color_by if color_by is not None else default_color_by(data))
    target = prepare_folder(out_dir if out_dir is not None else data.folder / REPORT_FOLDER)
    return write_report(
        target,
        f"Sweep report: {data.folder.name}",
        figure_specs(data, coloring),
        formats,
        [("Summary", summary_html(data))],
        [("Pareto front", front_html(data))],
        reproducibility(data),
    )


def figure_specs(data: SweepData, coloring) -> list[FigureSpec]:
    """The figures of a sweep, in report order."""
    ok = data.ok()
    front = len(data.front)
    violating = int((~ok["constraints_ok"].astype(bool)).sum())
    constraints = ", ".join(str(c) for c in data.constraints) or "none"
    colour = f"Colour: {coloring.title}." if coloring.parameter is not None else ""
    legend = (
        f"Each of the {len(ok)} evaluated points (status ok) is drawn once. Black-edged points: the Pareto front of "
        f"pareto.csv ({front} points); faint points: dominated feasible designs; grey crosses: designs violating a "
        f"constraint ({violating}; constraints: {constraints}, dashed where on an axis). The black step line is the "
        f"front of the two plotted objectives among feasible points. {colour}"
    )
    if Objective.ACCURACY in data.objectives:
        legend += (" Accuracy is the ImageNet top-1 that each variant's authors published for its FP32 weights; it is "
                   "not re-measured at the run's precision (an int8 run is drawn with its FP32 figure).")
    specs = []
    if len(data.objectives) >= 3:
        specs.append(FigureSpec("pareto_matrix", "Pareto front, all pairs of objectives",
                                legend + " Diagonal: distribution of each objective; ticks mark the front.",
                                lambda: pareto_matrix_figure(data, coloring), cost=len(data.objectives) ** 2))
    for x, y in pairs(data.objectives):
        specs.append(FigureSpec(f"pareto_{x.value}_{y.value}", f"Pareto front: {y.value} vs {x.value}", legend,
                                lambda x=x, y=y: pareto_pair_figure(data, x, y, coloring)))
    if x_parameters(data):
        specs.append(FigureSpec(
            "sensitivity", "Sensitivity of each objective to each swept parameter",
            f"Each marker is the {AGGREGATE} of the objective over all other swept parameters (status-ok points, "
            "constraints not applied); one line per model variant (for a model axis, per value of the other model axes).",
            lambda: sensitivity_figure(data), cost=len(data.objectives) * len(x_parameters(data)),
        ))
    if data.surrogate is not None:
        specs.append(FigureSpec("cost_model_parity", "Cost model: predicted vs simulated",
                                f"From {SURROGATE_NAME}. {parity_caption(data.surrogate)}.",
                                lambda: parity_figure(data.surrogate)))
    return specs


def summary_html(data: SweepData) -> str:
    """Counts, objectives, constraints, the hypervolume and the swept parameters."""
    manifest = data.manifest
    counts = data.table["status"].value_counts()
    ok = data.ok()
    feasible = int(ok["constraints_ok"].astype(bool).sum())
    reference = manifest.hypervolume_reference or {}
    spec = data.spec
    pairs_ = [
        ("points", f"{len(data.table)} ({', '.join(f'{s} {n}' for s, n in sorted(counts.items()))})"),
        ("feasible (ok and within constraints)", feasible),
        ("Pareto front", f"{len(data.front)} point(s)"),
        ("objectives", ", ".join(f"{o.value} ({o.direction.value}, {o.unit})" for o in data.objectives)),
        ("constraints", ", ".join(str(c) for c in data.constraints) or "none"),
        ("hypervolume", "–" if manifest.hypervolume is None else
         f"{manifest.hypervolume:.4g} (reference: {', '.join(f'{k} {v:.4g}' for k, v in reference.items())})"),
        ("strategy", f"{spec.strategy.value}, budget {spec.budget}"),
        ("models", len(spec.models)),
    ]
    pairs_ += [(f"swept: {p.name}", ", ".join(p.format(v) for v in sorted(data.table[p.name].dropna().unique())))
               for p in data.parameters if p.numeric]
    return html.definition_table(pairs_)


def front_html(data: SweepData) -> str:
    """The Pareto table: point id, swept parameters and objectives in display units."""
    axes = objective_axes(data)
    front = data.front.head(MAX_TABLE_ROWS)
    header = ["point_id", *(p.name for p in data.parameters), *(axes[o].label for o in data.objectives)]
    rows = []
    for _, row in front.iterrows():
        values = [p.format(row[p.name]) for p in data.parameters]
        objectives = [f"{float(o.values(row)) * axes[o].scale.factor:.4g}" for o in data.objectives]
        rows.append([row["point_id"], *values, *objectives])
    note = (f"First {MAX_TABLE_ROWS} of {len(data.front)} rows; all are in pareto.csv." if len(data.front) > MAX_TABLE_ROWS
            else f"{len(data.front)} rows, as in pareto.csv, sorted by {data.objectives[0].value}.")
    if len(data.front) == 0:
        return html.paragraph("No point is ok and within the constraints: the front is empty.")
    return html.paragraph(note) + f'<div class="scroll">{html.table(header, rows, text_columns=1 + len(data.parameters))}</div>'


def reproducibility(data: SweepData) -> list[tuple[str, object]]:
    """Tool version, spec hash, seed, host and command line, from manifest.json."""
    manifest = data.manifest
    versions = sorted(set(data.table["tool_version"].dropna().astype(str))) if "tool_version" in data.table else []
    chips = int(np.unique(data.table["spec_hash"].astype(str)).size) if "spec_hash" in data.table else 0
    return [
        ("tool version", manifest.tool_version),
        ("tool versions in the results", ", ".join(versions) or "–"),
        ("sweep spec hash", manifest.spec_hash),
        ("base chip spec hash", data.spec.base_hash),
        ("distinct chip spec hashes", chips),
        ("seed", manifest.seed),
        ("evaluator", manifest.evaluator),
        ("host", manifest.host),
        ("python", manifest.python),
        ("command line", manifest.command),
        ("started", manifest.started),
        ("resumed", ", ".join(manifest.resumed) or "never"),
        ("finished", manifest.finished or "not finished"),
        ("sweep file", data.spec.source),
    ]
