"""Feature rows of a sweep's design points, from their index vectors, in bulk.

Glue between a `DesignSpace` and the pure functions of `explorer.features`: every axis's
values become a column (gathered by index, no per-point Python), chip axes override the base
chip's parameters (`ChipColumns`), and each network variant is featurised against its distinct
chips only. Besides the derived features, each free axis also enters raw (its value, log2 when
positive and numeric, else its choice index), so axes that the derived features do not model
(an enum, a technology override) still inform the model.

Lowered networks come from a caller-supplied function (`layers_of(model, batch)`), so this
module never imports the compiler's frontend and tests can pass hand-made `LayerTable`s.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from accel_spec.schema import Accelerator
from accel_spec.precision import PrecisionAssignment
from accel_spec.types import Dataflow, Operand, Precision
from compiler.target import TimingMode
from explorer.features import FEATURE_NAMES, ChipColumns, LayerTable, network_features, support_field
from explorer.space import MODEL_COLUMN, SCHEDULE_COLUMNS, DesignSpace

LayersOf = Callable[[str, int | None], LayerTable]
"""(model spec, batch or None) → the network's `LayerTable`."""


@dataclass(frozen=True)
class _ChipField:
    """A chip column set by a dotted path, and how an axis value maps to it."""

    field: str
    convert: Callable[[object], float]


def _supports(flow: Dataflow) -> Callable[[object], float]:
    """1.0 when a `matrix.dataflows` axis value (a list of dataflow names) includes `flow`."""
    return lambda names: float(flow in {Dataflow.parse(str(name)) for name in names})


def _bytes(value: object) -> float:
    """A per-PE store axis value in bytes (None: no store)."""
    return 0.0 if value is None else float(value)


def _precision_bytes(value: object) -> float:
    return Precision(value).bytes if not isinstance(value, Precision) else value.bytes  # a chip field


def _chip_fields(base: Accelerator) -> dict[str, tuple[_ChipField, ...]]:
    """Dotted path → the chip columns it sets."""
    fields: dict[str, tuple[_ChipField, ...]] = {
        "matrix.rows": (_ChipField("rows", float),),
        "matrix.cols": (_ChipField("cols", float),),
        "matrix.units": (_ChipField("units", float),),
        "clock": (_ChipField("clock", float),),
        "technology": (_ChipField("node_nm", lambda v: round(float(v) * 1e9, 6)),),
        "dram.bandwidth": (_ChipField("bandwidth", float),),
        "dram.latency": (_ChipField("latency", float),),
        "vector.lanes": (_ChipField("lanes", float),),
        "matrix.input_precision": (_ChipField("operand_bytes", _precision_bytes),),
        "matrix.accumulator_precision": (_ChipField("accumulator_bytes", _precision_bytes),),
        "matrix.dataflows": tuple(_ChipField(support_field(flow), _supports(flow)) for flow in Dataflow),
        "matrix.pe_storage.weight": (_ChipField("weight_store_bytes", _bytes),),
        "matrix.pe_storage.output": (_ChipField("output_store_bytes", _bytes),),
        "matrix.stationary_double_buffer": (_ChipField("double_buffered", float),),
    }
    capacity = {Operand.INPUT: "input_capacity", Operand.WEIGHT: "weight_capacity", Operand.OUTPUT: "output_capacity"}
    for name, buffer in base.buffers.items():
        fields[f"buffers.{name}.capacity"] = tuple(_ChipField(capacity[op], float) for op in buffer.holds)
    return fields


def _base_values(base: Accelerator) -> dict[str, float]:
    def capacity(operand: Operand) -> float:
        return float(base.buffers[base.buffer_for(operand)].capacity)

    def stored(operand: Operand) -> float:
        storage = base.matrix.pe_storage
        return _bytes(storage.bytes_of(operand) if storage is not None else None)

    return {
        "rows": base.matrix.rows,
        "cols": base.matrix.cols,
        "units": base.matrix.units,
        "clock": base.clock,
        "node_nm": base.node_nm,
        "bandwidth": base.dram.bandwidth,
        "latency": base.dram.latency,
        "lanes": base.vector.lanes,
        "input_capacity": capacity(Operand.INPUT),
        "weight_capacity": capacity(Operand.WEIGHT),
        "output_capacity": capacity(Operand.OUTPUT),
        "operand_bytes": base.matrix.input_precision.bytes,
        "accumulator_bytes": base.matrix.accumulator_precision.bytes,
        **{support_field(flow): float(flow in base.matrix.dataflows) for flow in Dataflow},
        "weight_store_bytes": stored(Operand.WEIGHT),
        "output_store_bytes": stored(Operand.OUTPUT),
        "double_buffered": float(base.matrix.stationary_double_buffer),
    }


