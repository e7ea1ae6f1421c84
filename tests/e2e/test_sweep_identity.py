"""A sweep's identity covers its input files; failed points can be retried; all-failed is not success."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import onnx
import pandas as pd
from onnx import TensorProto, helper

ROOT = Path(__file__).resolve().parents[2]
TINY = ROOT / "examples" / "accelerators" / "tiny.yaml"


def _sweep(tmp_path: Path, models: str = '["gemm:m=8,k=8,n=8"]') -> Path:
    path = tmp_path / "sweep.yaml"
    path.write_text(
        f"base: {TINY}\nhardware:\n  matrix.rows: [2, 4]\n  buffers.inputs.capacity: [1 KiB, 2 KiB]\n"
        f"models: {models}\nobjectives: [latency, area]\n"
    )
    return path


def _run(sweep: Path, out: Path, *extra: str, **fake: object) -> subprocess.CompletedProcess:
    env = {**os.environ, "TESSERA_TEST_EVALUATOR": "fake", "TESSERA_TEST_EVALUATOR_OPTIONS": json.dumps(fake)}
    argv = [sys.executable, "-m", "tessera", "sweep", str(sweep), "--out", str(out), "--executor", "serial", "--quiet", *extra]
    return subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


def _net(path: Path, op: str) -> None:
    node = helper.make_node(op, ["x"], ["y"], name="only")
    graph = helper.make_graph(
        [node], "net", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 8])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 8])],
    )
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), path)


def test_a_model_file_replaced_before_the_resume_is_refused_unless_force_new(tmp_path: Path) -> None:
    _net(tmp_path / "net.onnx", "Relu")
    sweep, out = _sweep(tmp_path, '["net.onnx"]'), tmp_path / "out"
    assert _run(sweep, out).returncode == 0
    _net(tmp_path / "net.onnx", "Sigmoid")  # another network under the same file name
    refused = _run(sweep, out)
    assert refused.returncode == 2 and "Traceback" not in refused.stderr
    assert f"{out}: --out: holds a different sweep (model file net.onnx changed" in refused.stderr
    assert "--force-new" in refused.stderr
    assert _run(sweep, out, "--force-new").returncode == 0


def test_failed_points_are_kept_with_a_note_and_retried_on_request(tmp_path: Path) -> None:
    sweep, out = _sweep(tmp_path), tmp_path / "out"
    first = _run(sweep, out, error_when={"matrix.rows": 2})
    assert first.returncode == 0, first.stderr
    assert (pd.read_parquet(out / "results.parquet")["status"] == "error").sum() == 2
    kept = _run(sweep, out)
    assert kept.returncode == 0 and "keeping the 2 failed points" in kept.stderr and "--retry-errors" in kept.stderr
    assert (pd.read_parquet(out / "results.parquet")["status"] == "error").sum() == 2
    retried = _run(sweep, out, "--retry-errors")
    assert retried.returncode == 0 and "retrying the 2 points that failed" in retried.stderr
    table = pd.read_parquet(out / "results.parquet")
    assert len(table) == 4 and table["point_id"].is_unique and (table["status"] == "ok").all()
    journal = (out / "journal.jsonl").read_text().splitlines()
    assert len(journal) == 6  # 4 first rows, then the 2 retried points appended


def test_a_sweep_whose_every_point_fails_exits_1_with_the_reason(tmp_path: Path) -> None:
    sweep, out = _sweep(tmp_path), tmp_path / "out"
    failed = _run(sweep, out, error_when={"model": "gemm:batch=1,k=8,m=8,n=8"})
    assert failed.returncode == 1 and "Traceback" not in failed.stderr
    assert "every one of the 4 points failed" in failed.stderr and "told to fail" in failed.stderr
    assert json.loads((out / "manifest.json").read_text())["status_counts"] == {"error": 4}
