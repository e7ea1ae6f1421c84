"""Pareto fronts and hypervolume over a results table, vectorised with numpy.

Everything here works in *minimisation space*: an (n, m) float array where smaller is better
in every column (`explorer.objectives.minimization_matrix` flips maximised objectives).

Dominance: a dominates b when a ≤ b in every objective and a < b in at least one. Equal
points do not dominate each other, so ties are all on the front.

Hypervolume is exact for any number of objectives: 2-D by a sorted sweep, ≥ 3-D by slicing
along the last objective and recursing (HSO, "hypervolume by slicing objectives", While et
al., IEEE TEC 2006). The cost is O(n^(m-1) log n) for n front points and m objectives: fine
for the fronts of co-design sweeps (hundreds of points, 2-4 objectives), slow for large
fronts in ≥ 5-D.
"""

from __future__ import annotations

import numpy as np

_BLOCK = 256  # rows compared at once; bounds memory to _BLOCK × front × objectives booleans
REFERENCE_MARGIN = 0.1
"""The default reference point lies 10 % beyond the worst value of each objective."""


def _dominated_by(candidates: np.ndarray, others: np.ndarray) -> np.ndarray:
    """For each candidate row, whether some row of `others` dominates it."""
    if len(others) == 0 or len(candidates) == 0:
        return np.zeros(len(candidates), dtype=bool)
    le = (others[None, :, :] <= candidates[:, None, :]).all(axis=2)
    lt = (others[None, :, :] < candidates[:, None, :]).any(axis=2)
    return (le & lt).any(axis=1)


def pareto_mask(points: np.ndarray) -> np.ndarray:
    """Boolean mask of the non-dominated rows of an (n, m) minimisation-space array.

    Rows are visited in lexicographic order, in which a dominating row always comes before
    the rows it dominates; each block is compared only with the front found so far (enough,
    by transitivity of dominance) and with itself. Cost O(n · front · m).
    """
    points = np.asarray(points, dtype=np.float64)
    n = len(points)
    mask = np.zeros(n, dtype=bool)
    if n == 0:
        return mask
    order = np.lexsort(points.T[::-1])
    ordered = points[order]
    front = ordered[:0]
    for start in range(0, n, _BLOCK):
        block = ordered[start : start + _BLOCK]
        keep = ~(_dominated_by(block, front) | _dominated_by(block, block))
        mask[order[start : start + _BLOCK]] = keep
        front = np.concatenate([front, block[keep]])
    return mask


def nondominated_ranks(points: np.ndarray) -> np.ndarray:
    """Non-dominated sorting: 0 for the front, 1 for the front of the rest, and so on."""
    points = np.asarray(points, dtype=np.float64)
    ranks = np.full(len(points), -1, dtype=np.int64)
    remaining = np.arange(len(points))
    rank = 0
    while len(remaining):
        on_front = pareto_mask(points[remaining])
        ranks[remaining[on_front]] = rank
        remaining = remaining[~on_front]
        rank += 1
    return ranks


def default_reference(points: np.ndarray) -> np.ndarray:
    """The worst value of each objective pushed 10 % further away (worst × 1.1 when positive).

    In general worst + 0.1·|worst|; where the worst value is 0 the margin is 10 % of the
    objective's range, or 1 when every value is equal.
    """
    points = np.asarray(points, dtype=np.float64)
    worst = points.max(axis=0)
    margin = REFERENCE_MARGIN * np.abs(worst)
    spread = worst - points.min(axis=0)
    margin = np.where(margin > 0, margin, np.where(spread > 0, REFERENCE_MARGIN * spread, 1.0))
    return worst + margin


def hypervolume(points: np.ndarray, reference: np.ndarray) -> float:
    """Exact volume dominated by `points` and bounded by `reference` (minimisation space).

    Points not strictly better than the reference in every objective contribute nothing.
    """
    points = np.asarray(points, dtype=np.float64)
    reference = np.asarray(reference, dtype=np.float64)
    if points.ndim != 2 or points.shape[1] != reference.shape[0]:
        raise ValueError(f"points {points.shape} and reference {reference.shape} disagree")
    inside = points[(points < reference).all(axis=1)]
    return _hypervolume(inside, reference)


def _hypervolume(points: np.ndarray, reference: np.ndarray) -> float:
    if len(points) == 0:
        return 0.0
    if points.shape[1] == 1:
        return float(reference[0] - points[:, 0].min())
    front = np.unique(points[pareto_mask(points)], axis=0)
    if points.shape[1] == 2:
        front = front[np.argsort(front[:, 0], kind="stable")]  # x ascending ⇒ y descending
        widths = np.diff(np.append(front[:, 0], reference[0]))
        return float(np.sum(widths * (reference[1] - front[:, 1])))
    front = front[np.argsort(front[:, -1], kind="stable")]
    depths = np.diff(np.append(front[:, -1], reference[-1]))
    return float(
        sum(depth * _hypervolume(front[: i + 1, :-1], reference[:-1]) for i, depth in enumerate(depths) if depth > 0)
    )
