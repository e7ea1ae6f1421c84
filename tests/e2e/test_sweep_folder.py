"""The output folder: a damaged journal or a lost manifest is recovered, links out of it are refused."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[2]
TINY = ROOT / "examples" / "accelerators" / "tiny.yaml"
SWEEP = f"""\
base: {TINY}
hardware:
  matrix.rows: [2, 4, 8]
  buffers.inputs.capacity: [1 KiB, 2 KiB, 4 KiB]
models: ["gemm:m=8,k=8,n=8"]
objectives: [latency, area]
"""


def _run(sweep: Path, out: Path, *extra: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "TESSERA_TEST_EVALUATOR": "fake", "TESSERA_TEST_EVALUATOR_OPTIONS": ""}
    argv = [sys.executable, "-m", "tessera", "sweep", str(sweep), "--out", str(out), "--executor", "serial", "--quiet", *extra]
    return subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


@pytest.fixture
def finished(tmp_path: Path) -> tuple[Path, Path, pd.DataFrame]:
    """A sweep file, its finished output folder, and its results table."""
    sweep, out = tmp_path / "sweep.yaml", tmp_path / "out"
    sweep.write_text(SWEEP)
    assert _run(sweep, out).returncode == 0
    return sweep, out, pd.read_parquet(out / "results.parquet").sort_values("point_id").reset_index(drop=True)


def _table(out: Path) -> pd.DataFrame:
    return pd.read_parquet(out / "results.parquet").sort_values("point_id").reset_index(drop=True)


def test_corrupt_journal_lines_are_dropped_and_counted_and_their_points_rerun(finished) -> None:
    sweep, out, table = finished
    journal = out / "journal.jsonl"
    lines = journal.read_text().splitlines()
    lines[2], lines[5] = "{not json", '{"no_point_id": 1}'
    journal.write_text("\n".join(lines) + "\n")
    resumed = _run(sweep, out)
    assert resumed.returncode == 0, resumed.stderr
    assert "recovered 7 journaled points, dropped 2 corrupt lines (line 3, 6)" in resumed.stderr
    pd.testing.assert_frame_equal(_table(out), table)
    assert len(journal.read_text().splitlines()) == 9  # 7 kept, 2 evaluated again


def test_a_lost_manifest_is_recovered_from_the_journal(finished) -> None:
    sweep, out, table = finished
    (out / "manifest.json").unlink()
    resumed = _run(sweep, out)
    assert resumed.returncode == 0, resumed.stderr
    assert "manifest.json was missing or unreadable" in resumed.stderr and "recovered 9 journaled points" in resumed.stderr
    pd.testing.assert_frame_equal(_table(out), table)
    assert len((out / "journal.jsonl").read_text().splitlines()) == 9  # nothing evaluated again


def test_a_journal_of_another_sweep_without_its_manifest_is_not_mixed_in(finished, tmp_path: Path) -> None:
    sweep, out, _ = finished
    (out / "manifest.json").write_text("{corrupt")
    other = tmp_path / "other.yaml"
    other.write_text(SWEEP.replace("[2, 4, 8]", "[2, 4, 16]"))
    resumed = _run(other, out)
    assert resumed.returncode == 0, resumed.stderr
    assert "dropped 9 rows of another sweep" in resumed.stderr
    assert set(pd.read_parquet(out / "results.parquet")["matrix.rows"]) == {2, 4, 16}


def test_a_journal_link_out_of_the_folder_is_refused_and_nothing_is_written_through_it(finished, tmp_path: Path) -> None:
    sweep, out, _ = finished
    outside = tmp_path / "outside.jsonl"
    (out / "journal.jsonl").rename(outside)
    (out / "journal.jsonl").symlink_to(outside)
    before = outside.read_bytes()
    refused = _run(sweep, out)
    assert refused.returncode == 2 and "Traceback" not in refused.stderr
    assert f"{out}: --out: holds links that point outside it (journal.jsonl)" in refused.stderr
    assert outside.read_bytes() == before


def test_a_results_link_to_another_folder_is_refused_even_with_force_new(finished, tmp_path: Path) -> None:
    sweep, out, _ = finished
    other = tmp_path / "other_results"
    other.mkdir()
    (other / "part-00000.parquet").write_bytes(b"someone else's data")
    (other / "keep.txt").write_text("keep me")
    for name in os.listdir(out / "results.parquet"):
        (out / "results.parquet" / name).unlink()
    (out / "results.parquet").rmdir()
    (out / "results.parquet").symlink_to(other, target_is_directory=True)
    for extra in ((), ("--force-new",)):
        refused = _run(sweep, out, *extra)
        assert refused.returncode == 2 and "holds links that point outside it (results.parquet)" in refused.stderr
    assert sorted(os.listdir(other)) == ["keep.txt", "part-00000.parquet"]
    assert (other / "part-00000.parquet").read_bytes() == b"someone else's data"


def test_links_that_stay_inside_the_folder_are_allowed(finished) -> None:
    sweep, out, table = finished
    (out / "notes.txt").write_text("mine")
    (out / "notes-link.txt").symlink_to(out / "notes.txt")
    assert _run(sweep, out).returncode == 0
    pd.testing.assert_frame_equal(_table(out), table)
    assert json.loads((out / "manifest.json").read_text())["points"] == 9
