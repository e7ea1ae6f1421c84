"""What evaluating one design point means, behind a small interface.

An `Evaluator` turns a `Point` into an `Outcome` (status, reason, metrics, chip hash). The
real one compiles and simulates (`explorer.simulator_evaluator`); a fake one computes cheap
closed-form metrics for tests (`explorer.fake_evaluator`, like TVM's DummyRunner).
Evaluators are pickled to worker processes, so they hold only plain data.
"""

from __future__ import annotations

import gc
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import Enum

from explorer.space import DesignSpace, Point

TEST_EVALUATOR_ENV = "TESSERA_TEST_EVALUATOR"
"""Environment variable that replaces the simulator by a test evaluator (``fake``) in sweeps."""
TEST_EVALUATOR_OPTIONS_ENV = "TESSERA_TEST_EVALUATOR_OPTIONS"
"""JSON options of the test evaluator (see `explorer.fake_evaluator`)."""


class Status(Enum):
    """Outcome of one point: evaluated, did not fit the chip, or failed."""

    OK = "ok"
    INFEASIBLE = "infeasible"
    ERROR = "error"


@dataclass(frozen=True)
class Outcome:
    """Result of evaluating one point.

    Attributes:
        status: ok, infeasible (no schedule fits the buffers) or error (anything raised).
        reason: empty for ok; the infeasibility message; for an error, the exception type
            and message.
        metrics: the `Simulation.summary()` keys for ok points, empty otherwise.
        spec_hash: `accel_spec.spec_hash` of the point's chip (empty if it could not be built).
    """

    status: Status
    reason: str = ""
    metrics: dict[str, float] = field(default_factory=dict)
    spec_hash: str = ""


class Evaluator(ABC):
    """Compile-and-simulate (or a stand-in) for one design point."""

    name: str = "evaluator"

    def evaluate(self, point: Point) -> Outcome:
        """Evaluate one point; never raises: an exception becomes an ERROR outcome."""
        try:
            return self.run(point)
        except Exception as error:  # noqa: BLE001 - a crashing point is recorded, the sweep goes on
            return Outcome(Status.ERROR, f"{type(error).__name__}: {error}")

    @abstractmethod
    def run(self, point: Point) -> Outcome:
        """Evaluate one point; may raise (recorded as an error by `evaluate`)."""

    def analytic(self, point: Point) -> dict[str, float]:
        """The `explorer.objectives.ANALYTIC_METRICS` of a point, exactly as `run` would report
        them, without simulating; empty when this evaluator cannot give them cheaply."""
        return {}

    def check(self, space: DesignSpace) -> None:
        """Raise InputError, before any point runs, for what cannot work at any point of
        `space` (a model that does not load); nothing to check by default."""


YOUNG_COLLECTION_EVERY = 10_000
"""Container objects allocated (net of those freed) between two young-generation
collections (`gc.set_threshold`'s first value, 700 by default) while points are evaluated.
A point's objects are freed by their reference counts, not by the collector: over 768
never-seen MobileNetV2 points in one process at the default 700, its 666 young and 60
middle collections found no garbage at all, and took 0.32 ms a point; at 10,000 (75 and 7
collections) 0.21 ms. Measured 2026-12-06, `gc.callbacks` around an in-process sweep of
`benchmarks/sweep_throughput.py`'s never-seen chips."""

FULL_COLLECTION_EVERY = 100
"""Middle-generation collections between two full ones (`gc.set_threshold`'s third value,
10 by default) while points are evaluated. A process's compile caches grow to some 350,000
objects, which every full collection walks: about 110 ms each, five in a 512-point
MobileNetV2 sweep at the default thresholds, 4 % of its time and its slowest points but
those of the crowding challenger. With `YOUNG_COLLECTION_EVERY`, a full collection comes
after some ten million net allocations; the one in the 768 points above (from the sweep's
start) found 35 objects."""


def evaluate_chunk(evaluator: Evaluator, points: Sequence[Point]) -> list[tuple[str, Outcome]]:
    """Evaluate several points in one task (amortises scheduling overhead on workers), with
    collections spaced for the objects a point makes (`YOUNG_COLLECTION_EVERY`) and the
    caches a sweep keeps (`FULL_COLLECTION_EVERY`); the process's thresholds are restored
    after (a serial sweep runs in the caller's process)."""
    thresholds = gc.get_threshold()
    gc.set_threshold(YOUNG_COLLECTION_EVERY, thresholds[1], FULL_COLLECTION_EVERY)
    try:
        return [(point.point_id, evaluator.evaluate(point)) for point in points]
    finally:
        gc.set_threshold(*thresholds)
