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
    areas = np.array([fake_area(space.point(tuple(int(v) for v in row))) for row in strategy._unravel(strategy._pool_flat[pool])])
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
