"""Evaluate points on a Dask cluster: a LocalCluster of worker processes, or an existing one.

The evaluator is scattered to every worker once; each chunk of points is one task. An
existing cluster (``--scheduler-address tcp://host:port``) must run the same Tessera version
(its workers import `explorer`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence

from distributed import Client, Future, LocalCluster, as_completed

from explorer.evaluator import Evaluator, evaluate_chunk
from explorer.executors import Executor, Results, chunked
from explorer.space import Point
from tessera.errors import InputError, Problem

CONNECT_TIMEOUT_S = 10


class DaskExecutor(Executor):
    """Chunks of points as Dask tasks, results yielded as they complete."""

    def __init__(self, workers: int, scheduler_address: str | None = None) -> None:
        self.workers = workers
        self.scheduler_address = scheduler_address
        self._cluster: LocalCluster | None = None
        self._client: Client | None = None
        self._shared: tuple[Evaluator, Future] | None = None

    def __enter__(self) -> "DaskExecutor":
        if self.scheduler_address:
            try:
                self._client = Client(self.scheduler_address, timeout=CONNECT_TIMEOUT_S)
            except (OSError, TimeoutError, ValueError) as error:
                raise InputError(
                    self.scheduler_address, Problem("--scheduler-address", f"cannot connect to the Dask scheduler: {error}")
                ) from None
            self.workers = max(1, len(self._client.scheduler_info().get("workers", {})))
        else:
            self._cluster = LocalCluster(
                n_workers=self.workers,
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
                silence_logs=logging.ERROR,
            )
            self._client = Client(self._cluster)
        return self

    def __exit__(self, *exc: object) -> None:
        self._shared = None
        if self._client is not None:
            self._client.close()
            self._client = None
        if self._cluster is not None:
            self._cluster.close()
            self._cluster = None

    def map(self, evaluator: Evaluator, points: Sequence[Point]) -> Iterator[Results]:
        assert self._client is not None, "use DaskExecutor as a context manager"
        shared = self._scattered(evaluator)
        futures = [
            self._client.submit(evaluate_chunk, shared, list(chunk), pure=False)
            for chunk in chunked(points, self.workers)
        ]
        try:
            for future in as_completed(futures):
                yield future.result()
        finally:
            for future in futures:
                future.cancel()

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
