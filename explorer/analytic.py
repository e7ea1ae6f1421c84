"""Exact metrics of design points that need no simulation, computed once per chip or model.

Chip area follows from the chip alone (the technology tables) and the published accuracy
from the model variant alone (`explorer.objectives.ANALYTIC_METRICS`). A learned search
should not spend simulations learning them: `AnalyticMetrics` asks the evaluator
(`Evaluator.analytic`) once per distinct chip (free hardware axes and precision) and once per
model variant, and gathers the values for any batch of index vectors.

Building a chip costs about half a millisecond, so chip-scope metrics are offered only when
the space has at most `MAX_CHIPS` distinct chips (a few seconds in all); beyond that they
are learned like the others.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping

import numpy as np

from explorer.objectives import ANALYTIC_METRICS, Scope
from explorer.space import MODEL_COLUMN, DesignSpace, Point

MAX_CHIPS = 8192
"""Most distinct chips whose analytic metrics are computed (about 4 s at 0.5 ms a chip)."""

Analytic = Callable[[Point], Mapping[str, float]]
"""An evaluator's `analytic` method."""


class AnalyticMetrics:
    """Exact analytic metrics of a space's points, cached by chip and by model."""

    def __init__(self, space: DesignSpace, analytic: Analytic) -> None:
        self.space = space
        self._analytic = analytic
        hardware = len(space.axes) - 4  # free hardware axes, then model, scheduler, precision, batch
        self._chip_axes = [*range(hardware), space.position["precision"]]
        self._chip_sizes = tuple(space.axes[i].size for i in self._chip_axes)
        sample = analytic(space.point(tuple(0 for _ in space.axes)))
        chips = math.prod(self._chip_sizes)
        self.metrics = tuple(
            metric for metric, scope in ANALYTIC_METRICS.items()
            if metric in sample and (scope is Scope.MODEL or chips <= MAX_CHIPS)
        )
        self._by_chip: dict[int, Mapping[str, float]] = {}
        self._by_model: dict[int, Mapping[str, float]] = {}

    def values(self, indices: np.ndarray) -> dict[str, np.ndarray]:
        """Each offered metric of every row of an (n, axes) index array, in natural units."""
        indices = np.asarray(indices, dtype=np.int64).reshape(-1, len(self.space.axes))
        chip_keys = np.ravel_multi_index(tuple(indices[:, self._chip_axes].T), self._chip_sizes) if len(indices) else \
            np.zeros(0, dtype=np.int64)
        model_keys = indices[:, self.space.position[MODEL_COLUMN]]
        scopes = {ANALYTIC_METRICS[metric] for metric in self.metrics}
        for scope, keys, cache in ((Scope.CHIP, chip_keys, self._by_chip), (Scope.MODEL, model_keys, self._by_model)):
            if scope not in scopes:  # nothing of this scope offered: build no chip for it
                continue
            missing, first = np.unique(keys, return_index=True)
            for key, row in zip(missing.tolist(), first.tolist()):
                if key not in cache:
                    cache[key] = self._analytic(self.space.point(tuple(int(i) for i in indices[row])))
        out = {}
        for metric in self.metrics:
            keys, cache = (chip_keys, self._by_chip) if ANALYTIC_METRICS[metric] is Scope.CHIP else (model_keys, self._by_model)
            distinct, inverse = np.unique(keys, return_inverse=True)
            per_key = np.array([cache[key].get(metric, math.nan) for key in distinct.tolist()], dtype=np.float64)
            out[metric] = per_key[inverse.reshape(-1)]
        return out
