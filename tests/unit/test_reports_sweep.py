"""Sweep figures and the sweep HTML report, checked through matplotlib's objects and the files written.

The sweep folders are real: `explorer.execute_sweep` with the closed-form `FakeEvaluator`
(serial, in-process), so results.parquet, pareto.csv and manifest.json are exactly what
`tessera sweep` writes.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import matplotlib.image as mpimg
import numpy as np
import pandas as pd
import pytest

from explorer import execute_sweep
from explorer.fake_evaluator import FakeEvaluator
from explorer.objectives import Objective
from explorer.labels import short_labels
from reports.coloring import make_coloring
from reports.html import document
from explorer.model_quality import quality
from reports.pareto_plots import DOMINATED, FRONT, FRONT_LINE, VIOLATING, objective_axes, pareto_matrix_figure, pareto_pair_figure
from reports.sensitivity import sensitivity_figure, x_parameters
from reports.style import Format, parse_formats, render
from reports.sweep_data import SURROGATE_NAME, load_sweep_folder
from reports.sweep_report import sweep_report
from reports.units import format_si, si_scale
from tessera.errors import InputError

TINY = Path(__file__).resolve().parents[2] / "examples" / "accelerators" / "tiny.yaml"
SWEEP = f"""\
base: {TINY}
hardware:
  matrix.rows: [2, 4, 8, 16]
  buffers.inputs.capacity: {{log_range: [1 KiB, 16 KiB], points: 5}}
  buffers.weights.capacity: [1 KiB, 4 KiB]
models:
  - gemm:m: [16, 64]
    gemm:k: 16
    gemm:n: 16
objectives: [latency, energy, area]
constraints:
  - area_mm2 <= 1.3
