"""Content-keyed memos of scheduling decisions, so sweep points that share them skip the search.

A sweep evaluates many chips that differ in a few fields. A layer's schedule is a pure
function of exactly these inputs, and `schedule_key` spells out every one of them
(tinygrad's `to_program_key` rule: a key that omits an input is a bug):

  - the search space (`SchedulerKind`) and the goal its finalists are measured on
    (`objective.Goal`: the objective, and the energies it prices events by; None when the
    estimate alone picks);
  - the workload's shape: every field scheduling or codegen reads, not its name and not
    the room kept tensors take (`Workload.shape_key`);
  - the target machine, which the estimate reads and the measure step simulates, except
    buffer capacities (`Target.key_without_capacity`);
  - for each candidate of the space, whether it fits the buffers and whether it spills
    partial sums (a vector workload's: whether it slices its constants): the only ways
    capacities enter the search (fits selects the candidates, spill changes their traffic
    and their code). Chips, and layers of one network, that differ only in capacities or
    kept room the layer's candidates do not notice share the entry.

A search that falls back to another space when no candidate fits depends on fits it did
not record, so it is never memoised. The memo lives as long as the process (one sweep
worker) and is bounded (least recently used entries go first).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable
from typing import Generic, TypeVar

import numpy as np

from compiler.scheduling.flags_kernel import MAX_ROWS, tiling_words
from compiler.scheduling.objective import Goal
from compiler.scheduling.schedule import LayerSchedule, SchedulerKind
from compiler.target import Target
from compiler.workload import Workload

V = TypeVar("V")


class BoundedCache(Generic[V]):
    """A least-recently-used mapping holding at most `capacity` units of `cost`."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._entries: OrderedDict[Hashable, tuple[V, int]] = OrderedDict()
        self._used = 0

    def get(self, key: Hashable) -> V | None:
        """The value stored under `key` (now the most recently used), or None."""
        entry = self._entries.get(key)
        if entry is None:
            return None
        self._entries.move_to_end(key)
        return entry[0]

    def put(self, key: Hashable, value: V, cost: int = 1) -> None:
        """Store `value`; one costing more than the whole capacity is not kept."""
        if cost > self.capacity:
            return
        previous = self._entries.pop(key, None)
        if previous is not None:
            self._used -= previous[1]
        self._entries[key] = (value, cost)
        self._used += cost
        while self._used > self.capacity:
            _, (_, dropped) = self._entries.popitem(last=False)
            self._used -= dropped

    def clear(self) -> None:
        self._entries.clear()
        self._used = 0

    def __len__(self) -> int:
        return len(self._entries)


SCHEDULES: BoundedCache[LayerSchedule] = BoundedCache(capacity=65536)
"""Chosen schedules by `schedule_key` (a few hundred bytes of key each)."""


def schedule_key(kind: SchedulerKind, shape: tuple, chip: Target, flags: tuple, goal: Goal | None) -> tuple:
    """The key of a layer's chosen schedule (module doc); `flags`: the fit and spill flags of
    every candidate of the space searched (`candidate_flags`)."""
    goal_key = None if goal is None else goal.key()
    return (kind, shape, chip.key_without_capacity, goal_key, flags)


def candidate_flags(fits: np.ndarray, spill: np.ndarray, sizes: np.ndarray) -> list[tuple]:
    """The fit and spill flags of the candidates of each of several spaces, packed, as a memo
    key holds them: `fits` and `spill` are (..., candidates) with the spaces one after
    another on the last axis, `sizes` candidates each (one space: its candidates). Each
    candidate's flags are one word (`flags_kernel.tiling_words`), of which a key keeps the
    fewest bytes that hold them, little-endian (two for a HEURISTIC space's six arrangements,
    as packing the bits did: `SCHEDULES` holds 65,536 keys), so a space's are the bytes of a
    slice of one array packed once."""
    fits, spill = (np.reshape(flags, (-1, np.shape(flags)[-1])).astype(bool, copy=False) for flags in (fits, spill))
    if len(fits) > MAX_ROWS:
        raise ValueError(f"{len(fits)} rows of flags per candidate; a memo key packs at most {MAX_ROWS}")
    words = tiling_words(np.ascontiguousarray(fits), np.ascontiguousarray(spill))
    packed = words.astype(next(width for width in _WORD_WIDTHS if width.itemsize * 8 >= 2 * len(fits)))
    ends = np.cumsum(sizes).tolist()
    return [(len(fits), packed[end - size : end].tobytes()) for end, size in zip(ends, np.asarray(sizes).tolist())]


_WORD_WIDTHS = tuple(np.dtype(name) for name in ("<u1", "<u2", "<u4", "<u8"))
"""The unsigned integers a candidate's flags are kept in, narrowest first."""


def layer_key(workload: Workload) -> tuple:
    """`Workload.shape_key` and the bytes kept tensors reserve (`Workload.reserved`): layers
    equal on it get the same schedule."""
    return (workload.shape_key, workload.reserved)
