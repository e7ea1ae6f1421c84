"""Request-level latencies of a serving run and the `tessera serve --json` document.

TTFT is first token − arrival; TPOT is (finish − first token) / (output_len − 1), defined for
requests that generate more than one token; end-to-end is finish − arrival. Throughput and
goodput are over the run's span, from the first arrival to the last finish.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from serving.kv_cache import KvBudget
from serving.scheduler import Schedule, SchedulerConfig


@dataclass(frozen=True)
class Percentiles:
    """Summary of one latency over requests, in seconds (numpy's linear percentiles)."""

    p50: float
    p90: float
    p99: float
    mean: float

    @classmethod
    def of(cls, values: np.ndarray) -> Percentiles:
        """The summary of `values`; every figure NaN when there are none."""
        if values.size == 0:
            return cls(math.nan, math.nan, math.nan, math.nan)
        p50, p90, p99 = np.percentile(values, (50, 90, 99))
        return cls(float(p50), float(p90), float(p99), float(values.mean()))

    def to_json(self) -> dict[str, float | None]:
        """The four figures; NaN (no request to measure) as null."""
        return {name: None if math.isnan(v) else v for name, v in vars(self).items()}


@dataclass(frozen=True)
class Slo:
    """Service-level objectives a request must meet to count toward goodput (s; inf: none)."""

    ttft_s: float = math.inf
    tpot_s: float = math.inf


@dataclass(frozen=True)
class ServeReport:
    """One serving run: what ran, how the scheduler fared and the request-level metrics."""

    model: str
    accelerator: str
    precision: str
    config: SchedulerConfig
    slo: Slo
    kv: KvBudget
    schedule: Schedule
    grid_points: int

    @property
    def ttft(self) -> np.ndarray:
        """Seconds from arrival to first token, per request."""
        return np.array([o.first_token_s - o.request.arrival_s for o in self.schedule.outcomes])

    @property
    def tpot(self) -> np.ndarray:
        """Seconds per output token after the first, per request; NaN for one-token outputs."""
        return np.array(
            [
                (o.finish_s - o.first_token_s) / (o.request.output_len - 1) if o.request.output_len > 1 else math.nan
                for o in self.schedule.outcomes
            ]
        )

    @property
    def e2e(self) -> np.ndarray:
        """Seconds from arrival to last token, per request."""
        return np.array([o.finish_s - o.request.arrival_s for o in self.schedule.outcomes])

    @property
    def span_s(self) -> float:
        """Seconds from the first arrival to the last finish."""
        outcomes = self.schedule.outcomes
        return max(o.finish_s for o in outcomes) - min(o.request.arrival_s for o in outcomes)

    @property
    def throughput_tokens_s(self) -> float:
        """Generated tokens per second over the span."""
        return sum(o.request.output_len for o in self.schedule.outcomes) / self.span_s

    @property
    def goodput_rps(self) -> float:
        """Requests per second over the span that met both SLOs (a one-token output meets TPOT)."""
        tpot = np.nan_to_num(self.tpot, nan=0.0)
        good = int(np.count_nonzero((self.ttft <= self.slo.ttft_s) & (tpot <= self.slo.tpot_s)))
        return good / self.span_s

    def to_json(self) -> dict[str, Any]:
        """The `tessera serve --json` document (docs/results.md)."""
        tpot = self.tpot
        return {
            "model": self.model,
            "accelerator": self.accelerator,
            "precision": self.precision,
            "max_batch": self.config.max_batch,
            "max_batched_tokens": self.config.max_batched_tokens,
            "kv_block_tokens": self.config.kv_block_tokens,
            "slo_ttft_s": None if math.isinf(self.slo.ttft_s) else self.slo.ttft_s,
            "slo_tpot_s": None if math.isinf(self.slo.tpot_s) else self.slo.tpot_s,
            "ttft_s": Percentiles.of(self.ttft).to_json(),
            "tpot_s": Percentiles.of(tpot[~np.isnan(tpot)]).to_json(),
            "e2e_s": Percentiles.of(self.e2e).to_json(),
            "throughput_tokens_s": self.throughput_tokens_s,
            "goodput_rps": self.goodput_rps,
            "span_s": self.span_s,
            "kv_capacity_tokens": self.kv.capacity_tokens,
            "kv_bytes_per_token": self.kv.bytes_per_token,
            "weight_bytes": self.kv.weight_bytes,
            "peak_kv_tokens": self.schedule.peak_kv_tokens,
            "iterations": self.schedule.iterations,
            "preemptions": self.schedule.preemptions,
            "grid_points": self.grid_points,
            "requests": [
                {
                    "arrival_s": o.request.arrival_s,
                    "prompt_len": o.request.prompt_len,
                    "output_len": o.request.output_len,
                    "first_token_s": o.first_token_s,
                    "finish_s": o.finish_s,
                    "preemptions": o.preemptions,
                }
                for o in self.schedule.outcomes
            ],
        }
