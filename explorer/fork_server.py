"""The fork server local sweep workers are forked from (`executors.LocalExecutor`).

A module of its own, importing nothing of the sweep stack, so that `tessera sweep` can start
the server first: the server's imports then overlap this process's.
"""

from __future__ import annotations

import multiprocessing
from multiprocessing import forkserver

from explorer.process_lifetime import interrupts_blocked

WORKER_PRELOAD = ("explorer.forkserver_setup", "explorer.simulator_evaluator", "explorer.kernel_warmup")
"""Modules the fork server imports before forking any worker: first the one that ties it to
this process (`explorer.forkserver_setup`: it dies when this process dies), then the compile
and simulation stack, so that workers start with it imported (about 0.6 s of imports per
worker otherwise), then `explorer.kernel_warmup`, which loads the stack's Numba kernels
(0.12–0.15 s per worker otherwise). The fork server lives as long as this process: sweeps
run one after another (a Python loop over `run_sweep`) start their workers without
importing anything."""


def start_fork_server() -> multiprocessing.context.ForkServerContext:
    """Start the fork server of local workers now, from this thread, with SIGINT blocked while
    it starts (`process_lifetime.interrupts_blocked`), and return the context that forks from
    it. It starts in the background, so the second the server spends importing
    `WORKER_PRELOAD` overlaps this process's own work: `tessera sweep` calls this before it
    imports the sweep stack and reads the sweep file (`LocalExecutor` calls it again as it
    starts its workers, and finds it running; a sweep run from Python starts it there).

    The fork server (and every worker it forks) holds a Ctrl-C pending from its first instant
    until `explorer.forkserver_setup` ignores it, which discards it: a Ctrl-C in the second the
    fork server spends importing would otherwise print its traceback. This thread only blocks
    the signal, so one that lands during the spawn is handled as soon as the spawn returns
    (ignoring it instead lost it: a loaded machine spent long enough in the spawn for a sweep
    to run on to the end and exit 0). Starting the fork server here also makes this thread its
    parent, the one whose death it follows.
    """
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload([*WORKER_PRELOAD, "__main__"])  # __main__: the default
    with interrupts_blocked():
        forkserver.ensure_running()
    return context
