"""Model variants and schedule options of a sweep file.

``models`` is a list whose items are a zoo spec or ONNX path (one variant each), or a mapping
of ``builder:parameter`` axes whose product gives variants::

    models:
      - resnet18
      - nets/custom.onnx              # relative to the sweep file
      - mobilenetv2:width: [0.5, 0.75, 1.0]
        mobilenetv2:resolution: [160, 224]

A single string or mapping may stand for a one-item list. Zoo variants are stored by their
canonical spec, so two spellings of the same network are one variant.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from enum import Enum
from pathlib import Path
from typing import Any

from accel_spec.precision import FORMS, PrecisionAssignment
from compiler.frontend.loader import MAX_ONNX_BYTES
from compiler.models import looks_like_file
from compiler.memory.planner import WeightResidency
from compiler.scheduling import SchedulerKind
from compiler.scheduling.objective import Objective
from compiler.target import TimingMode
from compiler.zoo import parse_model_spec
from explorer.axes import AxisError, ListForm, LogRangeForm, RangeForm, log_range_values, parse_axis_form, range_values
from explorer.space import SCHEDULE_COLUMNS
from explorer.spec import ModelVariant, SweepSpec
from accel_spec.yaml_lines import Loc
from tessera.errors import InputError
from tessera.input_files import input_sha256


def resolve_models(raw: Any, root: Path) -> tuple[tuple[ModelVariant, ...], tuple[str, ...], list[tuple[Loc, str]]]:
    """Variants, the model-axis column names, and (location under `models`, message) problems."""
    if raw is None or raw == []:
        return (), (), [((), "no models: give at least one zoo spec, ONNX file or model axis")]
    if isinstance(raw, (str, dict)):
        items: list[tuple[Loc, Any]] = [((), raw)]
    elif isinstance(raw, list):
        items = [((index,), item) for index, item in enumerate(raw)]
    else:
        return (), (), [((), "expected a list of zoo specs, ONNX files or builder:parameter axes")]
    variants: dict[str, ModelVariant] = {}
    columns: dict[str, None] = {}
    problems: list[tuple[Loc, str]] = []
    for loc, item in items:
        try:
            if isinstance(item, str):
                found = [_variant(item, (), root)]
            elif isinstance(item, dict):
                found = _variants_of_axes(item)
            else:
                raise AxisError([((), f"expected a model spec or a mapping of builder:parameter axes, got {item!r}")])
        except AxisError as error:
            problems += [((*loc, *suffix), message) for suffix, message in error.problems]
            continue
        for variant in found:
            if variant.spec in variants:
                problems.append((loc, f"model variant {variant.spec} is listed twice"))
            variants[variant.spec] = variant
            columns.update(dict.fromkeys(key for key, _ in variant.axes))
    return tuple(variants.values()), tuple(columns), problems


def _variant(text: str, axes: tuple[tuple[str, Any], ...], root: Path) -> ModelVariant:
    if looks_like_file(text):
        path = root / text
        if path.suffix.lower() != ".onnx":
            raise AxisError([((), f"{text}: unsupported model file type; expected an .onnx file")])
        if not path.exists():
            raise AxisError([((), f"{text}: model file not found (paths are relative to the sweep file)")])
        try:
            digest = input_sha256(path, limit=MAX_ONNX_BYTES, what="an .onnx file")
        except InputError as error:
            raise AxisError([((), f"{text}: {problem.message}") for problem in error.problems]) from None
        return ModelVariant(spec=text, axes=axes, file_sha256=digest)
    try:
        return ModelVariant(spec=parse_model_spec(text).canonical(), axes=axes)
    except InputError as error:
        message = "; ".join(problem.render() for problem in error.problems)
        raise AxisError([((), f"{message} (in {text!r})")]) from None


def _variants_of_axes(item: dict[str, Any]) -> list[ModelVariant]:
    """The product of a mapping's builder:parameter axes; the first bad combination is reported."""
    builders: set[str] = set()
    axes: list[tuple[str, str, tuple[Any, ...]]] = []
    problems: list[tuple[Loc, str]] = []
    for key, written in item.items():
        builder, sep, param = (part.strip() for part in str(key).partition(":"))
        if not (sep and builder and param):
            problems.append(((key,), "expected a builder:parameter key, like mobilenetv2:width"))
            continue
        builders.add(builder)
        try:
            axes.append((str(key), param, plain_axis_values(written)))
        except AxisError as error:
            problems += [((key, *suffix), message) for suffix, message in error.problems]
    if len(builders) > 1:
        problems.append(((), f"one mapping sweeps one builder, found {', '.join(sorted(builders))}; "
                         "use one list item per builder"))
    if not problems and not axes:
        problems.append(((), "empty mapping: give builder:parameter axes"))
    if problems:
        raise AxisError(problems)
    builder = builders.pop()
    variants = []
    for combination in itertools.product(*(values for _, _, values in axes)):
        text = f"{builder}:" + ",".join(f"{param}={value}" for (_, param, _), value in zip(axes, combination))
        variants.append(_variant(text, tuple((key, value) for (key, _, _), value in zip(axes, combination)), Path()))
    return variants


