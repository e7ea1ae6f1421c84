"""Which local worker evaluates which points: points of one chip array on one worker.

Each worker process keeps per-process caches of what does not depend on the swept
capacities and bandwidth: a GEMM shape's tilings and estimate terms per array
(`compiler.scheduling.batched.SPACES`), layer code (`compiler.codegen.memo.CODE`), fused
chains' packings. A point on an array its worker has seen costs about a quarter less than
one on a new array (MobileNetV2 on the edge chip, 2026-12-05: 21–23 ms against 29 ms a
point). Points dealt to workers in turn make each of two workers see every array, so each
pays for twice as many new arrays as one worker would. Here a point goes to the worker
that already has its `locality` (its model and array), kept across the batches of a sweep,
and a new one to the least loaded worker, never past an equal share of the batch;
`ChunkQueues` then lets an idle worker take the smallest chunks left to another, so the
workers finish together whatever the deal.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Hashable, Sequence

from explorer.space import Point

MAX_CHUNK = 16
"""Upper bound of points per task: keeps progress and journal writes frequent."""

ARRAY_PREFIX = "matrix."
"""Chip paths that set the array (rows, columns, dataflows, precisions): what the per-shape
caches are keyed by, beside the model."""


def locality(point: Point) -> Hashable:
    """What a point shares with the points whose caches it reuses: its model as compiled
    (spec, batch, precision, timing) and its array (every `matrix.*` field it sets)."""
    array = tuple((path, value) for path, value in point.overrides if path.startswith(ARRAY_PREFIX))
    return point.model, point.batch, point.precision, point.timing, array


def chunked(points: Sequence[Point], workers: int) -> list[Sequence[Point]]:
    """Split points into chunks, in order, of at most MAX_CHUNK points, each a quarter of
    what is left per worker: chunks shrink towards the end (guided self-scheduling,
    Polychronopoulos and Kuck, IEEE Trans. Computers 36(12), 1987), so the last ones are
    single points and the workers finish together. Equal chunks left one worker idle while
    the other ran the batch's last chunk, up to MAX_CHUNK points."""
    chunks: list[Sequence[Point]] = []
    start, share = 0, 4 * max(1, workers)
    while start < len(points):
        size = max(1, min(MAX_CHUNK, math.ceil((len(points) - start) / share)))
        chunks.append(points[start : start + size])
        start += size
    return chunks


class Affinity:
    """The worker each locality was dealt to, kept for a sweep's later batches."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self._home: dict[Hashable, int] = {}

    def deal(self, points: Sequence[Point]) -> list[list[Point]]:
        """Each worker's points, in batch order within a locality: a locality goes to its
        home worker, a new one (largest first) to the least loaded; no worker gets more than
        an equal share (rounded up), the rest of a locality going to the next least loaded."""
        groups: dict[Hashable, list[Point]] = {}
        for point in points:
            groups.setdefault(locality(point), []).append(point)
        share = math.ceil(len(points) / self.workers)
        dealt: list[list[Point]] = [[] for _ in range(self.workers)]
        homed = [key for key in groups if key in self._home]
        new = sorted((key for key in groups if key not in self._home), key=lambda key: -len(groups[key]))
        for key in homed + new:
            left = groups[key]
            home = self._home.get(key)
            while left:
                worker = home if home is not None and len(dealt[home]) < share else _least_loaded(dealt)
                self._home.setdefault(key, worker)
                room = share - len(dealt[worker])
                dealt[worker].extend(left[:room])
                left = left[room:]
        return dealt


def _least_loaded(dealt: list[list[Point]]) -> int:
    """The worker with the fewest points (the first of equals)."""
    return min(range(len(dealt)), key=lambda worker: len(dealt[worker]))


class ChunkQueues:
    """Each worker's points as guided chunks (`chunked`), handed out one at a time: a worker
    takes its own next chunk, or, with none left, the last (smallest) chunk of the worker
    with the most points left."""

    def __init__(self, dealt: Sequence[Sequence[Point]]) -> None:
        self._queues = [deque(chunked(points, 1)) for points in dealt]
        self._left = [len(points) for points in dealt]

    def next_for(self, worker: int) -> Sequence[Point] | None:
        """The next chunk `worker` evaluates, or None when every chunk is out."""
        if self._queues[worker]:
            chunk = self._queues[worker].popleft()
            self._left[worker] -= len(chunk)
            return chunk
        donor = max(range(len(self._queues)), key=lambda other: self._left[other])
        if not self._queues[donor]:
            return None
        chunk = self._queues[donor].pop()
        self._left[donor] -= len(chunk)
        return chunk
