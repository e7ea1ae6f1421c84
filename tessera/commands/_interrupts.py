"""How `tessera sweep` stops on SIGINT (Ctrl-C) and SIGTERM (`kill`, `timeout`, a batch scheduler).

The first signal raises `Interrupted` in the main thread, wherever it is waiting (but never
half-way through a call into the worker pool: `explorer.safe_points` holds it to the call's
end, at most `POLL_S` in a wait): the sweep unwinds as from any error, so the executor kills
its workers, the store writes the pending rows' Parquet part and releases its lock, and the
command says how to resume. The journal
holds every finished point already (it is fsynced per batch). A second signal, from a user
who will not wait even for that, exits at once: the fork server and workers die with this
process (`explorer.process_lifetime`), the journal is at worst torn in its last line (which
the next run truncates), and the lock of a dead process is reclaimed.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from collections.abc import Iterator
from types import FrameType

from explorer.safe_points import STOP_SIGNALS


class Interrupted(KeyboardInterrupt):
    """The sweep was asked to stop by `signum`."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum

    @property
    def exit_code(self) -> int:
        """128 + the signal number, as a shell reports a process ended by that signal."""
        return 128 + self.signum


@contextlib.contextmanager
def stop_on_signals() -> Iterator[None]:
    """Turn SIGINT and SIGTERM into `Interrupted` (the first) and an immediate exit (the second)."""
    received: list[int] = []

    def handle(signum: int, frame: FrameType | None) -> None:
        received.append(signum)
        if len(received) > 1:
            os.write(2, f"tessera: {signal.Signals(signum).name} again: stopping now\n".encode())
            os._exit(128 + signum)
        raise Interrupted(signum)

    if threading.current_thread() is not threading.main_thread():  # only the main thread may set handlers
        yield
        return
    previous = {signum: signal.signal(signum, handle) for signum in STOP_SIGNALS}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
