"""What a sweep optimises and what it must respect: objectives (with direction) and constraints.

Both are computed from a point's metrics: the keys of `tessera.api.Simulation.summary()`
(`METRIC_COLUMNS`), or in a sweep with a `serving:` block the request-level figures of
`tessera serve` (`SERVING_METRIC_COLUMNS`); `Objective.available` says which sweeps report an
objective's inputs.
Objectives are an enum so a sweep file cannot name one that does not exist; each knows its
direction and how to read its value from a results table (vectorised) or from one metrics
mapping. `minimization_matrix` flips maximised objectives so Pareto code only minimises.
"""

from __future__ import annotations

import math
import operator
import re
import sys
from collections.abc import Callable, Mapping
from enum import Enum
from typing import TYPE_CHECKING

import numpy as np
from pydantic import BaseModel, ConfigDict, field_validator

if TYPE_CHECKING:
    import pandas as pd

METRIC_COLUMNS: dict[str, type] = {
    "total_cycles": int,
    "latency_s": float,
    "energy_j": float,
    "area_mm2": float,
    "macs": int,
    "utilization": float,
    "dram_read_bytes": int,
    "dram_write_bytes": int,
    "power_w": float,
    "edp_js": float,
    "throughput_ops_s": float,
    "tops_per_w": float,
    "accuracy_top1": float,
}
"""The metrics every evaluated point reports, and their types (the results-table columns)."""

SERVING_METRIC_COLUMNS: dict[str, type] = {
    "area_mm2": float,
    "ttft_p50_s": float,
    "ttft_p99_s": float,
    "tpot_p50_s": float,
    "tpot_p99_s": float,
    "e2e_p99_s": float,
    "throughput_tokens_s": float,
    "goodput_rps": float,
    "kv_capacity_tokens": int,
}
"""The metrics of a point of a serving sweep (`serving.metrics.ServeReport`), in place of
`METRIC_COLUMNS`: a served run has no single latency, and its energy is not measured (the step
grid keeps times only)."""

METRIC_UNITS: dict[str, str] = {
    "total_cycles": "cycles",
    "latency_s": "s",
    "energy_j": "J",
    "area_mm2": "mm²",
    "macs": "MAC",
    "utilization": "1",
    "dram_read_bytes": "B",
    "dram_write_bytes": "B",
    "power_w": "W",
    "edp_js": "J·s",
    "throughput_ops_s": "op/s",
    "tops_per_w": "TOPS/W",
    "accuracy_top1": "%",
    "ttft_p50_s": "s",
    "ttft_p99_s": "s",
    "tpot_p50_s": "s",
    "tpot_p99_s": "s",
    "e2e_p99_s": "s",
    "throughput_tokens_s": "token/s",
    "goodput_rps": "req/s",
    "kv_capacity_tokens": "token",
}
"""Unit of each metric column (``1``: a dimensionless fraction; an op is a multiply or an add)."""

METRIC_DESCRIPTIONS: dict[str, str] = {
    "utilization": "MACs / (cycles × PEs): the share of the array's peak that the run used",
    "throughput_ops_s": "2 operations (multiply and add) per MAC, over the latency",
    "tops_per_w": "2 operations per MAC over the energy, in tera-operations per joule (TOPS/W)",
    "edp_js": "energy × latency",
    "accuracy_top1": "published ImageNet top-1 accuracy of the model variant, measured by its authors in FP32; "
                     "not re-measured at the run's precision (an int8 run gets the FP32 figure)",
    "ttft_p50_s": "median time to first token over the served requests",
    "ttft_p99_s": "99th percentile of time to first token",
    "tpot_p50_s": "median time per output token after the first (requests with one output token left out)",
    "tpot_p99_s": "99th percentile of time per output token",
    "e2e_p99_s": "99th percentile of arrival to last token",
    "throughput_tokens_s": "generated tokens over the span from first arrival to last finish",
    "goodput_rps": "requests meeting both SLOs over the span from first arrival to last finish",
    "kv_capacity_tokens": "tokens the KV cache holds: DRAM left after the weights over the bytes per token",
}
"""What a metric column means where its name does not say it all (Parquet field metadata)."""


def metric_columns(serving: bool) -> dict[str, type]:
    """The metric columns of a sweep's results: `SERVING_METRIC_COLUMNS` for a serving sweep."""
    return SERVING_METRIC_COLUMNS if serving else METRIC_COLUMNS


class Scope(Enum):
    """What an analytic metric depends on: the point's chip (hardware axes and precision) or its model."""

    CHIP = "chip"
    MODEL = "model"


ANALYTIC_METRICS: dict[str, Scope] = {"area_mm2": Scope.CHIP, "accuracy_top1": Scope.MODEL}
"""Metrics that are exact without simulating: chip area from the technology tables, and the
published accuracy of the model variant (`Evaluator.analytic`). The surrogate computes these
for its candidates instead of learning them."""


class Direction(Enum):
    """Whether an objective is better small or large."""

    MINIMIZE = "minimize"
    MAXIMIZE = "maximize"


