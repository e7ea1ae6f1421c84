"""The Pareto front of a results table, its hypervolume, and `pareto.csv`'s content.

Only rows with status ok whose constraints hold (and whose objectives are finite) compete.
The reference point is the spec's, or by default the worst value of each objective × 1.1 in
minimisation space (`explorer.pareto.default_reference`); it is reported in natural units.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from explorer.objectives import Direction, Objective, minimization_matrix
from explorer.pareto import default_reference, hypervolume, pareto_mask


@dataclass(frozen=True)
class ParetoFront:
    """Front rows (sorted by the first objective, with one column per objective) and its hypervolume."""

    table: pd.DataFrame
    objectives: tuple[Objective, ...]
    reference: tuple[float, ...] | None
    hypervolume: float | None

    def reference_by_objective(self) -> dict[str, float] | None:
        """The reference point keyed by objective name (for the manifest)."""
        if self.reference is None:
            return None
        return {o.value: v for o, v in zip(self.objectives, self.reference)}


def _signs(objectives: tuple[Objective, ...]) -> np.ndarray:
    return np.array([1.0 if o.direction is Direction.MINIMIZE else -1.0 for o in objectives])


def pareto_front(
    table: pd.DataFrame, objectives: tuple[Objective, ...], reference: tuple[float, ...] | None = None
) -> ParetoFront:
    """Non-dominated feasible rows of `table` and their hypervolume against `reference`."""
    eligible = table[(table["status"] == "ok") & table["constraints_ok"].astype(bool)]
    matrix = minimization_matrix(eligible, objectives)
    finite = np.isfinite(matrix).all(axis=1)
    eligible, matrix = eligible[finite], matrix[finite]
    columns = {o.value: o.values(eligible) for o in objectives}
    if len(eligible) == 0:
        empty = eligible.assign(**columns)
        return ParetoFront(empty, objectives, reference, None)
    mask = pareto_mask(matrix)
    signs = _signs(objectives)
    ref_min = np.asarray(reference) * signs if reference is not None else default_reference(matrix)
    volume = hypervolume(matrix[mask], ref_min)
    front = eligible.assign(**columns)[mask].sort_values([o.value for o in objectives], kind="stable")
    return ParetoFront(front.reset_index(drop=True), objectives, tuple(float(v) for v in ref_min * signs), volume)
