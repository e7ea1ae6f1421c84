"""A lock file so two sweeps never write the same output folder at once.

The lock holds the owner's host and pid and is created atomically (O_CREAT | O_EXCL). A lock
left by a process that no longer exists on this host (a SIGKILLed sweep) is stale and is
reclaimed; a live owner, or one on another host that cannot be checked, refuses the second
sweep with an InputError (exit 2).
"""

from __future__ import annotations

import json
import os
import socket
import time
from pathlib import Path

from explorer.process_lifetime import process_alive
from tessera.errors import InputError, Problem

LOCK_NAME = ".lock"
_UNREADABLE_GRACE_S = 10.0  # an unreadable lock younger than this may still be being written


class DirectoryLock:
    """Context manager holding `<folder>/.lock` for the life of a sweep."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / LOCK_NAME

    def __enter__(self) -> "DirectoryLock":
        owner = json.dumps({"host": socket.gethostname(), "pid": os.getpid()})
        for _ in range(2):  # the second try follows reclaiming a stale lock
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                self._reclaim_or_refuse()
                continue
            with os.fdopen(fd, "w") as handle:
                handle.write(owner)
            return self
        raise InputError(str(self.path.parent), Problem("", "could not take the lock; another sweep started at the same time"))

    def __exit__(self, *exc: object) -> None:
        self.path.unlink(missing_ok=True)

    def _reclaim_or_refuse(self) -> None:
        try:
            holder = json.loads(self.path.read_text())
            host, pid = str(holder["host"]), int(holder["pid"])
            stale = host == socket.gethostname() and not process_alive(pid)
        except FileNotFoundError:
            return  # released meanwhile
        except (ValueError, KeyError, TypeError, OSError):  # being written now, or its writer died mid-write
            host, pid = "?", 0
            stale = time.time() - self.path.stat().st_mtime > _UNREADABLE_GRACE_S
        if stale:
            self.path.unlink(missing_ok=True)
            return
        raise InputError(
            str(self.path.parent),
            Problem("", f"another sweep (pid {pid} on {host}) is writing this folder; wait for it, "
                    f"or delete {self.path} if that process is gone"),
        )
