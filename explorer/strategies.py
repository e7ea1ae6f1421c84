"""Search strategies: propose batches of points, be told their results (TVM Tuner style).

A strategy works on index vectors of a `DesignSpace` (one index per axis). Each call to
`propose` returns the next batch; `tell` receives the results of that batch in the same
order. A strategy's proposals depend only on its seed and on what it was told, which is what
makes a resumed sweep propose exactly what an uninterrupted one would: the sweep loop replays
finished points from the journal instead of evaluating them again, and tells the strategy the
same results in the same order.

grid, random and lhs do not adapt: they propose their points in order, a few thousand per
batch (a grid is enumerated lazily, so its size does not matter); NSGA-II
(`explorer.nsga2`) proposes one generation at a time, and the learned surrogate
(`explorer.surrogate`) one model-guided batch at a time.
"""

from __future__ import annotations

import itertools
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from explorer.evaluator import Evaluator
from explorer.space import DesignSpace
from explorer.spec import StrategyKind, SweepSpec

Indices = tuple[int, ...]


@dataclass(frozen=True)
class Feedback:
    """What a strategy learns about one proposed point.

    `values` are the objectives in natural units (None when the point is infeasible or
    failed); `violations` the constraint violations, ≤ 0 where satisfied.
    """

    values: tuple[float, ...] | None
    violations: tuple[float, ...] = ()


class Strategy(ABC):
    """Proposes batches of index vectors and learns from their results."""

    @abstractmethod
    def propose(self) -> list[Indices]:
        """The next batch; an empty list when the strategy has nothing more to propose."""

    @property
    def lookahead(self) -> int:
        """Batches proposed but not yet told when `propose` is next called: 0, the sweep loop
        tells each batch before asking for the next; 1, it asks for the next batch while the
        current one is evaluated, then tells the current one (`explorer.loop`). A strategy
        may change it as it learns; it must depend only on what it was told."""
        return 0

    def tell(self, batch: Sequence[Indices], feedback: Sequence[Feedback | None]) -> None:
        """Results of the oldest batch not yet told, in order (None for points not evaluated:
        over budget)."""

    def model_records(self) -> pd.DataFrame | None:
        """A learned strategy's predicted-vs-simulated records (`explorer.model_quality`); None here."""
        return None


BATCH_POINTS = 4096
"""Most points a non-adaptive strategy proposes at once: a grid of 10^12 points is walked
lazily, a few thousand index vectors at a time, never listed whole."""


class _Fixed(Strategy):
    """A strategy whose proposals do not depend on results: its points, `BATCH_POINTS` at a time."""

    def __init__(self, space: DesignSpace, budget: int, seed: int) -> None:
        self.space, self.budget, self.seed = space, budget, seed
        self._points: Iterator[Indices] | None = None

    def propose(self) -> list[Indices]:
        if self._points is None:
            self._points = self._all()
        return list(itertools.islice(self._points, BATCH_POINTS))

    @abstractmethod
    def _all(self) -> Iterator[Indices]:
        """Every point this strategy will propose, in order, produced lazily."""


class GridStrategy(_Fixed):
    """Every point of the space in row-major order (last axis fastest), up to the budget."""

    def _all(self) -> Iterator[Indices]:
        ranges = [range(axis.size) for axis in self.space.axes]
        return itertools.islice(itertools.product(*ranges), self.budget)


class RandomStrategy(_Fixed):
    """`budget` distinct points drawn uniformly without replacement."""

    def _all(self) -> Iterator[Indices]:
        rng = np.random.default_rng(self.seed)
        return iter(_distinct_random(self.space, self.budget, rng, []))


class LatinHypercubeStrategy(_Fixed):
    """Latin hypercube over axis indices: each axis's choices are covered evenly.

    Each axis's unit interval is cut into `budget` strata, one sample per stratum, shuffled
    independently per axis, then mapped to a choice. Where a small space makes samples
    coincide, duplicates are dropped and the rest is filled with distinct random points.
    """

    def _all(self) -> Iterator[Indices]:
        rng = np.random.default_rng(self.seed)
        n = self.budget
        columns = []
        for axis in self.space.axes:
            strata = (rng.permutation(n) + rng.random(n)) / n
            columns.append(np.minimum((strata * axis.size).astype(np.int64), axis.size - 1))
        samples = list(dict.fromkeys(tuple(int(v) for v in row) for row in np.column_stack(columns)))
        return iter(samples + _distinct_random(self.space, n - len(samples), rng, samples))


def _distinct_random(space: DesignSpace, count: int, rng: np.random.Generator, taken: list[Indices]) -> list[Indices]:
    """`count` random index vectors, distinct from each other and from `taken`."""
    if count <= 0:
        return []
    seen = set(taken)
    if count + len(seen) >= space.size:  # (nearly) the whole space: shuffle it
        everything = list(itertools.product(*(range(a.size) for a in space.axes)))
        order = rng.permutation(len(everything))
        return [everything[i] for i in order if everything[i] not in seen][:count]
    sizes = np.array([axis.size for axis in space.axes])
    found: list[Indices] = []
    while len(found) < count:
        for row in rng.integers(0, sizes, size=(2 * (count - len(found)), len(sizes))):
            candidate = tuple(int(v) for v in row)
            if candidate not in seen:
                seen.add(candidate)
                found.append(candidate)
                if len(found) == count:
                    break
    return found


def make_strategy(spec: SweepSpec, space: DesignSpace, evaluator: Evaluator | None = None) -> Strategy:
    """The strategy a spec names, seeded by the spec; a learned one takes the metrics that
    `evaluator` computes without simulating (`Evaluator.analytic`)."""
    if spec.strategy is StrategyKind.NSGA2:
        from explorer.nsga2 import Nsga2Strategy  # only this strategy needs optuna

        return Nsga2Strategy(space, spec.objectives, spec.population, spec.budget, spec.seed)
    if spec.strategy is StrategyKind.SURROGATE:
        from explorer.surrogate import make_surrogate  # only this strategy needs xgboost and the compiler

        return make_surrogate(spec, space, evaluator.analytic if evaluator is not None else None)
    kinds = {StrategyKind.GRID: GridStrategy, StrategyKind.RANDOM: RandomStrategy, StrategyKind.LHS: LatinHypercubeStrategy}
    return kinds[spec.strategy](space, spec.budget, spec.seed)
