"""The points a sweep has resolved and what each told its strategy, in a few bytes a point.

The sweep loop must remember every point it resolved, to evaluate none twice and to tell a
strategy that proposes a point again what it was told the first time (`Feedback`). As Python
objects that is about 300 bytes a point (the id string, the `Feedback`, its tuples and floats,
the dict slot): 60 MB over a 200,000-point sweep, the main process's only growth once rows
live on disk. Here a point costs its 64-bit id (a point id is 16 hex digits of a hash,
`space.point_id`, so the integer is the same identity), its objective values and constraint
violations as float64 and one flag, in numpy columns.
"""

from __future__ import annotations

import numpy as np

from explorer.strategies import Feedback

MERGE_EVERY = 4096
"""Ids added since the last merge are looked up in a dict; past this many they are merged
into the sorted id column (one argsort, amortised over the points added)."""


class ResolvedPoints:
    """Point id → the `Feedback` its strategy was told, for every resolved point (module doc)."""

    def __init__(self, objectives: int, constraints: int) -> None:
        self._count = 0
        self._ids = np.empty(0, dtype=np.uint64)
        self._ok = np.empty(0, dtype=bool)
        self._values = np.empty((0, objectives))
        self._violations = np.empty((0, constraints))
        self._sorted_ids = np.empty(0, dtype=np.uint64)
        self._sorted_slots = np.empty(0, dtype=np.int64)
        self._recent: dict[int, int] = {}

    def __len__(self) -> int:
        return self._count

    def __contains__(self, point_id: str) -> bool:
        return self._slot(int(point_id, 16)) is not None

    def add(self, point_id: str, feedback: Feedback) -> None:
        """Record a newly resolved point (one not resolved before)."""
        key = int(point_id, 16)
        if self._count == len(self._ids):
            self._grow()
        slot = self._count
        self._ids[slot] = key
        self._ok[slot] = feedback.values is not None
        if feedback.values is not None:
            self._values[slot] = feedback.values
            self._violations[slot] = feedback.violations
        self._count += 1
        self._recent[key] = slot
        if len(self._recent) >= MERGE_EVERY:
            self._merge()

    def get(self, point_id: str) -> Feedback | None:
        """What the point told its strategy, or None when it is not resolved."""
        slot = self._slot(int(point_id, 16))
        if slot is None:
            return None
        if not self._ok[slot]:
            return Feedback(values=None)
        return Feedback(values=tuple(self._values[slot].tolist()), violations=tuple(self._violations[slot].tolist()))

    def _slot(self, key: int) -> int | None:
        slot = self._recent.get(key)
        if slot is not None:
            return slot
        position = int(np.searchsorted(self._sorted_ids, np.uint64(key)))
        if position < len(self._sorted_ids) and int(self._sorted_ids[position]) == key:
            return int(self._sorted_slots[position])
        return None

    def _grow(self) -> None:
        capacity = max(2 * len(self._ids), MERGE_EVERY)
        self._ids = np.resize(self._ids, capacity)
        self._ok = np.resize(self._ok, capacity)
        self._values = np.resize(self._values, (capacity, self._values.shape[1]))
        self._violations = np.resize(self._violations, (capacity, self._violations.shape[1]))

    def _merge(self) -> None:
        ids = self._ids[: self._count]
        self._sorted_slots = np.argsort(ids, kind="stable")
        self._sorted_ids = ids[self._sorted_slots]
        self._recent = {}
