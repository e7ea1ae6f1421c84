"""Chip files: YAML text -> validated, frozen `Accelerator`, or one InputError listing every problem.

Loading runs parse -> validate -> whole-spec checks. The YAML is composed first so that every
key path keeps its line number; duplicate keys and tab indentation are rejected there (plain
PyYAML silently keeps the last duplicate). Pydantic then validates types and units, and each
of its errors becomes a `Problem` with the YAML path, the line, what is wrong and, for an
unknown key, the allowed keys and the closest match. Checks that need the whole spec (every
buffer holds one array tile of its operands; the process node is in the technology tables)
run on the validated object.

`with_overrides` is the same validation for sweeps: a copy of a chip with fields replaced by
dotted path. `spec_hash` identifies a normalised spec in caches and result rows.
"""

from __future__ import annotations

import difflib
import functools
import hashlib
import json
import math
import reprlib
import types
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Union, get_args, get_origin

import yaml
from pydantic import BaseModel, TypeAdapter, ValidationError

from accel_spec.schema import Accelerator
from accel_spec.technology import resolve
from accel_spec.types import Operand
from accel_spec.units import SI_NUMBERS_CONTEXT, Dimension, dimension_of, format_quantity
from accel_spec.yaml_lines import MAX_YAML_BYTES, Loc, compose, dotted, line_of
from tessera.errors import InputError, Problem
from tessera.input_files import read_input_text

LineMap = Mapping[Loc, int]


# --------------------------------------------------------------------------- public API


def load_accelerator(path: str | Path) -> Accelerator:
    """Read and validate a chip file; InputError (naming the file) for anything wrong."""
    text = read_input_text(path, limit=MAX_YAML_BYTES, what="an accelerator YAML file")
    return load_accelerator_text(text, str(path))


def load_accelerator_text(text: str, source: str) -> Accelerator:
    """Validate chip YAML held in memory; `source` names it in error messages."""
    data, lines = _parse_yaml(text, source)
    return _validate(data, source, lines, context=None)


def with_overrides(
    accel: Accelerator, overrides: Mapping[str, Any], source: str = "overrides"
) -> Accelerator:
    """A new validated chip with fields replaced by dotted path.

    ``with_overrides(chip, {"matrix.rows": 64, "buffers.global.capacity": "1 MiB"})``. Values
    are written as in a chip file (human strings with units; bare numbers only for counts and
    byte sizes). An unknown path or a bad value raises InputError naming the path and the
    keys allowed at that level; the result passes the same checks as a loaded file.
    """
    data = accel.model_dump(mode="python")
    problems: list[Problem] = []
    for path, value in overrides.items():
        steps = path.split(".")
        annotation = _annotation_for_path(steps, data, problems)
        if annotation is None:
            continue
        if dimension_of(annotation) is not None:
            # Quantities are checked strictly here (a bare number needs a unit), because the
            # final validation accepts the SI numbers of the rest of the dumped spec.
            try:
                _adapter(annotation).validate_python(value)
            except ValidationError as error:
                problems += [_problem(err, {}, prefix=tuple(steps)) for err in error.errors()]
                continue
        _set_path(data, steps, value)
    if problems:
        raise InputError(source, problems)
    return _validate(data, source, {}, context=SI_NUMBERS_CONTEXT)


@functools.cache
def _adapter(annotation: Any) -> TypeAdapter:
    """One pydantic validator per quantity type: building one costs ~0.4 ms, and a sweep
    applies several overrides to every design point."""
    return TypeAdapter(annotation)