def _raw(values: tuple) -> np.ndarray:
    """An axis's choices as one feature: log2 of positive numbers, otherwise the choice index."""
    numeric = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)
    if numeric and all(v > 0 for v in values):
        return np.log2(np.asarray(values, dtype=np.float64))
    if numeric:
        return np.asarray(values, dtype=np.float64)
    return np.arange(len(values), dtype=np.float64)


class SpaceFeatures:
    """Featurises index vectors of one `DesignSpace` (see the module docstring)."""

    def __init__(self, space: DesignSpace, base: Accelerator, layers_of: LayersOf) -> None:
        spec = space.spec
        self.space = space
        self._base = _base_values(base)
        fields = _chip_fields(base)
        free = [axis for axis in spec.hardware if axis.tied_to is None]
        position = {axis.path: i for i, axis in enumerate(free)}
        # (free-axis position, converted values per choice, chip field) for every chip-setting axis
        self._setters: list[tuple[int, np.ndarray, str]] = []
        for axis in spec.hardware:
            for chip_field in fields.get(axis.path, ()):
                converted = np.array([chip_field.convert(v) for v in axis.values], dtype=np.float64)
                self._setters.append((position[axis.tied_to or axis.path], converted, chip_field.field))
        self._raw = [_raw(axis.values) for axis in free]
        self._model_axes = [
            np.array([_number(dict(v.axes).get(name)) for v in spec.models], dtype=np.float64) for name in spec.model_axes
        ]
        self._precision_bytes = np.array(
            [np.nan if p is None else PrecisionAssignment.parse(p).compute.bytes for p in spec.precisions],
            dtype=np.float64,
        )
        self._scalesim = np.array([TimingMode(timing) is TimingMode.SCALESIM for timing in spec.timings])
        self._layers_of = layers_of
        self.names: tuple[str, ...] = (
            *FEATURE_NAMES,
            *(f"axis:{axis.path}" for axis in free),
            *(f"model_axis:{name}" for name in spec.model_axes),
            "axis:model",
            *(f"axis:{name}" for name in SCHEDULE_COLUMNS if name != "precision"),
        )

    @cached_property
    def _layers(self) -> dict[tuple[int, int], LayerTable]:
        """(model, batch) index → its lowered network, lowered once, when first featurised: a
        sweep's first points need not wait for it."""
        spec = self.space.spec
        return {
            (m, b): self._layers_of(variant.spec, batch)
            for m, variant in enumerate(spec.models)
            for b, batch in enumerate(spec.batches)
        }

    def chips(self, indices: np.ndarray) -> ChipColumns:
        """Chip parameters of every point of an (n, axes) index array."""
        n = len(indices)
        columns = {name: np.full(n, float(value)) for name, value in self._base.items()}
        for position, converted, chip_field in self._setters:
            columns[chip_field] = converted[indices[:, position]]
        precision = self._precision_bytes[indices[:, self.space.position["precision"]]]
        columns["operand_bytes"] = np.where(np.isnan(precision), columns["operand_bytes"], precision)
        # SCALE-Sim's timing keeps one weight a PE (`Target.reduction_depth`)
        scalesim = self._scalesim[indices[:, self.space.position["timing"]]]
        columns["weight_store_bytes"] = np.where(scalesim, 0.0, columns["weight_store_bytes"])
        return ChipColumns(**columns)

    def features(self, indices: np.ndarray) -> np.ndarray:
        """(n, len(names)) float32 features of an (n, axes) int array of index vectors."""
        indices = np.asarray(indices, dtype=np.int64).reshape(-1, len(self.space.axes))
        n = len(indices)
        derived = np.empty((n, len(FEATURE_NAMES)), dtype=np.float64)
        position = self.space.position
        model_index, batch_index = indices[:, position[MODEL_COLUMN]], indices[:, position["batch"]]
        # the chip of a point is set by its hardware, precision and timing indices: one integer key
        chip_axes = [*range(len(self._raw)), position["precision"], position["timing"]]
        sizes = [self.space.axes[i].size for i in chip_axes]
        chip_key = np.ravel_multi_index(tuple(indices[:, chip_axes].T), sizes) if n else np.zeros(0, np.int64)
        for (m, b), layers in self._layers.items():
            rows = np.flatnonzero((model_index == m) & (batch_index == b))
            if len(rows) == 0:
                continue
            _, first, inverse = np.unique(chip_key[rows], return_index=True, return_inverse=True)
            values = network_features(layers, self.chips(indices[rows[first]]))
            derived[rows] = values[inverse.reshape(-1)]
        raw = [values[indices[:, i]] for i, values in enumerate(self._raw)]
        model_axes = [values[model_index] for values in self._model_axes]
        options = [indices[:, position[name]] for name in SCHEDULE_COLUMNS if name != "precision"]
        columns = [*raw, *model_axes, model_index, *options]
        extra = np.column_stack(columns) if n else np.empty((0, len(columns)))
        return np.hstack([derived, extra]).astype(np.float32)


def _number(value: object) -> float:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else np.nan

