"""The surrogate strategy with the fake evaluator (determinism, budget, exact analytic objectives and
constraints, quality records, no xgboost), and the simulator's analytic metrics."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from explorer import execute_sweep, load_sweep
from explorer.fake_evaluator import FakeEvaluator
from explorer.model_quality import SURROGATE_FILE, quality_by_objective
from explorer.space import DesignSpace
from explorer.surrogate import SurrogateSettings, SurrogateStrategy, make_surrogate
from explorer.strategies import Feedback
from tessera.errors import InputError

TINY = Path(__file__).resolve().parents[2] / "examples" / "accelerators" / "tiny.yaml"
BODY = """\
hardware:
  matrix.rows: [2, 4, 8, 16]
  buffers.inputs.capacity: {log_range: [1 KiB, 64 KiB], points: 7}
  buffers.weights.capacity: {log_range: [1 KiB, 64 KiB], points: 7}
models: ["gemm:m=16,k=16,n=16", "gemm:m=32,k=16,n=8"]
objectives: [latency, area]
strategy: surrogate
budget: 48
population: 8
seed: 3
"""


def sweep(tmp_path: Path, extra: str = "", name: str = "sweep.yaml") -> Path:
    path = tmp_path / name
    path.write_text(f"base: {TINY}\n" + BODY + extra)
    return path


def test_same_seed_same_sweep_and_budget_respected(tmp_path: Path) -> None:
    spec = load_sweep(sweep(tmp_path))
    first = execute_sweep(spec, evaluator=FakeEvaluator(), executor="serial")
    again = execute_sweep(spec, evaluator=FakeEvaluator(), executor="serial")
    assert len(first.table) == 48 and first.table["point_id"].is_unique
    pd.testing.assert_frame_equal(first.table, again.table)
    other = execute_sweep(spec.model_copy(update={"seed": 4}), evaluator=FakeEvaluator(), executor="serial")
    assert set(other.table["point_id"]) != set(first.table["point_id"])


def test_guided_batches_beat_the_initial_sample(tmp_path: Path) -> None:
    """After the Latin-hypercube start, the model's batches land closer to the front."""
    spec = load_sweep(sweep(tmp_path))
    table = execute_sweep(spec, evaluator=FakeEvaluator(), executor="serial").table.sort_values("trial")
    initial = SurrogateSettings.for_budget(spec.budget, spec.population).initial
    latency, area = np.log(table["latency_s"].to_numpy()), np.log(table["area_mm2"].to_numpy())
    score = (latency - latency.min()) / np.ptp(latency) + (area - area.min()) / np.ptp(area)
    guided = score[initial:]
    assert np.median(guided) < np.median(score[:initial])


def test_records_are_written_and_held_out_quality_is_reported(tmp_path: Path) -> None:
    result = execute_sweep(sweep(tmp_path), tmp_path / "out", evaluator=FakeEvaluator(), executor="serial")
    records = pd.read_parquet(tmp_path / "out" / SURROGATE_FILE)
    assert list(records.columns) == ["objective", "predicted", "simulated", "split"]
    # area is computed exactly (explorer.analytic), so only latency has a model to judge
    assert set(records["objective"]) == {"latency"} and set(records["split"]) == {"train", "test"}
    assert len(records) == 2 * 48  # every point, per split
    latency = records[(records["objective"] == "latency") & (records["split"] == "test")]
    assert np.allclose(np.sort(latency["simulated"]), np.sort(result.table["latency_s"]))
    assert quality_by_objective(records)["latency"].spearman > 0.8


def test_replaying_results_reproduces_the_next_batch(tmp_path: Path) -> None:
    """What resume relies on: a fresh strategy told the same results proposes the same batch."""
    spec = load_sweep(sweep(tmp_path))
    space = DesignSpace(spec)
    evaluator = FakeEvaluator()

    def run_rounds(strategy: SurrogateStrategy, rounds: int) -> list:
        batch = []
        for _ in range(rounds):
            batch = strategy.propose()
            outcomes = [evaluator.evaluate(space.point(i)) for i in batch]
            strategy.tell(batch, [Feedback(values=(o.metrics["latency_s"], o.metrics["area_mm2"])) for o in outcomes])
        return batch

    assert run_rounds(make_surrogate(spec, space), 4) == run_rounds(make_surrogate(spec, space), 4)


def test_without_xgboost_the_strategy_is_refused_before_any_point(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "xgboost", None)  # import xgboost raises ImportError
    monkeypatch.delitem(sys.modules, "explorer.xgboost_cost_model", raising=False)
    with pytest.raises(InputError, match="xgboost"):
        execute_sweep(sweep(tmp_path), evaluator=FakeEvaluator(), executor="serial")