def spec_hash(accel: Accelerator) -> str:
    """sha256 hex digest of the canonical JSON of the normalised spec (SI values)."""
    # a chip that lists no `matrix.precisions` hashes as before the field existed
    exclude = {"matrix": {"precisions"}} if accel.matrix.precisions is None else None
    canonical = json.dumps(accel.model_dump(mode="json", exclude=exclude), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


# --------------------------------------------------------------------------- YAML


def _parse_yaml(text: str, source: str) -> tuple[Any, dict[Loc, int]]:
    """Parse YAML safely, returning the data and the line of every key path."""
    tabs = [
        Problem("", "tab character in indentation; indent YAML with spaces", line=number)
        for number, line in enumerate(text.splitlines(), start=1)
        if "\t" in line[: len(line) - len(line.lstrip(" \t"))]
    ]
    if tabs:
        raise InputError(source, tabs)
    composed = compose(text, source)
    root, data = composed.root, composed.data
    if root is None:
        raise InputError(source, "the file is empty; expected a mapping with name, clock, matrix, ...")
    if not isinstance(root, yaml.MappingNode) or not isinstance(data, dict):
        raise InputError(
            source,
            Problem("", f"the top level must be a mapping of keys (name, clock, matrix, ...), "
                    f"not {_yaml_kind(root)}", line=root.start_mark.line + 1),
        )
    return data, composed.lines


def _yaml_kind(node: yaml.Node) -> str:
    if isinstance(node, yaml.SequenceNode):
        return "a list"
    return f"a single value {node.value!r}" if isinstance(node, yaml.ScalarNode) else "a mapping"


# --------------------------------------------------------------------------- validation


def _validate(data: Any, source: str, lines: LineMap, context: Mapping[str, bool] | None) -> Accelerator:
    try:
        accel = Accelerator.model_validate(data, context=context)
    except ValidationError as error:
        errors = _without_missing_explained_by_typos(error.errors())
        raise InputError(source, [_problem(err, lines) for err in errors]) from None
    problems = (
        _tile_problems(accel, lines)
        + _cycle_range_problems(accel, lines)
        + _finite_result_problems(accel, lines)
        + _technology_problems(accel, lines)
    )
    if problems:
        raise InputError(source, problems)
    return accel


def _without_missing_explained_by_typos(errors: list[Any]) -> list[Any]:
    """Drop "missing 'cols'" when the same mapping has the unknown key 'colls' (one typo, one problem)."""
    suggested = set()
    for error in errors:
        if error["type"] == "extra_forbidden":
            parent, key = tuple(error["loc"][:-1]), str(error["loc"][-1])
            match = _close_match(key, _allowed_keys(parent))
            if match is not None:
                suggested.add((*parent, match))
    return [e for e in errors if not (e["type"] == "missing" and tuple(e["loc"]) in suggested)]


def _problem(error: Mapping[str, Any], lines: LineMap, prefix: Loc = ()) -> Problem:
    """One pydantic error as a Problem with a YAML path, a line and a readable message."""
    loc: Loc = (*prefix, *error["loc"])
    kind = error["type"]
    if kind == "extra_forbidden":
        parent, key = loc[:-1], loc[-1]
        message = f"unknown key {key!r}" + _suggestion(str(key), _allowed_keys(parent))
        return Problem(dotted(loc), message, line_of(loc, lines))
    if kind == "missing":
        description = _field_description(loc)
        message = "missing required key" + (f" ({description})" if description else "")
        return Problem(dotted(loc), message, line_of(loc[:-1], lines) if loc[:-1] else None)
    message = str(error["msg"]).removeprefix("Value error, ")
    if kind != "value_error":
        message += f" (got {_short_repr(error.get('input'))})"
    return Problem(dotted(loc), message, line_of(loc, lines))


def _suggestion(key: str, allowed: list[str]) -> str:
    if not allowed:
        return ""
    close = _close_match(key, allowed)
    hint = f"; did you mean {close!r}?" if close else "."
    return f"{hint} Allowed keys: {', '.join(allowed)}"


def _close_match(key: str, allowed: list[str]) -> str | None:
    close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
    return close[0] if close else None


def _short_repr(value: Any, limit: int = 60) -> str:
    """A bounded repr: `reprlib` stops early in big or deeply nested values (YAML aliases)."""
    text = reprlib.repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _tile_problems(accel: Accelerator, lines: LineMap) -> list[Problem]:
    """Each buffer must hold one rows×cols tile (cols of all units) of every operand it holds, at once."""
    rows, cols = accel.matrix.rows, accel.matrix.array_cols
    precision = {
        Operand.INPUT: accel.matrix.input_precision,
        Operand.WEIGHT: accel.matrix.input_precision,
        Operand.OUTPUT: accel.matrix.accumulator_precision,
    }
    problems = []
    for name, buffer in accel.buffers.items():
        parts = [(op, math.ceil(rows * cols * precision[op].bits / 8)) for op in buffer.holds]
        need = sum(size for _, size in parts)
        if buffer.capacity >= need:
            continue
        terms = " + ".join(
            f"{op.label} {rows}×{cols}×{precision[op].bytes:g} B ({precision[op].value}) = {size} B"
            for op, size in parts
        )
        loc: Loc = ("buffers", name, "capacity")
        problems.append(
            Problem(
                dotted(loc),
                f"capacity {format_quantity(buffer.capacity, Dimension.BYTES)} cannot hold one "
                f"{rows}×{cols} array tile of each operand it holds: {terms}; needs at least "
                f"{_bytes_text(need)}",
                line_of(loc, lines),
            )
        )
    return problems


def _bytes_text(size: int) -> str:
    human = format_quantity(size, Dimension.BYTES)
    return f"{size} B" if human == f"{size} B" else f"{size} B ({human})"


MAX_EVENT_CYCLES = 2**53
"""Most cycles one DRAM access or transfer may take: the timing model computes event times in
float64, exact for whole numbers up to 2^53, and the simulator sums them in int64 (< 2^63)."""


def _cycle_range_problems(accel: Accelerator, lines: LineMap) -> list[Problem]:
    """DRAM latency and a transfer of the whole DRAM must take a countable number of cycles.

    Values like ``bandwidth: 1e-20 B/s`` or ``latency: 1e20 s`` are each valid quantities, but
    at the chip's clock they make one transfer take more cycles than the simulator can count;
    refused here rather than overflowing into a plausible-looking cycle count.
    """
    clock = format_quantity(accel.clock, Dimension.FREQUENCY)
    latency = accel.dram.latency * accel.clock
    whole_dram = accel.dram.capacity / (accel.dram.bandwidth / accel.clock)
    problems = []
    for loc, cycles, what in (
        (("dram", "latency"), latency, "one DRAM access"),
        (("dram", "bandwidth"), whole_dram, f"moving the DRAM capacity ({_bytes_text(accel.dram.capacity)})"),
    ):
        if cycles > MAX_EVENT_CYCLES:
            problems.append(
                Problem(
                    dotted(loc),
                    f"at a {clock} clock {what} takes {cycles:.3g} cycles, more than the "
                    f"simulator counts (2^53); check the value and the clock",
                    line_of(loc, lines),
                )
            )
    return problems


MIN_CLOCK_HZ = 1.0
"""Slowest clock accepted: a run of 2^63 cycles (the simulator's count) then lasts 2^63 s,
and its leakage energy and energy-delay product stay finite doubles."""

EVENT_ENERGY_RANGE_J = (1e-24, 1.0)
"""Energy per event (MAC, SRAM byte, DRAM bit, vector op) accepted in `overrides`. Real ones
are 0.01-100 pJ (Horowitz, ISSCC 2014, Fig. 1.1.9); within this range a run of 2^63 events
of each kind has a finite energy, energy-delay product and TOPS/W."""

AREA_RANGE_M2 = (1e-24, 1.0)
"""Area per MAC, per SRAM KiB and per vector lane accepted in `overrides`: a square metre is
fourteen wafers; within this range the chip's area and TOPS/mm² stay finite and non-zero."""

MAX_LEAKAGE_W_PER_MM2 = 1e3
"""Leakage per mm² accepted in `overrides` (real chips leak milliwatts per mm²), so leakage
over the longest countable run stays a finite energy."""

_OVERRIDE_RANGES = {
    "mac_energy": (EVENT_ENERGY_RANGE_J, "J per MAC"),
    "sram_energy_per_byte": (EVENT_ENERGY_RANGE_J, "J per byte"),
    "dram_energy_per_bit": (EVENT_ENERGY_RANGE_J, "J per bit"),
    "vector_op_energy": (EVENT_ENERGY_RANGE_J, "J per lane op"),
    "leakage_power_per_mm2": ((0.0, MAX_LEAKAGE_W_PER_MM2), "W per mm²"),
    "mac_area": (AREA_RANGE_M2, "m² per MAC"),
    "sram_area_per_kib": (AREA_RANGE_M2, "m² per KiB"),
    "vector_lane_area": (AREA_RANGE_M2, "m² per lane"),
}
"""Accepted range (low exclusive, high inclusive) and SI unit of each numeric override."""


def _finite_result_problems(accel: Accelerator, lines: LineMap) -> list[Problem]:
    """The clock and every override must keep a run's figures finite: validation is the one
    gate, so a chip that passes it never makes `simulate --json` write inf or NaN."""
    problems = []
    if accel.clock < MIN_CLOCK_HZ:
        clock = format_quantity(accel.clock, Dimension.FREQUENCY)
        message = f"{clock} is slower than 1 Hz: a run's latency, leakage energy and energy-delay product would not be finite"
        problems.append(Problem("clock", message, line_of(("clock",), lines)))
    for name, ((low, high), unit) in _OVERRIDE_RANGES.items():
        value = getattr(accel.overrides, name)
        if value is None or low < value <= high:
            continue
        bounds = f"above {low:g} and at most {high:g} {unit}" if low else f"at most {high:g} {unit}"
        loc: Loc = ("overrides", name)
        message = f"{value:.3g} {unit} is beyond any real device; it must be {bounds} so a run's totals stay finite"
        problems.append(Problem(dotted(loc), message, line_of(loc, lines)))
    return problems


def _technology_problems(accel: Accelerator, lines: LineMap) -> list[Problem]:
    """Defaults must exist for this chip (its node inside the scaling tables)."""
    try:
        resolve(accel)
    except InputError as error:
        return [Problem(p.location, p.message, line_of((p.location,), lines)) for p in error.problems]
    return []


# --------------------------------------------------------------------------- schema walking


def _unwrap(annotation: Any) -> Any:
    """Strip ``Annotated`` and ``X | None`` to the underlying type."""
    while True:
        origin = get_origin(annotation)
        if origin is Annotated:
            annotation = get_args(annotation)[0]
        elif origin in (Union, types.UnionType):
            members = [a for a in get_args(annotation) if a is not type(None)]
            if len(members) != 1:
                return annotation
            annotation = members[0]
        else:
            return annotation


def _is_model(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


@functools.cache
def _field_annotation(model: type[BaseModel], name: str) -> Any:
    """The annotation of `model`'s field `name`, with its metadata: made once (building an
    `Annotated` costs several microseconds, and a sweep applies its overrides at every point)."""
    field = model.model_fields[name]
    return Annotated[(field.annotation, *field.metadata)] if field.metadata else field.annotation


def _child(annotation: Any, step: str | int) -> Any:
    """Annotation one step below `annotation`, or None when there is no such step."""
    inner = _unwrap(annotation)
    if _is_model(inner):
        return _field_annotation(inner, step) if step in inner.model_fields else None
    origin = get_origin(inner)
    if origin in (dict, Mapping):
        return get_args(inner)[1]
    if origin is tuple:
        return get_args(inner)[0]
    return None


def _annotation_at(loc: Loc) -> Any:
    annotation: Any = Accelerator
    for step in loc:
        annotation = _child(annotation, step)
        if annotation is None:
            return None
    return annotation


def _allowed_keys(loc: Loc) -> list[str]:
    inner = _unwrap(_annotation_at(loc))
    return list(inner.model_fields) if _is_model(inner) else []


def _field_description(loc: Loc) -> str:
    parent = _unwrap(_annotation_at(loc[:-1]))
    if _is_model(parent) and loc[-1] in parent.model_fields:
        return parent.model_fields[loc[-1]].description or ""
    return ""


def _annotation_for_path(steps: list[str], data: Any, problems: list[Problem]) -> Any:
    """Type of the field at a dotted override path; appends a Problem and returns None if unknown."""
    annotation: Any = Accelerator
    node = data
    for depth, step in enumerate(steps):
        inner = _unwrap(annotation)
        here = ".".join(steps[:depth]) or "the top level"
        if _is_model(inner):
            allowed = list(inner.model_fields)
        elif get_origin(inner) in (dict, Mapping) and isinstance(node, Mapping):
            allowed = [str(key) for key in node]
        else:
            problems.append(Problem(".".join(steps), f"{here} has no sub-keys; set {here} itself"))
            return None
        if step not in allowed:
            message = f"unknown key {step!r} under {here}" + _suggestion(step, allowed)
            problems.append(Problem(".".join(steps), message))
            return None
        annotation = _child(inner, step)
        node = node.get(step) if isinstance(node, Mapping) else None
    return annotation


def _set_path(data: dict[str, Any], steps: list[str], value: Any) -> None:
    node = data
    for step in steps[:-1]:
        node = node[step]
    node[steps[-1]] = value
