"""The append-only JSON-lines journal of evaluated points: the durable record of a sweep.

One row per line (autotvm `record.py` style), appended as soon as results arrive and flushed
and fsynced once per batch, so a crash, Ctrl-C or SIGKILL loses at most the points in flight.
A process killed in the middle of a write leaves a last line without its newline: reading
detects it, drops it, and truncates the file back to the last complete line before appending.
Any other line that does not parse as a row is corrupt: reading reports its line number and
keeps every good row, and `rewrite_journal` replaces the file by the good rows alone, so a
damaged journal costs only its damaged lines, never the sweep.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from tessera.input_files import GiB, read_input

Row = dict[str, Any]

MAX_JOURNAL_BYTES = 4 * GiB
"""A journal line is about a kilobyte, so a million-point sweep (the largest budget) fits easily."""


@dataclass(frozen=True)
class JournalContents:
    """What a journal holds: its complete rows, the bytes they occupy (a torn tail excluded),
    and the numbers of the lines that were not rows."""

    rows: list[Row]
    valid_length: int
    corrupt_lines: tuple[int, ...] = ()


def read_journal(path: Path) -> JournalContents:
    """Every complete, parseable row of a journal (an absent journal holds none)."""
    if not path.exists():
        return JournalContents([], 0)
    data = read_input(path, limit=MAX_JOURNAL_BYTES, what="a sweep journal")
    end = data.rfind(b"\n") + 1  # everything after the last newline is a torn write
    rows: list[Row] = []
    corrupt: list[int] = []
    for number, line in enumerate(data[:end].splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except (json.JSONDecodeError, UnicodeDecodeError):
            row = None
        if isinstance(row, dict) and "point_id" in row:
            rows.append(row)
        else:
            corrupt.append(number)
    return JournalContents(rows, end, tuple(corrupt))


def rewrite_journal(path: Path, rows: Iterable[Mapping[str, Any]]) -> int:
    """Replace the journal by `rows` atomically (temporary file, fsync, rename); its new length."""
    temporary = path.with_name(f".{path.name}.tmp")
    payload = _lines(rows)
    with open(temporary, "wb") as handle:
        handle.write(payload)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)
    return len(payload)


def _lines(rows: Iterable[Mapping[str, Any]]) -> bytes:
    return "".join(json.dumps(row, separators=(",", ":")) + "\n" for row in rows).encode("utf-8")


class JournalWriter:
    """Appends rows to a journal, truncating a torn tail first.

    Rows go straight to the file descriptor, unbuffered: a write that fails (a full disk) fails
    in `append`, which cuts the file back to its last complete row, and closing never has
    buffered bytes left to fail on."""

    def __init__(self, path: Path, valid_length: int) -> None:
        self.path = path
        self._valid_length = valid_length
        self._file: IO[bytes] | None = None

    def __enter__(self) -> "JournalWriter":
        # O_NOFOLLOW: rows never land in a file that a link in the output folder points at
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW, 0o644)
        self._file = os.fdopen(fd, "ab", buffering=0)
        if self._file.tell() != self._valid_length:
            self._file.truncate(self._valid_length)
            self._file.seek(self._valid_length)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def append(self, rows: Iterable[Mapping[str, Any]]) -> None:
        """Write rows, one JSON object per line, then fsync once; on failure, leave only the
        rows written before and raise."""
        assert self._file is not None, "use JournalWriter as a context manager"
        payload = _lines(rows)
        if not payload:
            return
        try:
            remaining = memoryview(payload)
            while remaining:
                remaining = remaining[self._file.write(remaining) :]
            os.fsync(self._file.fileno())
        except OSError:
            self._file.truncate(self._valid_length)
            raise
        self._valid_length += len(payload)
