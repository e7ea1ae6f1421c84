"""The four ways a sweep file writes an axis, and the numbers ranges expand to.

    matrix.rows: [32, 64, 128]                                   a list (or one scalar)
    buffers.global.capacity: {range: [256 KiB, 1 MiB], step: 256 KiB}   inclusive of both ends
    buffers.global.capacity: {log_range: [128 KiB, 16 MiB], points: 8}  geometric, both ends
    matrix.cols: =matrix.rows                                    tied to another axis

This module only recognises the shape; the caller reads each written value with the type of
the field it sweeps (units, enums) and then expands ranges with `range_values` /
`log_range_values`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from accel_spec.yaml_lines import Loc

MAX_AXIS_POINTS = 10_000
"""More values than this on one axis is almost surely a unit slip (a step of 1 byte)."""


@dataclass(frozen=True)
class ListForm:
    """Explicit values, as written."""

    values: tuple[Any, ...]


@dataclass(frozen=True)
class RangeForm:
    """start, start + step, ... up to and including stop (as written, before units)."""

    start: Any
    stop: Any
    step: Any


@dataclass(frozen=True)
class LogRangeForm:
    """`points` values spaced geometrically from start to stop, both included."""

    start: Any
    stop: Any
    points: int


@dataclass(frozen=True)
class TieForm:
    """Same value as another axis at every point (``=matrix.rows``)."""

    target: str


AxisForm = ListForm | RangeForm | LogRangeForm | TieForm


class AxisError(Exception):
    """Problems in one axis: (location below the axis, message) pairs."""

    def __init__(self, problems: list[tuple[Loc, str]]) -> None:
        self.problems = problems
        super().__init__("; ".join(message for _, message in problems))


def parse_axis_form(raw: Any, *, allow_tie: bool) -> AxisForm:
    """Recognise which of the four forms `raw` is; AxisError naming what is wrong."""
    if isinstance(raw, str) and raw.startswith("="):
        if not allow_tie:
            raise AxisError([((), "a tie (=other.axis) is only allowed for hardware axes")])
        target = raw[1:].strip()
        if not target:
            raise AxisError([((), "a tie needs the path of another axis, like =matrix.rows")])
        return TieForm(target)
    if isinstance(raw, list):
        if not raw:
            raise AxisError([((), "empty axis: give at least one value")])
        return ListForm(tuple(raw))
    if isinstance(raw, dict):
        return _parse_mapping(raw)
    if raw is None:
        raise AxisError([((), "empty axis: give at least one value")])
    return ListForm((raw,))


def _parse_mapping(raw: dict[str, Any]) -> AxisForm:
    kinds = [key for key in ("range", "log_range") if key in raw]
    if len(kinds) != 1:
        raise AxisError([((), "expected a list of values, {range: [start, stop], step: s} or "
                          "{log_range: [start, stop], points: n}")])
    kind = kinds[0]
    extra_key = "step" if kind == "range" else "points"
    problems: list[tuple[Loc, str]] = [
        ((key,), f"unknown key; allowed: {kind}, {extra_key}") for key in raw if key not in (kind, extra_key)
    ]
    ends = raw[kind]
    if not isinstance(ends, list) or len(ends) != 2:
        problems.append(((kind,), "expected [start, stop]"))
    if extra_key not in raw:
        problems.append(((), f"missing key {extra_key!r}"))
    elif kind == "log_range" and (not isinstance(raw["points"], int) or isinstance(raw["points"], bool) or raw["points"] < 1):
        problems.append((("points",), f"expected a whole number ≥ 1, got {raw['points']!r}"))
    if problems:
        raise AxisError(problems)
    if kind == "range":
        return RangeForm(ends[0], ends[1], raw["step"])
    return LogRangeForm(ends[0], ends[1], raw["points"])


def range_values(start: float, stop: float, step: float, *, integer: bool) -> tuple[float, ...]:
    """start, start+step, ..., ≤ stop (stop included when it lies on the grid)."""
    if not step > 0:
        raise ValueError(f"step must be positive, got {step!r}")
    if stop < start:
        raise ValueError(f"stop {stop!r} is below start {start!r}")
    count = math.floor((stop - start) / step * (1 + 1e-12)) + 1
    if count > MAX_AXIS_POINTS:
        raise ValueError(f"range has {count} values (more than {MAX_AXIS_POINTS}); is the step's unit right?")
    values = start + step * np.arange(count)
    return tuple(int(round(v)) for v in values) if integer else tuple(float(v) for v in values)


def log_range_values(start: float, stop: float, points: int, *, integer: bool) -> tuple[float, ...]:
    """`points` geometrically spaced values from start to stop; whole numbers rounded, deduplicated."""
    if not (start > 0 and stop > 0):
        raise ValueError("log_range ends must be positive")
    if stop < start:
        raise ValueError(f"stop {stop!r} is below start {start!r}")
    if points > MAX_AXIS_POINTS:
        raise ValueError(f"more than {MAX_AXIS_POINTS} points")
    if points == 1 and start != stop:
        raise ValueError("one point cannot span two different ends; use points ≥ 2")
    values = np.geomspace(start, stop, points)
    values[0], values[-1] = start, stop  # exact ends, free of rounding
    if integer:
        return tuple(dict.fromkeys(int(round(v)) for v in values))
    return tuple(float(v) for v in values)