def test_area_is_computed_not_learned_and_an_exact_constraint_is_never_violated(tmp_path: Path) -> None:
    """Area needs no simulation: the surrogate fits no model to it, gives every candidate its
    exact value, and proposes no point that the area constraint rules out."""
    spec = load_sweep(sweep(tmp_path, "constraints: ['area_mm2 <= 1.45']\n"))
    table = execute_sweep(spec, evaluator=FakeEvaluator(), executor="serial").table.sort_values("trial")
    initial = SurrogateSettings.for_budget(spec.budget, spec.population).initial
    met = table["constraints_ok"].astype(bool).to_numpy()
    assert not met[:initial].all(), "the initial sample should include violating points"
    assert met[initial:].all()
    records = execute_sweep(spec, tmp_path / "out", evaluator=FakeEvaluator(), executor="serial").surrogate
    assert set(records["objective"]) == {"latency"}  # area is exact, so it has no model to judge


def test_exact_objectives_get_their_exact_value_and_no_spread(tmp_path: Path) -> None:
    from explorer.analytic import AnalyticMetrics
    from explorer.fake_evaluator import fake_area

    spec = load_sweep(sweep(tmp_path))
    space = DesignSpace(spec)
    strategy = make_surrogate(spec, space, FakeEvaluator().analytic)
    evaluator = FakeEvaluator()
    for _ in range(2):
        batch = strategy.propose()
        outcomes = [evaluator.evaluate(space.point(i)) for i in batch]
        strategy.tell(batch, [Feedback(values=(o.metrics["latency_s"], o.metrics["area_mm2"])) for o in outcomes])
    pool = strategy._pool()
    ok = np.ones(len(strategy._feedback), dtype=bool)
    mean, sigma, _ = strategy._predict(pool, ok)
    targets, low, scale = strategy._normalise(ok)
    areas = np.array([fake_area(space.point(tuple(int(v) for v in row))) for row in strategy._unravel(strategy._candidates.flat[pool])])
    assert np.allclose(targets.natural(mean[:, 1] * scale[1] + low[1], 1), areas, rtol=1e-12)
    assert (sigma[:, 1] == 0).all() and (sigma[:, 0] > 0).any()
    assert AnalyticMetrics(space, FakeEvaluator().analytic).metrics == ("area_mm2", "accuracy_top1")


def test_the_simulators_analytic_metrics_are_what_it_reports(tmp_path: Path) -> None:
    from accel_spec import load_accelerator
    from explorer.simulator_evaluator import SimulatorEvaluator

    body = BODY.replace('models: ["gemm:m=16,k=16,n=16", "gemm:m=32,k=16,n=8"]', "models: [\"mobilenetv2:width=0.35,resolution=96\"]")
    path = tmp_path / "sweep.yaml"
    path.write_text(f"base: {TINY}\n" + body + "schedule: {precision: [int8, fp16]}\n")
    spec = load_sweep(path)
    space = DesignSpace(spec)
    evaluator = SimulatorEvaluator.for_spec(spec, load_accelerator(spec.base))
    for indices in [(0, 0, 0, 0, 0, 0, 0, 0, 0, 0), (3, 6, 2, 0, 0, 1, 0, 0, 0, 0)]:
        point = space.point(indices)
        analytic, simulated = evaluator.analytic(point), evaluator.run(point).metrics
        assert analytic == {k: simulated[k] for k in ("area_mm2", "accuracy_top1")} and analytic["accuracy_top1"] == 45.5


LARGE = "  matrix.cols: [2, 4, 8, 16]\n  dram.bandwidth: [1 GB/s, 2 GB/s, 4 GB/s, 8 GB/s, 16 GB/s]\n"
"""Two more axes: 7,840 points, more than the pools of the tests below, so the pool is a sample."""


