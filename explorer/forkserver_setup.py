"""Run by a sweep's fork server at start-up, before it forks any worker.

It is first in `explorer.executors`' preload list, so the fork server imports it as it
starts: from then on the fork server ignores Ctrl-C and is SIGKILLed when the sweep's main
process dies, taking its workers with it (`explorer.process_lifetime`). Imported in any
other process it does nothing: only a process started as a fork server is tied to its parent.
"""

import sys
from types import TracebackType

from explorer.process_lifetime import die_with_parent, ignore_interrupts


def is_fork_server() -> bool:
    """Whether this process was started as a multiprocessing fork server."""
    return any("multiprocessing.forkserver import main" in arg for arg in sys.orig_argv)


def report_failed_start(kind: type[BaseException], error: BaseException, _: TracebackType | None) -> None:
    """How a worker that dies before it runs reports it: one line. Such a death happens when the
    sweep stops while the worker is being forked (its pool's queues are gone before it reads
    them), and the fork server would print a traceback into the terminal of a clean stop."""
    print(f"tessera: a sweep worker did not start ({kind.__name__}: {error})", file=sys.stderr)


if is_fork_server():
    ignore_interrupts()
    die_with_parent()
    sys.excepthook = report_failed_start  # inherited by every worker it forks
