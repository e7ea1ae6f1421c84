"""Hardware axes of a sweep file, resolved against the base chip.

Each axis names a chip field by dotted path (``buffers.global.capacity``). The path is looked
up in the base chip (unknown keys are listed with the allowed ones), and every written value
is read with that field's own pydantic type, so units are checked exactly as in chip files
(``1 GHz`` for a capacity is an error) and stored in SI units.
"""

from __future__ import annotations

import json
from enum import Enum
from typing import Annotated, Any

from pydantic import BaseModel, TypeAdapter, ValidationError

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


def field_annotation(accel: Accelerator, path: str) -> Any:
    """The pydantic type of the chip field at a dotted path; KeyError with a message if none."""
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
                field = fields[step]
                return Annotated[(field.annotation, *field.metadata)] if field.metadata else field.annotation
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
    ties: dict[str, tuple[str, Any]] = {}
    for path, written in raw.items():
        path = str(path)
        try:
            form = parse_axis_form(written, allow_tie=True)
            annotation = field_annotation(base, path)
        except AxisError as error:
            problems += [((path, *suffix), message) for suffix, message in error.problems]
            continue
        except KeyError as error:
            problems.append(((path,), error.args[0]))
            continue
        if isinstance(form, TieForm):
            ties[path] = (form.target, annotation)
            continue
        try:
            values = _axis_values(form, annotation)
        except AxisError as error:
            problems += [((path, *suffix), message) for suffix, message in error.problems]
            continue
        axes[path] = HardwareAxis(path=path, values=values, dimension=dimension_of(annotation))
    for path, (target, annotation) in ties.items():
        try:
            axes[path] = _tied_axis(path, target, annotation, axes, ties)
        except AxisError as error:
            problems += [((path, *suffix), message) for suffix, message in error.problems]
    ordered = tuple(axes[str(path)] for path in raw if str(path) in axes)
    return ordered, problems


def _tied_axis(
    path: str, target: str, annotation: Any, axes: dict[str, HardwareAxis], ties: dict[str, Any]
) -> HardwareAxis:
    if target in ties:
        raise AxisError([((), f"={target} is itself tied; tie to the axis it copies instead")])
    if target not in axes:
        listed = ", ".join(axes) or "none"
        raise AxisError([((), f"={target} names no hardware axis of this sweep (axes: {listed})")])
    source = axes[target]
    dimension = dimension_of(annotation)
    if dimension != source.dimension:
        raise AxisError([((), f"cannot tie it to {target}: their units differ")])
    adapter = TypeAdapter(annotation)
    for value in source.values:
        _read(adapter, value, (), context=SI_NUMBERS_CONTEXT)
    return HardwareAxis(path=path, values=source.values, dimension=dimension, tied_to=target)


def _axis_values(form: ListForm | RangeForm | LogRangeForm, annotation: Any) -> tuple[Any, ...]:
    adapter = TypeAdapter(annotation)
    if isinstance(form, ListForm):
        problems: list[tuple[Loc, str]] = []
        values: list[Any] = []
        seen: dict[str, int] = {}
        for index, written in enumerate(form.values):
            try:
                value = _canonical(_read(adapter, written, (index,)))
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
    start = _number(_read(adapter, form.start, (kind, 0)), (kind, 0))
    stop = _number(_read(adapter, form.stop, (kind, 1)), (kind, 1))
    integer = isinstance(start, int) and isinstance(stop, int)
    try:
        if isinstance(form, RangeForm):
            step = _number(_read(adapter, form.step, ("step",)), ("step",))
            values = range_values(start, stop, step, integer=integer and isinstance(step, int))
        else:
            values = log_range_values(start, stop, form.points, integer=integer)
    except ValueError as error:
        raise AxisError([((), str(error))]) from None
    return tuple(_canonical(_read(adapter, v, (), context=SI_NUMBERS_CONTEXT)) for v in values)


def _read(adapter: TypeAdapter, written: Any, loc: Loc, context: Any = None) -> Any:
    try:
        return adapter.validate_python(written, context=context)
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
