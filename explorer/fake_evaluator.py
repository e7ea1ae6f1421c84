"""A deterministic, instant stand-in for compile + simulate, for tests and benchmarks.

Like TVM's `DummyRunner`, it exercises everything around evaluation (strategies, executors,
store, resume, Pareto) without the compiler. Its metrics are closed-form functions of the
point's parameters with a real trade-off (bigger chips are faster but larger), plus a small
hash-derived perturbation so that points differ. It can be told to raise for, or declare
infeasible, the points whose parameter matches given values, and to sleep per point.

Selecting it without editing code: set the environment variable
``TESSERA_TEST_EVALUATOR=fake`` (optionally ``TESSERA_TEST_EVALUATOR_OPTIONS`` to a JSON
object of `FakeEvaluator` fields, e.g. ``{"delay_s": 0.01, "error_when": {"matrix.rows": 64}}``).
This is reserved for tests: the sweep file format has no trace of it, and the manifest
records which evaluator produced the results.
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from dataclasses import dataclass, field
from typing import Any

from explorer.accuracy import ACCURACY_COLUMN, accuracy_top1
from explorer.evaluator import Evaluator, Outcome, Status
from explorer.space import Point


class FakeFailure(RuntimeError):
    """Raised by the fake evaluator for points it was told to fail on."""


@dataclass(frozen=True)
class FakeEvaluator(Evaluator):
    """Closed-form metrics; `error_when` / `infeasible_when` map a parameter to the values that trigger."""

    error_when: dict[str, list[Any]] = field(default_factory=dict)
    infeasible_when: dict[str, list[Any]] = field(default_factory=dict)
    delay_s: float = 0.0
    name: str = "fake"

    @classmethod
    def from_json(cls, text: str) -> "FakeEvaluator":
        """Options as JSON; scalar trigger values are promoted to one-item lists."""
        options = json.loads(text) if text.strip() else {}
        for key in ("error_when", "infeasible_when"):
            options[key] = {k: v if isinstance(v, list) else [v] for k, v in options.get(key, {}).items()}
        return cls(**options)

    def run(self, point: Point) -> Outcome:
        if self.delay_s:
            time.sleep(self.delay_s)
        params = dict(point.params)
        if _matches(params, self.error_when):
            raise FakeFailure(f"told to fail on point {point.point_id}")
        chip = hashlib.sha256(json.dumps(dict(point.overrides), sort_keys=True).encode()).hexdigest()
        if _matches(params, self.infeasible_when):
            return Outcome(Status.INFEASIBLE, "fake: no schedule fits the buffers", spec_hash=chip)
        return Outcome(Status.OK, metrics=fake_metrics(point), spec_hash=chip)

    def analytic(self, point: Point) -> dict[str, float]:
        return {"area_mm2": fake_area(point), ACCURACY_COLUMN: accuracy_top1(point.model)}


def _matches(params: dict[str, Any], triggers: dict[str, list[Any]]) -> bool:
    return any(params.get(name) in values for name, values in triggers.items())


def fake_metrics(point: Point) -> dict[str, float]:
    """Metrics in which resources (numeric overrides: counts and bytes) buy speed with area.

    As in the simulator, area depends on the chip alone and accuracy on the model alone
    (`FakeEvaluator.analytic` gives them without the rest).
    """
    jitter = _jitter(point.point_id)
    size = sum(math.log2(abs(v) + 1.0) for _, v in point.overrides if isinstance(v, (int, float)) and not isinstance(v, bool))
    model_work = 1.0 + int(hashlib.sha256(point.model.encode()).hexdigest()[:6], 16) / 2**24
    latency = model_work * jitter * 2.0 ** (-0.25 * size) + 1e-6
    area = fake_area(point)
    energy = latency * (0.2 + 0.05 * area) + 1e-3 * model_work
    macs = int(1e6 * model_work)
    cycles = int(latency * 1e9)
    return {
        "total_cycles": cycles,
        "latency_s": latency,
        "energy_j": energy,
        "area_mm2": area,
        "macs": macs,
        "utilization": min(1.0, 0.3 * jitter),
        "dram_read_bytes": macs // 3,
        "dram_write_bytes": macs // 7,
        "power_w": energy / latency,
        "edp_js": energy * latency,
        "throughput_ops_s": 2 * macs / latency,
        "tops_per_w": 2 * macs / energy / 1e12,
        ACCURACY_COLUMN: accuracy_top1(point.model),
    }


def fake_area(point: Point) -> float:
    """Closed-form area of the point's chip: grows with its numeric overrides."""
    size = sum(math.log2(abs(v) + 1.0) for _, v in point.overrides if isinstance(v, (int, float)) and not isinstance(v, bool))
    return 0.05 * size / _jitter(json.dumps([list(item) for item in point.overrides], sort_keys=True))


def _jitter(text: str) -> float:
    """1 to 1.05, a deterministic function of `text`, so that points differ."""
    return 1.0 + int.from_bytes(hashlib.sha256(text.encode()).digest()[:4], "big") / 2**32 * 0.05
