"""Stop signals handled only where a sweep can stop safely, never half-way through a pool's bookkeeping.

Python runs a signal's handler in the main thread between two bytecodes, wherever it is. When
the handler raises (Ctrl-C's KeyboardInterrupt, `tessera sweep`'s `Interrupted`) between a
lock's acquire and the `try` that would release it, the lock stays held: a
`concurrent.futures` future's condition left held blocks the thread that sets its result, the
process pool's `_shutdown_lock` left held blocks its manager thread, and the sweep then hangs
in the pool's shutdown instead of stopping (found by raising at every line of those calls in
turn: `tests/unit/test_safe_points.py`; the same holds for distributed's client, CPython
bpo-29988 for `with` in general).

So the executors and the sweep loop make every call into a pool inside `signals_deferred()`:
a stop signal that arrives there runs its handler at once (a handler that exits the process,
as `tessera sweep`'s second Ctrl-C does, still exits at once), but an exception the handler
raises is held and raised when the block ends, at a point where nothing is half-done. Blocking
waits are cut into polls of `POLL_S`, so a stop is acted on within that.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterable, Iterator
from concurrent.futures import ALL_COMPLETED, FIRST_COMPLETED, Future, wait
from types import FrameType
from typing import Any

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
POLL_S = 0.1
"""Longest a stop signal waits for a blocking wait on a pool to reach a safe point."""


@contextlib.contextmanager
def signals_deferred() -> Iterator[None]:
    """Run the block with the stop signals' handlers run at once but their exceptions raised
    only as the block ends (the first one; the block's own exception, if any, becomes its
    context). Outside the main thread, or for signals without a Python handler, a no-op."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    held: list[BaseException] = []
    previous = {signum: signal.getsignal(signum) for signum in STOP_SIGNALS}
    deferred = {signum: handler for signum, handler in previous.items() if callable(handler)}

    def run_now_raise_later(signum: int, frame: FrameType | None) -> None:
        try:
            deferred[signum](signum, frame)
        except BaseException as error:  # noqa: BLE001 - held to be raised at the block's end
            held.append(error)

    for signum in deferred:
        signal.signal(signum, run_now_raise_later)
    try:
        yield
    finally:
        for signum, handler in deferred.items():
            signal.signal(signum, handler)
        if held:
            raise held[0]


def wait_polled(futures: Iterable[Future], first: bool) -> tuple[set[Future], set[Future]]:
    """`concurrent.futures.wait` (for the first future to finish, or all), with stop signals
    acted on between polls of `POLL_S`: (done, not done)."""
    pending = set(futures)
    done: set[Future] = set()
    while pending:
        with signals_deferred():
            finished, pending = wait(pending, timeout=POLL_S, return_when=FIRST_COMPLETED if first else ALL_COMPLETED)
        done |= finished
        if first and done:
            break
    return done, pending


def result_polled(future: Future) -> Any:
    """`future.result()`, with stop signals acted on between polls of `POLL_S`."""
    wait_polled([future], first=False)
    with signals_deferred():
        return future.result()
