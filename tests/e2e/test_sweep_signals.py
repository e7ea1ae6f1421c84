"""A sweep's processes end with it: SIGKILL, SIGTERM, Ctrl-C and Ctrl-C twice, through the real CLI
(and Ctrl-C to a sweep on a local Dask cluster).

Each test starts `tessera sweep --workers 2` in its own session, waits until the workers have
journaled a few points, signals it, and then checks that no process of the sweep (fork
server, workers, resource tracker) is left a few seconds later, and that the folder resumes
to the complete table.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import psutil
import pytest

ROOT = Path(__file__).resolve().parents[2]
TINY = ROOT / "examples" / "accelerators" / "tiny.yaml"
POINTS = 3 * 10 * 4
SWEEP = f"""\
base: {TINY}
hardware:
  matrix.rows: [2, 4, 8]
  buffers.inputs.capacity: {{log_range: [1 KiB, 16 KiB], points: 10}}
  buffers.weights.capacity: [1 KiB, 2 KiB, 4 KiB, 8 KiB]
models: ["gemm:m=16,k=16,n=16"]
objectives: [latency, area]
"""
GONE_WITHIN_S = 5.0


def _env(delay_s: float) -> dict[str, str]:
    return {**os.environ, "TESSERA_TEST_EVALUATOR": "fake", "TESSERA_TEST_EVALUATOR_OPTIONS": json.dumps({"delay_s": delay_s})}


def _journaled(out: Path) -> int:
    journal = out / "journal.jsonl"
    return journal.read_bytes().count(b"\n") if journal.exists() else 0


def _start(tmp_path: Path, executor: str = "local") -> tuple[subprocess.Popen, Path, Path, list[psutil.Process]]:
    """A running sweep with its two workers busy, and every process it started."""
    sweep, out = tmp_path / "sweep.yaml", tmp_path / "out"
    sweep.write_text(SWEEP)
    process = subprocess.Popen(
        [sys.executable, "-m", "tessera", "sweep", str(sweep), "--out", str(out), "--workers", "2", "--quiet",
         "--executor", executor],
        cwd=ROOT, env=_env(0.05), start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )
    deadline = time.monotonic() + 120
    while _journaled(out) < 4 and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    assert process.poll() is None, process.communicate()[1]
    children = psutil.Process(process.pid).children(recursive=True)
    if executor == "local":
        workers = [c for c in children if "forkserver" in " ".join(c.cmdline())]
        assert len(workers) >= 3, [c.cmdline() for c in children]  # the fork server and two workers
    else:
        assert len(children) >= 2, [c.cmdline() for c in children]  # Dask's nannies and their workers
    return process, sweep, out, children


def _assert_all_gone(children: list[psutil.Process]) -> None:
    _, alive = psutil.wait_procs(children, timeout=GONE_WITHIN_S)
    left = [(p.pid, p.name()) for p in alive if _running(p)]
    for leftover in alive:  # never leave them behind, even when the test fails
        leftover.kill()
    assert not left, left


def _running(process: psutil.Process) -> bool:
    try:
        return process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _assert_resumes_to_every_point(sweep: Path, out: Path) -> None:
    resumed = subprocess.run(
        [sys.executable, "-m", "tessera", "sweep", str(sweep), "--out", str(out), "--workers", "2", "--quiet"],
        cwd=ROOT, env=_env(0.0), capture_output=True, text=True, timeout=300,
    )
    assert resumed.returncode == 0, resumed.stderr
    table = pd.read_parquet(out / "results.parquet")
    assert len(table) == POINTS and table["point_id"].is_unique


def test_sigkill_of_the_main_process_takes_the_fork_server_and_workers_with_it(tmp_path: Path) -> None:
    process, sweep, out, children = _start(tmp_path)
    process.kill()  # the main process alone: its children get no signal from us
    process.wait()
    _assert_all_gone(children)
    _assert_resumes_to_every_point(sweep, out)


@pytest.mark.parametrize(("signum", "group"), [(signal.SIGTERM, False), (signal.SIGTERM, True), (signal.SIGINT, True)],
                         ids=["sigterm", "sigterm-to-the-group", "ctrl-c"])
def test_a_stop_signal_stops_the_pool_and_says_how_to_resume(tmp_path: Path, signum: int, group: bool) -> None:
    process, sweep, out, children = _start(tmp_path)
    (os.killpg if group else os.kill)(process.pid, signum)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 128 + signum, stderr
    assert f"interrupted by {signal.Signals(signum).name}" in stderr and "rerun the same command to resume" in stderr
    assert "Traceback" not in stderr, stderr
    _assert_all_gone(children)
    assert not (out / ".lock").exists()
    _assert_resumes_to_every_point(sweep, out)


def test_ctrl_c_twice_stops_at_once_without_a_traceback(tmp_path: Path) -> None:
    process, sweep, out, children = _start(tmp_path)
    os.killpg(process.pid, signal.SIGINT)
    time.sleep(0.05)
    os.killpg(process.pid, signal.SIGINT)
    _, stderr = process.communicate(timeout=30)
    assert process.returncode in (130, -signal.SIGINT), stderr
    assert "Traceback" not in stderr, stderr
    _assert_all_gone(children)
    _assert_resumes_to_every_point(sweep, out)


@pytest.mark.parametrize("after_s", [0.2, 1.0, 2.0])
def test_ctrl_c_while_the_sweep_starts_up_prints_no_traceback(tmp_path: Path, after_s: float) -> None:
    """Whatever it lands on (imports, the sweep file, the fork server's own imports), one line."""
    sweep, out = tmp_path / "sweep.yaml", tmp_path / "out"
    sweep.write_text(SWEEP)
    process = subprocess.Popen(
        [sys.executable, "-m", "tessera", "sweep", str(sweep), "--out", str(out), "--workers", "2", "--quiet"],
        cwd=ROOT, env=_env(0.05), start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )
    time.sleep(after_s)
    children = psutil.Process(process.pid).children(recursive=True) if process.poll() is None else []
    os.killpg(process.pid, signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode in (130, -signal.SIGINT), stderr  # as a shell reports Ctrl-C, either way
    assert "Traceback" not in stderr and stderr.startswith("tessera: interrupted"), stderr
    _assert_all_gone(children)


def test_ctrl_c_stops_a_dask_sweep_and_its_local_cluster(tmp_path: Path) -> None:
    process, sweep, out, children = _start(tmp_path, executor="dask")
    os.killpg(process.pid, signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr
    assert "interrupted by SIGINT" in stderr and "rerun the same command to resume" in stderr
    assert "Traceback" not in stderr, stderr
    _assert_all_gone(children)
    assert not (out / ".lock").exists()
    _assert_resumes_to_every_point(sweep, out)