@pytest.fixture
def small_pool(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pools of at least 4,096 candidates rather than 16,384: a sampled pool in a small space."""
    monkeypatch.setattr("explorer.surrogate.POOL_RANGE", (4096, 2**18))


def large_spec(tmp_path: Path, extra: str = ""):
    path = tmp_path / "large.yaml"
    path.write_text(f"base: {TINY}\n" + BODY.replace("hardware:\n", "hardware:\n" + LARGE) + extra)
    return load_sweep(path)


def told(space: DesignSpace, batch: list, evaluator: FakeEvaluator) -> list[Feedback]:
    outcomes = [evaluator.evaluate(space.point(i)) for i in batch]
    return [Feedback(values=(o.metrics["latency_s"], o.metrics["area_mm2"])) for o in outcomes]


def test_the_pool_is_sized_by_the_budget_and_each_point_is_featurised_once(tmp_path: Path, small_pool: None) -> None:
    """Candidates are featurised once, when the second batch is proposed (not before the first
    one), and an evaluated point once, when it is told: never again per round, however many
    rounds run."""
    from explorer.surrogate import POOL_PER_POINT, POOL_RANGE, sweep_features

    spec = large_spec(tmp_path)
    space = DesignSpace(spec)
    settings = SurrogateSettings.for_budget(spec.budget, spec.population)
    assert settings.pool == max(POOL_RANGE[0], POOL_PER_POINT * spec.budget) < space.size
    featurised: list[int] = []
    features = sweep_features(spec, space).features

    def counting(indices: np.ndarray) -> np.ndarray:
        featurised.append(len(indices))
        return features(indices)

    strategy = SurrogateStrategy(space, counting, settings, spec.seed)
    batches = [strategy.propose()]
    assert featurised == []  # the first batch waits for nothing
    evaluator, evaluated = FakeEvaluator(), 0
    for _ in range(5):
        batches.append(strategy.propose())  # in the sweep loop's order: while batches[-2] is evaluated
        assert featurised[0] == settings.pool  # the pool, once
        strategy.tell(batches[-2], told(space, batches[-2], evaluator))
        evaluated += len(batches[-2])
    assert sum(featurised) == settings.pool + evaluated
    assert all(f in set(strategy._candidates.flat.tolist()) for f in strategy._flat[settings.initial:])


def test_proposing_ahead_is_deterministic_and_never_repeats_a_point(tmp_path: Path, small_pool: None) -> None:
    """The order the sweep loop uses with lookahead 1: batch k + 1 is proposed before batch k
    is told. Two strategies driven the same way propose the same batches, and no point is
    proposed twice, not even one still in flight."""
    spec = large_spec(tmp_path, "constraints: ['area_mm2 <= 1.45']\n")
    space = DesignSpace(spec)
    evaluator = FakeEvaluator()

    def drive() -> list[list]:
        strategy = make_surrogate(spec, space, evaluator.analytic)
        assert strategy.lookahead == 1  # from the first batch, the initial sample's included
        batches = [strategy.propose()]
        for _ in range(6):
            batches.append(strategy.propose())  # while batches[-2] is evaluated
            strategy.tell(batches[-2], told(space, batches[-2], evaluator))
        return batches

    first = drive()
    assert first == drive()
    proposed = [point for batch in first for point in batch]
    initial = SurrogateSettings.for_budget(spec.budget, spec.population).initial
    assert len(proposed) == len(set(proposed)) == 7 * spec.population
    areas = np.array([evaluator.analytic(space.point(p))["area_mm2"] for batch in first for p in batch][initial:])
    assert (areas <= 1.45).all()  # an exact constraint still rules candidates out


def test_a_resumed_surrogate_sweep_proposes_what_an_uninterrupted_one_did(tmp_path: Path, small_pool: None) -> None:
    """The loop proposes ahead; replaying the first half of the rows from the journal gives the
    same table, and only the second half is evaluated again."""
    import tessera
    from explorer.executors import SerialExecutor
    from explorer.loop import sweep_loop
    from explorer.progress import NullProgress
    from explorer.table import make_row

    spec = large_spec(tmp_path)
    space = DesignSpace(spec)

    class Counting(FakeEvaluator):
        def run(self, point):
            ran.append(point.point_id)
            return super().run(point)

    def run(journaled: list) -> list:
        resolved: list = []

        class Sink:
            def append(self, rows: list) -> None:
                pass

            def resolved(self, rows: list) -> None:
                resolved.extend(rows)

        strategy = make_surrogate(spec, space)
        sweep_loop(space, strategy, Counting(), SerialExecutor(), {row["point_id"]: row for row in journaled}, Sink(),
                   NullProgress(), lambda point, outcome, trial: make_row(point, outcome, trial, spec, tessera.__version__))
        return resolved

    ran: list = []
    whole = run([])
    assert len(whole) == spec.budget and len(ran) == spec.budget
    ran.clear()
    resumed = run(whole[: spec.budget // 2])
    assert pd.DataFrame(resumed).equals(pd.DataFrame(whole))  # NaN (no accuracy) equals NaN
    assert ran == [row["point_id"] for row in whole[spec.budget // 2 :]]


def test_a_sampled_pool_is_filled_with_candidates_that_meet_the_exact_constraints(tmp_path: Path, small_pool: None) -> None:
    """Draws continue until the pool holds `pool` allowed candidates, or every allowed point of
    the space when fewer exist: a strict area constraint does not leave the search short."""
    from explorer.analytic import AnalyticMetrics

    for limit in (1.45, 2.5):
        spec = large_spec(tmp_path, f"constraints: ['area_mm2 <= {limit}']\n")
        space = DesignSpace(spec)
        strategy = make_surrogate(spec, space, FakeEvaluator().analytic)
        everything = np.arange(space.size)
        areas = AnalyticMetrics(space, FakeEvaluator().analytic).values(strategy._unravel(everything))["area_mm2"]
        allowed = set(everything[areas <= limit].tolist())
        pool = strategy._candidates.flat.tolist()
        assert pool == sorted(set(pool)) and set(pool) <= allowed
        assert len(pool) == min(strategy.settings.pool, len(allowed))
