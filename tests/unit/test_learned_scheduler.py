"""`--scheduler learned`: schedule features, ranking picks, the shipped model, the heuristic fallback."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from accel_spec import load_accelerator
from compiler.lowering import lower
from compiler.models import load_model
from compiler.scheduling import SchedulerKind, learned, schedule_workloads
from compiler.scheduling.learned import RANKER_PATH, learned_finalists, ranked_space, ranker_status
from compiler.scheduling.ranker_training import judge, layer_cases, training_set
from compiler.scheduling.schedule_features import SCHEDULE_FEATURE_NAMES
from compiler.target import target_of
from explorer.cost_model import RandomModel
from explorer.xgboost_cost_model import BoostParams, Task, XGBoostModel

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "accelerators"
EDGE = load_accelerator(EXAMPLES / "edge.yaml")
CHIP = target_of(EDGE, EDGE.matrix.input_precision)
NETWORK = lower(load_model("bert:layers=1,hidden=64,heads=2,seq=32"))
LAYER = next(w for w in NETWORK if w.gemm is not None)


class ByFeature(RandomModel):
    """A 'model' scoring candidates by minus one named feature (a hand-made ranker)."""

    def __init__(self, name: str) -> None:
        super().__init__(0)
        self.column = SCHEDULE_FEATURE_NAMES.index(name)

    def predict(self, features: np.ndarray) -> np.ndarray:
        return -features[:, self.column].astype(np.float64)


def test_features_describe_each_candidate() -> None:
    space = ranked_space(LAYER, CHIP)
    assert space is not None and space.features.shape == (len(space.candidates), len(SCHEDULE_FEATURE_NAMES))
    named = dict(zip(SCHEDULE_FEATURE_NAMES, space.features.T))
    tiles = space.candidates.tiles
    assert np.allclose(named["log2_tile_m"], np.log2(tiles[0])) and np.allclose(named["log2_tile_n"], np.log2(tiles[2]))
    assert np.allclose(named["tile_k_share"], tiles[1] / LAYER.gemm.k)
    one_hot = [named[f"dataflow_{flow}"] for flow in ("OS", "WS", "IS")]
    assert np.allclose(np.sum(one_hot, axis=0), 1.0)
    assert named["rel_estimate"].min() == pytest.approx(0.0)  # the best estimate relative to itself
    assert ((named["input_fill"] <= 1) & (named["weight_fill"] <= 1) & (named["output_fill"] <= 1)).all()


def test_the_ranker_picks_its_top_candidates() -> None:
    schedules, estimates, bounds = learned_finalists(LAYER, CHIP, ByFeature("log2_estimate"), top_k=3)
    space = ranked_space(LAYER, CHIP)
    best = np.sort(space.terms.cycles(CHIP.dram_bytes_per_cycle))[:3]
    assert len(schedules) == 3 and np.allclose(np.sort(estimates), best)
    assert (bounds <= estimates + 1e-9).all()


def test_shipped_model_is_small_loads_and_schedules_a_network() -> None:
    assert RANKER_PATH.exists() and RANKER_PATH.stat().st_size < 2 * 2**20
    assert ranker_status().available
    chosen = schedule_workloads(NETWORK, target_of(EDGE, EDGE.matrix.input_precision), SchedulerKind.LEARNED)
    assert len(chosen) == len(NETWORK)
    assert chosen == schedule_workloads(NETWORK, target_of(EDGE, EDGE.matrix.input_precision), SchedulerKind.LEARNED)


@pytest.fixture
def fresh_status():
    learned.shipped_ranker.cache_clear()
    yield
    learned.shipped_ranker.cache_clear()


def test_without_xgboost_learned_falls_back_to_the_heuristic_and_says_so_once(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture, fresh_status
) -> None:
    monkeypatch.setitem(sys.modules, "xgboost", None)  # import xgboost raises ImportError
    monkeypatch.delitem(sys.modules, "explorer.xgboost_cost_model", raising=False)
    precision = EDGE.matrix.input_precision
    first = schedule_workloads(NETWORK, target_of(EDGE, precision), SchedulerKind.LEARNED)
    second = schedule_workloads(NETWORK, target_of(EDGE, precision), SchedulerKind.LEARNED)
    assert first == second == schedule_workloads(NETWORK, target_of(EDGE, precision), SchedulerKind.HEURISTIC)
    status = ranker_status()
    assert not status.available and "xgboost cannot be imported" in status.reason
    assert capsys.readouterr().err.count("fell back to the heuristic") == 1


def test_without_a_model_file_learned_falls_back(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, fresh_status) -> None:
    monkeypatch.setattr(learned, "RANKER_PATH", tmp_path / "missing.json")
    precision = EDGE.matrix.input_precision
    assert schedule_workloads(NETWORK, target_of(EDGE, precision), SchedulerKind.LEARNED) == schedule_workloads(
        NETWORK, target_of(EDGE, precision), SchedulerKind.HEURISTIC
    )
    assert "train-scheduler" in ranker_status().reason


def test_training_then_judging_round_trips_through_a_file(tmp_path: Path) -> None:
    cases = list(layer_cases({"net": NETWORK}, {"edge": EDGE}))
    data = training_set(cases, per_layer=12, seed=0)
    assert len(data.labels) == data.measurements and data.labels.max() == 0.0  # the best of each query has label 0
    ranker = XGBoostModel(Task.RANKING, BoostParams(rounds=20))
    ranker.fit(data.features, data.labels, data.groups)
    ranker.save(tmp_path / "ranker.json")
    loaded = XGBoostModel.load(tmp_path / "ranker.json")
    assert np.array_equal(loaded.predict(data.features), ranker.predict(data.features))
    judged = judge(cases[:2], loaded, RandomModel(0), top_k=2)
    assert len(judged) == 2
    for result in judged:
        assert result.learned_cycles > 0 and result.exhaustive_cycles > 0
