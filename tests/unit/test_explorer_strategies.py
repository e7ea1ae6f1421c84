"""Strategies: grid order, random and Latin-hypercube sampling, NSGA-II reproducibility."""

from __future__ import annotations

import itertools
from collections import Counter

from explorer.objectives import Objective
from explorer.space import DesignSpace
from explorer.spec import HardwareAxis, ModelVariant, StrategyKind, SweepSpec
from explorer.strategies import (
    BATCH_POINTS,
    Feedback,
    GridStrategy,
    LatinHypercubeStrategy,
    RandomStrategy,
    make_strategy,
)


def make_space(sizes: tuple[int, ...], strategy: StrategyKind = StrategyKind.GRID, budget: int = 10**6) -> DesignSpace:
    hardware = tuple(HardwareAxis(path=f"axis{i}", values=tuple(range(1, n + 1))) for i, n in enumerate(sizes))
    spec = SweepSpec(
        source="test", base="chip.yaml", base_hash="h", model_root=".",
        hardware=hardware, models=(ModelVariant(spec="gemm"),), model_axes=(),
        schedulers=("heuristic",), precisions=(None,), batches=(None,), timings=("tessera",), weight_modes=("streamed",), schedule_objectives=("latency",),
        objectives=(Objective.LATENCY, Objective.AREA), constraints=(), strategy=strategy,
        population=8, budget=budget, seed=0,
    )
    return DesignSpace(spec)


def test_grid_is_row_major_and_complete() -> None:
    space = make_space((2, 3))
    batch = GridStrategy(space, budget=space.size, seed=0).propose()
    assert batch == [(a, b, 0, 0, 0, 0, 0, 0, 0) for a, b in itertools.product(range(2), range(3))]
    strategy = GridStrategy(space, budget=4, seed=0)
    assert len(strategy.propose()) == 4 and strategy.propose() == []


def test_random_is_distinct_and_reproducible() -> None:
    space = make_space((10, 10, 10))
    first = RandomStrategy(space, budget=200, seed=7).propose()
    assert first == RandomStrategy(space, budget=200, seed=7).propose()
    assert first != RandomStrategy(space, budget=200, seed=8).propose()
    assert len(set(first)) == 200
    whole = RandomStrategy(make_space((3, 4)), budget=12, seed=1).propose()
    assert sorted(whole) == sorted(itertools.product(range(3), range(4), *[[0]] * 7))


def test_latin_hypercube_covers_each_axis_evenly() -> None:
    space = make_space((4, 8, 2))
    batch = LatinHypercubeStrategy(space, budget=8, seed=3).propose()
    assert len(set(batch)) == 8
    for axis, size in enumerate((4, 8, 2)):
        counts = Counter(indices[axis] for indices in batch)
        assert sorted(counts.values()) == [8 // size] * size


def test_latin_hypercube_tops_up_a_small_space_with_distinct_points() -> None:
    space = make_space((2, 2))
    batch = LatinHypercubeStrategy(space, budget=4, seed=0).propose()
    assert sorted(batch) == sorted(itertools.product(range(2), range(2), *[[0]] * 7))


def run_nsga2(generations: int) -> list[list[tuple[int, ...]]]:
    space = make_space((6, 6, 6), StrategyKind.NSGA2, budget=100)
    strategy = make_strategy(space.spec, space)
    batches = []
    for _ in range(generations):
        batch = strategy.propose()
        batches.append(batch)
        feedback = [Feedback(values=(float(sum(ix)), float(6 - ix[0])) if ix[1] != 5 else None) for ix in batch]
        strategy.tell(batch, feedback)
    return batches


def test_nsga2_is_reproducible_given_seed_and_feedback() -> None:
    first, second = run_nsga2(4), run_nsga2(4)
    assert first == second
    assert all(len(batch) == 8 for batch in first)
    assert all(0 <= ix[k] < 6 for batch in first for ix in batch for k in range(3))
    assert first[0] != first[3]  # later generations differ from the random first one


def test_a_grid_of_a_trillion_points_is_walked_lazily_in_batches() -> None:
    space = make_space((10_000, 10_000, 10_000))  # 10^12 points
    strategy = GridStrategy(space, budget=2 * BATCH_POINTS + 5, seed=0)
    batches = [strategy.propose() for _ in range(4)]
    assert [len(b) for b in batches] == [BATCH_POINTS, BATCH_POINTS, 5, 0]
    assert batches[0][0] == (0,) * 10 and batches[1][0] == (0, 0, BATCH_POINTS, *(0,) * 7)


def test_fixed_strategies_propose_their_points_in_batches_of_bounded_size() -> None:
    space = make_space((100, 100, 100))
    for kind in (RandomStrategy, LatinHypercubeStrategy):
        strategy = kind(space, budget=BATCH_POINTS + 1, seed=2)
        first, second = strategy.propose(), strategy.propose()
        assert (len(first), len(second), strategy.propose()) == (BATCH_POINTS, 1, [])
        assert len(set(first + second)) == BATCH_POINTS + 1
