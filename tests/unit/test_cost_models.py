"""Cost models: the random baseline, XGBoost regression / classification / ranking, save-load round trips."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from explorer.cost_model import RandomModel
from explorer.model_quality import quality, spearman
from explorer.xgboost_cost_model import BoostParams, Task, XGBoostModel


def data(n: int = 200, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.random((n, 3))
    return x, 3.0 * x[:, 0] + np.sin(6.0 * x[:, 1])


def test_random_model_is_seeded_and_round_trips(tmp_path: Path) -> None:
    x = np.zeros((50, 2))
    first, again = RandomModel(3).predict(x), RandomModel(3).predict(x)
    assert np.array_equal(first, again) and ((first >= 0) & (first < 1)).all()
    assert not np.array_equal(first, RandomModel(4).predict(x))
    RandomModel(3).save(tmp_path / "random.json")
    assert np.array_equal(RandomModel.load(tmp_path / "random.json").predict(x), first)


def test_regressor_learns_is_deterministic_and_round_trips(tmp_path: Path) -> None:
    x, y = data()
    test_x, test_y = data(300, seed=1)
    params = BoostParams(rounds=120, subsample=0.8, colsample=0.8, seed=5)
    model, twin = XGBoostModel(Task.REGRESSION, params), XGBoostModel(Task.REGRESSION, params)
    model.fit(x, y)
    twin.fit(x, y)
    predicted = model.predict(test_x)
    assert np.array_equal(predicted, twin.predict(test_x))  # same seed and data: same model
    assert quality(predicted, test_y).r2 > 0.9
    model.save(tmp_path / "model.json")
    loaded = XGBoostModel.load(tmp_path / "model.json")
    assert loaded.task is Task.REGRESSION and loaded.params == params
    assert np.array_equal(loaded.predict(test_x), predicted)
    other = model.with_seed(6)
    other.fit(x, y)
    assert not np.array_equal(other.predict(test_x), predicted)  # subsampling makes seeds differ


def test_update_retrains_on_old_and_new_examples() -> None:
    x, y = data()
    whole = XGBoostModel(Task.REGRESSION, BoostParams(rounds=50))
    whole.fit(x, y)
    parts = XGBoostModel(Task.REGRESSION, BoostParams(rounds=50))
    parts.update(x[:100], y[:100])
    parts.update(x[100:], y[100:])
    assert np.array_equal(parts.predict(x), whole.predict(x))


def test_ranker_orders_rows_within_queries() -> None:
    rng = np.random.default_rng(2)
    x = rng.random((400, 2))
    groups = np.repeat(np.arange(20), 20)
    labels = -(x[:, 0] * 10).round()  # smaller first feature is better, in every query
    ranker = XGBoostModel(Task.RANKING, BoostParams(rounds=60))
    ranker.fit(x, labels, groups)
    fresh = rng.random((100, 2))
    assert spearman(ranker.predict(fresh), -fresh[:, 0]) > 0.9
    with pytest.raises(ValueError, match="query"):
        XGBoostModel(Task.RANKING).fit(x, labels)


def test_classifier_predicts_probabilities() -> None:
    x, _ = data()
    feasible = (x[:, 0] > 0.5).astype(float)
    model = XGBoostModel(Task.CLASSIFICATION, BoostParams(rounds=40))
    model.fit(x, feasible)
    chance = model.predict(x)
    assert ((chance >= 0) & (chance <= 1)).all() and ((chance > 0.5) == (feasible == 1)).mean() > 0.95


def test_quality_metrics_by_hand() -> None:
    simulated = np.array([1.0, 2.0, 3.0, 4.0])
    predicted = np.array([1.1, 1.8, 3.3, 4.0])
    metrics = quality(predicted, simulated)
    assert metrics.mape == pytest.approx((0.1 + 0.1 + 0.1 + 0.0) / 4)
    assert metrics.r2 == pytest.approx(1 - (0.01 + 0.04 + 0.09) / 5.0)
    assert metrics.spearman == pytest.approx(1.0)
    assert spearman(np.array([1.0, 2.0, 3.0]), np.array([3.0, 2.0, 1.0])) == pytest.approx(-1.0)
