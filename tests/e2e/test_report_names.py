"""Names are text in every figure: a `$` in a chip, model or file name never reaches mathtext.

A chip named ``$\\frac{$`` (an even number of dollars: matplotlib parses what is between them
as TeX) crashed `simulate --report` and `report` after all the work was done.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from cli_runner import EXAMPLES, tessera

ROOT = Path(__file__).resolve().parents[2]
NAME = "chip $\\frac{$"
CONV = ROOT / "tests" / "e2e" / "bad_inputs" / "onnx" / "model.onnx.txt"  # a valid Conv-Relu model


def test_simulate_report_draws_a_chip_named_with_dollars(tmp_path: Path) -> None:
    chip = tmp_path / "chip.yaml"
    chip.write_text((EXAMPLES / "tiny.yaml").read_text().replace("name: tiny", f"name: {json.dumps(NAME)}"))
    report = tmp_path / "report"
    result = tessera("simulate", "--accel", str(chip), "--model", "gemm:m=8,k=8,n=8", "--report", str(report))
    assert result.returncode == 0, result.stderr
    assert (report / "roofline.png").stat().st_size > 0
    assert "chip $\\frac{$" in (report / "report.html").read_text()


def test_sweep_report_draws_models_whose_files_have_dollars_in_their_names(tmp_path: Path) -> None:
    for name in ("a$\\frac{$.onnx", "b$\\frac{$.onnx"):
        shutil.copy(CONV, tmp_path / name)
    sweep = tmp_path / "sweep.yaml"
    sweep.write_text(f"base: {EXAMPLES / 'tiny.yaml'}\nhardware:\n  matrix.rows: [2, 4]\n"
                     "models: ['a$\\frac{$.onnx', 'b$\\frac{$.onnx']\nobjectives: [latency, area, energy]\n")
    env = {**os.environ, "TESSERA_TEST_EVALUATOR": "fake"}
    out = tmp_path / "out"
    swept = subprocess.run([sys.executable, "-m", "tessera", "sweep", str(sweep), "--out", str(out), "--executor",
                            "serial", "--quiet"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert swept.returncode == 0, swept.stderr
    result = tessera("report", str(out), "--format", "png")
    assert result.returncode == 0, result.stderr
    assert (out / "report" / "pareto_matrix.png").stat().st_size > 0
