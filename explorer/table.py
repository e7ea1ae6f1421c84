"""Rows of the results table (docs/results.md) and their Arrow schema.

Every row carries: `point_id`, `trial` (the order in which the strategy first proposed the
point), one column per parameter (hardware axis paths, `model`, model axes, `scheduler`,
`precision`, `batch`), every metric (NaN unless ok; a serving sweep's metrics are
`SERVING_METRIC_COLUMNS`), `status`, `reason`, `constraints_ok`,
`spec_hash` (of the point's chip), `seed` and `tool_version`. The schema is fixed by the
design space, so Parquet parts written at different times always read back as one table.

Numbers are stored in SI units (bytes, hertz, seconds, square metres), the units computing
wants; each column's unit is recorded in the schema: field metadata ``unit`` (and
``description`` where the name does not say it all) and the schema metadata key
``tessera.units``, a JSON object of column → unit that `manifest.json` repeats. An empty unit
marks a column of text.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

import pyarrow as pa

from accel_spec.units import Dimension
from explorer.evaluator import Outcome, Status
from explorer.objectives import METRIC_DESCRIPTIONS, METRIC_UNITS, metric_columns
from explorer.space import MODEL_COLUMN, SCHEDULE_COLUMNS, DesignSpace, Point
from explorer.spec import SweepSpec

Row = dict[str, Any]

_HEAD = (("point_id", pa.string()), ("trial", pa.int64()))
_TAIL = (
    ("status", pa.string()),
    ("reason", pa.string()),
    ("constraints_ok", pa.bool_()),
    ("spec_hash", pa.string()),
    ("seed", pa.int64()),
    ("tool_version", pa.string()),
)


def make_row(point: Point, outcome: Outcome, trial: int, spec: SweepSpec, tool_version: str) -> Row:
    """The results row of one evaluated point."""
    ok = outcome.status is Status.OK
    columns = metric_columns(spec.serving is not None)
    missing = [key for key in columns if key not in outcome.metrics] if ok else []
    if missing:
        outcome = Outcome(Status.ERROR, f"KeyError: evaluator returned no {', '.join(missing)}", {}, outcome.spec_hash)
        ok = False
    metrics = {key: outcome.metrics[key] if ok else None for key in columns}
    satisfied = ok and all(bool(c.satisfied(outcome.metrics)) for c in spec.constraints)
    return {
        "point_id": point.point_id,
        "trial": trial,
        **dict(point.params),
        **metrics,
        "status": outcome.status.value,
        "reason": outcome.reason,
        "constraints_ok": satisfied,
        "spec_hash": outcome.spec_hash,
        "seed": spec.seed,
        "tool_version": tool_version,
    }


def _param_type(values: Iterable[Any]) -> pa.DataType:
    present = [v for v in values if v is not None]
    if present and all(isinstance(v, int) and not isinstance(v, bool) for v in present):
        return pa.int64()
    if present and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in present):
        return pa.float64()
    if all(isinstance(v, bool) for v in present) and present:
        return pa.bool_()
    return pa.string()


UNITS_KEY = b"tessera.units"
"""Schema metadata key of the JSON object column → unit."""

_SI_UNIT = {
    Dimension.BYTES: "B",
    Dimension.FREQUENCY: "Hz",
    Dimension.BANDWIDTH: "B/s",
    Dimension.DURATION: "s",
    Dimension.ENERGY: "J",
    Dimension.AREA: "m²",
    Dimension.POWER: "W",
    Dimension.LENGTH: "m",
}
"""Units of swept chip quantities, stored in SI (`explorer.spec`)."""

_FIXED_UNITS = {
    "point_id": "", "trial": "index", MODEL_COLUMN: "", "scheduler": "", "precision": "", "batch": "count",
    "timing": "", "weights": "", "objective": "",
    "status": "", "reason": "", "constraints_ok": "", "spec_hash": "", "seed": "", "tool_version": "",
}


def column_units(space: DesignSpace) -> dict[str, str]:
    """Unit of every results column, in column order (``""`` for text and flags)."""
    spec = space.spec
    units = {"point_id": "", "trial": "index"}
    for axis in spec.hardware:
        units[axis.path] = _SI_UNIT[axis.dimension] if axis.dimension is not None else _plain_unit(axis.values)
    units[MODEL_COLUMN] = ""
    for column in spec.model_axes:
        units[column] = _plain_unit([dict(v.axes).get(column) for v in spec.models])
    units.update({column: _FIXED_UNITS[column] for column in SCHEDULE_COLUMNS})
    units.update({column: METRIC_UNITS[column] for column in metric_columns(spec.serving is not None)})
    units.update({name: _FIXED_UNITS[name] for name, _ in _TAIL})
    return units


def _plain_unit(values: Iterable[Any]) -> str:
    """Unit of a parameter without a dimension: whole numbers count, other numbers are ratios."""
    kind = _param_type(values)
    return "count" if kind == pa.int64() else "1" if kind == pa.float64() else ""


def result_schema(space: DesignSpace) -> pa.Schema:
    """The Arrow schema of a sweep's results (parameters typed by their values, units recorded)."""
    spec = space.spec
    params: list[tuple[str, pa.DataType]] = [(axis.path, _param_type(axis.values)) for axis in spec.hardware]
    params.append((MODEL_COLUMN, pa.string()))
    for column in spec.model_axes:
        params.append((column, _param_type(dict(v.axes).get(column) for v in spec.models)))
    batches = [batch for _, batch in space.runs.values()]
    params += [("scheduler", pa.string()), ("precision", pa.string()), ("batch", _param_type(batches)),
               ("timing", pa.string()), ("weights", pa.string()), ("objective", pa.string())]
    columns = metric_columns(spec.serving is not None)
    metrics = [(key, pa.int64() if kind is int else pa.float64()) for key, kind in columns.items()]
    units = column_units(space)
    fields = []
    for name, kind in (*_HEAD, *params, *metrics, *_TAIL):
        metadata = {"unit": units[name]}
        if name in METRIC_DESCRIPTIONS:
            metadata["description"] = METRIC_DESCRIPTIONS[name]
        fields.append(pa.field(name, kind, metadata=metadata))
    return pa.schema(fields, metadata={UNITS_KEY: json.dumps(units, ensure_ascii=False).encode("utf-8")})


