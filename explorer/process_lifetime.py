"""Processes of a sweep end with the process that started them, however it ends.

A local sweep runs its workers under a fork server: the main process starts the fork server,
which forks the workers. Nothing in multiprocessing ties them to the main process: a worker
waits on its task queue forever, and the fork server lives as long as a worker holds its
"alive" pipe, so a SIGKILLed sweep left a fork server and its workers (hundreds of MB each)
running for minutes or for good. Here each link of the chain asks the kernel to kill it when
its parent dies (Linux ``prctl(PR_SET_PDEATHSIG, SIGKILL)``): the fork server when the main
process dies (`explorer.forkserver_setup`, which the fork server imports before anything
else), each worker when the fork server dies (`worker_started`, the pool's initializer).
Where prctl does not exist, a daemon thread polls the parent once a second instead.

Both also ignore SIGINT: Ctrl-C reaches every process of the terminal's foreground group,
and stopping the sweep is the main process's job (it stops the pool and flushes the journal).
The processes of a local Dask cluster (`explorer.dask_executor`) are started with SIGINT
blocked (`interrupts_blocked`) and keep it so: Dask's workers would otherwise print a
traceback of their own at every Ctrl-C.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import os
import signal
import threading
import time
from collections.abc import Iterator
from multiprocessing import resource_tracker

_PR_SET_PDEATHSIG = 1
"""prctl option: the signal this process receives when its parent thread exits
(linux/prctl.h; man 2 prctl)."""

POLL_S = 1.0
"""How often the fallback watcher checks that the parent still lives."""


def die_with_parent() -> None:
    """Be SIGKILLed when this process's parent exits.

    The kernel acts only on deaths after the request, so a parent already gone (this process
    reparented to init) means exiting now.
    """
    parent = os.getppid()
    if not _request_death_signal():
        threading.Thread(target=_watch, args=(parent,), name="tessera-parent-watch", daemon=True).start()
    if parent == 1 or os.getppid() != parent:
        os._exit(1)


@contextlib.contextmanager
def interrupts_blocked() -> Iterator[None]:
    """Block SIGINT in this thread for the block. A blocked signal stays blocked in threads
    started meanwhile and across fork and exec, so a process or thread the block starts holds
    Ctrl-C off from its first instant; this thread keeps its handler, and a Ctrl-C that lands
    meanwhile stays pending and is handled as the block ends. multiprocessing's resource
    tracker is started first, because its start unblocks SIGINT in this thread when done."""
    resource_tracker.ensure_running()
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def ignore_interrupts() -> None:
    """SIGINT is the main process's to handle (see the module docstring): ignored, which
    discards one already pending, then unblocked (a fork server starts with it blocked:
    `explorer.executors`)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})


def worker_started(main_pid: int) -> None:
    """Pool initializer of every local worker: ignore Ctrl-C, die with the fork server, and
    exit at once if the sweep's main process is already gone."""
    ignore_interrupts()
    die_with_parent()
    if not process_alive(main_pid):
        os._exit(1)


def _request_death_signal() -> bool:
    """Ask the kernel for SIGKILL when the parent dies; False where prctl is not available."""
    name = ctypes.util.find_library("c")
    if not name or not hasattr(os, "getppid"):
        return False
    try:
        libc = ctypes.CDLL(name, use_errno=True)
        return libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def _watch(parent_pid: int) -> None:
    while process_alive(parent_pid):
        time.sleep(POLL_S)
    os._exit(1)


def process_alive(pid: int) -> bool:
    """Whether a process with this pid exists on this host (owned by anyone)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by another user
        return True
    return True
