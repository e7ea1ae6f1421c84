"""Read a sweep folder (what `tessera sweep --out DIR` wrote) into one typed object for the figures.

The folder holds `results.parquet`, `pareto.csv` and `manifest.json` (see `explorer.store`);
the manifest carries the resolved sweep spec, from which the objectives, the constraints and
the swept parameters are recovered with their types and units. An optional
`surrogate.parquet` holds a learned cost model's predictions (`SURROGATE_NAME`).

Reports only read: nothing here writes to the sweep folder.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from pydantic import ValidationError

from accel_spec.units import Dimension, format_quantity
from explorer.manifest import MANIFEST_NAME, Manifest
from explorer.objectives import Constraint, Objective, metric_columns
from explorer.space import MODEL_COLUMN, DesignSpace, schedule_choices
from explorer.spec import SweepSpec
from explorer.store import PARETO_NAME, RESULTS_NAME
from tessera.errors import InputError, Problem
from tessera.input_files import GiB, read_input

SURROGATE_NAME = "surrogate.parquet"
"""Predicted-vs-simulated records of a learned cost model, one row per (point, objective).

Columns: ``objective`` (an `Objective` value such as ``latency``), ``predicted`` and
``simulated`` (the objective in its natural unit, `Objective.unit`), and ``split`` (``train``
or ``test``). Reports draw the cost-model parity figure only when this file exists.
"""

SURROGATE_COLUMNS = ("objective", "predicted", "simulated", "split")

MAX_FILE_BYTES = 1 * GiB
"""Largest pareto.csv or surrogate.parquet read: a front or a record set of a million points
is a few hundred MB."""

DIRECT_METRIC: dict[Objective, str] = {
    Objective.LATENCY: "latency_s",
    Objective.ENERGY: "energy_j",
    Objective.AREA: "area_mm2",
    Objective.EDP: "edp_js",
    Objective.POWER: "power_w",
    Objective.THROUGHPUT_PER_WATT: "tops_per_w",
}
"""The metrics column each objective equals (in the same unit), so a constraint written on
the metric (``area_mm2 <= 6``) is drawn on the objective's axis. Throughput per mm² is a
ratio of two columns and has none."""


_DIMENSION_UNITS = {
    Dimension.BYTES: "bytes",
    Dimension.FREQUENCY: "Hz",
    Dimension.BANDWIDTH: "bytes/s",
    Dimension.DURATION: "s",
    Dimension.ENERGY: "J",
    Dimension.AREA: "m²",
    Dimension.POWER: "W",
    Dimension.LENGTH: "m",
}
"""Units in which swept values are stored (SI, as in the sweep spec); ticks show them scaled."""


@dataclass(frozen=True)
class Parameter:
    """A swept column of the results table: its name, unit and whether its values are (whole) numbers."""

    name: str
    dimension: Dimension | None
    numeric: bool
    integer: bool = False

    @property
    def axis_label(self) -> str:
        """``name [unit]``: the dimension's unit, else count (whole numbers), ratio or variant."""
        if self.dimension is not None:
            unit = _DIMENSION_UNITS.get(self.dimension, self.dimension.value)
        elif not self.numeric:
            unit = "variant"
        else:
            unit = "count" if self.integer else "ratio"
        return f"{self.name} [{unit}]"

    def format(self, value: object) -> str:
        """A value as a person reads it: ``256 KiB`` for bytes, ``0.5`` for a width."""
        if isinstance(value, float) and math.isnan(value):
            return "–"
        if self.dimension is not None and isinstance(value, (int, float, np.number)):
            return format_quantity(float(value), self.dimension)
        if isinstance(value, (float, np.floating)):
            return f"{value:.4g}"
        return str(value)


