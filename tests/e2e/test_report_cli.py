"""`tessera report` as a user runs it: error exits, a 2,400-row sweep, and the page in headless Chromium.

The command is run in-process through `tessera.cli.main` with the report command added to
the registered commands, so these tests do not depend on `tessera.commands.COMMANDS`.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import matplotlib.image as mpimg
import numpy as np
import pytest

from explorer import execute_sweep
from explorer.fake_evaluator import FakeEvaluator
from tessera import cli
from tessera.commands import report as report_command

TINY = Path(__file__).resolve().parents[2] / "examples" / "accelerators" / "tiny.yaml"
SWEEP_2K = f"""\
base: {TINY}
hardware:
  matrix.rows: {{range: [2, 20], step: 2}}
  matrix.cols: =matrix.rows
  buffers.inputs.capacity: {{log_range: [1 KiB, 64 KiB], points: 10}}
  buffers.weights.capacity: [1 KiB, 2 KiB, 4 KiB, 8 KiB]
models:
  - gemm:m: [16, 64, 256]
    gemm:k: [16, 32]
    gemm:n: 16
objectives: [latency, energy, area]
constraints:
  - area_mm2 <= 1.6
strategy: grid
seed: 7
"""
ROWS = 10 * 10 * 4 * 6


@pytest.fixture(autouse=True)
def with_report_command(monkeypatch: pytest.MonkeyPatch) -> None:
    if report_command not in cli.COMMANDS:
        monkeypatch.setattr(cli, "COMMANDS", (*cli.COMMANDS, report_command))


@pytest.fixture(scope="module")
def sweep_2k(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("sweep2k")
    spec = folder / "sweep.yaml"
    spec.write_text(SWEEP_2K)
    execute_sweep(spec, folder / "out", executor="serial", evaluator=FakeEvaluator(infeasible_when={"matrix.rows": [20]}))
    return folder / "out"


def test_missing_folder_exits_2_naming_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "nowhere"
    assert cli.main(["report", str(missing)]) == 2
    assert str(missing) in capsys.readouterr().err


def test_folder_without_results_exits_2_naming_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "notes.txt").write_text("not a sweep")
    assert cli.main(["report", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert str(tmp_path) in err and "results.parquet" in err and "Traceback" not in err


def test_bad_format_and_bad_color_by_exit_2(sweep_2k: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        cli.main(["report", str(sweep_2k), "--format", "png,tiff"])
    assert exited.value.code == 2 and "'tiff'" in capsys.readouterr().err
    assert cli.main(["report", str(sweep_2k), "--color-by", "colour"]) == 2
    assert "matrix.rows" in capsys.readouterr().err


def test_report_of_a_2400_row_sweep_in_every_format(sweep_2k: Path, tmp_path: Path) -> None:
    out = tmp_path / "report"
    assert cli.main(["report", str(sweep_2k), "--out", str(out), "--color-by", "buffers.inputs.capacity"]) == 0
    stems = ["pareto_matrix", "pareto_latency_energy", "pareto_latency_area", "pareto_energy_area", "sensitivity"]
    for stem in stems:
        for ext in ("pdf", "svg", "png"):
            assert (out / f"{stem}.{ext}").stat().st_size > 1000
    page = (out / "report.html").read_text()
    assert all(f'id="{stem}"' in page for stem in stems)
    infeasible = ROWS // 10  # matrix.rows = 20, one of ten values
    assert f"{ROWS} (infeasible {infeasible}, ok {ROWS - infeasible})" in page


def _screenshot(chromium: str, page: Path, png: Path, profile: Path) -> np.ndarray:
    subprocess.run(
        [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", f"--user-data-dir={profile}",
         f"--screenshot={png}", "--window-size=1280,2000", page.as_uri()],
        check=True, capture_output=True, timeout=120,
    )
    return mpimg.imread(png)


def test_html_report_renders_its_figures_in_headless_chromium(sweep_2k: Path, tmp_path: Path) -> None:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        pytest.skip("chromium is not on PATH (apt-get install -y chromium); the screenshot test needs it")
    out = tmp_path / "report"
    assert cli.main(["report", str(sweep_2k), "--out", str(out), "--format", "png"]) == 0
    page = out / "report.html"
    without_figures = out / "no_figures.html"
    without_figures.write_text(re.sub(r'src="data:image/png;base64,[^"]*"', 'src=""', page.read_text()))
    shot = _screenshot(chromium, page, tmp_path / "report.png", tmp_path / "profile1")
    blank = _screenshot(chromium, without_figures, tmp_path / "blank.png", tmp_path / "profile2")
    assert shot.shape[:2] == (2000, 1280)
    # The figures (PNG data URIs) were decoded and painted: below the blue links of the contents
    # (the top 300 pixels), text and tables are black and grey, so colour comes from the figures.
    colour, blank_colour = _coloured_fraction(shot[300:]), _coloured_fraction(blank[300:])
    assert colour > 0.005 and colour > 10 * blank_colour, (colour, blank_colour)


def _coloured_fraction(pixels: np.ndarray) -> float:
    rgb = pixels[..., :3]
    return float(((rgb.max(axis=2) - rgb.min(axis=2)) > 0.15).mean())


MIXED = f"""\
base: {TINY}
hardware:
  matrix.rows: [4, 8]
