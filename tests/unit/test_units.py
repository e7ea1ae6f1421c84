"""Units: every dimension parses its units to SI, and every kind of bad value is a ValueError."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError

from accel_spec.units import (
    SI_NUMBERS_CONTEXT,
    Area,
    Bandwidth,
    Bytes,
    Count,
    Dimension,
    Duration,
    Energy,
    Frequency,
    Length,
    PositiveRate,
    Power,
    dimension_of,
    format_quantity,
    parse_bytes,
    parse_quantity,
)

DETERMINISTIC = settings(derandomize=True, max_examples=200, deadline=None)
"""Property tests draw the same examples on every run, so CI never fails by luck."""


@pytest.mark.parametrize(
    ("text", "dimension", "expected"),
    [
        ("700 MHz", Dimension.FREQUENCY, 700e6),
        ("1.2 GHz", Dimension.FREQUENCY, 1.2e9),
        ("34 GB/s", Dimension.BANDWIDTH, 34e9),
        ("25.6 GiB/s", Dimension.BANDWIDTH, 25.6 * 2**30),
        ("1 TB/s", Dimension.BANDWIDTH, 1e12),
        ("256 Gbit/s", Dimension.BANDWIDTH, 32e9),
        ("100 ns", Dimension.DURATION, 100e-9),
        ("1 us", Dimension.DURATION, 1e-6),
        ("1 µs", Dimension.DURATION, 1e-6),
        ("0.2 pJ", Dimension.ENERGY, 0.2e-12),
        ("3 fJ", Dimension.ENERGY, 3e-15),
        ("1.3 nJ", Dimension.ENERGY, 1.3e-9),
        ("0.5 mm2", Dimension.AREA, 0.5e-6),
        ("0.5 mm²", Dimension.AREA, 0.5e-6),
        ("282 um2", Dimension.AREA, 282e-12),
        ("282 µm²", Dimension.AREA, 282e-12),
        ("5 mW", Dimension.POWER, 5e-3),
        ("1 W", Dimension.POWER, 1.0),
        ("28 nm", Dimension.LENGTH, 28e-9),
        ("1e3 MHz", Dimension.FREQUENCY, 1e9),
        ("  7e2MHz ", Dimension.FREQUENCY, 700e6),
    ],
)
def test_parse_quantity_to_si(text: str, dimension: Dimension, expected: float) -> None:
    assert parse_quantity(text, dimension) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("256 KiB", 262144),
        ("1.5 MiB", 1572864),
        ("24MiB", 24 * 2**20),
        ("64 B", 64),
        ("2 KB", 2000),
        ("0.1 KB", 100),
        ("8 bit", 1),
        ("1 Kibit", 128),
        (64, 64),
        (4096.0, 4096),
    ],
)
def test_bytes(value: object, expected: int) -> None:
    result = TypeAdapter(Bytes).validate_python(value)
    assert result == expected and isinstance(result, int)


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("12 bit", "whole number of bytes"),
        ("1.5 B", "whole number of bytes"),
        (1.5, "whole number of bytes"),
        (0, "positive"),
        (-8, "positive"),
        ("0 KiB", "positive"),
        (True, "got bool"),
        ("700 MHz", "frequency, but a size in bytes is expected"),
    ],
)
def test_bytes_errors(value: object, fragment: str) -> None:
    with pytest.raises(ValidationError, match=fragment):
        TypeAdapter(Bytes).validate_python(value)


@pytest.mark.parametrize(
    ("quantity", "dimension"),
    [
        (Frequency, Dimension.FREQUENCY),
        (Bandwidth, Dimension.BANDWIDTH),
        (Duration, Dimension.DURATION),
        (Energy, Dimension.ENERGY),
        (Area, Dimension.AREA),
        (Power, Dimension.POWER),
        (Length, Dimension.LENGTH),
    ],
)
def test_bare_number_needs_a_unit_except_in_si_context(quantity: object, dimension: Dimension) -> None:
    adapter = TypeAdapter(quantity)
    with pytest.raises(ValidationError, match=rf"no unit; write an? {dimension.value} such as `"):
        adapter.validate_python(3)
    assert adapter.validate_python(3, context=SI_NUMBERS_CONTEXT) == 3.0
    with pytest.raises(ValidationError, match="positive"):
        adapter.validate_python(-3, context=SI_NUMBERS_CONTEXT)
    assert dimension_of(quantity) is dimension
    assert dimension_of(quantity | None) is dimension


@pytest.mark.parametrize(
    ("text", "dimension", "fragment"),
    [
        ("34 MHz", Dimension.BANDWIDTH, "is a frequency, but a bandwidth is expected"),
        ("1 GB/s", Dimension.FREQUENCY, "is a bandwidth, but a frequency is expected"),
        ("28 nJ", Dimension.LENGTH, "is an energy, but a length is expected"),
        ("34", Dimension.BANDWIDTH, "has no unit; expected a bandwidth such as `34 GB/s`"),
        ("34 furlongs", Dimension.BANDWIDTH, "unknown unit 'furlongs'"),
        ("700 mhz", Dimension.FREQUENCY, "did you mean 'MHz'"),
        ("0 MHz", Dimension.FREQUENCY, "must be positive"),
        ("-5 ns", Dimension.DURATION, "must be positive"),
        ("nan pJ", Dimension.ENERGY, "not a finite number"),
        ("inf W", Dimension.POWER, "not a finite number"),
        ("1e999 Hz", Dimension.FREQUENCY, "exponent out of range"),
        ("1e300 TB/s", Dimension.BANDWIDTH, "too large"),
        ("1e-330 J", Dimension.ENERGY, "rounds to zero"),
        ("", Dimension.FREQUENCY, "empty"),
        ("fast", Dimension.FREQUENCY, "does not start with a number"),
    ],
)
def test_parse_errors(text: str, dimension: Dimension, fragment: str) -> None:
    with pytest.raises(ValueError, match=fragment):
        parse_quantity(text, dimension)


def test_very_large_finite_values_are_accepted() -> None:
    assert parse_quantity("1e300 B/s", Dimension.BANDWIDTH) == 1e300
    assert parse_bytes("1e30 B") == 10**30


def test_non_string_input_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="expected a frequency"):
        parse_quantity(700, Dimension.FREQUENCY)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("value", "dimension", "expected"),
    [
        (25165824, Dimension.BYTES, "24 MiB"),
        (262144, Dimension.BYTES, "256 KiB"),
        (64, Dimension.BYTES, "64 B"),
        (7e8, Dimension.FREQUENCY, "700 MHz"),
        (1.05e9, Dimension.FREQUENCY, "1.05 GHz"),
        (34e9, Dimension.BANDWIDTH, "34 GB/s"),
        (100e-9, Dimension.DURATION, "100 ns"),
        (0.2e-12, Dimension.ENERGY, "200 fJ"),
        (1.3e-9, Dimension.ENERGY, "1.3 nJ"),
        (0.5e-6, Dimension.AREA, "0.5 mm²"),
        (282e-12, Dimension.AREA, "282 µm²"),
        (5e-3, Dimension.POWER, "5 mW"),
        (28e-9, Dimension.LENGTH, "28 nm"),
    ],
)
def test_format_quantity(value: float, dimension: Dimension, expected: str) -> None:
    assert format_quantity(value, dimension) == expected


@DETERMINISTIC
@given(
    st.sampled_from(list(Dimension)),
    st.floats(min_value=1e-15, max_value=1e15, allow_nan=False, allow_infinity=False),
)
def test_format_then_parse_round_trips_to_four_digits(dimension: Dimension, value: float) -> None:
    if dimension is Dimension.BYTES:
        value = float(max(1, round(value)))
    parsed = parse_quantity(format_quantity(value, dimension), dimension)
    assert parsed == pytest.approx(value, rel=5e-4)


@DETERMINISTIC
@given(st.sampled_from(list(Dimension)), st.text(max_size=40))
def test_any_text_parses_or_raises_value_error(dimension: Dimension, text: str) -> None:
    try:
        value = parse_quantity(text, dimension)
    except ValueError:
        return
    assert math.isfinite(value) and value > 0


@DETERMINISTIC
@given(st.from_regex(r"[+-]?[0-9]{0,5}(\.[0-9]{0,5})?([eE][+-]?[0-9]{1,4})? ?(KiB|MB|bit|B|GB/s|MHz|nm|pJ)?", fullmatch=True))
def test_number_like_text_parses_or_raises_value_error(text: str) -> None:
    for dimension in Dimension:
        try:
            value = parse_quantity(text, dimension)
        except ValueError:
            continue
        assert math.isfinite(value) and value > 0


def test_positive_rate() -> None:
    adapter = TypeAdapter(PositiveRate)
    assert adapter.validate_python(0.25) == 0.25
    assert adapter.validate_python(2) == 2.0
    for bad in (0, -1.0, float("nan"), float("inf"), "0.25", True):
        with pytest.raises(ValidationError):
            adapter.validate_python(bad)


QUANTITY_TYPES = [Bytes, Frequency, Bandwidth, Duration, Energy, Area, Power, Length, PositiveRate, Count]
anything = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**2000), 2**2000) | st.floats() | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3),
    max_leaves=8,
)


@DETERMINISTIC
@given(st.sampled_from(QUANTITY_TYPES), anything, st.booleans())
def test_any_python_value_validates_to_a_positive_finite_number_or_a_validation_error(
    quantity: object, value: object, si_numbers: bool
) -> None:
    """What YAML can hold (None, bools, huge ints, NaN, lists, maps, text) never escapes as another error."""
    context = SI_NUMBERS_CONTEXT if si_numbers else None
    try:
        parsed = TypeAdapter(quantity).validate_python(value, context=context)
    except ValidationError:
        return
    assert not isinstance(value, bool) and not isinstance(parsed, bool)
    assert math.isfinite(parsed) and parsed > 0


@DETERMINISTIC
@given(st.text(max_size=40))
def test_parse_bytes_gives_a_positive_whole_number_or_value_error(text: str) -> None:
    try:
        value = parse_bytes(text)
    except ValueError:
        return
    assert isinstance(value, int) and value >= 1


@DETERMINISTIC
@given(st.integers(1, 2**60), st.sampled_from(["B", "KiB", "MiB", "GiB", "kB", "MB"]))
def test_whole_byte_sizes_parse_exactly(count: int, unit: str) -> None:
    factor = {"B": 1, "KiB": 2**10, "MiB": 2**20, "GiB": 2**30, "kB": 10**3, "MB": 10**6}[unit]
    assert parse_bytes(f"{count} {unit}") == count * factor


def test_counts_refuse_booleans_and_fractions() -> None:
    adapter = TypeAdapter(Count)
    assert adapter.validate_python(4) == 4
    for bad in (True, False, 0, -1, 4.5, "four", None):
        with pytest.raises(ValidationError):
            adapter.validate_python(bad)


@pytest.mark.parametrize("value", [float("nan"), float("inf"), -float("inf")])
def test_non_finite_numbers_say_so_rather_than_asking_for_a_unit(value: float) -> None:
    with pytest.raises(ValidationError, match="not a finite number"):
        TypeAdapter(Frequency).validate_python(value)


def _hint(text: str, dimension: Dimension) -> str | None:
    """The unit a parse error suggests (did you mean 'X'?), or None."""
    with pytest.raises(ValueError) as raised:
        parse_quantity(text, dimension)
    message = str(raised.value)
    marker = "did you mean '"
    return message.split(marker, 1)[1].split("'", 1)[0] if marker in message else None


@pytest.mark.parametrize(
    ("text", "hint"),
    [("12.8 GBps", "GB/s"), ("1 KiBps", "KiB/s"), ("3 MBps", "MB/s"), ("12.8 gbps", "Gbps"), ("700 mhz", "MHz")],
)
def test_a_misspelt_unit_suggests_the_same_quantity(text: str, hint: str) -> None:
    dimension = Dimension.FREQUENCY if text.endswith("hz") else Dimension.BANDWIDTH
    assert _hint(text, dimension) == hint


BANDWIDTH_UNITS = ["B/s", "kB/s", "KB/s", "MB/s", "GB/s", "TB/s", "KiB/s", "MiB/s", "GiB/s", "TiB/s", "bps",
                   "kbps", "Mbps", "Gbps", "Tbps", "kbit/s", "Mbit/s", "Gbit/s", "Kibit/s", "Mibit/s", "Gibit/s"]


@pytest.mark.parametrize("unit", BANDWIDTH_UNITS)
def test_a_hint_never_crosses_bits_and_bytes(unit: str) -> None:
    """Following a hint must not scale a bandwidth by 8 (GBps once suggested Gbps: 8x less)."""
    value = parse_quantity(f"1 {unit}", Dimension.BANDWIDTH)
    # Every letter but the b or B that says bits or bytes may be mistyped in case; "/s" as "ps".
    spellings = {
        "".join(c if c in "bB" else (c.upper() if upper else c.lower()) for c in written)
        for written in (unit, unit.replace("/s", "ps"))
        for upper in (False, True)
    }
    for spelling in spellings:
        try:
            parse_quantity(f"1 {spelling}", Dimension.BANDWIDTH)
            continue  # a known unit in its own right
        except ValueError:
            hint = _hint(f"1 {spelling}", Dimension.BANDWIDTH)
        if hint is not None:
            ratio = parse_quantity(f"1 {hint}", Dimension.BANDWIDTH) / value
            assert ratio not in (8.0, 1 / 8), (unit, spelling, hint)
