"""XGBoost cost models: the only module of Tessera that imports xgboost.

One class, `XGBoostModel`, for the three learning tasks the searches need, keyed by `Task`:

- REGRESSION (``reg:squarederror``): a metric, e.g. the log latency of a design point
  (`explorer.surrogate` fits one per objective, several with different seeds for an ensemble);
- CLASSIFICATION (``binary:logistic``): the probability that a point is feasible;
- RANKING (``rank:pairwise``, as autotvm's XGBoost tuner): which candidate schedule of a
  layer is faster; rows are compared only within their query (`groups`).

Training is deterministic: fixed seed, `nthread` threads (1 by default) and the CPU
histogram method, so the same examples give the same model in any process; that is what lets
a resumed surrogate sweep propose what an uninterrupted one would. Models are saved as
XGBoost's JSON with the task and parameters as booster attributes.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, replace
from enum import Enum
from pathlib import Path

import numpy as np
import xgboost

from explorer.cost_model import CostModel


class Task(Enum):
    """What the model learns, spelled as XGBoost's objective."""

    REGRESSION = "reg:squarederror"
    CLASSIFICATION = "binary:logistic"
    RANKING = "rank:pairwise"


@dataclass(frozen=True)
class BoostParams:
    """Booster settings (XGBoost names). Defaults suit a few hundred to a few thousand rows.

    `subsample` and `colsample` below 1 make models with different seeds differ, which is
    what an ensemble estimating uncertainty needs.
    """

    rounds: int = 200
    max_depth: int = 6
    eta: float = 0.1
    subsample: float = 1.0
    colsample: float = 1.0
    min_child_weight: float = 1.0
    seed: int = 0
    nthread: int = 1


class XGBoostModel(CostModel):
    """A gradient-boosted tree model for one `Task` (see the module docstring)."""

    def __init__(self, task: Task, params: BoostParams = BoostParams()) -> None:
        self.task = task
        self.params = params
        self._booster: xgboost.Booster | None = None
        self._seen: tuple[np.ndarray, np.ndarray, np.ndarray | None] | None = None

    @property
    def trained(self) -> bool:
        """True once fitted (or loaded)."""
        return self._booster is not None

    def fit(self, features: np.ndarray, targets: np.ndarray, groups: np.ndarray | None = None) -> None:
        features = np.asarray(features, dtype=np.float32)
        targets = np.asarray(targets, dtype=np.float32)
        if self.task is Task.RANKING and groups is None:
            raise ValueError("a ranking model needs the query (group) of every row")
        if len(features) != len(targets) or (groups is not None and len(groups) != len(targets)):
            raise ValueError(f"{len(features)} feature rows, {len(targets)} targets: they must match")
        self._seen = (features, targets, None if groups is None else np.asarray(groups))
        order = np.argsort(groups, kind="stable") if self.task is Task.RANKING else slice(None)
        data = xgboost.DMatrix(
            features[order],
            label=targets[order],
            qid=None if self.task is not Task.RANKING else np.asarray(groups)[order],
            nthread=self.params.nthread,
        )
        self._booster = xgboost.train(self._booster_params(), data, num_boost_round=self.params.rounds)

    def update(self, features: np.ndarray, targets: np.ndarray, groups: np.ndarray | None = None) -> None:
        if self._seen is None:
            self.fit(features, targets, groups)
            return
        old_x, old_y, old_g = self._seen
        merged = None if groups is None or old_g is None else np.concatenate([old_g, groups])
        self.fit(np.concatenate([old_x, features]), np.concatenate([old_y, targets]), merged)

    def predict(self, features: np.ndarray) -> np.ndarray:
        if self._booster is None:
            raise RuntimeError("predict called before fit or load")
        features = np.asarray(features, dtype=np.float32)
        if len(features) == 0:
            return np.zeros(0)
        return np.asarray(self._booster.inplace_predict(features), dtype=np.float64)

    def save(self, path: str | Path) -> None:
        if self._booster is None:
            raise RuntimeError("save called before fit")
        self._booster.set_attr(tessera_task=self.task.name, tessera_params=json.dumps(asdict(self.params)))
        self._booster.save_model(str(path))

    @classmethod
    def load(cls, path: str | Path) -> "XGBoostModel":
        booster = xgboost.Booster(model_file=str(path))
        task, params = booster.attr("tessera_task"), booster.attr("tessera_params")
        if task is None or params is None:
            raise ValueError(f"{path} is not a model saved by Tessera (no tessera_task attribute)")
        model = cls(Task[task], BoostParams(**json.loads(params)))
        booster.set_param({"nthread": model.params.nthread})
        model._booster = booster
        return model

    def with_seed(self, seed: int) -> "XGBoostModel":
        """An untrained model of the same task and parameters with another seed."""
        return XGBoostModel(self.task, replace(self.params, seed=seed))

    def _booster_params(self) -> dict:
        p = self.params
        return {
            "objective": self.task.value,
            "max_depth": p.max_depth,
            "eta": p.eta,
            "subsample": p.subsample,
            "colsample_bytree": p.colsample,
            "min_child_weight": p.min_child_weight,
            "seed": p.seed,
            "nthread": p.nthread,
            "tree_method": "hist",
            "verbosity": 0,
        }