models:
  - gemm:m=64,k=32,n=16
  - bert:seq: [16, 32]
    bert:layers: 1
    bert:hidden: 64
    bert:heads: 2
  - llama:phase: [prefill, decode]
    llama:layers: 1
    llama:hidden: 64
    llama:heads: 2
    llama:kv_heads: 2
    llama:seq: 16
    llama:vocab: 100
schedule:
  batch: [1, 4]
objectives: [latency, energy, area]
"""


def test_report_of_a_sweep_mixing_model_families(tmp_path: Path) -> None:
    """Model axes of one family are empty on the other families' rows; this once exited 1."""
    from reports.sensitivity import sensitivity_table
    from reports.sweep_data import load_sweep_folder

    (tmp_path / "sweep.yaml").write_text(MIXED)
    execute_sweep(tmp_path / "sweep.yaml", tmp_path / "out", executor="serial", evaluator=FakeEvaluator())
    assert cli.main(["report", str(tmp_path / "out"), "--format", "png"]) == 0
    report = tmp_path / "out" / "report"
    assert (report / "report.html").exists() and (report / "sensitivity.png").exists()
    data = load_sweep_folder(tmp_path / "out")
    parameters = {p.name: p for p in data.parameters}
    assert parameters["bert:seq"].integer and parameters["batch"].integer and not parameters["llama:phase"].numeric
    seq = sensitivity_table(data, parameters["bert:seq"])
    bert = data.ok()[data.ok()["model"].str.startswith("bert:")]
    assert seq["bert:seq"].tolist() == [16, 32] and set(seq["line"]) == {"all points"}
    assert seq["latency"].tolist() == bert.groupby("bert:seq")["latency_s"].median().tolist()
    phase = sensitivity_table(data, parameters["llama:phase"])
    assert sorted(phase["llama:phase"]) == ["decode", "prefill"]


def test_accuracy_is_labelled_as_the_published_fp32_figure(tmp_path: Path) -> None:
    from reports.coloring import make_coloring
    from reports.pareto_plots import pareto_matrix_figure
    from reports.sweep_data import load_sweep_folder

    sweep = tmp_path / "sweep.yaml"
    sweep.write_text(f"base: {TINY}\nhardware: {{matrix.rows: [2, 4]}}\nmodels:\n  - mobilenetv2:width: [0.5, 1.0]\n"
                     "    mobilenetv2:resolution: 96\nschedule: {precision: int8}\nobjectives: [latency, area, accuracy]\n")
    execute_sweep(sweep, tmp_path / "out", executor="serial", evaluator=FakeEvaluator())
    assert cli.main(["report", str(tmp_path / "out"), "--format", "png"]) == 0
    data = load_sweep_folder(tmp_path / "out")
    figure = pareto_matrix_figure(data, make_coloring(data, None))
    assert "published FP32 ImageNet top-1" in figure.get_suptitle()
    page = (tmp_path / "out" / "report" / "report.html").read_text()
    assert "published for its FP32 weights" in page and "int8 run is drawn with its FP32 figure" in page
