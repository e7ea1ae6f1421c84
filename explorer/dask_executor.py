"""Evaluate points on a Dask cluster: a LocalCluster of worker processes, or an existing one.

The evaluator is scattered to every worker once; each chunk of points is one task. An
existing cluster (``--scheduler-address tcp://host:port``) must run the same Tessera version
(its workers import `explorer`). Before the client connects, the address is asked who it is
under a hard timeout, so an address where nothing answers, where something else answers (a web
server), or where a port accepts and then stays silent is exit 2 within `CONNECT_TIMEOUT_S`
(the client itself would wait forever); a scheduler with no worker is given as long to get
one. A scheduler lost mid-sweep is exit 2 too: the finished points are journaled.

A local cluster's workers start without the allocator setting Dask's nannies give them
(`_local_worker_environ`: it makes a compile about half as slow again). The workers of an
existing cluster are started by its owner; start them without it too (`dask worker
--no-nanny`, or a Dask configuration whose `distributed.nanny.pre-spawn-environ` leaves out
MALLOC_TRIM_THRESHOLD_).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import CancelledError
from typing import Any

import dask
from distributed import Client, Future, LocalCluster, as_completed
from distributed.comm import CommClosedError, connect

from explorer.evaluator import Evaluator, evaluate_chunk
from explorer.affinity import chunked
from explorer.executors import Executor, Results
from explorer.process_lifetime import interrupts_blocked
from explorer.safe_points import signals_deferred
from explorer.space import Point
from tessera.errors import InputError, Problem

CONNECT_TIMEOUT_S = 10
"""How long a scheduler has to answer, and to have at least one worker."""
READY_POLL_S = 0.01
"""How often `map` looks for finished chunks. It sleeps in between rather than block in the
client's own wait, so that a stop signal lands outside every call into the client
(`explorer.safe_points`). The workers' queued tasks run on meanwhile; the 10 ms is a
delay in reading a result, about 1 % of a 16-point MobileNetV2 chunk (~0.8 s)."""


def _local_worker_environ() -> dict[str, object]:
    """The environment Dask's nannies set before starting a local cluster's workers, less
    `MALLOC_TRIM_THRESHOLD_`.

    Dask sets that variable (65536) so that workers return freed memory to the system sooner.
    Setting glibc's trim threshold also turns off its dynamic mmap threshold (glibc manual,
    "Malloc Tunable Parameters": the thresholds adapt to the program only while unset;
    `do_set_trim_threshold` in glibc's malloc.c sets `no_dyn_threshold`), so every array
    above 128 KiB is mapped and unmapped again at each allocation, page faults included, and
    a compile allocates many such temporaries. Measured on never-seen MobileNetV2 chips (40
    points, CPU time a point): 72.7 ms in one process with the variable set, 49.8 ms without;
    in a Dask worker 77 and 54 ms (two runs) with it, 48 and 46 ms without. The local
    executor's workers run with glibc's defaults, and so do these."""
    environ = dict(dask.config.get("distributed.nanny.pre-spawn-environ"))
    environ.pop("MALLOC_TRIM_THRESHOLD_", None)
    return environ


def _dask_loggers() -> list[logging.Logger]:
    """distributed's loggers (each sets its own level, so the parent's does not reach them)."""
    names = [name for name in logging.root.manager.loggerDict if name == "distributed" or name.startswith("distributed.")]
    return [logging.getLogger(name) for name in ("distributed", "distributed.client", *names)]


class DaskExecutor(Executor):
    """Chunks of points as Dask tasks, results yielded as they complete."""

    def __init__(self, workers: int, scheduler_address: str | None = None) -> None:
        self.workers = workers
        self.scheduler_address = scheduler_address
        self._cluster: LocalCluster | None = None
        self._client: Client | None = None
        self._shared: tuple[Evaluator, Future] | None = None
        self._log_levels: dict[logging.Logger, int] = {}

    def __enter__(self) -> "DaskExecutor":
        # distributed logs a lost scheduler with tracebacks at ERROR; the sweep reports it itself
        self._log_levels = {logger: logger.level for logger in _dask_loggers()}
        for logger in self._log_levels:
            logger.setLevel(logging.CRITICAL)
        try:
            self._connect()
        except BaseException:
            self.__exit__(None)
            raise
        return self

    def _connect(self) -> None:
        if self.scheduler_address:
            identity = _identify(self.scheduler_address)
            if identity.get("type") != "Scheduler":
                raise self._problem(f"the server there is not a Dask scheduler (it says it is {identity.get('type')!r})")
            self._client = Client(self.scheduler_address, timeout=CONNECT_TIMEOUT_S)
            try:
                self._client.wait_for_workers(1, timeout=CONNECT_TIMEOUT_S)
            except TimeoutError:
                raise self._problem(f"the Dask scheduler has no worker (none joined within {CONNECT_TIMEOUT_S} s); "
                                    f"start some with `dask worker {self.scheduler_address}`") from None
            self.workers = max(1, len(self._client.scheduler_info().get("workers", {})))
        else:
            # its processes hold Ctrl-C off (`explorer.process_lifetime`): stopping is this process's job
            with interrupts_blocked(), dask.config.set({"distributed.nanny.pre-spawn-environ": _local_worker_environ()}):
                self._cluster = LocalCluster(
                    n_workers=self.workers,
                    threads_per_worker=1,
                    processes=True,
                    dashboard_address=None,
                    silence_logs=logging.ERROR,
                )
            self._client = Client(self._cluster)

    def __exit__(self, *exc: object) -> None:
        self._shared = None
        if self._client is not None:
            self._client.close()
            self._client = None
        if self._cluster is not None:
            self._cluster.close()
            self._cluster = None
        for logger, level in self._log_levels.items():
            logger.setLevel(level)

    def map(self, evaluator: Evaluator, points: Sequence[Point]) -> Iterator[Results]:
        assert self._client is not None, "use DaskExecutor as a context manager"
        futures: list[Future] = []
        try:
            with signals_deferred():  # every call into the client: see explorer.safe_points
                shared = self._scattered(evaluator)
                futures = [
                    self._client.submit(evaluate_chunk, shared, list(chunk), pure=False)
                    for chunk in chunked(points, self.workers)
                ]
                completed = as_completed(futures)
            while True:
                with signals_deferred():
                    ready = completed.next_batch(block=False)
                    finished = not ready and completed.is_empty()
                    results = [future.result() for future in ready]
                if finished:
                    break
                yield from results
                if not ready:
                    time.sleep(READY_POLL_S)
        except (CancelledError, CommClosedError, OSError) as error:
            detail = " ".join(str(error).split())  # distributed's messages span lines
            raise self._problem(f"lost the Dask scheduler mid-sweep ({type(error).__name__}: {detail}); the "
                                "finished points are journaled: rerun the same command to resume") from None
        finally:
            with signals_deferred():
                for future in futures:
                    future.cancel()

    def _problem(self, message: str) -> InputError:
        where = self.scheduler_address or "the local Dask cluster"
        return InputError(where, Problem("--scheduler-address" if self.scheduler_address else "--executor", message))

    def _scattered(self, evaluator: Evaluator) -> Future:
        """The evaluator on every worker, scattered once per sweep and held until the end.

        Scattering equal data again gives the same key; if each `map` scattered its own copy,
        dropping the previous call's future would release that key on the scheduler while the
        next batch's tasks depend on it ("lost dependencies", seen with NSGA-II generations).
        """
        assert self._client is not None
        if self._shared is None or self._shared[0] is not evaluator:
            self._shared = (evaluator, self._client.scatter(evaluator, broadcast=True))
        return self._shared[1]


def _identify(address: str) -> dict[str, Any]:
    """What the server at `address` says it is (Dask's ``identity`` call), within the timeout."""

    async def ask() -> dict[str, Any]:
        comm = await connect(address, timeout=CONNECT_TIMEOUT_S)
        try:
            await comm.write({"op": "identity", "reply": True})
            return await comm.read()
        finally:
            await comm.close()

    try:
        answer = asyncio.run(asyncio.wait_for(ask(), CONNECT_TIMEOUT_S))
    except (OSError, TimeoutError, ValueError, TypeError, CommClosedError) as error:
        detail = f" ({type(error).__name__}: {error})" if str(error) else ""
        message = f"cannot connect: no Dask scheduler answered at this address within {CONNECT_TIMEOUT_S} s{detail}"
        raise InputError(address, Problem("--scheduler-address", message)) from None
    return answer if isinstance(answer, dict) else {}