def _column(values: list[Any], kind: pa.DataType) -> pa.Array:
    """One column of rows' values as an Arrow array of `kind`: a string column's other values
    as JSON, a float column's numbers as floats. The type is compared once per column, not
    per cell: a sweep's main process converts every row it journals."""
    if kind == pa.string():
        values = [value if value is None or isinstance(value, str) else json.dumps(value) for value in values]
    elif kind == pa.float64():
        values = [value if value is None else float(value) for value in values]
    return pa.array(values, type=kind)


def to_arrow(rows: Iterable[Mapping[str, Any]], schema: pa.Schema) -> pa.Table:
    """Rows as an Arrow table of the given schema (non-string values of string columns as JSON)."""
    rows = list(rows)
    columns = {field.name: _column([row.get(field.name) for row in rows], field.type) for field in schema}
    return pa.table(columns, schema=schema)


class RowBatches:
    """A sweep's rows, held as Arrow tables of `schema` (`to_arrow`) `BATCH_ROWS` at a time:
    a few hundred bytes a row where a Python dict takes a few kilobytes, so the main process
    of a 100,000-point sweep holds tens of megabytes of results, not hundreds. Rows keep the
    order they are added in."""

    BATCH_ROWS = 4096

    def __init__(self, schema: pa.Schema) -> None:
        self.schema = schema
        self._tables: list[pa.Table] = []
        self._pending: list[Mapping[str, Any]] = []

    def extend(self, rows: Iterable[Mapping[str, Any]]) -> None:
        """Add rows at the end."""
        self._pending.extend(rows)
        if len(self._pending) >= self.BATCH_ROWS:
            self._tables.append(to_arrow(self._pending, self.schema))
            self._pending = []

    def to_arrow(self) -> pa.Table:
        """Every row, as one Arrow table of `schema`."""
        return pa.concat_tables([*self._tables, to_arrow(self._pending, self.schema)])