class Objective(Enum):
    """Sweep objectives, spelled in sweep files by their value."""

    LATENCY = "latency"
    ENERGY = "energy"
    AREA = "area"
    EDP = "edp"
    POWER = "power"
    THROUGHPUT_PER_WATT = "throughput_per_watt"
    THROUGHPUT_PER_MM2 = "throughput_per_mm2"
    ACCURACY = "accuracy"
    TTFT_P99 = "ttft_p99"
    TPOT_P50 = "tpot_p50"
    GOODPUT = "goodput"
    GOODPUT_PER_MM2 = "goodput_per_mm2"
    THROUGHPUT_TOKENS_PER_MM2 = "throughput_tokens_per_mm2"

    @property
    def direction(self) -> Direction:
        """MAXIMIZE for accuracy, goodput and the efficiency objectives, MINIMIZE for the costs."""
        if self in _MAXIMIZED:
            return Direction.MAXIMIZE
        return Direction.MINIMIZE

    @property
    def metrics(self) -> tuple[str, ...]:
        """The metric columns this objective is computed from."""
        return _READS[self]

    def available(self, serving: bool) -> bool:
        """True when every metric it reads is a column of a sweep with (or without) serving."""
        return all(column in metric_columns(serving) for column in self.metrics)

    @property
    def unit(self) -> str:
        """Unit of `values` (for table headers)."""
        return _UNITS[self]

    @property
    def analytic_metric(self) -> str | None:
        """The `ANALYTIC_METRICS` column this objective equals, or None if it needs simulating."""
        return {Objective.AREA: "area_mm2", Objective.ACCURACY: "accuracy_top1"}.get(self)

    def values(self, metrics: pd.DataFrame | Mapping[str, float]) -> np.ndarray | float:
        """The objective of every row of a results table (or of one metrics mapping)."""
        get = _ACCESSORS[self]
        if _is_table(metrics):
            return np.asarray(get(metrics), dtype=np.float64)
        return float(get(metrics))


_MAXIMIZED = frozenset({
    Objective.THROUGHPUT_PER_WATT, Objective.THROUGHPUT_PER_MM2, Objective.ACCURACY,
    Objective.GOODPUT, Objective.GOODPUT_PER_MM2, Objective.THROUGHPUT_TOKENS_PER_MM2,
})

_READS: dict[Objective, tuple[str, ...]] = {
    Objective.LATENCY: ("latency_s",),
    Objective.ENERGY: ("energy_j",),
    Objective.AREA: ("area_mm2",),
    Objective.EDP: ("edp_js",),
    Objective.POWER: ("power_w",),
    Objective.THROUGHPUT_PER_WATT: ("tops_per_w",),
    Objective.THROUGHPUT_PER_MM2: ("throughput_ops_s", "area_mm2"),
    Objective.ACCURACY: ("accuracy_top1",),
    Objective.TTFT_P99: ("ttft_p99_s",),
    Objective.TPOT_P50: ("tpot_p50_s",),
    Objective.GOODPUT: ("goodput_rps",),
    Objective.GOODPUT_PER_MM2: ("goodput_rps", "area_mm2"),
    Objective.THROUGHPUT_TOKENS_PER_MM2: ("throughput_tokens_s", "area_mm2"),
}

_UNITS = {
    Objective.LATENCY: "s",
    Objective.ENERGY: "J",
    Objective.AREA: "mm²",
    Objective.EDP: "J·s",
    Objective.POWER: "W",
    Objective.THROUGHPUT_PER_WATT: "TOPS/W",
    Objective.THROUGHPUT_PER_MM2: "TOPS/mm²",
    Objective.ACCURACY: "% top-1",
    Objective.TTFT_P99: "s",
    Objective.TPOT_P50: "s",
    Objective.GOODPUT: "req/s",
    Objective.GOODPUT_PER_MM2: "req/s/mm²",
    Objective.THROUGHPUT_TOKENS_PER_MM2: "token/s/mm²",
}

_ACCESSORS: dict[Objective, Callable] = {
    Objective.LATENCY: lambda m: m["latency_s"],
    Objective.ENERGY: lambda m: m["energy_j"],
    Objective.AREA: lambda m: m["area_mm2"],
    Objective.EDP: lambda m: m["edp_js"],
    Objective.POWER: lambda m: m["power_w"],
    Objective.THROUGHPUT_PER_WATT: lambda m: m["tops_per_w"],
    Objective.THROUGHPUT_PER_MM2: lambda m: m["throughput_ops_s"] / m["area_mm2"] / 1e12,
    Objective.ACCURACY: lambda m: m["accuracy_top1"],
    Objective.TTFT_P99: lambda m: m["ttft_p99_s"],
    Objective.TPOT_P50: lambda m: m["tpot_p50_s"],
    Objective.GOODPUT: lambda m: m["goodput_rps"],
    Objective.GOODPUT_PER_MM2: lambda m: m["goodput_rps"] / m["area_mm2"],
    Objective.THROUGHPUT_TOKENS_PER_MM2: lambda m: m["throughput_tokens_s"] / m["area_mm2"],
}


