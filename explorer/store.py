"""Where a sweep's rows go: nowhere (in memory) or an output folder.

An output folder holds:

- `journal.jsonl` — the durable record (`explorer.journal`); the source of truth.
- `results.parquet/` — Parquet parts that `pandas.read_parquet` reads as one table. A part of
  new rows is written every few seconds during the run, and the main process keeps none of
  them; at the end the parts are read back as the sweep's table and compacted into one, and
  when a sweep resumes they are rebuilt from the journal. Parts are written to hidden
  temporary names (ignored by readers) and renamed into place, so none is ever half-written.
- `pareto.csv` and `manifest.json`, written at the end.
- `.lock` while a sweep runs (`explorer.lock`).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from explorer.journal import JournalContents, JournalWriter, read_journal, rewrite_journal
from explorer.lock import DirectoryLock
from explorer.manifest import MANIFEST_NAME, Manifest, identity_changes
from explorer.model_quality import SURROGATE_FILE
from explorer.table import Row, RowBatches, to_arrow
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


SWEEP_KEY = "sweep"
"""Key of every journal line holding its sweep's identity (the manifest's spec hash), so the
rows of a journal whose manifest is lost can still be told to belong to this sweep."""


def _without_tag(row: Row) -> Row:
    return {key: value for key, value in row.items() if key != SWEEP_KEY}


def links_out_of(folder: Path) -> list[str]:
    """Members of an output folder (and of its results.parquet folder) that are symbolic links
    resolving outside it, by name relative to the folder."""
    if not folder.is_dir():
        return []
    root = folder.resolve()
    members = list(folder.iterdir())
    parts = folder / RESULTS_NAME
    if parts.is_dir() and not parts.is_symlink():
        members += list(parts.iterdir())
    return [
        str(member.relative_to(folder))
        for member in members
        if member.is_symlink() and not member.resolve().is_relative_to(root)
    ]


class MemoryStore:
    """Keeps the rows in this process and writes nothing: `explorer.run_sweep(out_dir=None)`."""

    def __init__(self, schema: pa.Schema) -> None:
        self._rows = RowBatches(schema)

    def existing(self) -> dict[str, Row]:
        """Rows of earlier runs: none."""
        return {}

    def append(self, rows: list[Row]) -> None:
        """Nothing to make durable: `resolved` keeps them."""

    def resolved(self, rows: list[Row]) -> None:
        """Keep a batch's rows (in trial order), as Arrow columns."""
        self._rows.extend(rows)

    def results(self) -> pa.Table:
        """Every resolved row, in trial order."""
        return self._rows.to_arrow()

    def finish(self, pareto: pd.DataFrame, manifest: Manifest) -> None:
        """Nothing to write."""

    def __enter__(self) -> "MemoryStore":
        return self

    def __exit__(self, *exc: object) -> None:
        return None