@dataclass(frozen=True)
class SweepData:
    """Everything a sweep report shows.

    Attributes:
        folder: the sweep folder.
        table: every row of results.parquet, in trial order.
        front: the rows of pareto.csv (objective columns included), in file order.
        manifest: manifest.json; `spec` the sweep spec it records.
        parameters: swept columns that take more than one value, in results-table order.
        surrogate: surrogate.parquet when present, else None.
    """

    folder: Path
    table: pd.DataFrame
    front: pd.DataFrame
    manifest: Manifest
    spec: SweepSpec
    parameters: tuple[Parameter, ...]
    surrogate: pd.DataFrame | None

    @property
    def objectives(self) -> tuple[Objective, ...]:
        return self.spec.objectives

    @property
    def constraints(self) -> tuple[Constraint, ...]:
        return self.spec.constraints

    def ok(self) -> pd.DataFrame:
        """Rows that were evaluated and whose every objective is finite: the plottable ones."""
        ok = self.table[self.table["status"] == "ok"]
        finite = np.ones(len(ok), dtype=bool)
        for objective in self.objectives:
            finite &= np.isfinite(objective.values(ok))
        return ok[finite]

    def parameter(self, name: str) -> Parameter:
        """The parameter called `name`, or InputError listing the allowed names."""
        for parameter in self.parameters:
            if parameter.name == name:
                return parameter
        allowed = ", ".join(p.name for p in self.parameters) or "(none: nothing varies)"
        raise InputError("--color-by", Problem("", f"{name!r} is not a swept parameter of {self.folder}; allowed: {allowed}"))

    def constraints_on(self, objective: Objective) -> tuple[Constraint, ...]:
        """Constraints whose bound is a value of `objective` (drawn as lines on its axis)."""
        names = {objective.value, DIRECT_METRIC.get(objective)}
        return tuple(c for c in self.constraints if c.metric in names)


def load_sweep_folder(folder: str | Path) -> SweepData:
    """Read a sweep folder; InputError naming the file (and what is wrong with it) when it is
    missing, corrupt or not what `tessera sweep` writes."""
    path = Path(folder)
    if not path.is_dir():
        raise InputError(str(path), Problem("", "no such folder; expected the --out folder of `tessera sweep`"))
    results = path / RESULTS_NAME
    if not results.exists():
        raise InputError(str(path), Problem("", f"holds no {RESULTS_NAME}; is it the --out folder of `tessera sweep`?"))
    manifest = Manifest.read(path)
    if manifest is None:
        raise InputError(str(path / MANIFEST_NAME), Problem("", "missing, or not a sweep manifest (corrupt JSON, or "
                                                            "fields of the wrong type); the sweep folder is incomplete"))
    try:
        spec = SweepSpec.model_validate(manifest.spec)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(step) for step in ("spec", *first["loc"]))
        raise InputError(str(path / MANIFEST_NAME), Problem(where, f"not a sweep spec this Tessera reads: {first['msg']}")) from None
    try:
        table = pd.read_parquet(results)
    except (OSError, ValueError) as error:
        raise InputError(str(results), Problem("", f"cannot be read: {error}")) from None
    if table.empty:
        raise InputError(str(results), Problem("", "holds no rows: the sweep evaluated no point yet"))
    for column in ("timing", "weights", "objective"):  # the schedule axes added after the first sweeps
        values = schedule_choices(spec)[column]
        if column not in table and len(values) == 1:
            table[column] = values[0]  # a sweep from before this schedule axis ran at its one default
    _require_columns(results, table, (*_ROW_COLUMNS, *metric_columns(spec.serving is not None), *DesignSpace(spec).columns))
    table = table.sort_values("trial", kind="stable").reset_index(drop=True)
    return SweepData(
        folder=path,
        table=table,
        front=_read_front(path / PARETO_NAME, table, spec),
        manifest=manifest,
        spec=spec,
        parameters=swept_parameters(spec, table),
        surrogate=_read_surrogate(path / SURROGATE_NAME),
    )


_ROW_COLUMNS = ("point_id", "trial", "status", "reason", "constraints_ok", "spec_hash", "tool_version")
"""Columns every results row has besides its parameters and metrics (`explorer.table`)."""


def _require_columns(path: Path, frame: pd.DataFrame, columns: tuple[str, ...]) -> None:
    missing = [column for column in dict.fromkeys(columns) if column not in frame]
    if missing:
        raise InputError(str(path), Problem("", f"is not what `tessera sweep` writes: no column {', '.join(missing)}"))


