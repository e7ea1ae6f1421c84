"""Reading a user's input file: a regular file, of a bounded size, or a clear InputError.

Every file Tessera reads on a user's behalf (chips, sweeps, models, topologies, SCALE-Sim
configs, a sweep folder's manifest) goes through `read_input`. A FIFO or a device named as
an input would otherwise hang the command or be read until memory runs out (``/dev/zero``);
a file far bigger than its kind ever is would take minutes to parse before failing. Each
caller states its kind's limit, so the message says what was expected.
"""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path

from tessera.errors import InputError, Problem

KiB = 1024
MiB = 1024 * KiB
GiB = 1024 * MiB


def read_input(path: str | Path, *, limit: int, what: str) -> bytes:
    """The bytes of a regular file of at most `limit` bytes; InputError naming `path` otherwise.

    `what` names the expected kind in messages ("a chip YAML file"). Symbolic links are
    followed: a link to a regular file is a regular file.
    """
    source = str(path)
    _check_regular(path, limit, what)
    try:
        with open(path, "rb") as handle:
            data = handle.read(limit + 1)
    except OSError as error:
        raise InputError(source, Problem("", f"cannot read the file: {error.strerror}")) from None
    if len(data) > limit:  # grew since it was measured
        raise InputError(source, Problem("", _too_big(len(data), limit, what)))
    return data


def input_sha256(path: str | Path, *, limit: int, what: str) -> str:
    """sha256 hex digest of a regular input file of at most `limit` bytes, read in blocks."""
    _check_regular(path, limit, what)
    try:
        with open(path, "rb") as handle:
            return hashlib.file_digest(handle, "sha256").hexdigest()
    except OSError as error:
        raise InputError(str(path), Problem("", f"cannot read the file: {error.strerror}")) from None


def _check_regular(path: str | Path, limit: int, what: str) -> None:
    source = str(path)
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise InputError(source, Problem("", "file not found")) from None
    except OSError as error:
        raise InputError(source, Problem("", f"cannot read the file: {error.strerror}")) from None
    if stat.S_ISDIR(info.st_mode):
        raise InputError(source, Problem("", f"is a directory; expected {what}"))
    if not stat.S_ISREG(info.st_mode):
        raise InputError(source, Problem("", f"is not a regular file (a FIFO, device or socket); expected {what}"))
    if info.st_size > limit:
        raise InputError(source, Problem("", _too_big(info.st_size, limit, what)))


def read_input_text(path: str | Path, *, limit: int, what: str) -> str:
    """`read_input` decoded as UTF-8; InputError naming the first byte that is not."""
    data = read_input(path, limit=limit, what=what)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise InputError(str(path), Problem("", f"not UTF-8 text (byte {error.start})")) from None


def _too_big(size: int, limit: int, what: str) -> str:
    return f"is {size:,} bytes, more than the {limit:,} ({_size(limit)}) {what} may hold"


def _size(count: int) -> str:
    for unit, scale in (("GiB", GiB), ("MiB", MiB), ("KiB", KiB)):
        if count >= scale:
            return f"{count / scale:.3g} {unit}"
    return f"{count} B"
