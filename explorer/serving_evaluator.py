"""The evaluator of a serving sweep: serve the point's decoder on the point's chip.

Each point runs `serving.run.serve` (the scheduler and step grids of `tessera serve`) with the
sweep's `serving:` block, so a row equals `tessera serve` run alone on that chip with the same
options. Energy and power are not reported: the step grids keep each step's time only, and a
served run's energy would need every iteration's events, which the scheduler does not replay.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from accel_spec import spec_hash
from accel_spec.precision import PrecisionAssignment
from accel_spec.schema import Accelerator
from compiler.scheduling import InfeasibleSchedule
from explorer.accuracy import ACCURACY_COLUMN
from explorer.evaluator import Evaluator, Outcome, Status
from explorer.simulator_evaluator import chip_area_mm2, point_chip
from explorer.space import DesignSpace, Point
from explorer.spec_serving import ServingSpec, served_model
from serving.metrics import Percentiles, ServeReport
from serving.run import serve
from tessera.errors import InputError


def serving_metrics(report: ServeReport) -> dict[str, float]:
    """The `SERVING_METRIC_COLUMNS` of a served run but area: the percentiles of its
    `tessera serve --json` document (`Percentiles.of`, one-token outputs left out of TPOT)."""
    tpot = report.tpot
    ttft = Percentiles.of(report.ttft)
    tpot_summary = Percentiles.of(tpot[~np.isnan(tpot)])
    return {
        "ttft_p50_s": ttft.p50,
        "ttft_p99_s": ttft.p99,
        "tpot_p50_s": tpot_summary.p50,
        "tpot_p99_s": tpot_summary.p99,
        "e2e_p99_s": Percentiles.of(report.e2e).p99,
        "throughput_tokens_s": report.throughput_tokens_s,
        "goodput_rps": report.goodput_rps,
        "kv_capacity_tokens": report.kv.capacity_tokens,
    }


@dataclass(frozen=True)
class ServingEvaluator(Evaluator):
    """Serve the sweep's requests with the point's decoder on the base chip with its overrides."""

    base: Accelerator
    serving: ServingSpec
    name: str = "serving"

    def check(self, space: DesignSpace) -> None:
        """Nothing beyond the loader's checks: a chip whose KV cache cannot hold one request is
        an infeasible point, since a larger chip of the same sweep may hold it."""

    def run(self, point: Point) -> Outcome:
        try:
            accel = point_chip(self.base, point)
        except InputError as error:
            return Outcome(Status.INFEASIBLE, f"invalid chip: {error.render()}")
        chip = spec_hash(accel)
        try:
            report = serve(
                accel, served_model(point.model), self.serving.request_list(),
                self.serving.scheduler_config(), self.serving.slo(),
                precision=PrecisionAssignment.parse(point.precision) if point.precision else None,
            )
        except InputError as error:  # the KV cache cannot hold one request on this chip
            return Outcome(Status.INFEASIBLE, error.render(), spec_hash=chip)
        except InfeasibleSchedule as error:
            return Outcome(Status.INFEASIBLE, str(error), spec_hash=chip)
        metrics = {"area_mm2": chip_area_mm2(accel, point.precision), **serving_metrics(report)}
        return Outcome(Status.OK, metrics=metrics, spec_hash=chip)

    def analytic(self, point: Point) -> dict[str, float]:
        """Chip area from the technology tables at the chip's precision; NaN for an invalid chip.
        Decoders have no published top-1 accuracy."""
        try:
            accel = point_chip(self.base, point)
        except InputError:
            return {"area_mm2": math.nan, ACCURACY_COLUMN: math.nan}
        return {"area_mm2": chip_area_mm2(accel, point.precision), ACCURACY_COLUMN: math.nan}