def _read_front(path: Path, table: pd.DataFrame, spec: SweepSpec) -> pd.DataFrame:
    """The results rows pareto.csv names, in its order, with each objective's value.

    Only its point ids are read from the file: the rows themselves come from results.parquet,
    so a hand-edited or damaged CSV cannot put numbers in the report that no point produced.
    """
    if not path.exists():
        raise InputError(str(path), Problem("", "missing: the sweep did not finish; rerun `tessera sweep` to complete it"))
    data = read_input(path, limit=MAX_FILE_BYTES, what="a Pareto front CSV")
    try:
        listed = pd.read_csv(io.BytesIO(data), dtype={"point_id": str}, usecols=["point_id"])
    except (OSError, ValueError, UnicodeDecodeError) as error:  # pandas' parser errors are ValueErrors
        message = "has no point_id column" if "point_id" in str(error) else f"cannot be read as CSV: {error}"
        raise InputError(str(path), Problem("", message)) from None
    ids = listed["point_id"].astype(str).tolist()
    rows = table.set_index("point_id", drop=False)
    unknown = [point for point in ids if point not in rows.index]
    if unknown:
        raise InputError(str(path), Problem("point_id", f"names {len(unknown)} point(s) that {RESULTS_NAME} does not "
                                            f"hold (first: {unknown[0]!r}); rerun `tessera sweep` to rewrite it"))
    front = rows.loc[ids].reset_index(drop=True)
    return front.assign(**{objective.value: objective.values(front) for objective in spec.objectives})


def swept_parameters(spec: SweepSpec, table: pd.DataFrame) -> tuple[Parameter, ...]:
    """Parameter columns that take more than one value (tied axes excluded: they repeat another)."""
    dimensions = {axis.path: axis.dimension for axis in spec.hardware}
    tied = {axis.path for axis in spec.hardware if axis.tied_to is not None}
    parameters = []
    for column in DesignSpace(spec).columns:
        if column in tied or column not in table or table[column].nunique(dropna=True) < 2:
            continue
        numeric = column != MODEL_COLUMN and pd.api.types.is_numeric_dtype(table[column])
        integer = numeric and _whole_numbers(_spec_values(spec, column))
        parameters.append(Parameter(column, dimensions.get(column), bool(numeric), integer))
    return tuple(parameters)


def _spec_values(spec: SweepSpec, column: str) -> list[object]:
    """The values the spec gives a parameter column (a model axis only on its builder's variants)."""
    for axis in spec.hardware:
        if axis.path == column:
            return list(axis.values)
    if column == "batch":
        return [b for b in spec.batches if b is not None]
    return [dict(variant.axes)[column] for variant in spec.models if column in dict(variant.axes)]


def _whole_numbers(values: list[object]) -> bool:
    """True when every value is an int (not a bool): the column counts things.

    Read from the spec rather than the table's dtype: a model axis is empty on the rows of
    other builders, which makes pandas read its integers as floats.
    """
    return bool(values) and all(isinstance(v, int) and not isinstance(v, bool) for v in values)


def _read_surrogate(path: Path) -> pd.DataFrame | None:
    if not path.exists():
        return None
    data = read_input(path, limit=MAX_FILE_BYTES, what="a cost model's predictions")
    try:
        surrogate = pd.read_parquet(io.BytesIO(data))
    except (OSError, ValueError) as error:  # pyarrow's ArrowInvalid is a ValueError
        raise InputError(str(path), Problem("", f"cannot be read: {error}")) from None
    missing = [c for c in SURROGATE_COLUMNS if c not in surrogate]
    if missing:
        raise InputError(str(path), Problem("", f"missing column(s) {', '.join(missing)}; expected {', '.join(SURROGATE_COLUMNS)}"))
    for column in ("predicted", "simulated"):
        if not pd.api.types.is_numeric_dtype(surrogate[column]):
            raise InputError(str(path), Problem(column, f"holds {surrogate[column].dtype} values; expected numbers"))
    unknown = sorted(set(surrogate["objective"].astype(str)) - {o.value for o in Objective})
    if unknown:
        raise InputError(str(path), Problem("objective", f"unknown objective(s) {', '.join(unknown)}"))
    return surrogate
