"""The generic sweep loop: propose a batch, evaluate what is new, record it, tell the strategy.

On resume the store hands back the journaled rows; a proposed point found there is replayed
(its row is reused, not evaluated again), so the strategy is told exactly what an
uninterrupted run would have told it, in the same order, and proposes the same next batch.
Points are identified by their deterministic id, so nothing is evaluated or recorded twice.

A strategy that proposes ahead (`Strategy.lookahead`, the learned surrogate) is asked for its
next batch on a second thread while the workers evaluate the current one, and is told the
current batch's results only after that proposal is made; the batch that spends the budget has
no successor to propose. The order of calls is the same whether results come from workers or
from the journal, so a resumed sweep still proposes what an uninterrupted one would; only the
time the strategy spends proposing is hidden.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Protocol

from explorer.evaluator import Evaluator, Outcome
from explorer.executors import Executor
from explorer.progress import NullProgress
from explorer.resolved import ResolvedPoints
from explorer.safe_points import result_polled, signals_deferred, wait_polled
from explorer.space import DesignSpace, Point
from explorer.spec import SweepSpec
from explorer.strategies import Feedback, Strategy
from explorer.table import Row


class RowSink(Protocol):
    """Where rows are recorded (`explorer.store`)."""

    def append(self, rows: list[Row]) -> None:
        """Record newly evaluated rows durably (in completion order)."""

    def resolved(self, rows: list[Row]) -> None:
        """Take note of a batch's resolved rows, new or replayed from the journal, in trial order:
        a store that keeps its rows on disk ignores them, so a long sweep's main process does not
        grow by a row a point."""


def feedback(row: Row, spec: SweepSpec) -> Feedback:
    """What a strategy is told about one row: objective values (None unless ok) and violations."""
    if row["status"] != "ok":
        return Feedback(values=None)
    values = tuple(float(o.values(row)) for o in spec.objectives)
    if not all(math.isfinite(v) for v in values):
        return Feedback(values=None)
    return Feedback(values=values, violations=tuple(c.violation(row) for c in spec.constraints))


def sweep_loop(
    space: DesignSpace,
    strategy: Strategy,
    evaluator: Evaluator,
    executor: Executor,
    journaled: dict[str, Row],
    sink: RowSink,
    progress: NullProgress,
    make_row: Callable[[Point, Outcome, int], Row],
) -> int:
    """Run until the budget is spent or the strategy stops; returns the points resolved. Rows
    go to `sink` (`append` the new ones, `resolved` every batch's in trial order); the loop
    keeps of each resolved point only what the strategy may be told again (its `Feedback`: a
    strategy may propose a point twice). `journaled` (rows of an earlier run by point id) is
    consumed: a row leaves it once replayed."""
    spec = space.spec
    resolved = ResolvedPoints(len(spec.objectives), len(spec.constraints))
    ahead = ThreadPoolExecutor(max_workers=1, thread_name_prefix="propose")
    following: Future | None = None  # the next batch, proposed while this one is evaluated
    try:
        while len(resolved) < spec.budget:
            batch = result_polled(following) if following is not None else strategy.propose()
            following = None
            if not batch:
                break
            points = [space.point(indices) for indices in batch]
            fresh: dict[str, Point] = {}
            for point in points:
                if point.point_id in resolved or point.point_id in fresh:
                    continue
                if len(resolved) + len(fresh) < spec.budget:
                    fresh[point.point_id] = point
            trial = {pid: len(resolved) + number for number, pid in enumerate(fresh)}
            rows = {pid: journaled.pop(pid) for pid in fresh if pid in journaled}
            progress.advance(list(rows.values()))
            to_run = [point for pid, point in fresh.items() if pid not in rows]
            if strategy.lookahead and len(resolved) + len(fresh) < spec.budget:  # a batch will follow
                with signals_deferred():  # calls into a pool: see explorer.safe_points
                    following = ahead.submit(strategy.propose)
            for results in executor.map(evaluator, to_run):
                new = [make_row(fresh[pid], outcome, trial[pid]) for pid, outcome in results]
                sink.append(new)
                progress.advance(new)
                rows.update((row["point_id"], row) for row in new)
            for pid in fresh:
                resolved.add(pid, feedback(rows[pid], spec))
            sink.resolved([rows[pid] for pid in fresh])
            if following is not None:
                wait_polled([following], first=False)  # told only once the next batch is chosen: the same order on resume
            strategy.tell(batch, [resolved.get(p.point_id) for p in points])
    finally:
        with signals_deferred():
            ahead.shutdown(wait=False, cancel_futures=True)  # an interrupted sweep does not wait for a proposal
    return len(resolved)
