"""Human quantities (``256 KiB``, ``700 MHz``, ``34 GB/s``) to SI numbers, and back.

Chip files are written by people, so sizes, clocks and energies carry their units and a
wrong unit is caught instead of silently scaled: ``34 MHz`` where a bandwidth belongs is an
error naming the expected dimension, and a bare number is accepted only for byte counts.
Values are stored as plain SI floats (bytes as ints) so later stages do no unit handling.

`parse_quantity` and the pydantic types below raise only `ValueError` for bad text, whatever
the input string, so pydantic reports every problem with its location.

Pydantic validation with ``context=SI_NUMBERS_CONTEXT`` additionally accepts bare numbers as
SI values; that is for re-validating an already normalised spec (``model_dump`` output), never
for user files.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from fractions import Fraction
from types import UnionType
from typing import Annotated, Union, get_args, get_origin

from annotated_types import Le
from pydantic import BeforeValidator, PositiveInt, ValidationInfo, WithJsonSchema


class Dimension(Enum):
    """Physical dimensions of spec quantities; the value is the noun used in messages."""

    BYTES = "size in bytes"
    FREQUENCY = "frequency"
    BANDWIDTH = "bandwidth"
    DURATION = "duration"
    ENERGY = "energy"
    AREA = "area"
    POWER = "power"
    LENGTH = "length"
    VOLTAGE = "voltage"


SI_NUMBERS_CONTEXT: Mapping[str, bool] = {"si_numbers": True}
"""Validation context under which bare numbers are taken as already-SI values."""

_MICRO = ("u", "µ", "μ")  # ASCII u, U+00B5 MICRO SIGN, U+03BC GREEK SMALL LETTER MU
_SI_PREFIXES: dict[str, Fraction] = {
    "T": Fraction(10**12),
    "G": Fraction(10**9),
    "M": Fraction(10**6),
    "k": Fraction(10**3),
    "": Fraction(1),
    "m": Fraction(1, 10**3),
    **{u: Fraction(1, 10**6) for u in _MICRO},
    "n": Fraction(1, 10**9),
    "p": Fraction(1, 10**12),
    "f": Fraction(1, 10**15),
    "a": Fraction(1, 10**18),
}


def _prefixed(symbol: str, prefixes: str | tuple[str, ...], power: int = 1) -> dict[str, Fraction]:
    """Units ``<prefix><symbol>`` for the given SI prefixes, raised to `power` (2 for areas)."""
    names = tuple(prefixes) if isinstance(prefixes, str) else prefixes
    return {f"{p}{symbol}": _SI_PREFIXES[p] ** power for p in names}


def _byte_units() -> dict[str, Fraction]:
    units = {"B": Fraction(1), "byte": Fraction(1), "bytes": Fraction(1)}
    for prefix, power in (("k", 1), ("K", 1), ("M", 2), ("G", 3), ("T", 4)):
        units[f"{prefix}B"] = Fraction(1000**power)
        units[f"{prefix}bit"] = Fraction(1000**power, 8)
    for prefix, power in (("Ki", 1), ("Mi", 2), ("Gi", 3), ("Ti", 4)):
        units[f"{prefix}B"] = Fraction(1024**power)
        units[f"{prefix}bit"] = Fraction(1024**power, 8)
    units["bit"] = units["bits"] = Fraction(1, 8)
    return units


def _bandwidth_units(byte_units: Mapping[str, Fraction]) -> dict[str, Fraction]:
    units = {f"{name}/s": factor for name, factor in byte_units.items()}
    for prefix, scale in (("", 1), ("k", 10**3), ("M", 10**6), ("G", 10**9), ("T", 10**12)):
        units[f"{prefix}bps"] = Fraction(scale, 8)
    return units


def _area_units() -> dict[str, Fraction]:
    units: dict[str, Fraction] = {}
    for square in ("2", "²", "^2"):
        units.update(_prefixed(f"m{square}", ("", "m", *_MICRO, "n"), power=2))
    return units


_BYTE_UNITS = _byte_units()
_UNITS: dict[Dimension, dict[str, Fraction]] = {
    Dimension.BYTES: _BYTE_UNITS,
    Dimension.FREQUENCY: {**_prefixed("Hz", ("", "k", "M", "G", "T")), "KHz": Fraction(10**3)},
    Dimension.BANDWIDTH: _bandwidth_units(_BYTE_UNITS),
    Dimension.DURATION: _prefixed("s", ("", "m", *_MICRO, "n", "p")),
    Dimension.ENERGY: _prefixed("J", ("k", "", "m", *_MICRO, "n", "p", "f", "a")),
    Dimension.AREA: _area_units(),
    Dimension.POWER: _prefixed("W", ("k", "", "m", *_MICRO, "n")),
    Dimension.LENGTH: _prefixed("m", ("", "m", *_MICRO, "n")),
    Dimension.VOLTAGE: _prefixed("V", ("", "m")),
}

_EXAMPLES: dict[Dimension, str] = {
    Dimension.BYTES: "256 KiB",
    Dimension.FREQUENCY: "700 MHz",
    Dimension.BANDWIDTH: "34 GB/s",
    Dimension.DURATION: "100 ns",
    Dimension.ENERGY: "0.2 pJ",
    Dimension.AREA: "0.5 mm2",
    Dimension.POWER: "5 mW",
    Dimension.LENGTH: "28 nm",
    Dimension.VOLTAGE: "0.9 V",
}

# Units used when printing, largest first.
_DISPLAY: dict[Dimension, tuple[tuple[str, float], ...]] = {
    Dimension.BYTES: (("TiB", 2.0**40), ("GiB", 2.0**30), ("MiB", 2.0**20), ("KiB", 2.0**10), ("B", 1.0)),
    Dimension.FREQUENCY: (("GHz", 1e9), ("MHz", 1e6), ("kHz", 1e3), ("Hz", 1.0)),
    Dimension.BANDWIDTH: (("TB/s", 1e12), ("GB/s", 1e9), ("MB/s", 1e6), ("kB/s", 1e3), ("B/s", 1.0)),
    Dimension.DURATION: (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6), ("ns", 1e-9), ("ps", 1e-12)),
    Dimension.ENERGY: (("J", 1.0), ("mJ", 1e-3), ("µJ", 1e-6), ("nJ", 1e-9), ("pJ", 1e-12), ("fJ", 1e-15), ("aJ", 1e-18)),
    Dimension.AREA: (("mm²", 1e-6), ("µm²", 1e-12)),
    Dimension.POWER: (("kW", 1e3), ("W", 1.0), ("mW", 1e-3), ("µW", 1e-6), ("nW", 1e-9)),
    Dimension.LENGTH: (("m", 1.0), ("mm", 1e-3), ("µm", 1e-6), ("nm", 1e-9)),
    Dimension.VOLTAGE: (("V", 1.0), ("mV", 1e-3)),
}
# Smallest mantissa shown before switching to the next smaller unit: chip areas read best in
# mm² down to 0.01 mm².
_DISPLAY_FLOOR: dict[Dimension, float] = {Dimension.AREA: 0.01}

_NUMBER = re.compile(r"([+-]?)((?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))(?:[eE]([+-]?[0-9]+))?")
_NON_FINITE = re.compile(r"[+-]?(?:inf(?:inity)?|nan)", re.IGNORECASE)
_MAX_DIGITS = 60
_MAX_EXPONENT = 400  # beyond any finite double; keeps Fraction arithmetic cheap


def _a(noun: str) -> str:
    """The noun with its indefinite article: ``a frequency``, ``an energy``."""
    return f"{'an' if noun[0] in 'aeiou' else 'a'} {noun}"


def _expected(dimension: Dimension) -> str:
    return f"{_a(dimension.value)} such as `{_EXAMPLES[dimension]}`"


def _split(text: str, dimension: Dimension) -> tuple[Fraction, str]:
    """Split ``'1.5 MiB'`` into an exact number and a unit string; ValueError if malformed."""
    stripped = text.strip()
    if not stripped:
        raise ValueError(f"empty value; expected {_expected(dimension)}")
    if _NON_FINITE.match(stripped):
        raise ValueError(f"{text!r} is not a finite number; expected {_expected(dimension)}")
    match = _NUMBER.match(stripped)
    if match is None:
        raise ValueError(f"{text!r} does not start with a number; expected {_expected(dimension)}")
    sign, digits, exponent = match.groups()
    if len(digits) > _MAX_DIGITS:
        raise ValueError(f"{text!r} has too many digits")
    exp = 0
    if exponent:
        if len(exponent.lstrip("+-")) > 6 or abs(int(exponent)) > _MAX_EXPONENT:
            raise ValueError(f"{text!r}: exponent out of range; the value must be a finite number")
        exp = int(exponent)
    value = Fraction(digits) * Fraction(10) ** exp
    if sign == "-":
        value = -value
    return value, stripped[match.end() :].strip()


def _unit_factor(unit: str, text: str, dimension: Dimension) -> Fraction:
    """SI factor of `unit` in `dimension`, or a ValueError explaining what is wrong."""
    units = _UNITS[dimension]
    if unit in units:
        return units[unit]
    if not unit:
        raise ValueError(f"{text!r} has no unit; expected {_expected(dimension)}")
    for other, other_units in _UNITS.items():
        if other is not dimension and unit in other_units:
            raise ValueError(
                f"{text!r} is {_a(other.value)}, but {_a(dimension.value)} is expected "
                f"(e.g. `{_EXAMPLES[dimension]}`)"
            )
    hints = _spelling_hints(unit, units)
    hint = f"; did you mean {hints[0]!r}?" if len(hints) == 1 else ""
    raise ValueError(
        f"unknown unit {unit!r} in {text!r} for {_a(dimension.value)}{hint} "
        f"(e.g. `{_EXAMPLES[dimension]}`)"
    )


_BITS = re.compile(r"bits?|b(?=ps|/s|$)")
_BYTES = re.compile(r"bytes?|B")


def _counts(unit: str) -> str | None:
    """``'bits'`` for a unit of bits (Gbps, kbit, Mb/s), ``'bytes'`` for bytes (GB/s, KiB, GBps)."""
    if _BITS.search(unit):
        return "bits"
    if _BYTES.search(unit):
        return "bytes"
    return None


def _spelling_hints(unit: str, units: Mapping[str, Fraction]) -> list[str]:
    """Known units that `unit` is a misspelling of, never crossing bits and bytes.

    A hint a user follows must not scale the value by 8: ``12.8 GBps`` (bytes) suggests
    ``GB/s``, not ``Gbps`` (bits), although the latter differs only in case.
    """
    written = _counts(unit)
    same_letters = [name for name in units if name.lower() == unit.lower() and _counts(name) == written]
    per_second = unit.removesuffix("ps") + "/s" if unit.endswith("ps") else None
    if per_second in units and _counts(per_second) == written and per_second not in same_letters:
        same_letters.append(per_second)
    return same_letters


@functools.lru_cache(maxsize=4096)
def _exact_quantity(text: str, dimension: Dimension) -> Fraction:
    """The positive exact SI value of `text`; ValueError with a reason otherwise. The last
    few thousand texts are kept: a sweep's overrides parse the same values again at every
    point (each twice: checked alone, then with the chip), in exact arithmetic."""
    number, unit = _split(text, dimension)
    value = number * _unit_factor(unit, text, dimension)
    if value <= 0:
        raise ValueError(f"{text!r} must be positive")
    return value


def _finite_float(value: Fraction | float, text: str) -> float:
    try:
        result = float(value)
    except OverflowError:
        raise ValueError(f"{text!r} is too large to represent") from None
    if not math.isfinite(result):
        raise ValueError(f"{text!r} is not a finite number")
    if result <= 0:
        raise ValueError(f"{text!r} is too small to represent (it rounds to zero)")
    return result


def parse_quantity(text: str, dimension: Dimension) -> float:
    """Parse ``'34 GB/s'`` (for `Dimension.BANDWIDTH`) to SI units: ``34e9``.

    Raises ValueError, naming the expected dimension and an example, for a missing or wrong
    unit, an unparsable number, a value that is not positive, or one that is not finite.
    """
    if not isinstance(text, str):
        raise ValueError(f"expected {_expected(dimension)}, got {type(text).__name__}")
    return _finite_float(_exact_quantity(text, dimension), text)


def parse_bytes(text: str) -> int:
    """Parse ``'1.5 MiB'`` to 1572864 bytes; fractional byte counts are errors."""
    value = _exact_quantity(text, Dimension.BYTES)
    _finite_float(value, text)
    if value.denominator != 1:
        raise ValueError(f"{text!r} is not a whole number of bytes ({float(value)} B)")
    return int(value)


def _format_number(value: float) -> str:
    text = f"{value:.4g}"
    return f"{value:.0f}" if "e" in text and abs(value) >= 1 else text


def format_quantity(value: float, dimension: Dimension) -> str:
    """Print an SI value with the largest readable unit: 25165824 bytes -> ``'24 MiB'``."""
    if not math.isfinite(value) or value == 0:
        return f"{value:g} {_DISPLAY[dimension][-1][0]}"
    floor = _DISPLAY_FLOOR.get(dimension, 1.0)
    magnitude = abs(value)
    for symbol, factor in _DISPLAY[dimension]:
        if magnitude / factor >= floor:
            return f"{_format_number(value / factor)} {symbol}"
    symbol, factor = _DISPLAY[dimension][-1]
    return f"{_format_number(value / factor)} {symbol}"


def _short(value: object, limit: int = 40) -> str:
    text = repr(value)
    return text if len(text) <= limit else f"{text[:limit - 3]}..."


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _si_numbers_allowed(info: ValidationInfo) -> bool:
    context = info.context
    return isinstance(context, Mapping) and bool(context.get("si_numbers"))


def _positive_finite_number(value: int | float, dimension: Dimension) -> float:
    try:
        number = float(value)
    except OverflowError:  # an integer with hundreds of digits
        raise ValueError(f"{_short(value)} is too large to represent") from None
    if not math.isfinite(number):
        raise ValueError(f"{value!r} is not a finite number; expected {_expected(dimension)}")
    if number <= 0:
        raise ValueError(f"{value!r} must be positive")
    return number


def _validate_bytes(value: object) -> int:
    if isinstance(value, str):
        return parse_bytes(value)
    if _is_number(value):
        number = _positive_finite_number(value, Dimension.BYTES)
        if isinstance(value, float) and not number.is_integer():
            raise ValueError(f"{value!r} is not a whole number of bytes")
        return int(value)
    raise ValueError(f"expected {_expected(Dimension.BYTES)}, got {type(value).__name__}")


@dataclass(frozen=True)
class _QuantityCheck:
    """Pydantic before-validator turning a human string of `dimension` into SI units.

    A class rather than a closure so that `dimension_of` can find the dimension of a field.
    """

    dimension: Dimension

    def __call__(self, value: object, info: ValidationInfo) -> float | int:
        if self.dimension is Dimension.BYTES:
            return _validate_bytes(value)
        if isinstance(value, str):
            return parse_quantity(value, self.dimension)
        if _is_number(value):
            number = _positive_finite_number(value, self.dimension)  # NaN or 10**400: say that first
            if _si_numbers_allowed(info):
                return number
            raise ValueError(f"{value!r} has no unit; write {_expected(self.dimension)}")
        raise ValueError(f"expected {_expected(self.dimension)}, got {type(value).__name__}")


def dimension_of(annotation: object) -> Dimension | None:
    """The dimension of a quantity type (``Frequency``, ``Bytes | None``, ...), else None."""
    origin = get_origin(annotation)
    if origin is Annotated:
        base, *metadata = get_args(annotation)
        for item in metadata:
            if isinstance(item, BeforeValidator) and isinstance(item.func, _QuantityCheck):
                return item.func.dimension
        return dimension_of(base)
    if origin in (Union, UnionType):
        for member in get_args(annotation):
            found = dimension_of(member)
            if found is not None:
                return found
    return None


def _reject_bool(value: object) -> object:
    """YAML `true` is not a count (pydantic would read it as 1)."""
    if isinstance(value, bool):
        raise ValueError(f"expected a positive whole number, got {str(value).lower()}")
    return value


def _validate_rate(value: object) -> float:
    if not _is_number(value):
        raise ValueError(f"expected a plain positive number such as 0.25, got {_short(value)}")
    try:
        number = float(value)
    except OverflowError:  # an integer with hundreds of digits
        raise ValueError(f"{_short(value)} is too large to represent") from None
    if not math.isfinite(number) or number <= 0:
        raise ValueError(f"{value!r} must be a finite positive number")
    return number


def _unit_list(dimension: Dimension) -> str:
    """The units a dimension is printed in, largest first (``J, mJ, µJ, ...``)."""
    return ", ".join(symbol for symbol, _ in _DISPLAY[dimension]) + ", ..."


def _quantity_type(dimension: Dimension) -> object:
    return Annotated[
        float,
        BeforeValidator(_QuantityCheck(dimension)),
        WithJsonSchema({"type": "string", "description": f"{dimension.value} with a unit ({_unit_list(dimension)})"}),
    ]


Bytes = Annotated[
    int,
    BeforeValidator(_QuantityCheck(Dimension.BYTES)),
    WithJsonSchema(
        {
            "anyOf": [{"type": "integer", "exclusiveMinimum": 0}, {"type": "string"}],
            "description": "size in bytes: an integer, or a number with a unit (B, KB, KiB, MiB, bit, ...)",
        }
    ),
]
Frequency = _quantity_type(Dimension.FREQUENCY)
Bandwidth = _quantity_type(Dimension.BANDWIDTH)
Duration = _quantity_type(Dimension.DURATION)
Energy = _quantity_type(Dimension.ENERGY)
Area = _quantity_type(Dimension.AREA)
Power = _quantity_type(Dimension.POWER)
Length = _quantity_type(Dimension.LENGTH)
Voltage = _quantity_type(Dimension.VOLTAGE)
MAX_COUNT = 2**53
"""Largest count (rows, lanes, ...): exact as a float, so areas and rates stay finite."""
Count = Annotated[PositiveInt, Le(MAX_COUNT), BeforeValidator(_reject_bool)]
"""A positive whole number of things (rows, lanes, banks) up to 2^53; booleans are refused."""
PositiveRate = Annotated[
    float,
    BeforeValidator(_validate_rate),
    WithJsonSchema({"type": "number", "exclusiveMinimum": 0, "examples": [0.25]}),
]
