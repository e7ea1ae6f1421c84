"""Executors: run an evaluator over points on some workers, yielding results as chunks finish.

All executors share one interface, so the same sweep runs in-process, on local processes or
on a Dask cluster unchanged. Points travel in chunks (several points per task) to amortise
the per-task overhead; the evaluator travels with each chunk (it is small plain data), and
each worker process keeps its own caches of chip-independent compile work between chunks.
"""

from __future__ import annotations

import contextlib
import os
import threading
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, InvalidStateError, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from explorer.affinity import Affinity, ChunkQueues, chunked
from explorer.evaluator import Evaluator, Outcome, evaluate_chunk
from explorer.executor_kind import ExecutorKind
from explorer.fork_server import start_fork_server
from explorer.process_lifetime import worker_started
from explorer.safe_points import signals_deferred, wait_polled
from explorer.space import DesignSpace, Point

Results = list[tuple[str, Outcome]]


WORKERS_DIED = (
    "a sweep worker process died. Points already journaled are kept: rerun the same command to "
    "resume. If explorer.run_sweep is called from a script, the call must sit under "
    "`if __name__ == '__main__':`, because worker processes re-import the script that started "
    "them (or pass executor='serial')."
)
"""Why a local sweep stopped when a worker process vanished (killed, out of memory, or a
script without a main guard re-running itself in every worker)."""


def default_workers() -> int:
    """All cores this process may use."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


class Executor(ABC):
    """Evaluates points on workers; a context manager owning the workers."""

    workers: int

    def __enter__(self) -> "Executor":
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    @abstractmethod
    def map(self, evaluator: Evaluator, points: Sequence[Point]) -> Iterator[Results]:
        """Evaluate every point; yield (point_id, outcome) lists in completion order."""

    def check(self, evaluator: Evaluator, space: DesignSpace) -> None:
        """`evaluator.check(space)`, before any point runs (its InputError stops the sweep):
        in this process, unless the executor's workers can run it."""
        evaluator.check(space)


class SerialExecutor(Executor):
    """In this process, one chunk after another (debugging, tests, the overhead baseline)."""

    workers = 1

    def map(self, evaluator: Evaluator, points: Sequence[Point]) -> Iterator[Results]:
        for chunk in chunked(points, 1):
            yield evaluate_chunk(evaluator, chunk)


class LocalExecutor(Executor):
    """Worker processes on this machine, started once per sweep ('forkserver', whose server
    preloads `fork_server.WORKER_PRELOAD`), each in a pool of its own so that points of one
    array go to the worker that has its caches (`explorer.affinity`). Workers ignore Ctrl-C
    and die with the fork server, which dies with this process (`explorer.process_lifetime`)."""

    IN_FLIGHT = 2
    """Chunks handed to each worker at a time: the next is queued while one runs, so a
    worker does not wait for this process between chunks."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self._pools: list[ProcessPoolExecutor] = []
        self._quiet: contextlib.ExitStack | None = None
        self._affinity = Affinity(workers)

    def __enter__(self) -> "LocalExecutor":
        context = start_fork_server()
        self._quiet = contextlib.ExitStack()
        for _ in range(self.workers):
            pool = ProcessPoolExecutor(max_workers=1, mp_context=context, initializer=worker_started, initargs=(os.getpid(),))
            self._pools.append(pool)
            self._quiet.enter_context(_quiet_cancelled_race(pool))
        return self

    def __exit__(self, exc_type: type[BaseException] | None, *exc: object) -> None:
        if not self._pools:
            return
        assert self._quiet is not None
        with self._quiet, signals_deferred():
            if exc_type is not None:
                # Interrupted or failing: stop now rather than wait for the chunks in flight
                # (their points are not journaled yet and run again on resume).
                for pool in self._pools:
                    for process in list((pool._processes or {}).values()):  # no public API before 3.14
                        process.kill()
            for pool in self._pools:
                pool.shutdown(wait=True, cancel_futures=True)
        self._pools = []

    def check(self, evaluator: Evaluator, space: DesignSpace) -> None:
        """`evaluator.check(space)` in every worker at once, before any point runs. The check
        loads, lowers and compiles the sweep's models, which each worker needs for its points
        anyway (its lowered networks, any Numba kernel the fork server's warm-up did not load):
        the workers start their first points warm, and this process loads none of it. The
        first worker's error is raised here."""
        assert self._pools, "use LocalExecutor as a context manager"
        with signals_deferred():  # every call into a pool: see explorer.safe_points
            checks = [pool.submit(evaluator.check, space) for pool in self._pools]
        wait_polled(checks, first=False)
        for check in checks:
            try:
                with signals_deferred():
                    check.result()
            except BrokenProcessPool as error:
                raise RuntimeError(WORKERS_DIED) from error

    def map(self, evaluator: Evaluator, points: Sequence[Point]) -> Iterator[Results]:
        assert self._pools, "use LocalExecutor as a context manager"
        queues = ChunkQueues(self._affinity.deal(points))
        running: dict[Future, int] = {}  # chunk -> the worker evaluating it

        def hand(worker: int) -> None:
            """Give `worker` its next chunk, if any is left."""
            chunk = queues.next_for(worker)
            if chunk is not None:
                with signals_deferred():  # every call into a pool: see explorer.safe_points
                    running[self._pools[worker].submit(evaluate_chunk, evaluator, chunk)] = worker

        try:
            for worker in range(self.workers):
                for _ in range(self.IN_FLIGHT):
                    hand(worker)
            while running:
                done, _ = wait_polled(list(running), first=True)
                for future in done:
                    worker = running.pop(future)
                    try:
                        with signals_deferred():
                            results = future.result()
                    except BrokenProcessPool as error:
                        raise RuntimeError(WORKERS_DIED) from error
                    hand(worker)
                    yield results
        finally:
            with signals_deferred():
                for future in running:
                    future.cancel()


@contextlib.contextmanager
def _quiet_cancelled_race(pool: ProcessPoolExecutor) -> Iterator[None]:
    """Silence one known CPython 3.11 race while a pool is torn down: when its workers die,
    the pool's manager thread sets `BrokenProcessPool` on every pending future, and one that
    `map` has just cancelled raises `InvalidStateError` in that thread, which Python prints
    as a traceback (CPython gh-107219, fixed in 3.12 by ignoring it). The race can fire from
    the moment `map` cancels (a SIGTERM to the process group kills the workers while this
    process is still unwinding), so the hook covers the pool's whole life. Other exceptions
    of any thread are reported as before; the hook is restored once the pool has shut down."""
    previous = threading.excepthook

    def hook(args: threading.ExceptHookArgs) -> None:
        manager = pool._executor_manager_thread  # no public API; started by the first submit
        if not (args.thread is manager and args.exc_type is InvalidStateError):
            previous(args)

    threading.excepthook = hook
    try:
        yield
    finally:
        threading.excepthook = previous


def make_executor(kind: ExecutorKind, workers: int | None, scheduler_address: str | None = None) -> Executor:
    """The executor a sweep asked for (`workers` None = all cores)."""
    count = workers or default_workers()
    if kind is ExecutorKind.DASK:
        from explorer.dask_executor import DaskExecutor  # only this executor needs distributed

        return DaskExecutor(count, scheduler_address)
    if kind is ExecutorKind.SERIAL:
        return SerialExecutor()
    return LocalExecutor(count)
