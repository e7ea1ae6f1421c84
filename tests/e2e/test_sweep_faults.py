"""Sweeps under faults: repeated SIGKILLs, a killed Dask worker, a full or read-only disk, a rival sweep.

Every test compares against the uninterrupted table (sorted by point_id; rows hold no
timestamps) and checks the journal: each point recorded exactly once, nothing lost. The
fake evaluator (closed-form metrics, `explorer.fake_evaluator`) keeps each sweep to seconds.
"""

from __future__ import annotations

import contextlib
import errno
import io
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import psutil
import pytest

import explorer.journal
from tessera.cli import main

ROOT = Path(__file__).resolve().parents[2]
TINY = ROOT / "examples" / "accelerators" / "tiny.yaml"
GRID = f"""\
base: {TINY}
hardware:
  matrix.rows: [2, 4, 8]
  buffers.inputs.capacity: {{log_range: [1 KiB, 16 KiB], points: 20}}
  buffers.weights.capacity: [1 KiB, 2 KiB, 4 KiB, 8 KiB]
models: ["gemm:m=16,k=16,n=16"]
objectives: [latency, area]
seed: 4
"""
POINTS = 240  # enough that ten killed runs (each lands a chunk or two per worker) cannot finish it


def fake_env(**options: object) -> dict[str, str]:
    return {**os.environ, "TESSERA_TEST_EVALUATOR": "fake", "TESSERA_TEST_EVALUATOR_OPTIONS": json.dumps(options)}


def sweep_args(sweep: Path, out: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "tessera", "sweep", str(sweep), "--out", str(out), "--quiet", *extra]


def journal_ids(out: Path) -> list[str]:
    journal = out / "journal.jsonl"
    if not journal.exists():
        return []
    data = journal.read_bytes()
    return [json.loads(line)["point_id"] for line in data[: data.rfind(b"\n") + 1].splitlines()]


def sorted_table(out: Path) -> pd.DataFrame:
    return pd.read_parquet(out / "results.parquet").sort_values("point_id").reset_index(drop=True)


@pytest.fixture(scope="module")
def sweep_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sweep") / "sweep.yaml"
    path.write_text(GRID)
    return path