def _is_table(metrics: object) -> bool:
    """Whether `metrics` is a results table (a DataFrame) rather than one point's metrics.
    Asked without importing pandas: sweep workers, which score single points, never load it
    (about 0.3 s of every worker start), and nothing is a DataFrame before pandas is
    imported."""
    pandas = sys.modules.get("pandas")
    return pandas is not None and isinstance(metrics, pandas.DataFrame)


def minimization_matrix(table: pd.DataFrame, objectives: tuple[Objective, ...]) -> np.ndarray:
    """(rows, objectives) float array in which smaller is better for every column."""
    columns = [
        objective.values(table) * (1.0 if objective.direction is Direction.MINIMIZE else -1.0)
        for objective in objectives
    ]
    return np.column_stack(columns) if columns else np.empty((len(table), 0))


class Comparison(Enum):
    """Operators a constraint may use."""

    LE = "<="
    LT = "<"
    GE = ">="
    GT = ">"


_COMPARE = {
    Comparison.LE: operator.le,
    Comparison.LT: operator.lt,
    Comparison.GE: operator.ge,
    Comparison.GT: operator.gt,
}

_CONSTRAINT = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(<=|>=|<|>)\s*([-+]?[0-9.]\S*)\s*$")


class Constraint(BaseModel):
    """`metric op bound`, e.g. ``area_mm2 <= 50``: a point violating it is kept off the front.

    `metric` is a metrics column (`METRIC_COLUMNS` or `SERVING_METRIC_COLUMNS`) or an objective name.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    metric: str
    comparison: Comparison
    bound: float

    @classmethod
    def parse(cls, text: str) -> "Constraint":
        """Parse ``area_mm2 <= 50``; ValueError with what is wrong and what is allowed."""
        match = _CONSTRAINT.match(text) if isinstance(text, str) else None
        if match is None:
            raise ValueError(f"expected `metric <= number` (operators <=, <, >=, >), got {text!r}")
        metric, op, bound_text = match.groups()
        try:
            bound = float(bound_text)
        except ValueError:
            raise ValueError(f"bound {bound_text!r} is not a number") from None
        return cls(metric=_known_metric(metric), comparison=Comparison(op), bound=_finite_bound(bound))

    @field_validator("metric")
    @classmethod
    def _metric_is_known(cls, metric: str) -> str:
        return _known_metric(metric)

    @field_validator("bound", mode="before")
    @classmethod
    def _bound_is_a_finite_number(cls, bound: object) -> object:
        if isinstance(bound, bool) or not isinstance(bound, (int, float)):
            raise ValueError(f"bound must be a number, got {bound!r}")
        return _finite_bound(bound)

    def __str__(self) -> str:
        return f"{self.metric} {self.comparison.value} {self.bound:g}"

    @property
    def analytic_metric(self) -> str | None:
        """The `ANALYTIC_METRICS` column this constraint bounds, or None if it needs simulating."""
        if self.metric in ANALYTIC_METRICS:
            return self.metric
        if self.metric in _ALL_METRICS:
            return None
        return Objective(self.metric).analytic_metric

    def available(self, serving: bool) -> bool:
        """True when the bounded quantity is a column (or objective) of a sweep with (or without) serving."""
        if self.metric in _ALL_METRICS:
            return self.metric in metric_columns(serving)
        return Objective(self.metric).available(serving)

    def value(self, metrics: pd.DataFrame | Mapping[str, float]) -> np.ndarray | float:
        """The constrained quantity of a table (vectorised) or of one metrics mapping."""
        if self.metric in _ALL_METRICS:
            column = metrics[self.metric]
            return np.asarray(column, dtype=np.float64) if _is_table(metrics) else float(column)
        return Objective(self.metric).values(metrics)

    def satisfied(self, metrics: pd.DataFrame | Mapping[str, float]) -> np.ndarray | bool:
        """True where the constraint holds (False for NaN metrics)."""
        return _COMPARE[self.comparison](self.value(metrics), self.bound)

    def violation(self, metrics: Mapping[str, float]) -> float:
        """Optuna's convention: ≤ 0 when satisfied, otherwise how far past the bound."""
        value = float(self.value(metrics))
        if self.comparison in (Comparison.LE, Comparison.LT):
            excess = value - self.bound
        else:
            excess = self.bound - value
        if self.satisfied(metrics):
            return min(excess, 0.0)
        return max(excess, _SMALLEST_VIOLATION)  # a strict bound that is met exactly still violates


_SMALLEST_VIOLATION = 1e-300

_ALL_METRICS = {**METRIC_COLUMNS, **SERVING_METRIC_COLUMNS}


def _known_metric(metric: str) -> str:
    """`metric` if a constraint may name it (a metrics column or an objective); ValueError otherwise."""
    allowed = [*_ALL_METRICS, *(o.value for o in Objective)]
    if metric not in allowed:
        raise ValueError(f"unknown metric {metric!r}; allowed: {', '.join(allowed)}")
    return metric


def _finite_bound(bound: float) -> float:
    if not math.isfinite(bound):
        raise ValueError(f"bound {bound!r} is not finite")
    return bound
