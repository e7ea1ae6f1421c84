"""The results store: journal torn tails, locks, manifest checks, Parquet parts, in-process resume."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from explorer import run_sweep
from explorer.evaluator import Outcome
from explorer.fake_evaluator import FakeEvaluator
from explorer.journal import JournalWriter, read_journal, rewrite_journal
from explorer.lock import DirectoryLock
from explorer.space import Point
from explorer.spec_loader import load_sweep
from tessera.errors import InputError

TINY = Path(__file__).resolve().parents[2] / "examples" / "accelerators" / "tiny.yaml"
SWEEP = """\
hardware:
  matrix.rows: [2, 4, 8]
  buffers.inputs.capacity: {log_range: [1 KiB, 8 KiB], points: 4}
  clock: [100 MHz, 200 MHz]
models: ["gemm:m=16,k=16,n=16"]
objectives: [latency, area]
constraints: ["area_mm2 <= 3"]
seed: 5
"""


def write(tmp_path: Path, body: str = SWEEP) -> Path:
    path = tmp_path / "sweep.yaml"
    path.write_text(f"base: {TINY}\n" + body)
    return path


def test_torn_last_line_is_dropped_and_truncated(tmp_path: Path) -> None:
    journal = tmp_path / "journal.jsonl"
    journal.write_text('{"point_id": "a", "x": 1}\n{"point_id": "b", "x": 2}\n{"point_id": "c", "x"')
    contents = read_journal(journal)
    assert [r["point_id"] for r in contents.rows] == ["a", "b"] and contents.corrupt_lines == ()
    with JournalWriter(journal, contents.valid_length) as writer:
        writer.append([{"point_id": "d", "x": 4}])
    assert [r["point_id"] for r in read_journal(journal).rows] == ["a", "b", "d"]


def test_corrupt_middle_lines_are_reported_and_the_good_rows_kept(tmp_path: Path) -> None:
    journal = tmp_path / "journal.jsonl"
    journal.write_text('{"point_id": "a"}\nnot json\n{"point_id": "b"}\n[1, 2]\n{"point_id": "c"}\n')
    contents = read_journal(journal)
    assert [r["point_id"] for r in contents.rows] == ["a", "b", "c"] and contents.corrupt_lines == (2, 4)
    assert rewrite_journal(journal, contents.rows) == journal.stat().st_size
    assert read_journal(journal).corrupt_lines == () and len(read_journal(journal).rows) == 3


def test_lock_refuses_a_live_owner_and_reclaims_a_dead_one(tmp_path: Path) -> None:
    with DirectoryLock(tmp_path):
        with pytest.raises(InputError, match="another sweep"):
            DirectoryLock(tmp_path).__enter__()
    assert not (tmp_path / ".lock").exists()
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    (tmp_path / ".lock").write_text(json.dumps({"host": os.uname().nodename, "pid": int(dead.stdout)}))
    with DirectoryLock(tmp_path):
        assert json.loads((tmp_path / ".lock").read_text())["pid"] == os.getpid()


def test_folder_run_matches_memory_run_and_parquet_reads_back(tmp_path: Path) -> None:
    sweep = write(tmp_path)
    memory = run_sweep(sweep, evaluator=FakeEvaluator(), executor="serial")
    on_disk = run_sweep(sweep, tmp_path / "out", evaluator=FakeEvaluator(), executor="serial")
    pd.testing.assert_frame_equal(memory, on_disk)
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "out" / "results.parquet"), on_disk)
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert manifest["points"] == 24 and manifest["seed"] == 5 and manifest["evaluator"] == "fake"
    assert set(manifest["hypervolume_reference"]) == {"latency", "area"}
    pareto = pd.read_csv(tmp_path / "out" / "pareto.csv")
    assert len(pareto) == manifest["pareto_points"] > 0 and (pareto["area_mm2"] <= 3).all()


def test_a_folder_run_reads_its_table_back_from_parts_written_as_it_went(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The main process keeps no row of a folder sweep: the table it returns is read back from
    the Parquet parts (here one per chunk of points) and equals the in-memory run's."""
    import explorer.store

    monkeypatch.setattr(explorer.store, "PART_INTERVAL_S", 0.0)
    parts: list[int] = []
    write_part = explorer.store.DirectoryStore._write_part

    def recorded(self: explorer.store.DirectoryStore) -> None:
        parts.append(len(self._pending))
        write_part(self)

    monkeypatch.setattr(explorer.store.DirectoryStore, "_write_part", recorded)
    sweep = write(tmp_path)
    memory = run_sweep(sweep, evaluator=FakeEvaluator(), executor="serial")
    on_disk = run_sweep(sweep, tmp_path / "out", evaluator=FakeEvaluator(), executor="serial")
    assert sum(parts) == 24 and sum(1 for rows in parts if rows) > 1
    pd.testing.assert_frame_equal(memory, on_disk)
    assert list(on_disk["trial"]) == list(range(24))
    assert [p.name for p in (tmp_path / "out" / "results.parquet").iterdir()] == ["part-00000.parquet"]


def test_changed_spec_is_refused_unless_force_new(tmp_path: Path) -> None:
    out = tmp_path / "out"
    run_sweep(write(tmp_path), out, evaluator=FakeEvaluator(), executor="serial")
    changed = write(tmp_path, SWEEP.replace("seed: 5", "seed: 6"))
    with pytest.raises(InputError, match=r"different sweep \(the sweep file changed\)"):
        run_sweep(changed, out, evaluator=FakeEvaluator(), executor="serial")
    table = run_sweep(changed, out, evaluator=FakeEvaluator(), executor="serial", force_new=True)
    assert (pd.read_parquet(out / "results.parquet")["seed"] == 6).all() and len(table) == 24


@dataclasses.dataclass(frozen=True)
class InterruptAfter(FakeEvaluator):
    """Evaluates `limit` points, then raises KeyboardInterrupt (a user's Ctrl-C)."""

    limit: int = 0
    counter: list[int] = dataclasses.field(default_factory=list)

    def run(self, point: Point) -> Outcome:
        if len(self.counter) >= self.limit:
            raise KeyboardInterrupt
        self.counter.append(1)
        return super().run(point)


def test_interrupted_sweep_resumes_to_the_uninterrupted_table(tmp_path: Path) -> None:
    sweep = write(tmp_path)
    out = tmp_path / "out"
    with pytest.raises(KeyboardInterrupt):
        run_sweep(sweep, out, evaluator=InterruptAfter(limit=10), executor="serial")
    rows = read_journal(out / "journal.jsonl").rows
    assert 0 < len(rows) < 24 and not (out / ".lock").exists()
    evaluator = InterruptAfter(limit=100)
    resumed = run_sweep(sweep, out, evaluator=evaluator, executor="serial")
    assert len(evaluator.counter) == 24 - len(rows)  # finished points are not evaluated again
    fresh = run_sweep(load_sweep(sweep), evaluator=FakeEvaluator(), executor="serial")
    pd.testing.assert_frame_equal(resumed, fresh)
    journal_ids = [r["point_id"] for r in read_journal(out / "journal.jsonl").rows]
    assert len(journal_ids) == len(set(journal_ids)) == 24