strategy: grid
seed: 3
"""


def make_sweep(folder: Path, body: str = SWEEP, **fake) -> Path:
    """Run a fake-evaluated sweep into `folder / 'sweep'` and return that folder."""
    spec = folder / "sweep.yaml"
    spec.write_text(body)
    out = folder / "sweep"
    execute_sweep(spec, out, executor="serial", evaluator=FakeEvaluator(**fake))
    return out


@pytest.fixture(scope="module")
def sweep_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_sweep(tmp_path_factory.mktemp("reports"), infeasible_when={"matrix.rows": [16]})


@pytest.fixture(scope="module")
def data(sweep_dir: Path):
    return load_sweep_folder(sweep_dir)


def collection(ax, label: str):
    (found,) = [c for c in ax.collections if c.get_label() == label]
    return found


def test_the_fixture_exercises_every_kind_of_point(data) -> None:
    ok = data.ok()
    assert len(data.table) == 80 and len(ok) == 60  # matrix.rows = 16 is infeasible: 20 rows
    assert 0 < (~ok["constraints_ok"]).sum() < len(ok)
    assert 1 < len(data.front) < len(ok)


def test_pair_figure_draws_every_ok_row_once_and_highlights_exactly_pareto_csv(data) -> None:
    x, y = Objective.LATENCY, Objective.AREA
    figure = pareto_pair_figure(data, x, y, make_coloring(data, "model"))
    ax = figure.axes[0]
    counts = {label: len(collection(ax, label).get_offsets()) for label in (DOMINATED, VIOLATING, FRONT)}
    assert sum(counts.values()) == len(data.ok())
    assert counts[VIOLATING] == int((~data.ok()["constraints_ok"]).sum())
    axes = objective_axes(data)
    front = pd.read_csv(data.folder / "pareto.csv")
    expected = np.column_stack([front["latency_s"] * axes[x].scale.factor, front["area_mm2"] * axes[y].scale.factor])
    drawn = np.asarray(collection(ax, FRONT).get_offsets())
    np.testing.assert_allclose(np.sort(drawn, axis=0), np.sort(expected, axis=0))


def test_pair_axes_carry_units_and_the_constraint_is_drawn_at_its_bound(data) -> None:
    figure = pareto_pair_figure(data, Objective.LATENCY, Objective.AREA, make_coloring(data, None))
    ax = figure.axes[0]
    axes = objective_axes(data)
    assert ax.get_xlabel().endswith(f"[{axes[Objective.LATENCY].scale.unit}]") and "s]" in ax.get_xlabel()
    assert ax.get_ylabel().endswith("[mm²]")
    horizontal = [line for line in ax.lines if len(set(line.get_ydata())) == 1 and line.get_label() != FRONT_LINE]
    assert [line.get_ydata()[0] for line in horizontal] == [pytest.approx(1.3)]


def test_front_line_is_the_two_objective_front_of_feasible_points(data) -> None:
    figure = pareto_pair_figure(data, Objective.LATENCY, Objective.ENERGY, make_coloring(data, None))
    ax = figure.axes[0]
    (line,) = [line for line in ax.lines if line.get_label() == FRONT_LINE]
    xs, ys = np.asarray(line.get_xdata()), np.asarray(line.get_ydata())
    assert np.all(np.diff(xs) >= 0) and np.all(np.diff(ys) <= 0)  # both minimised: a descending staircase
    feasible = data.ok()[data.ok()["constraints_ok"]]
    axes = objective_axes(data)
    lat = feasible["latency_s"].to_numpy() * axes[Objective.LATENCY].scale.factor
    energy = feasible["energy_j"].to_numpy() * axes[Objective.ENERGY].scale.factor
    for a, b in zip(xs, ys):  # no feasible point dominates a point of the line
        assert not np.any((lat <= a) & (energy <= b) & ((lat < a) | (energy < b)))


def test_matrix_has_every_pair_below_the_diagonal(data) -> None:
    figure = pareto_matrix_figure(data, make_coloring(data, "buffers.inputs.capacity"))
    grid = np.array(figure.axes[:9]).reshape(3, 3)
    for row in range(3):
        for col in range(3):
            ax = grid[row, col]
            if col > row:
                assert not ax.axison
            elif col < row:
                assert sum(len(collection(ax, k).get_offsets()) for k in (DOMINATED, VIOLATING, FRONT)) == len(data.ok())
                assert len(collection(ax, FRONT).get_offsets()) == len(data.front)


def test_numeric_coloring_with_many_values_uses_a_colorbar(tmp_path: Path) -> None:
    body = SWEEP.replace("[2, 4, 8, 16]", "{range: [2, 22], step: 2}")
    data = load_sweep_folder(make_sweep(tmp_path, body))
    coloring = make_coloring(data, "matrix.rows")
    assert coloring.norm is not None and not coloring.categories
    figure = pareto_pair_figure(data, Objective.LATENCY, Objective.AREA, coloring)
    assert len(figure.axes) == 2 and figure.axes[1].get_ylabel() == "matrix.rows [count]"


def test_categorical_coloring_gives_each_value_its_own_colour(data) -> None:
    coloring = make_coloring(data, "buffers.weights.capacity")
    assert coloring.labels == ("1 KiB", "4 KiB")
    colors = coloring.colors(data.ok())
    assert len(np.unique(colors, axis=0)) == 2


def test_unknown_color_by_lists_the_swept_parameters(data) -> None:
    with pytest.raises(InputError, match="matrix.rows.*gemm:m"):
        make_coloring(data, "nonsense")


def test_short_labels_keep_only_what_differs() -> None:
    assert short_labels(["net:a=1,b=2", "net:a=1,b=3"]) == ["b=2", "b=3"]
    assert short_labels(["x", "y"]) == ["x", "y"]
    mixed = ["bert:layers=2,seq=64", "bert:layers=2,seq=128", "llama:phase=decode,seq=512", "resnet:depth=18"]
    assert short_labels(mixed) == ["bert:seq=64", "bert:seq=128", "llama", "resnet"]


def test_sensitivity_markers_are_medians_over_the_other_parameters(data) -> None:
    figure = sensitivity_figure(data)
    names = [p.name for p in x_parameters(data)]
    assert names == ["matrix.rows", "buffers.inputs.capacity", "buffers.weights.capacity", "gemm:m"]
    ax = figure.axes[0]  # latency vs matrix.rows: one line per model
    assert len(ax.lines) == 2
    axes = objective_axes(data)
    ok = data.ok()
    for line in ax.lines:
        m = int(re.search(r"m=(\d+)", line.get_label()).group(1))
        for rows, value in zip(line.get_xdata(), line.get_ydata()):
            chosen = ok[(ok["matrix.rows"] == rows) & (ok["gemm:m"] == m)]["latency_s"]
            assert value == pytest.approx(float(np.median(chosen)) * axes[Objective.LATENCY].scale.factor)
    labels = [a.get_xlabel() for a in figure.axes if a.get_xlabel()]
    assert labels and all("[" in label and "]" in label for label in labels)


@pytest.mark.parametrize(
    ("value", "unit", "text"),
    [(2.348e5 * 1e-6, "J", "234.8 mJ"), (6.602e-4, "s", "660.2 µs"), (0.8927, "W", "892.7 mW"), (1.5, "s", "1.5 s"),
     (3.2e-9, "J·s", "3.2 nJ·s"), (5.6, "mm²", "5.6 mm²"), (0.0, "J", "0 J")],
)
def test_format_si_puts_the_mantissa_in_1_to_1000(value: float, unit: str, text: str) -> None:
    assert format_si(value, unit) == text


def test_si_scale_and_formats() -> None:
    assert si_scale(np.array([0.0016, 0.002]), "s").unit == "ms"
    assert si_scale(np.array([0.0016]), "s").factor == pytest.approx(1e3)
    assert si_scale(np.array([3e-7]), "J").unit == "nJ"
    assert si_scale(np.array([5.0]), "mm²").factor == 1.0
    assert parse_formats("svg, PDF,svg") == (Format.SVG, Format.PDF)
    with pytest.raises(ValueError, match="'gif'"):
        parse_formats("png,gif")


def test_vector_outputs_are_byte_identical_across_renderings_and_png_is_not_blank(data) -> None:
    def build():
        return pareto_pair_figure(data, Objective.LATENCY, Objective.ENERGY, make_coloring(data, "model"))

    for fmt in (Format.SVG, Format.PDF):
        assert render(build(), fmt) == render(build(), fmt)
    assert b"CreationDate" not in render(build(), Format.PDF)
    pixels = mpimg.imread(io.BytesIO(render(build(), Format.PNG)))
    assert pixels.std() > 0.05


def test_error_metrics_by_hand() -> None:
    metrics = quality(np.array([1.0, 2.0, 3.0]), np.array([1.0, 2.0, 4.0]))
    assert metrics.mape == pytest.approx(0.25 / 3)
    assert metrics.spearman == pytest.approx(1.0)
    assert metrics.r2 == pytest.approx(1 - 1 / (42 / 9))


def test_report_writes_every_format_and_a_self_contained_page(data, tmp_path: Path) -> None:
    report = sweep_report(data.folder, tmp_path / "out", (Format.SVG, Format.PNG))
    assert report.figures == ("pareto_matrix", "pareto_latency_energy", "pareto_latency_area", "pareto_energy_area",
                              "sensitivity")
    assert sorted(p.name for p in report.files) == sorted(f"{s}.{e}" for s in report.figures for e in ("svg", "png"))
    page = report.html.read_text()
    assert "http://" not in page and "https://" not in page and "<script" not in page
    assert re.findall(r'src="([^"]*)"', page) and all(s.startswith("data:image/png;base64,") for s in re.findall(r'src="([^"]*)"', page))
    for stem in report.figures:
        assert f'id="{stem}"' in page and f'href="#{stem}"' in page
    manifest = data.manifest
    for value in (manifest.spec_hash, manifest.tool_version, manifest.host, manifest.command, f"<td class=\"text\">{manifest.seed}</td>"):
        assert value in page
    for point in data.front["point_id"]:
        assert point in page


def test_parity_figure_appears_only_with_a_surrogate_file(sweep_dir: Path, tmp_path: Path) -> None:
    folder = tmp_path / "with_surrogate"
    folder.mkdir()
    for name in ("results.parquet", "pareto.csv", "manifest.json"):
        source = sweep_dir / name
        target = folder / name
        if source.is_dir():
            target.mkdir()
            for part in source.iterdir():
                (target / part.name).write_bytes(part.read_bytes())
        else:
            target.write_bytes(source.read_bytes())
    simulated = np.geomspace(1e-3, 1e-2, 20)
    pd.DataFrame({
        "objective": ["latency"] * 20, "predicted": simulated * 1.1, "simulated": simulated,
        "split": ["train"] * 15 + ["test"] * 5,
    }).to_parquet(folder / SURROGATE_NAME)
    report = sweep_report(folder, tmp_path / "out", (Format.PNG,))
    assert report.figures[-1] == "cost_model_parity"
    assert "MAPE 10.0%" in report.html.read_text()
    pd.DataFrame({"objective": ["latency"], "predicted": [1.0]}).to_parquet(folder / SURROGATE_NAME)
    with pytest.raises(InputError, match="simulated, split"):
        load_sweep_folder(folder)


@pytest.mark.parametrize("make", [lambda p: p / "absent", lambda p: p], ids=["missing", "no-results"])
def test_unreadable_folders_raise_input_error_naming_the_path(tmp_path: Path, make) -> None:
    path = make(tmp_path)
    with pytest.raises(InputError) as raised:
        load_sweep_folder(path)
    assert raised.value.source == str(path)


def test_html_document_escapes_text() -> None:
    page = document("<b>", [("s", "<p>ok</p>")], [], [], [("command", "tessera --model 'a<b'")])
    assert "&lt;b&gt;" in page and "a&lt;b" in page and "<p>ok</p>" in page


def test_figures_rendered_on_worker_processes_are_the_serial_bytes(data, monkeypatch: pytest.MonkeyPatch) -> None:
    from reports import rendering
    from reports.coloring import default_color_by
    from reports.sweep_report import figure_specs

    specs = figure_specs(data, make_coloring(data, default_color_by(data)))[:3]
    formats = (Format.PNG, Format.SVG)
    parallel = rendering.render_all(specs, formats)
    monkeypatch.setattr(rendering.os, "cpu_count", lambda: 1)
    assert rendering.render_all(specs, formats) == parallel