@pytest.fixture(scope="module")
def uninterrupted(sweep_file: Path, tmp_path_factory: pytest.TempPathFactory) -> pd.DataFrame:
    out = tmp_path_factory.mktemp("clean") / "out"
    done = subprocess.run(sweep_args(sweep_file, out, "--executor", "serial"), env=fake_env(), cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    table = sorted_table(out)
    assert len(table) == POINTS and (table["status"] == "ok").all()
    return table


def test_ten_sigkills_in_a_row_then_resume_gives_the_uninterrupted_table(
    sweep_file: Path, uninterrupted: pd.DataFrame, tmp_path: Path
) -> None:
    """Each run is killed (whole process group, workers included) a random few rows in, at a
    random instant; the first one at start-up, before any row. Rows lost: 0, duplicated: 0."""
    out, rng = tmp_path / "out", np.random.default_rng(2024)
    kills = 0
    for attempt in range(10):
        before = len(journal_ids(out))
        process = subprocess.Popen(
            sweep_args(sweep_file, out, "--workers", "2"), env=fake_env(delay_s=0.03), cwd=ROOT,
            start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        )
        target = before + (0 if attempt == 0 else int(rng.integers(1, 5)))
        deadline = time.monotonic() + 60
        while len(journal_ids(out)) < target and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.005)
        time.sleep(float(rng.uniform(0.0, 0.3 if attempt == 0 else 0.05)))
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            kills += 1
        _, stderr = process.communicate()
        assert process.returncode in (-signal.SIGKILL, 0), f"run {attempt} ended by itself: {stderr}"
        ids = journal_ids(out)
        assert len(ids) == len(set(ids)) and len(ids) >= before  # never a duplicate, never a lost row
    assert kills == 10 and len(journal_ids(out)) < POINTS
    resumed = subprocess.run(sweep_args(sweep_file, out, "--workers", "2"), env=fake_env(), cwd=ROOT, capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr
    pd.testing.assert_frame_equal(sorted_table(out), uninterrupted)
    ids = journal_ids(out)
    assert len(ids) == len(set(ids)) == POINTS
    assert json.loads((out / "manifest.json").read_text())["finished"]


def _dask_workers(process: subprocess.Popen) -> list[psutil.Process]:
    """Worker processes of a sweep's LocalCluster (spawned by its nannies)."""
    children = psutil.Process(process.pid).children(recursive=True)
    return [c for c in children if "spawn_main" in " ".join(c.cmdline()) and "resource_tracker" not in " ".join(c.cmdline())]


def test_a_dask_worker_killed_mid_sweep_loses_and_repeats_no_point(
    sweep_file: Path, uninterrupted: pd.DataFrame, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    process = subprocess.Popen(
        sweep_args(sweep_file, out, "--executor", "dask", "--workers", "2"), env=fake_env(delay_s=0.05),
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    deadline = time.monotonic() + 90
    while len(journal_ids(out)) < 8 and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    workers = _dask_workers(process)
    assert process.poll() is None and workers, "the sweep ended before a worker could be killed"
    workers[0].kill()
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 0, stderr
    ids = journal_ids(out)
    assert len(ids) == len(set(ids)) == POINTS  # evaluated and journaled once each
    pd.testing.assert_frame_equal(sorted_table(out), uninterrupted)


def run_cli(*args: str) -> tuple[int, str]:
    """`tessera ARGS` in this process (so a fault can be injected); exit code and stderr."""
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = main(list(args))
    return code, err.getvalue()


@pytest.fixture
def fake_evaluator(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TESSERA_TEST_EVALUATOR", "fake")
    monkeypatch.delenv("TESSERA_TEST_EVALUATOR_OPTIONS", raising=False)


def test_disk_full_mid_sweep_is_a_clean_error_and_the_folder_resumes(
    sweep_file: Path, uninterrupted: pd.DataFrame, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fake_evaluator: None
) -> None:
    """The journal's fsync fails with ENOSPC after a few batches (as on a full disk)."""
    out, calls = tmp_path / "out", []
    real_fsync = os.fsync

    def fsync_until_full(fd: int) -> None:
        calls.append(fd)
        if len(calls) > 3:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        real_fsync(fd)

    monkeypatch.setattr(explorer.journal.os, "fsync", fsync_until_full)
    code, stderr = run_cli("sweep", str(sweep_file), "--out", str(out), "--executor", "serial", "--quiet")
    assert code == 2 and "No space left on device" in stderr and str(out) in stderr and "--out" in stderr
    assert "Traceback" not in stderr
    monkeypatch.setattr(explorer.journal.os, "fsync", real_fsync)
    ids = journal_ids(out)
    assert 0 < len(ids) < POINTS and not (out / ".lock").exists()
    assert not [p for p in (out / "results.parquet").iterdir() if p.name.startswith(".")]  # no temporaries left
    assert run_cli("sweep", str(sweep_file), "--out", str(out), "--executor", "serial", "--quiet")[0] == 0
    pd.testing.assert_frame_equal(sorted_table(out), uninterrupted)
    assert len(set(journal_ids(out))) == len(journal_ids(out)) == POINTS


@contextlib.contextmanager
def tmpfs(path: Path, options: str) -> Iterator[Path]:
    """A small tmpfs mounted at `path` (root only); skips the test where mounting is not allowed."""
    path.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(path)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=True)


def test_a_really_full_disk_is_a_clean_error_and_nothing_is_corrupt(
    sweep_file: Path, uninterrupted: pd.DataFrame, tmp_path: Path
) -> None:
    """On a 48 KiB tmpfs the sweep runs out of space; after space is freed (the folder is copied
    to a roomy disk) the same command resumes to the uninterrupted table."""
    with tmpfs(tmp_path / "small", "size=48k") as small:
        out = small / "out"
        full = subprocess.run(sweep_args(sweep_file, out, "--executor", "serial"), env=fake_env(), cwd=ROOT, capture_output=True, text=True)
        assert full.returncode == 2, (full.returncode, full.stderr)
        assert "No space left on device" in full.stderr and "Traceback" not in full.stderr
        ids = journal_ids(out)
        assert len(ids) == len(set(ids)) < POINTS
        moved = tmp_path / "moved"
        subprocess.run(["cp", "-a", str(out), str(moved)], check=True)
    resumed = subprocess.run(sweep_args(sweep_file, moved, "--executor", "serial"), env=fake_env(), cwd=ROOT, capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr
    pd.testing.assert_frame_equal(sorted_table(moved), uninterrupted)


def test_a_read_only_output_folder_is_refused_cleanly(sweep_file: Path, tmp_path: Path) -> None:
    with tmpfs(tmp_path / "ro", "size=64k,ro") as read_only:
        result = subprocess.run(sweep_args(sweep_file, read_only / "out"), env=fake_env(), cwd=ROOT, capture_output=True, text=True)
        assert result.returncode == 2 and "Read-only file system" in result.stderr, result.stderr
        assert "Traceback" not in result.stderr and not list(read_only.iterdir())


def test_a_second_sweep_on_the_same_folder_is_refused_and_the_first_finishes(
    sweep_file: Path, uninterrupted: pd.DataFrame, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    first = subprocess.Popen(
        sweep_args(sweep_file, out, "--executor", "serial"), env=fake_env(delay_s=0.05), cwd=ROOT,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    deadline = time.monotonic() + 60
    while not journal_ids(out) and first.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    second = subprocess.run(sweep_args(sweep_file, out, "--executor", "serial"), env=fake_env(), cwd=ROOT, capture_output=True, text=True)
    assert first.poll() is None, "the first sweep ended before the second started"
    assert second.returncode == 2 and "another sweep" in second.stderr and "Traceback" not in second.stderr
    _, stderr = first.communicate(timeout=120)
    assert first.returncode == 0, stderr
    pd.testing.assert_frame_equal(sorted_table(out), uninterrupted)
