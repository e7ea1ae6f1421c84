"""The bandwidth ladder's unlimited rung, stated as a property of the shortlist.

`compiler.scheduling.shortlist` picks its finalists by the estimate at a fixed ladder of
bandwidths, the last of them unlimited: the candidate the estimate likes best when transfers
cost nothing (latency still counts) must always be a finalist, for a chip faster than the
last finite rung. Dropping that rung was caught only by a process-replay golden file.
"""

from __future__ import annotations

import numpy as np
import pytest

from compiler.scheduling.estimate import CostTerms
from compiler.scheduling.schedule import SchedulerKind
from compiler.scheduling.shortlist import ascending_compute, shortlist, tiled_shortlist


def terms(compute, channel_bytes, exposed_bytes, iterations, latency: int) -> CostTerms:
    """Double-buffered candidates (one buffering mode, as `tiled_shortlist` requires)."""
    n = len(compute)
    return CostTerms(
        compute=np.asarray(compute), floor=np.asarray(compute), channel_bytes=np.asarray(channel_bytes),
        exposed_bytes=np.asarray(exposed_bytes), tail=np.zeros(n, dtype=np.int64), iterations=np.asarray(iterations),
        double_buffer=np.bool_(True), latency=latency, serial_bytes=np.zeros((3, n), dtype=np.int64),
        serial_latency=0,
    )


@pytest.mark.parametrize("kind", [SchedulerKind.HEURISTIC, SchedulerKind.EXHAUSTIVE])
def test_the_best_candidate_at_unlimited_bandwidth_is_a_finalist(kind: SchedulerKind) -> None:
    # A: 1000 compute cycles, no traffic. B: 900 compute cycles and 10^7 channel bytes.
    # Double buffered, no latency, nothing exposed, so the estimate is max(compute, bytes / b):
    # A costs 1000 at every bandwidth; B costs 10^7 / 1024 = 9766 at the last finite rung
    # (1024 bytes per cycle) and 900 with unlimited bandwidth. Only that rung makes B a finalist.
    candidates = terms(compute=[1000, 900], channel_bytes=[0, 10**7], exposed_bytes=[0, 0], iterations=[1, 1], latency=0)
    assert sorted(shortlist(candidates, np.array([True, True]), kind).tolist()) == [0, 1]


def test_the_tiled_shortlist_keeps_the_unlimited_rungs_winner_too() -> None:
    candidates = terms(compute=[1000, 900], channel_bytes=[[0, 10**7]], exposed_bytes=[0, 0], iterations=[1, 1],
                       latency=0)
    found = tiled_shortlist(candidates, np.array([[True, True]]), np.array([[0, 1]]), np.array([0]), np.array([2]), 10.0,
                           ascending_compute(candidates.compute, np.array([0]), np.array([2])))
    assert sorted(found.finalists.tolist()) == [0, 1]


@pytest.mark.parametrize("seed", range(20))
def test_on_random_candidates_the_unlimited_winner_is_always_a_finalist(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = 40
    candidates = terms(
        compute=rng.integers(100, 5000, n), channel_bytes=rng.integers(0, 10**7, n),
        exposed_bytes=rng.integers(0, 10**5, n), iterations=rng.integers(1, 64, n), latency=int(rng.integers(0, 200)),
    )
    fits = rng.random(n) < 0.8
    fits[0] = True
    unlimited = np.where(fits, candidates.cycles(np.inf), np.inf)
    best = np.flatnonzero(unlimited == unlimited.min())[0]  # ties go to the lower index, as in the shortlist
    assert best in shortlist(candidates, fits, SchedulerKind.HEURISTIC)


def test_exhaustive_keeps_the_first_candidate_of_each_of_the_four_least_estimates() -> None:
    # A thousand candidates without traffic in five levels of 200 equal estimates, the cheapest
    # level last: 800..999 cost 1000 cycles at every rung, 600..799 1010, 400..599 1020,
    # 200..399 1030 and 0..199 1040. Each rung keeps the lowest index of the 4 least levels;
    # a tied level (a tiling's loop orders moving the same bytes) is one finalist, not four.
    n = 1000
    compute = 1000 + 10 * ((n - 1 - np.arange(n)) // 200)
    zeros = np.zeros(n, dtype=np.int64)
    candidates = terms(compute=compute, channel_bytes=zeros, exposed_bytes=zeros, iterations=zeros + 1, latency=0)
    assert shortlist(candidates, np.ones(n, dtype=bool), SchedulerKind.EXHAUSTIVE).tolist() == [800, 600, 400, 200]
