"""Pareto extraction against a brute-force reference, and hypervolume on hand-computed cases."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from explorer.pareto import default_reference, hypervolume, nondominated_ranks, pareto_mask


def brute_force_mask(points: np.ndarray) -> np.ndarray:
    n = len(points)
    return np.array(
        [
            not any(np.all(points[j] <= points[i]) and np.any(points[j] < points[i]) for j in range(n) if j != i)
            for i in range(n)
        ],
        dtype=bool,
    )


def box_union_volume(points: np.ndarray, reference: np.ndarray) -> float:
    """Inclusion-exclusion over every subset of the boxes [p, reference]."""
    total = 0.0
    for size in range(1, len(points) + 1):
        for subset in itertools.combinations(range(len(points)), size):
            corner = points[list(subset)].max(axis=0)
            total += (-1) ** (size + 1) * float(np.prod(np.clip(reference - corner, 0, None)))
    return total


@pytest.mark.parametrize("objectives", [1, 2, 3, 5])
def test_pareto_mask_matches_brute_force_with_ties(objectives: int) -> None:
    rng = np.random.default_rng(objectives)
    for _ in range(20):
        points = rng.integers(0, 4, size=(int(rng.integers(1, 600)), objectives)).astype(float)  # many ties
        assert np.array_equal(pareto_mask(points), brute_force_mask(points))


@settings(max_examples=60, deadline=None)
@given(arrays(np.float64, st.tuples(st.integers(1, 40), st.integers(1, 4)), elements=st.sampled_from([0.0, 0.5, 1.0, 2.0, -1.0])))
def test_pareto_mask_property(points: np.ndarray) -> None:
    assert np.array_equal(pareto_mask(points), brute_force_mask(points))


def test_equal_points_are_both_on_the_front() -> None:
    points = np.array([[1.0, 2.0], [1.0, 2.0], [2.0, 3.0]])
    assert pareto_mask(points).tolist() == [True, True, False]


def test_nondominated_ranks_peel_fronts() -> None:
    points = np.array([[1.0, 1.0], [2.0, 2.0], [3.0, 3.0], [1.0, 3.0], [3.0, 1.0]])
    assert nondominated_ranks(points).tolist() == [0, 1, 2, 1, 1]


def test_hypervolume_2d_staircase() -> None:
    # (1,3), (2,2), (3,1) against (4,4): strips 1×1 + 1×2 + 1×3 = 6
    points = np.array([[1.0, 3.0], [2.0, 2.0], [3.0, 1.0], [3.5, 3.5]])
    assert hypervolume(points, np.array([4.0, 4.0])) == pytest.approx(6.0)


def test_hypervolume_3d_two_boxes() -> None:
    # boxes [1,3]×[2,3]×[1,3] (4) and [2,3]×[1,3]×[1,3] (4) overlap in [2,3]×[2,3]×[1,3] (2): 6
    points = np.array([[1.0, 2.0, 1.0], [2.0, 1.0, 1.0]])
    assert hypervolume(points, np.array([3.0, 3.0, 3.0])) == pytest.approx(6.0)


def test_hypervolume_ignores_points_outside_the_reference() -> None:
    points = np.array([[1.0, 1.0, 1.0], [5.0, 0.0, 0.0]])
    assert hypervolume(points, np.array([2.0, 2.0, 2.0])) == pytest.approx(1.0)


@pytest.mark.parametrize("objectives", [2, 3, 4])
def test_hypervolume_matches_inclusion_exclusion(objectives: int) -> None:
    rng = np.random.default_rng(10 + objectives)
    for _ in range(10):
        points = rng.integers(0, 5, size=(int(rng.integers(1, 8)), objectives)).astype(float)
        reference = np.full(objectives, 5.0)
        assert hypervolume(points, reference) == pytest.approx(box_union_volume(points, reference))


def test_default_reference_is_ten_percent_beyond_the_worst() -> None:
    points = np.array([[1.0, -4.0, 0.0], [2.0, -5.0, 0.0]])
    # positive worst 2 → 2.2; negative worst -4 → -3.6; worst 0 with no spread → margin 1
    assert default_reference(points) == pytest.approx([2.2, -3.6, 1.0])