class DirectoryStore:
    """A sweep folder: lock, manifest check, journal, Parquet parts (see the module docstring)."""

    def __init__(
        self, folder: Path, schema: pa.Schema, manifest: Manifest, force_new: bool, notify: Callable[[str], None]
    ) -> None:
        self.folder = folder
        self.schema = schema
        self.manifest = manifest
        self.force_new = force_new
        self.notify = notify
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
        links = links_out_of(self.folder)
        if links:
            message = (f"holds links that point outside it ({', '.join(links)}); a sweep writes and deletes "
                       "only inside its folder: remove them or choose another folder")
            raise InputError(str(self.folder), Problem("--out", message))
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
        contents = read_journal(journal)
        rows = [row for row in contents.rows if row.get(SWEEP_KEY) == self.manifest.spec_hash]
        valid_length = contents.valid_length
        if contents.corrupt_lines or len(rows) < len(contents.rows):
            valid_length = rewrite_journal(journal, rows)
        if contents.corrupt_lines or (previous is None and contents.rows):
            self._report_recovery(journal, contents, len(rows), previous is not None)
        self._rows = list({row["point_id"]: _without_tag(row) for row in rows}.values())  # a retried point: its last row
        if previous is not None:
            self.manifest = previous.resumed_now()
        self.manifest.write(self.folder)
        self._compact(to_arrow(self._rows, self.schema).sort_by("trial"))
        self._writer = JournalWriter(journal, valid_length).__enter__()

    def _report_recovery(self, journal: Path, contents: JournalContents, kept: int, had_manifest: bool) -> None:
        """Say what a damaged journal or a lost manifest cost: the lines dropped, the rows kept."""
        lost = []
        if contents.corrupt_lines:
            shown = ", ".join(str(n) for n in contents.corrupt_lines[:5]) + (", ..." if len(contents.corrupt_lines) > 5 else "")
            lost.append(f"{len(contents.corrupt_lines)} corrupt lines (line {shown})")
        foreign = len(contents.rows) - kept
        if foreign:
            lost.append(f"{foreign} rows of another sweep (or of an older Tessera), which cannot be verified")
        prefix = "" if had_manifest else f"{MANIFEST_NAME} was missing or unreadable; "
        dropped = f", dropped {' and '.join(lost)}; the dropped points will be evaluated again" if lost else ""
        self.notify(f"{prefix}{journal}: recovered {kept} journaled points{dropped}")

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

    def existing(self) -> dict[str, Row]:
        """Rows journaled by earlier runs of this sweep, by point id; handed over, not kept
        (they are in the journal and in the compacted part)."""
        rows, self._rows = self._rows, []
        return {row["point_id"]: row for row in rows}

    def append(self, rows: list[Row]) -> None:
        """Journal rows durably; write a Parquet part when one is due."""
        assert self._writer is not None
        with _disk_errors(self.folder):
            self._writer.append({**row, SWEEP_KEY: self.manifest.spec_hash} for row in rows)
            self._pending += rows
            if time.monotonic() - self._last_part >= PART_INTERVAL_S:
                self._write_part()

    def resolved(self, rows: list[Row]) -> None:
        """Nothing to keep in memory: every row is journaled and written to a part."""

    def results(self) -> pa.Table:
        """Every row of this sweep, read back from its parts (the pending rows written first),
        one per point (a point evaluated again, `--retry-errors`, keeps its last row), in trial
        order; the parts are compacted into one holding them."""
        with _disk_errors(self.folder):
            self._write_part()
            parts = sorted((self.folder / RESULTS_NAME).glob("part-*.parquet"))
            table = pa.concat_tables([pq.read_table(part, schema=self.schema) for part in parts])
            written = table.select(["point_id"]).append_column("written", pa.array(np.arange(len(table))))
            kept = written.group_by("point_id").aggregate([("written", "max")])["written_max"].to_numpy()
            order = kept[np.argsort(table["trial"].to_numpy()[kept], kind="stable")]
            table = table.take(order)
            self._compact(table)
        return table

    def finish(self, pareto: pd.DataFrame, manifest: Manifest) -> None:
        """Write pareto.csv and the final manifest (after `results`)."""
        with _disk_errors(self.folder):
            temporary = self.folder / f".{PARETO_NAME}.tmp"
            pareto.to_csv(temporary, index=False)
            os.replace(temporary, self.folder / PARETO_NAME)
            self.manifest = manifest
            manifest.write(self.folder)

    def _clear(self) -> None:
        for name in (JOURNAL_NAME, MANIFEST_NAME, PARETO_NAME, SURROGATE_FILE):
            (self.folder / name).unlink(missing_ok=True)
        shutil.rmtree(self.folder / RESULTS_NAME, ignore_errors=True)

    def _write_table(self, table: pa.Table, name: str) -> None:
        parts = self.folder / RESULTS_NAME
        parts.mkdir(exist_ok=True)
        temporary = parts / f".{name}.tmp"
        try:
            pq.write_table(table, temporary)
        except OSError:
            temporary.unlink(missing_ok=True)
            raise
        os.replace(temporary, parts / name)

    def _write_part(self) -> None:
        self._last_part = time.monotonic()
        if not self._pending:
            return
        self._write_table(to_arrow(self._pending, self.schema), f"part-{self._next_part:05d}.parquet")
        self._next_part += 1
        self._pending = []

    def _compact(self, table: pa.Table) -> None:
        """Replace every part by one holding `table` (in trial order)."""
        parts = self.folder / RESULTS_NAME
        staged = ".compacted"  # hidden: readers skip names starting with a dot
        self._write_table(table, staged)
        for part in parts.glob("part-*.parquet"):
            part.unlink()
        os.replace(parts / staged, parts / "part-00000.parquet")
        self._next_part = 1
