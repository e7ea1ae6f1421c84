"""Run by a sweep's fork server at start-up, before it forks any worker.

It is first in `explorer.executors`' preload list, so the fork server imports it as it
starts: from then on the fork server ignores Ctrl-C and is SIGKILLed when the sweep's main
process dies, taking its workers with it (`explorer.process_lifetime`). Imported in any
other process it does nothing: only a process started as a fork server is tied to its parent.
"""

import sys

from explorer.process_lifetime import die_with_parent, ignore_interrupts


def is_fork_server() -> bool:
    """Whether this process was started as a multiprocessing fork server."""
    return any("multiprocessing.forkserver import main" in arg for arg in sys.orig_argv)


if is_fork_server():
    ignore_interrupts()
    die_with_parent()
