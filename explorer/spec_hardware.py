"""Hardware axes of a sweep file, resolved against the base chip.

Each axis names a chip field by dotted path (``buffers.global.capacity``). The path is looked
up in the base chip (unknown keys are listed with the allowed ones), and every written value
is read by the validators of the model that owns the field, exactly as in a chip file: units
(``1 GHz`` for a capacity is an error, stored in SI units), names (``matrix.dataflows:
[[weight-stationary], [os, ws]]``: each value a list of dataflows, or one name) and the
field's own checks.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import Enum
from typing import Annotated, Any

from pydantic import BaseModel, ValidationError

from accel_spec.schema import Accelerator
from accel_spec.units import SI_NUMBERS_CONTEXT, Dimension, dimension_of
from explorer.axes import (
    AxisError,
    ListForm,
    LogRangeForm,
    RangeForm,
    TieForm,
    log_range_values,
    parse_axis_form,
    range_values,
)
from explorer.spec import HardwareAxis
from accel_spec.yaml_lines import Loc

_BASE_UNIT = {
    Dimension.FREQUENCY: "Hz",
    Dimension.BANDWIDTH: "B/s",
    Dimension.DURATION: "s",
    Dimension.ENERGY: "J",
    Dimension.AREA: "m2",
    Dimension.POWER: "W",
    Dimension.LENGTH: "m",
}


def override_value(value: Any, dimension: Dimension | None) -> Any:
    """A stored axis value written as `accel_spec.with_overrides` reads it (SI number + unit)."""
    if dimension is None or dimension is Dimension.BYTES:
        return value
    return f"{value!r} {_BASE_UNIT[dimension]}"


@dataclass(frozen=True)
class ChipField:
    """A chip field: the object of the base chip that holds it, and the field's name."""

    owner: BaseModel
    name: str

    @property
    def annotation(self) -> Any:
        """The field's type with its metadata (the unit validators that `dimension_of` reads)."""
        field = type(self.owner).model_fields[self.name]
        return Annotated[(field.annotation, *field.metadata)] if field.metadata else field.annotation

    def read(self, written: Any, context: Any = None) -> Any:
        """`written` validated as this field of a chip file; pydantic's ValidationError if bad."""
        holder = self.owner.model_copy()
        type(self.owner).__pydantic_validator__.validate_assignment(holder, self.name, written, context=context)
        return getattr(holder, self.name)


def chip_field(accel: Accelerator, path: str) -> ChipField:
    """The chip field at a dotted path; KeyError with a message if there is none."""
    steps = path.split(".")
    node: Any = accel
    for depth, step in enumerate(steps):
        here = ".".join(steps[:depth]) or "the chip"
        last = depth == len(steps) - 1
        if isinstance(node, BaseModel):
            fields = type(node).model_fields
            if step not in fields:
                raise KeyError(f"unknown key {step!r} under {here}; allowed: {', '.join(fields)}")
            value = getattr(node, step)
            if last:
                if isinstance(value, (BaseModel, dict)):
                    raise KeyError(f"{path} is a section, not a value; sweep one of its keys")
                return ChipField(node, step)
            node = value
        elif isinstance(node, dict):
            if step not in node:
                raise KeyError(f"unknown key {step!r} under {here}; allowed: {', '.join(node)}")
            if last:
                raise KeyError(f"{path} is a section, not a value; sweep one of its keys")
            node = node[step]
        else:
            raise KeyError(f"{here} is a value and has no key {step!r}")
    raise KeyError(f"empty path {path!r}")