def plain_axis_values(written: Any) -> tuple[Any, ...]:
    """Values of an axis without units: a list, a scalar, or a numeric range / log_range."""
    form = parse_axis_form(written, allow_tie=False)
    if isinstance(form, ListForm):
        values = form.values
    else:
        ends = (form.start, form.stop) + ((form.step,) if isinstance(form, RangeForm) else ())
        if any(isinstance(v, bool) or not isinstance(v, (int, float)) for v in ends):
            raise AxisError([((), f"ranges need plain numbers here, got {list(ends)}")])
        integer = all(isinstance(v, int) for v in ends)
        try:
            if isinstance(form, RangeForm):
                values = range_values(form.start, form.stop, form.step, integer=integer)
            else:
                assert isinstance(form, LogRangeForm)
                values = log_range_values(form.start, form.stop, form.points, integer=integer)
        except ValueError as error:
            raise AxisError([((), str(error))]) from None
    duplicates = [v for i, v in enumerate(values) if v in values[:i]]
    if duplicates:
        raise AxisError([((), f"{duplicates[0]!r} is listed twice")])
    return tuple(values)


def resolve_schedule(raw: Any) -> tuple[dict[str, tuple[Any, ...]], list[tuple[Loc, str]]]:
    """The schedule options of `SCHEDULE_COLUMNS`, each a list of values to sweep (defaults: the
    heuristic scheduler, the chip's precision, the model's batch, the chip's own pipeline,
    streamed weights, latency), and (location under `schedule`, message) problems."""
    options: dict[str, tuple[Any, ...]] = {
        "scheduler": (SchedulerKind.HEURISTIC.value,),
        "precision": (None,),
        "batch": (None,),
        "timing": SweepSpec.model_fields["timings"].default,
        "weights": SweepSpec.model_fields["weight_modes"].default,
        "objective": SweepSpec.model_fields["schedule_objectives"].default,
    }
    if raw is None:
        return options, []
    if not isinstance(raw, dict):
        return options, [((), f"expected a mapping with keys {', '.join(SCHEDULE_COLUMNS)}")]
    problems: list[tuple[Loc, str]] = []
    readers = {
        "scheduler": _enum_reader(SchedulerKind, "scheduler"),
        "precision": _precision,
        "batch": _batch,
        "timing": _enum_reader(TimingMode, "timing"),
        "weights": _enum_reader(WeightResidency, "weights"),
        "objective": _enum_reader(Objective, "objective"),
    }
    for key, written in raw.items():
        if key not in readers:
            problems.append(((key,), f"unknown key; allowed: {', '.join(SCHEDULE_COLUMNS)}"))
            continue
        try:
            values = plain_axis_values(written)
        except AxisError as error:
            problems += [((key, *suffix), message) for suffix, message in error.problems]
            continue
        read: list[Any] = []
        for index, value in enumerate(values):
            try:
                read.append(readers[key](value))
            except ValueError as error:
                problems.append(((key, index) if isinstance(written, list) else (key,), str(error)))
        repeated = next((value for index, value in enumerate(read) if value in read[:index]), None)
        if repeated is not None:  # two spellings of one value (int8 and w8a8kv8)
            problems.append(((key,), f"{repeated!r} is listed twice"))
        options[key] = tuple(read)
    return options, problems


def _enum_reader(kind: type[Enum], what: str) -> Callable[[Any], str]:
    """A reader of one value of an enum-valued option: the value, or ValueError naming the allowed ones."""
    allowed = [member.value for member in kind]

    def read(value: Any) -> str:
        if value not in allowed:
            raise ValueError(f"unknown {what} {value!r}; allowed: {', '.join(allowed)}")
        return value

    return read


def _precision(value: Any) -> str:
    """A precision axis value as its label (`PrecisionAssignment.label`: ``int8`` stays
    ``int8``, ``W4A16`` is ``w4a16kv16``); ValueError naming the allowed forms."""
    if not isinstance(value, str):
        raise ValueError(f"unknown precision {value!r}; allowed: {FORMS}")
    return PrecisionAssignment.parse(value).label


def _batch(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"batch must be a whole number ≥ 1, got {value!r}")
    return value
