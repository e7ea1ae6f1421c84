"""The design space of a sweep: its axes, and the point each index vector stands for.

Strategies work on index vectors (one index per axis, into that axis's choices), so random,
Latin-hypercube and NSGA-II sampling are uniform over axes of any type. `DesignSpace.point`
turns an index vector into a `Point`: the parameters that become result columns, and what
the evaluator needs (chip overrides, model, schedule options). A point's id is a hash of its
parameters, so the same design always has the same id, in any run and any order.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass
from typing import Any

from compiler.models import looks_like_file
from compiler.zoo import parse_model_spec
from explorer.spec import SweepSpec
from explorer.spec_hardware import override_value
from explorer.spec_serving import served_model

MODEL_COLUMN = "model"
SCHEDULE_COLUMNS = ("scheduler", "precision", "batch", "timing", "weights", "objective")
"""The schedule-option columns, in column order; each is also an axis of the space."""


@dataclass(frozen=True)
class Point:
    """One design: parameters (result columns, in column order) and what evaluating it needs.

    Attributes:
        params: column name → value: every hardware axis path, ``model`` (the exact spec
            that runs, batch included), the model-axis columns, ``scheduler``, ``precision``,
            ``batch`` (the batch that runs: the schedule's, else a zoo model's own; empty for
            an ONNX file run at the batch it was exported with), ``timing``, ``weights`` and
            ``objective`` (the `compiler.pipeline.CompileOptions` the point compiles with).
        overrides: dotted chip path → value as `accel_spec.with_overrides` reads it.
        point_id: 16 hex digits of the sha256 of the canonical JSON of `params`.
    """

    params: tuple[tuple[str, Any], ...]
    overrides: tuple[tuple[str, Any], ...]
    model: str
    scheduler: str
    precision: str | None
    batch: int | None
    timing: str
    weights: str
    objective: str
    point_id: str


@dataclass(frozen=True)
class SpaceAxis:
    """A free dimension of the space: a name and its number of choices."""

    name: str
    size: int


def point_id(params: dict[str, Any]) -> str:
    """Deterministic id of a point from its parameters (key order does not matter)."""
    text = json.dumps(params, sort_keys=True, separators=(",", ":"), allow_nan=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def schedule_choices(spec: SweepSpec) -> dict[str, tuple[Any, ...]]:
    """Each schedule column's values in `spec`, in `SCHEDULE_COLUMNS` order."""
    return {
        "scheduler": spec.schedulers,
        "precision": spec.precisions,
        "batch": spec.batches,
        "timing": spec.timings,
        "weights": spec.weight_modes,
        "objective": spec.schedule_objectives,
    }


class DesignSpace:
    """The cartesian product of a spec's free axes (tied hardware axes follow their target)."""

    def __init__(self, spec: SweepSpec) -> None:
        self.spec = spec
        self._free = tuple(axis for axis in spec.hardware if axis.tied_to is None)
        self.axes: tuple[SpaceAxis, ...] = (
            *(SpaceAxis(axis.path, len(axis.values)) for axis in self._free),
            SpaceAxis(MODEL_COLUMN, len(spec.models)),
            *(SpaceAxis(column, len(values)) for column, values in schedule_choices(spec).items()),
        )
        self.position: dict[str, int] = {axis.name: i for i, axis in enumerate(self.axes)}
        """Axis name (a hardware path, ``model`` or a schedule column) → its index position."""
        self.size = math.prod(axis.size for axis in self.axes)
        what_runs = _what_runs if spec.serving is None else _what_serves
        self.runs: dict[tuple[int, int], tuple[str, int | None]] = {
            (m, b): what_runs(variant.spec, batch)
            for m, variant in enumerate(spec.models)
            for b, batch in enumerate(spec.batches)
        }
        """(model index, batch index) → (``model`` column, ``batch`` column)."""

    @property
    def columns(self) -> tuple[str, ...]:
        """Parameter columns of the results table, in order."""
        return (
            *(axis.path for axis in self.spec.hardware),
            MODEL_COLUMN,
            *self.spec.model_axes,
            *SCHEDULE_COLUMNS,
        )

    def point(self, indices: tuple[int, ...]) -> Point:
        """The point at one index per axis (in the order of `axes`)."""
        spec = self.spec
        if len(indices) != len(self.axes) or any(not 0 <= i < a.size for i, a in zip(indices, self.axes)):
            raise IndexError(f"indices {indices} outside the space {[a.size for a in self.axes]}")
        chosen = {axis.path: axis.values[i] for axis, i in zip(self._free, indices)}
        hardware = {axis.path: chosen[axis.tied_to or axis.path] for axis in spec.hardware}
        m, b = indices[self.position[MODEL_COLUMN]], indices[self.position["batch"]]
        options = {column: values[indices[self.position[column]]] for column, values in schedule_choices(spec).items()}
        variant = spec.models[m]
        model_axes = dict(variant.axes)
        label, batch = self.runs[m, b]
        params = {
            **hardware,
            MODEL_COLUMN: label,
            **{column: model_axes.get(column) for column in spec.model_axes},
            **options,
            "batch": batch,  # the batch that runs, which a zoo model has even where none is swept
        }
        overrides = tuple((axis.path, override_value(hardware[axis.path], axis.dimension)) for axis in spec.hardware)
        return Point(
            params=tuple(params.items()), overrides=overrides, model=variant.spec, point_id=point_id(params), **options
        )


def _what_serves(model: str, batch: None) -> tuple[str, None]:
    """The decoder spec a serving sweep serves, and no batch: the scheduler picks each step's."""
    return served_model(model), batch


def _what_runs(model: str, batch: int | None) -> tuple[str, int | None]:
    """The exact spec and the batch of a model variant run at `batch` (None: its own)."""
    if looks_like_file(model):
        return model, batch
    spec = parse_model_spec(model)
    if batch is not None:
        spec = spec.with_params(batch=batch)
    return spec.canonical(), int(spec.as_dict()["batch"])
