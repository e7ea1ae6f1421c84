"""NSGA-II through Optuna's multi-objective sampler, driven by ask/tell one generation at a time.

Each axis is an integer parameter (its choice index). Failed and infeasible points are told
as failed trials; constraint violations are attached with `Trial.set_constraint`, so the
sampler uses constrained domination. Optuna's NSGA-II is deterministic given its seed and the
sequence of ask/tell calls, so a resumed sweep, which replays finished points in the same
order, proposes the same generations.
"""

from __future__ import annotations

from collections.abc import Sequence

import optuna

from explorer.objectives import Objective
from explorer.space import DesignSpace
from explorer.strategies import Feedback, Indices, Strategy

MAX_ASKS_PER_POINT = 20
"""Stop after this many asks per budgeted point: the sampler keeps re-proposing known points."""


class Nsga2Strategy(Strategy):
    """One generation of `population` trials per batch."""

    def __init__(
        self,
        space: DesignSpace,
        objectives: tuple[Objective, ...],
        population: int,
        budget: int,
        seed: int,
    ) -> None:
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        sampler = optuna.samplers.NSGAIISampler(population_size=population, seed=seed)
        directions = [o.direction.value for o in objectives]
        self._study = optuna.create_study(directions=directions, sampler=sampler)
        self._space = space
        self._population = population
        self._asks_left = MAX_ASKS_PER_POINT * budget
        self._trials: list[optuna.trial.Trial] = []

    def propose(self) -> list[Indices]:
        count = min(self._population, self._asks_left)
        self._asks_left -= count
        self._trials = [self._study.ask() for _ in range(count)]
        return [
            tuple(trial.suggest_int(axis.name, 0, axis.size - 1) for axis in self._space.axes)
            for trial in self._trials
        ]

    def tell(self, batch: Sequence[Indices], feedback: Sequence[Feedback | None]) -> None:
        for trial, result in zip(self._trials, feedback):
            if result is None:
                continue
            if result.values is None:
                self._study.tell(trial, state=optuna.trial.TrialState.FAIL)
                continue
            for index, violation in enumerate(result.violations):
                trial.set_constraint(f"c{index}", violation)
            self._study.tell(trial, list(result.values))
