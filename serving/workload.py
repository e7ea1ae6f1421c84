"""The requests a serving run replays: Poisson arrivals with sampled lengths, or a JSONL trace.

A length is given as ``N`` (every request the same) or ``LO-HI`` (uniform over the whole
numbers LO..HI, both included). A trace has one JSON object per line with ``arrival_s``,
``prompt_len`` and ``output_len``; every malformed line is reported with its number and field.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

import numpy as np

from tessera.errors import InputError, Problem
from tessera.input_files import GiB, read_input_text


@dataclass(frozen=True)
class Request:
    """One request: when it arrives (s, from the start of the run) and its token counts."""

    arrival_s: float
    prompt_len: int
    output_len: int

    @property
    def max_tokens(self) -> int:
        """KV-cache slots the request may hold at once: its prompt and every generated token."""
        return self.prompt_len + self.output_len


class LengthKind(Enum):
    """How a token count is drawn."""

    FIXED = "fixed"
    UNIFORM = "uniform"


@dataclass(frozen=True)
class LengthDistribution:
    """A distribution of token counts: `low` when FIXED, uniform over low..high when UNIFORM."""

    kind: LengthKind
    low: int
    high: int

    @classmethod
    def parse(cls, text: str, option: str) -> LengthDistribution:
        """``N`` or ``LO-HI`` with 1 ≤ LO ≤ HI; InputError naming `option` otherwise."""
        low_text, dash, high_text = text.strip().partition("-")
        try:
            low = int(low_text)
            high = int(high_text) if dash else low
        except ValueError:
            raise InputError(option, Problem("", f"expected N or LO-HI (whole numbers ≥ 1), got {text!r}")) from None
        if low < 1 or high < low:
            raise InputError(option, Problem("", f"expected N or LO-HI with 1 ≤ LO ≤ HI, got {text!r}"))
        return cls(LengthKind.UNIFORM if dash else LengthKind.FIXED, low, high)

    def sample(self, rng: np.random.Generator, count: int) -> np.ndarray:
        """`count` draws as an int64 array."""
        if self.kind is LengthKind.FIXED:
            return np.full(count, self.low, dtype=np.int64)
        return rng.integers(self.low, self.high, endpoint=True, size=count, dtype=np.int64)


def poisson_requests(
    count: int, rate: float, prompt: LengthDistribution, output: LengthDistribution, seed: int
) -> tuple[Request, ...]:
    """`count` requests arriving as a Poisson process of `rate` per second (all at t = 0 when
    the rate is infinite), lengths drawn from `prompt` and `output`; the same seed, the same run."""
    rng = np.random.default_rng(seed)
    if math.isinf(rate):
        arrivals = np.zeros(count)
    else:
        arrivals = np.cumsum(rng.exponential(1.0 / rate, size=count))
    prompts = prompt.sample(rng, count)
    outputs = output.sample(rng, count)
    return tuple(Request(float(a), int(p), int(o)) for a, p, o in zip(arrivals, prompts, outputs))


_TRACE_FIELDS = {"arrival_s": float, "prompt_len": int, "output_len": int}

MAX_TRACE_BYTES = GiB
"""Largest trace read: about 50 bytes a request, so twenty million requests."""


def read_trace(path: str | Path) -> tuple[Request, ...]:
    """Requests from a JSONL trace, sorted by arrival; InputError lists every bad line and field."""
    source = str(path)
    text = read_input_text(path, limit=MAX_TRACE_BYTES, what="a request trace")
    requests: list[Request] = []
    problems: list[Problem] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        request = _trace_request(line, number, problems)
        if request is not None:
            requests.append(request)
    if not problems and not requests:
        problems.append(Problem("--trace", "holds no requests"))
    if problems:
        raise InputError(source, problems)
    return tuple(sorted(requests, key=lambda r: r.arrival_s))


def _trace_request(line: str, number: int, problems: list[Problem]) -> Request | None:
    """The request on one trace line, or None after appending what is wrong with it."""
    try:
        record = json.loads(line)
    except json.JSONDecodeError as error:
        problems.append(Problem("", f"not JSON: {error.msg}", line=number))
        return None
    if not isinstance(record, dict):
        problems.append(Problem("", "expected a JSON object", line=number))
        return None
    values: dict[str, float | int] = {}
    for field in sorted(record.keys() - _TRACE_FIELDS.keys()):
        problems.append(Problem(field, f"unknown field; a request has {', '.join(_TRACE_FIELDS)}", line=number))
    for field, kind in _TRACE_FIELDS.items():
        value = record.get(field)
        whole = isinstance(value, int) and not isinstance(value, bool)
        number_ok = whole or (isinstance(value, float) and math.isfinite(value))
        if field not in record:
            problems.append(Problem(field, "missing", line=number))
        elif kind is int and (not whole or value < 1):
            problems.append(Problem(field, f"expected a whole number ≥ 1, got {value!r}", line=number))
        elif kind is float and (not number_ok or value < 0):
            problems.append(Problem(field, f"expected a finite number of seconds ≥ 0, got {value!r}", line=number))
        else:
            values[field] = kind(value)
    if len(values) < len(_TRACE_FIELDS) or record.keys() - _TRACE_FIELDS.keys():
        return None
    return Request(float(values["arrival_s"]), int(values["prompt_len"]), int(values["output_len"]))
