"""The append-only JSON-lines journal of evaluated points: the durable record of a sweep.

One row per line (autotvm `record.py` style), appended as soon as results arrive and flushed
and fsynced once per batch, so a crash, Ctrl-C or SIGKILL loses at most the points in flight.
A process killed in the middle of a write leaves a last line without its newline: reading
detects it, drops it, and truncates the file back to the last complete line before appending.
Anything else that does not parse is corruption, reported with its line number.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import IO, Any

from tessera.errors import InputError, Problem

Row = dict[str, Any]


def read_journal(path: Path) -> tuple[list[Row], int]:
    """Complete rows of a journal, and the byte length they occupy (a torn tail excluded)."""
    if not path.exists():
        return [], 0
    data = path.read_bytes()
    end = data.rfind(b"\n") + 1  # everything after the last newline is a torn write
    rows: list[Row] = []
    for number, line in enumerate(data[:end].splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except (json.JSONDecodeError, UnicodeDecodeError):
            row = None
        if not isinstance(row, dict) or "point_id" not in row:
            raise InputError(str(path), Problem(f"line {number}", "corrupt journal line; delete the folder or use --force-new"))
        rows.append(row)
    return rows, end


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
        self._file = open(self.path, "ab", buffering=0)
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
        payload = "".join(json.dumps(row, separators=(",", ":")) + "\n" for row in rows).encode("utf-8")
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
