"""Where a sweep's rows go: nowhere (in memory) or an output folder.

An output folder holds:

- `journal.jsonl` — the durable record (`explorer.journal`); the source of truth.
- `results.parquet/` — Parquet parts that `pandas.read_parquet` reads as one table. A part of
  new rows is written every few seconds during the run; at the end (and when a sweep resumes)
  the parts are compacted into one, rebuilt from the journal. Parts are written to hidden
  temporary names (ignored by readers) and renamed into place, so none is ever half-written.
- `pareto.csv` and `manifest.json`, written at the end.
- `.lock` while a sweep runs (`explorer.lock`).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import time
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from explorer.journal import JournalWriter, read_journal
from explorer.lock import DirectoryLock
from explorer.manifest import MANIFEST_NAME, Manifest, identity_changes
from explorer.model_quality import SURROGATE_FILE
from explorer.table import Row, to_arrow
from tessera.errors import InputError, Problem

JOURNAL_NAME = "journal.jsonl"
RESULTS_NAME = "results.parquet"
PARETO_NAME = "pareto.csv"
PART_INTERVAL_S = 5.0
"""A Parquet part of new rows is written at most this often during a run."""


@contextlib.contextmanager
def _disk_errors(folder: Path) -> Iterator[None]:
    """Turn a failed write in the output folder (disk full, read-only, ...) into an InputError.

    Every write is atomic (temporary + rename) or an fsynced journal append whose torn tail the
    next run truncates, so after this error the folder holds a valid, resumable sweep.
    """
    try:
        yield
    except OSError as error:
        message = f"cannot write: {error.strerror or error}; free space or choose another folder, then rerun to resume"
        raise InputError(str(folder), Problem("--out", message)) from None


class MemoryStore:
    """Keeps nothing: `explorer.run_sweep(out_dir=None)`."""

    def existing(self) -> list[Row]:
        """Rows of earlier runs: none."""
        return []

    def append(self, rows: list[Row]) -> None:
        """Rows are only held by the sweep loop."""

    def finish(self, rows: list[Row], pareto: pd.DataFrame, manifest: Manifest) -> None:
        """Nothing to write."""

    def __enter__(self) -> "MemoryStore":
        return self

    def __exit__(self, *exc: object) -> None:
        return None


class DirectoryStore:
    """A sweep folder: lock, manifest check, journal, Parquet parts (see the module docstring)."""

    def __init__(self, folder: Path, schema: pa.Schema, manifest: Manifest, force_new: bool) -> None:
        self.folder = folder
        self.schema = schema
        self.manifest = manifest
        self.force_new = force_new
        self._lock = DirectoryLock(folder)
        self._writer: JournalWriter | None = None
        self._rows: list[Row] = []
        self._pending: list[Row] = []
        self._next_part = 1
        self._last_part = time.monotonic()

    def __enter__(self) -> "DirectoryStore":
        if self.folder.exists() and not self.folder.is_dir():
            raise InputError(str(self.folder), Problem("--out", "exists and is not a folder"))
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as error:  # a parent is a file, read-only, or the disk is full
            raise InputError(str(self.folder), Problem("--out", f"cannot create the folder: {error.strerror}")) from None
        with _disk_errors(self.folder):
            self._lock.__enter__()
        try:
            with _disk_errors(self.folder):
                self._open()
        except BaseException:
            self._lock.__exit__(None, None, None)
            raise
        return self

    def _open(self) -> None:
        journal = self.folder / JOURNAL_NAME
        previous = Manifest.read(self.folder)
        if self.force_new:
            self._clear()
            previous = None
        elif previous is not None and previous.spec_hash != self.manifest.spec_hash:
            changes = "; ".join(identity_changes(previous, self.manifest))
            raise InputError(
                str(self.folder),
                Problem("--out", f"holds a different sweep ({changes}); use another folder, or --force-new "
                        "to discard its results and start over"),
            )
        elif previous is None and (journal.exists() or (self.folder / MANIFEST_NAME).exists()):
            raise InputError(
                str(self.folder),
                Problem("--out", "holds sweep results without a readable manifest; use --force-new to start over"),
            )
        rows, valid_length = read_journal(journal)
        self._rows = list({row["point_id"]: row for row in rows}.values())  # a retried point: its last row
        if previous is not None:
            self.manifest = previous.resumed_now()
        self.manifest.write(self.folder)
        self._compact(self._rows)
        self._writer = JournalWriter(journal, valid_length).__enter__()

    def __exit__(self, exc_type: type[BaseException] | None, *exc: object) -> None:
        try:
            if self._writer is not None:
                if exc_type is None:
                    with _disk_errors(self.folder):
                        self._write_part()
                else:
                    # Already failing (Ctrl-C, a full disk, ...): save a part of the pending rows
                    # if the disk allows, without masking the error in flight. Nothing is lost
                    # either way: those rows are in the journal, from which resuming rebuilds parts.
                    with contextlib.suppress(OSError):
                        self._write_part()
                self._writer.__exit__(None, None, None)
        finally:
            self._lock.__exit__(None, None, None)

    def existing(self) -> list[Row]:
        """Rows journaled by earlier runs of this sweep."""
        return list(self._rows)

    def append(self, rows: list[Row]) -> None:
        """Journal rows durably; write a Parquet part when one is due."""
        assert self._writer is not None
        with _disk_errors(self.folder):
            self._writer.append(rows)
            self._pending += rows
            if time.monotonic() - self._last_part >= PART_INTERVAL_S:
                self._write_part()

    def finish(self, rows: list[Row], pareto: pd.DataFrame, manifest: Manifest) -> None:
        """Compact the results into one part; write pareto.csv and the final manifest."""
        self._pending = []
        with _disk_errors(self.folder):
            self._compact(rows)
            temporary = self.folder / f".{PARETO_NAME}.tmp"
            pareto.to_csv(temporary, index=False)
            os.replace(temporary, self.folder / PARETO_NAME)
            self.manifest = manifest
            manifest.write(self.folder)

    def _clear(self) -> None:
        for name in (JOURNAL_NAME, MANIFEST_NAME, PARETO_NAME, SURROGATE_FILE):
            (self.folder / name).unlink(missing_ok=True)
        shutil.rmtree(self.folder / RESULTS_NAME, ignore_errors=True)

    def _write_table(self, rows: Iterable[Mapping[str, Any]], name: str) -> None:
        parts = self.folder / RESULTS_NAME
        parts.mkdir(exist_ok=True)
        temporary = parts / f".{name}.tmp"
        try:
            pq.write_table(to_arrow(rows, self.schema), temporary)
        except OSError:
            temporary.unlink(missing_ok=True)
            raise
        os.replace(temporary, parts / name)

    def _write_part(self) -> None:
        self._last_part = time.monotonic()
        if not self._pending:
            return
        self._write_table(self._pending, f"part-{self._next_part:05d}.parquet")
        self._next_part += 1
        self._pending = []

    def _compact(self, rows: list[Row]) -> None:
        """Replace every part by one holding `rows` (sorted by trial)."""
        parts = self.folder / RESULTS_NAME
        staged = ".compacted"  # hidden: readers skip names starting with a dot
        self._write_table(sorted(rows, key=lambda row: row["trial"]), staged)
        for part in parts.glob("part-*.parquet"):
            part.unlink()
        os.replace(parts / staged, parts / "part-00000.parquet")
        self._next_part = 1
