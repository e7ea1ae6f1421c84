"""The chip loader never crashes: any text or mapping gives a valid Accelerator or an InputError.

Hypothesis (derandomized, bounded) feeds the loader arbitrary text, YAML-like text built from
chip keys, units and YAML punctuation, arbitrary nested mappings, and a valid chip with one
value replaced by an arbitrary one. Anything other than an `Accelerator` or an `InputError`
that names the source, with a message per problem, fails the test; so does an accepted chip
holding a non-finite or non-positive number.
"""

from __future__ import annotations

import math
from enum import Enum
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accel_spec import load_accelerator_text, with_overrides
from accel_spec.schema import Accelerator
from tessera.errors import InputError

PROPERTY = settings(derandomize=True, max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SOURCE = "fuzzed.yaml"
VALID = {
    "name": "fuzz",
    "clock": "100 MHz",
    "technology": "45 nm",
    "matrix": {"rows": 4, "cols": 4, "dataflows": ["os", "ws"]},
    "buffers": {
        "inputs": {"capacity": "1 KiB", "holds": ["input"]},
        "weights": {"capacity": "1 KiB", "holds": ["weight"]},
        "acc": {"capacity": "256 B", "holds": ["output"]},
    },
    "vector": {"lanes": 4},
    "dram": {"type": "DDR4", "bandwidth": "1 GB/s"},
}
KEYS = ["name", "clock", "technology", "matrix", "rows", "cols", "dataflows", "buffers", "capacity", "holds",
        "vector", "lanes", "dram", "type", "bandwidth", "latency", "overrides", "mac_energy", "banks"]
WORDS = ["100 MHz", "1 GB/s", "1 KiB", "-3 B", "0", "4", "4.5", ".nan", ".inf", "1e400 B", "os", "input", "DDR4",
         "true", "null", "~", "0.2 pJ", "0.2 pW", "[]", "{}", "'x'", "&a", "*a", "!!binary", "|", ">", "- ", "#"]


def assert_valid_or_input_error(text: str) -> None:
    try:
        accel = load_accelerator_text(text, SOURCE)
    except InputError as error:
        assert error.source == SOURCE
        assert error.problems and all(problem.message for problem in error.problems)
        assert error.render().startswith(SOURCE)
        return
    assert isinstance(accel, Accelerator)
    assert_sane(accel)


def assert_sane(accel: Accelerator) -> None:
    """Every number of an accepted chip (enum members aside) is finite and positive."""
    numbers: list[float] = []

    def collect(value: Any) -> None:
        if isinstance(value, dict):
            for item in value.values():
                collect(item)
        elif isinstance(value, (list, tuple)):
            for item in value:
                collect(item)
        elif isinstance(value, (int, float)) and not isinstance(value, (bool, Enum)):
            numbers.append(float(value))

    collect(accel.model_dump(mode="python"))
    assert all(math.isfinite(n) and n > 0 for n in numbers), numbers


@PROPERTY
@given(st.text(max_size=300))
def test_any_text(text: str) -> None:
    assert_valid_or_input_error(text)


yaml_lines = st.lists(
    st.tuples(
        st.integers(0, 4),
        st.sampled_from(KEYS),
        st.sampled_from([": ", ":", " ", ": [", ": {", "\t", ": - "]),
        st.sampled_from(WORDS),
    ).map(lambda t: " " * t[0] + t[1] + t[2] + t[3]),
    max_size=25,
)


@PROPERTY
@given(yaml_lines)
def test_yaml_like_text(lines: list[str]) -> None:
    assert_valid_or_input_error("\n".join(lines) + "\n")


scalars = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(2**2000), max_value=2**2000),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=20), st.sampled_from(WORDS),
)
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.sampled_from(KEYS), inner, max_size=4), max_leaves=20)


@PROPERTY
@given(st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=8), values, max_size=10))
def test_arbitrary_mappings(document: dict) -> None:
    assert_valid_or_input_error(yaml.safe_dump(document, allow_unicode=True))


def _paths(node: Any, prefix: tuple = ()) -> list[tuple]:
    if isinstance(node, dict):
        return [prefix] + [p for key, child in node.items() for p in _paths(child, (*prefix, key))]
    return [prefix]


PATHS = [path for path in _paths(VALID) if path]


@PROPERTY
@given(st.sampled_from(PATHS), values)
def test_a_valid_chip_with_one_value_replaced(path: tuple, value: Any) -> None:
    document = yaml.safe_load(yaml.safe_dump(VALID))
    node = document
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    assert_valid_or_input_error(yaml.safe_dump(document, allow_unicode=True))


@PROPERTY
@given(st.sampled_from(["matrix.rows", "clock", "dram.bandwidth", "dram.latency", "buffers.acc.capacity",
                        "overrides.mac_energy", "vector.lanes", "matrix.nope", "nope"]), values)
def test_overrides_of_any_value(path: str, value: Any) -> None:
    """`with_overrides` (what sweeps use) obeys the same rule: a valid chip or an InputError."""
    base = load_accelerator_text(yaml.safe_dump(VALID), SOURCE)
    try:
        accel = with_overrides(base, {path: value}, source=SOURCE)
    except InputError as error:
        assert error.source == SOURCE and error.problems
        return
    assert_sane(accel)
