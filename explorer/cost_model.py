"""The cost-model interface (TVM autotvm / meta_schedule style) and a random baseline.

A cost model maps feature rows (an (n, d) float array from `explorer.features` or
`compiler.scheduling.schedule_features`) to one score per row: a predicted metric for a
regressor, a relevance score for a ranker (higher ranks first). Searches only rely on this
interface, so the XGBoost models (`explorer.xgboost_cost_model`, the only module that imports
xgboost) and `RandomModel` are interchangeable; `RandomModel` is the baseline a learned model
has to beat, as in meta_schedule's `random_model.py`.

`groups` gives, for a ranking model, the query each row belongs to (rows of one query are
ranked against each other: the candidate schedules of one layer on one chip); regressors
ignore it.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from pathlib import Path

import numpy as np


class CostModel(ABC):
    """Predicts a score per feature row from measured examples."""

    @abstractmethod
    def fit(self, features: np.ndarray, targets: np.ndarray, groups: np.ndarray | None = None) -> None:
        """Train from scratch on (n, d) `features` and (n,) `targets`."""

    @abstractmethod
    def update(self, features: np.ndarray, targets: np.ndarray, groups: np.ndarray | None = None) -> None:
        """Add examples and retrain on everything seen so far."""

    @abstractmethod
    def predict(self, features: np.ndarray) -> np.ndarray:
        """(n,) float64 scores of (n, d) `features`."""

    @abstractmethod
    def save(self, path: str | Path) -> None:
        """Write the trained model to `path` (a JSON document)."""

    @classmethod
    @abstractmethod
    def load(cls, path: str | Path) -> "CostModel":
        """A model written by `save`."""


class RandomModel(CostModel):
    """Scores drawn uniformly from [0, 1), seeded: what a search does without a model.

    The generator is re-seeded on every `predict` call from the seed and the call count, so
    a replayed sequence of calls gives the same scores.
    """

    def __init__(self, seed: int = 0) -> None:
        self.seed = seed
        self._calls = 0

    def fit(self, features: np.ndarray, targets: np.ndarray, groups: np.ndarray | None = None) -> None:
        """Nothing to learn."""

    def update(self, features: np.ndarray, targets: np.ndarray, groups: np.ndarray | None = None) -> None:
        """Nothing to learn."""

    def predict(self, features: np.ndarray) -> np.ndarray:
        rng = np.random.default_rng([self.seed, self._calls])
        self._calls += 1
        return rng.random(len(features))

    def save(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps({"model": "random", "seed": self.seed}) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, path: str | Path) -> "RandomModel":
        document = json.loads(Path(path).read_text(encoding="utf-8"))
        if document.get("model") != "random":
            raise ValueError(f"{path} does not hold a random cost model")
        return cls(int(document["seed"]))