def resolve_hardware(raw: dict[str, Any], base: Accelerator) -> tuple[tuple[HardwareAxis, ...], list[tuple[Loc, str]]]:
    """Every hardware axis of a sweep file, and (location under `hardware`, message) problems."""
    problems: list[tuple[Loc, str]] = []
    axes: dict[str, HardwareAxis] = {}
    ties: dict[str, tuple[str, ChipField]] = {}
    for path, written in raw.items():
        path = str(path)
        try:
            form = parse_axis_form(written, allow_tie=True)
            field = chip_field(base, path)
        except AxisError as error:
            problems += [((path, *suffix), message) for suffix, message in error.problems]
            continue
        except KeyError as error:
            problems.append(((path,), error.args[0]))
            continue
        if isinstance(form, TieForm):
            ties[path] = (form.target, field)
            continue
        try:
            values = _axis_values(form, field)
        except AxisError as error:
            problems += [((path, *suffix), message) for suffix, message in error.problems]
            continue
        axes[path] = HardwareAxis(path=path, values=values, dimension=dimension_of(field.annotation))
    for path, (target, field) in ties.items():
        try:
            axes[path] = _tied_axis(path, target, field, axes, ties)
        except AxisError as error:
            problems += [((path, *suffix), message) for suffix, message in error.problems]
    ordered = tuple(axes[str(path)] for path in raw if str(path) in axes)
    return ordered, problems


def _tied_axis(
    path: str, target: str, field: ChipField, axes: dict[str, HardwareAxis], ties: dict[str, Any]
) -> HardwareAxis:
    if target in ties:
        raise AxisError([((), f"={target} is itself tied; tie to the axis it copies instead")])
    if target not in axes:
        listed = ", ".join(axes) or "none"
        raise AxisError([((), f"={target} names no hardware axis of this sweep (axes: {listed})")])
    source = axes[target]
    dimension = dimension_of(field.annotation)
    if dimension != source.dimension:
        raise AxisError([((), f"cannot tie it to {target}: their units differ")])
    for value in source.values:
        _read(field, value, (), context=SI_NUMBERS_CONTEXT)
    return HardwareAxis(path=path, values=source.values, dimension=dimension, tied_to=target)


def _axis_values(form: ListForm | RangeForm | LogRangeForm, field: ChipField) -> tuple[Any, ...]:
    if isinstance(form, ListForm):
        problems: list[tuple[Loc, str]] = []
        values: list[Any] = []
        seen: dict[str, int] = {}
        for index, written in enumerate(form.values):
            try:
                value = _canonical(_read(field, written, (index,)))
            except AxisError as error:
                problems += error.problems
                continue
            key = json.dumps(value, sort_keys=True)
            if key in seen:
                problems.append(((index,), f"{written!r} is the same value as item {seen[key]}"))
                continue
            seen[key] = index
            values.append(value)
        if problems:
            raise AxisError(problems)
        return tuple(values)
    kind = "range" if isinstance(form, RangeForm) else "log_range"
    start = _number(_read(field, form.start, (kind, 0)), (kind, 0))
    stop = _number(_read(field, form.stop, (kind, 1)), (kind, 1))
    integer = isinstance(start, int) and isinstance(stop, int)
    try:
        if isinstance(form, RangeForm):
            step = _number(_read(field, form.step, ("step",)), ("step",))
            values = range_values(start, stop, step, integer=integer and isinstance(step, int))
        else:
            values = log_range_values(start, stop, form.points, integer=integer)
    except ValueError as error:
        raise AxisError([((), str(error))]) from None
    return tuple(_canonical(_read(field, v, (), context=SI_NUMBERS_CONTEXT)) for v in values)


def _read(field: ChipField, written: Any, loc: Loc, context: Any = None) -> Any:
    try:
        return field.read(written, context=context)
    except ValidationError as error:
        messages = "; ".join(str(e["msg"]).removeprefix("Value error, ") for e in error.errors())
        raise AxisError([(loc, f"{messages} (got {written!r})")]) from None


def _number(value: Any, loc: Loc) -> int | float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise AxisError([(loc, f"ranges need numeric values, got {value!r}")])
    return value


def _canonical(value: Any) -> Any:
    """A validated value as plain JSON data: enums by their YAML spelling, tuples as lists."""
    if isinstance(value, Enum):
        return getattr(value, "label", value.value)
    if isinstance(value, (tuple, list)):
        return [_canonical(item) for item in value]
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    return value
