"""`tessera sweep` as a user runs it: SIGKILL and resume, refusals, bad sweep files, a real sweep."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[2]
TINY = ROOT / "examples" / "accelerators" / "tiny.yaml"
GRID = """\
hardware:
  matrix.rows: [2, 4, 8]
  buffers.inputs.capacity: {log_range: [1 KiB, 16 KiB], points: 5}
  buffers.weights.capacity: [1 KiB, 2 KiB, 4 KiB, 8 KiB]
models: ["gemm:m=16,k=16,n=16"]
objectives: [latency, area]
seed: 4
"""
NSGA2 = GRID + "strategy: nsga2\nbudget: 40\npopulation: 8\n"
SURROGATE = GRID + "strategy: surrogate\nbudget: 40\npopulation: 8\n"


def tessera(*args: str, env: dict[str, str] | None = None, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tessera", *args], capture_output=True, text=True, env=env, cwd=ROOT, **kwargs)


def fake_env(**options) -> dict[str, str]:
    return {**os.environ, "TESSERA_TEST_EVALUATOR": "fake", "TESSERA_TEST_EVALUATOR_OPTIONS": json.dumps(options)}


def write(tmp_path: Path, body: str, name: str = "sweep.yaml") -> Path:
    path = tmp_path / name
    path.write_text(f"base: {TINY}\n" + body)
    return path


def journal_lines(out: Path) -> int:
    journal = out / "journal.jsonl"
    return journal.read_bytes().count(b"\n") if journal.exists() else 0


def kill_after_some_rows(sweep: Path, out: Path, rows: int) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "tessera", "sweep", str(sweep), "--out", str(out), "--workers", "2", "--quiet"],
        env=fake_env(delay_s=0.02), cwd=ROOT, start_new_session=True,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while journal_lines(out) < rows and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    os.killpg(process.pid, signal.SIGKILL)  # the sweep and its worker processes, mid-flight
    process.wait()


@pytest.mark.parametrize("body", [GRID, NSGA2, SURROGATE], ids=["grid", "nsga2", "surrogate"])
def test_sigkilled_sweep_resumes_to_the_uninterrupted_table(tmp_path: Path, body: str) -> None:
    sweep = write(tmp_path, body)
    killed, clean = tmp_path / "killed", tmp_path / "clean"
    kill_after_some_rows(sweep, killed, rows=12)
    done_before = journal_lines(killed)
    assert 0 < done_before < 60 and (killed / ".lock").exists()
    resumed = tessera("sweep", str(sweep), "--out", str(killed), "--workers", "2", "--quiet", env=fake_env())
    assert resumed.returncode == 0, resumed.stderr
    uninterrupted = tessera("sweep", str(sweep), "--out", str(clean), "--quiet", "--executor", "serial", env=fake_env())
    assert uninterrupted.returncode == 0, uninterrupted.stderr
    after, expected = pd.read_parquet(killed / "results.parquet"), pd.read_parquet(clean / "results.parquet")
    assert after["point_id"].is_unique and len(after) == len(expected) == (60 if body is GRID else 40)
    pd.testing.assert_frame_equal(
        after.sort_values("point_id").reset_index(drop=True), expected.sort_values("point_id").reset_index(drop=True)
    )
    ids = [json.loads(line)["point_id"] for line in (killed / "journal.jsonl").read_text().splitlines()]
    assert len(ids) == len(set(ids)) == len(expected)
    manifest = json.loads((killed / "manifest.json").read_text())
    assert len(manifest["resumed"]) == 1 and manifest["finished"]


def test_changed_spec_and_live_lock_are_refused(tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert tessera("sweep", str(write(tmp_path, GRID)), "--out", str(out), "--quiet", "--executor", "serial", env=fake_env()).returncode == 0
    changed = write(tmp_path, GRID.replace("seed: 4", "seed: 5"), "changed.yaml")
    refused = tessera("sweep", str(changed), "--out", str(out), "--quiet", env=fake_env())
    assert refused.returncode == 2 and "different sweep (the sweep file changed)" in refused.stderr and "Traceback" not in refused.stderr
    (out / ".lock").write_text(json.dumps({"host": os.uname().nodename, "pid": os.getpid()}))  # a live owner
    locked = tessera("sweep", str(write(tmp_path, GRID)), "--out", str(out), "--quiet", env=fake_env())
    assert locked.returncode == 2 and "another sweep" in locked.stderr and "Traceback" not in locked.stderr
    (out / ".lock").unlink()
    forced = tessera("sweep", str(changed), "--out", str(out), "--quiet", "--force-new", "--executor", "serial", env=fake_env())
    assert forced.returncode == 0, forced.stderr
    assert (pd.read_parquet(out / "results.parquet")["seed"] == 5).all()


BASE = 'hardware:\n  matrix.rows: [2, 4]\nmodels: ["gemm:m=8,k=8,n=8"]\nobjectives: [latency]\n'


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        (BASE.replace("matrix.rows", "matrix.rowz"), "hardware.matrix.rowz", "unknown key 'rowz'"),
        (BASE.replace("[2, 4]", "[]"), "hardware.matrix.rows", "empty axis"),
        (BASE.replace("matrix.rows: [2, 4]", "clock: [100 KiB]"), "hardware.clock[0]", "frequency"),
        (BASE.replace("[latency]", "[latency, speed]"), "objectives[1]", "speed"),
        (BASE.replace("gemm:m=8,k=8,n=8", "nosuchnet"), "models[0]", "unknown model 'nosuchnet'"),
        (BASE + "strategy: annealing\n", "strategy", "annealing"),
        (BASE + "constraints: ['area_mm2 <=']\n", "constraints[0]", "expected `metric <= number`"),
        (BASE.replace("[latency]", "[latency, accuracy]"), "objectives", "no published top-1 accuracy"),
    ],
    ids=[
        "unknown-path", "empty-axis", "wrong-unit", "unknown-objective", "unknown-model", "unknown-strategy",
        "bad-constraint", "accuracy-unknown",
    ],
)
def test_bad_sweep_files_exit_2_naming_the_field(tmp_path: Path, body: str, field: str, message: str) -> None:
    result = tessera("sweep", str(write(tmp_path, body)), "--out", str(tmp_path / "out"))
    assert result.returncode == 2
    assert field in result.stderr and message in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "out").exists()  # nothing ran


def test_a_model_the_check_refuses_exits_2_from_the_workers_check(tmp_path: Path) -> None:
    """A local sweep checks its models in its workers (`LocalExecutor.check`): a model file
    that is not ONNX is refused there, and the error reaches the command intact: exit 2, the
    model named, no traceback, no folder."""
    (tmp_path / "broken.onnx").write_bytes(b"not an onnx file")
    sweep = write(tmp_path, BASE.replace("gemm:m=8,k=8,n=8", "broken.onnx"))
    result = tessera("sweep", str(sweep), "--out", str(tmp_path / "out"), "--workers", "2")
    assert result.returncode == 2, result.stderr
    assert "models: broken.onnx" in result.stderr and "cannot be parsed as an ONNX model" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "out").exists()

def test_real_tiny_sweep_through_the_cli(tmp_path: Path) -> None:
    body = (
        "hardware:\n  matrix.rows: [2, 4]\n  matrix.cols: =matrix.rows\n  buffers.inputs.capacity: [1 KiB, 4 KiB]\n"
        'models: ["gemm:m=64,k=64,n=64"]\nobjectives: [latency, energy, area]\n'
    )
    out = tmp_path / "out"
    result = tessera("sweep", str(write(tmp_path, body)), "--out", str(out), "--workers", "2")
    assert result.returncode == 0, result.stderr
    assert "Pareto front" in result.stdout and str(out / "pareto.csv") in result.stdout.replace("\n", "")
    table = pd.read_parquet(out / "results.parquet")
    assert len(table) == 4 and (table["status"] == "ok").all()
    assert table["spec_hash"].nunique() == 4 and (table["macs"] == 64**3).all()
    # a bigger array costs more area
    by_rows = table.groupby("matrix.rows")["area_mm2"].mean()
    assert by_rows[4] > by_rows[2]
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["evaluator"] == "simulator" and manifest["points"] == 4


def test_the_dataflow_is_a_sweep_axis(tmp_path: Path) -> None:
    """Each value a list of dataflows (or one name); each row costs what that chip costs alone."""
    from tessera.api import simulate

    body = (
        "hardware:\n  matrix.dataflows: [[weight-stationary], os, [ws, os]]\n"
        'models: ["gemm:m=64,k=32,n=16"]\nobjectives: [latency, energy]\n'
    )
    out = tmp_path / "out"
    result = tessera("sweep", str(write(tmp_path, body)), "--out", str(out), "--executor", "serial")
    assert result.returncode == 0, result.stderr
    table = pd.read_parquet(out / "results.parquet").set_index("matrix.dataflows")
    assert (table["status"] == "ok").all()
    chips = {'["weight-stationary"]': "[ws]", '["output-stationary"]': "[os]", '["weight-stationary", "output-stationary"]': "[ws, os]"}
    assert set(table.index) == set(chips)
    base = TINY.read_text()
    for index, (column, written) in enumerate(chips.items()):
        chip = tmp_path / f"chip{index}.yaml"
        chip.write_text(base.replace("dataflows: [output-stationary, weight-stationary]", f"dataflows: {written}"))
        alone = simulate(chip, "gemm:m=64,k=32,n=16")
        assert table.loc[column, "total_cycles"] == alone.result.total_cycles, column


def test_timing_weights_and_objective_are_sweep_axes(tmp_path: Path) -> None:
    """Each schedule option is a results column, and each row costs what `simulate` gives with
    the same options: the options reach the compiler, not just the table."""
    from tessera.api import simulate

    chip = tmp_path / "chip.yaml"
    chip.write_text(TINY.read_text().replace("  rows: 4\n", "  rows: 4\n  stationary_double_buffer: true\n"))
    model = "mlp:layers=2,in=16,hidden=16,out=16,batch=16"
    body = (
        f"base: {chip}\nmodels: ['{model}']\nobjectives: [latency, energy]\n"
        "schedule: {timing: [tessera, scalesim], weights: [streamed, resident], objective: [latency, energy]}\n"
    )
    sweep = tmp_path / "sweep.yaml"
    sweep.write_text(body)
    out = tmp_path / "out"
    result = tessera("sweep", str(sweep), "--out", str(out), "--executor", "serial", "--quiet")
    assert result.returncode == 0, result.stderr
    table = pd.read_parquet(out / "results.parquet")
    assert len(table) == 8 and (table["status"] == "ok").all()
    for row in table.itertuples():
        alone = simulate(chip, model, timing=row.timing, weights=row.weights, objective=row.objective)
        assert (row.total_cycles, row.energy_j) == (alone.summary()["total_cycles"], alone.summary()["energy_j"]), row
    # every option changes some figure on this chip, so a dropped option would show
    for column in ("timing", "weights", "objective"):
        assert table.groupby(column)[["total_cycles", "energy_j", "dram_read_bytes"]].sum().nunique().max() == 2, column


def test_a_precision_axis_with_per_operand_formats(tmp_path: Path) -> None:
    """int4 weights halve the weight bytes a GEMM reads (the tiny chip re-reads them per tile)
    while its 32·64 input bytes, read once, stay; fp32 on an array that lists int8 only is an
    infeasible row naming `matrix.precisions`."""
    chip = tmp_path / "int8_only.yaml"
    chip.write_text(TINY.read_text().replace("input_precision: int8", "input_precision: int8\n  precisions: [int8]"))
    body = ('models: ["gemm:m=32,k=64,n=64"]\nobjectives: [latency, energy]\n'
            "schedule: {precision: [int8, w4a8kv8, fp32]}\n")
    sweep = tmp_path / "sweep.yaml"
    sweep.write_text(f"base: {chip}\n{body}")
    result = tessera("sweep", str(sweep), "--out", str(tmp_path / "out"), "--workers", "1", "--quiet")
    assert result.returncode == 0, result.stderr
    rows = pd.read_parquet(tmp_path / "out" / "results.parquet").set_index("precision")
    assert rows.loc["int8", "status"] == rows.loc["w4a8kv8", "status"] == "ok"
    inputs = 32 * 64
    assert rows.loc["int8", "dram_read_bytes"] - inputs == 2 * (rows.loc["w4a8kv8", "dram_read_bytes"] - inputs)
    assert rows.loc["fp32", "status"] == "infeasible" and "matrix.precisions" in rows.loc["fp32", "reason"]
