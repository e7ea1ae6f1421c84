"""Zoo model declarations: typed parameters, their constraints, and the resolved ModelSpec.

A zoo model declares its parameters once (name, type, default, help, constraint); from that
one declaration come the parser's coercion and error messages, the defaults written into a
canonical spec string, and the `tessera models` table. Resolution is pure: raw values in
(strings from the command line, or typed values from code), a frozen `ModelSpec` out, or an
`InputError` that lists every problem at once.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from difflib import get_close_matches
from enum import Enum, StrEnum
from math import isfinite
from types import MappingProxyType
from typing import TYPE_CHECKING

from tessera.errors import InputError, Problem

if TYPE_CHECKING:
    import onnx


class Phase(StrEnum):
    """Which half of autoregressive inference a decoder graph models."""

    PREFILL = "prefill"  # the whole prompt at once: seq new tokens, causal attention
    DECODE = "decode"  # one new token per sequence against a KV cache of kv_len tokens


ParamValue = int | float | Phase
Params = Mapping[str, ParamValue]


@dataclass(frozen=True)
class AtLeast:
    """The value must be ≥ `bound`."""

    bound: int

    def admits(self, value: ParamValue) -> bool:
        return value >= self.bound  # type: ignore[operator]

    def describe(self) -> str:
        return f">= {self.bound}"


@dataclass(frozen=True)
class Positive:
    """The value must be > 0 (for real-valued multipliers such as a width factor)."""

    def admits(self, value: ParamValue) -> bool:
        return value > 0  # type: ignore[operator]

    def describe(self) -> str:
        return "> 0"


@dataclass(frozen=True)
class OneOf:
    """The value must be one of `values`."""

    values: tuple[ParamValue, ...]

    def admits(self, value: ParamValue) -> bool:
        return value in self.values

    def describe(self) -> str:
        return "one of " + ", ".join(_format(v) for v in self.values)


Constraint = AtLeast | Positive | OneOf


@dataclass(frozen=True)
class Derived:
    """A default computed from the other parameters (e.g. ffn = 4·hidden); `text` documents it."""

    rule: Callable[[Params], ParamValue]
    text: str


@dataclass(frozen=True)
class Param:
    """One parameter of a zoo model.

    `kind` is `int`, `float` or an Enum class (values spelled by the enum's value).
    `default` is a value of that kind, or a `Derived` rule over the non-derived parameters.
    """

    name: str
    kind: type
    default: ParamValue | Derived
    help: str
    constraint: Constraint | None = None

    def coerce(self, raw: str | ParamValue) -> ParamValue:
        """The raw value (text or a Python value) as this parameter's kind; ValueError says why not."""
        if issubclass(self.kind, Enum):
            try:
                return self.kind(raw)
            except ValueError:
                raise ValueError(f"must be {self.allowed()}, got {raw!r}") from None
        if isinstance(raw, bool) or isinstance(raw, Enum):
            raise ValueError(f"must be {_KIND_NAMES[self.kind]}, got {raw!r}")
        if isinstance(raw, str):
            try:
                value = self.kind(raw.strip())
            except ValueError:
                raise ValueError(f"must be {_KIND_NAMES[self.kind]}, got {raw!r}") from None
        elif self.kind is float and isinstance(raw, int | float):
            value = float(raw)
        elif self.kind is int and isinstance(raw, int):
            value = raw
        else:
            raise ValueError(f"must be {_KIND_NAMES[self.kind]}, got {raw!r}")
        if not isfinite(value):
            raise ValueError(f"must be a finite number, got {raw!r}")
        return value

    def allowed(self) -> str:
        """The allowed values in words, for error messages and the models table."""
        if issubclass(self.kind, Enum):
            return "one of " + ", ".join(str(member.value) for member in self.kind)
        return self.constraint.describe() if self.constraint is not None else "any"

    def default_text(self) -> str:
        """The default as shown to users: a value, or the rule that derives it."""
        return self.default.text if isinstance(self.default, Derived) else _format(self.default)


_KIND_NAMES = {int: "an integer", float: "a number"}

BATCH = Param("batch", int, 1, "independent inputs per inference", AtLeast(1))


def _no_checks(params: Params) -> list[Problem]:
    return []


@dataclass(frozen=True)
class ZooModel:
    """A parametric network: its parameters, cross-parameter checks and its ONNX builder.

    `check` returns problems that involve several parameters (heads must divide hidden);
    it sees every parameter already coerced and individually valid.
    `aliases` are other names that fix some parameters (resnet50 = resnet with depth=50).
    """

    name: str
    description: str
    params: tuple[Param, ...]
    build: Callable[[Params], onnx.ModelProto]
    check: Callable[[Params], list[Problem]] = _no_checks
    aliases: Mapping[str, Params] = field(default_factory=lambda: MappingProxyType({}))

    def resolve(self, raw: Mapping[str, str | ParamValue], source: str, fixed: Params | None = None) -> ModelSpec:
        """Coerce, validate and complete `raw` into a ModelSpec; InputError lists every problem.

        `fixed` holds values an alias sets; giving one of them again in `raw` is an error.
        """
        fixed = fixed or {}
        declared = {p.name: p for p in self.params}
        problems: list[Problem] = []
        values: dict[str, ParamValue] = dict(fixed)
        for key, value in raw.items():
            if key not in declared:
                problems.append(Problem(f"parameter {key!r}", _unknown(key, declared, self.name)))
            elif key in fixed:
                message = f"is fixed to {_format(fixed[key])} by this model name; use {self.name}:{key}=... instead"
                problems.append(Problem(f"parameter {key!r}", message))
            else:
                try:
                    values[key] = declared[key].coerce(value)
                except ValueError as exc:
                    problems.append(Problem(f"parameter {key!r}", str(exc)))
        for param in self.params:
            if param.name not in values and not isinstance(param.default, Derived):
                values[param.name] = param.default
        problems += _constraint_problems(self.params, values)
        if problems:
            raise InputError(source, problems)
        for param in self.params:
            if param.name not in values and isinstance(param.default, Derived):
                values[param.name] = param.default.rule(values)
        problems = _constraint_problems(self.params, values) + self.check(values)
        if problems:
            raise InputError(source, problems)
        return ModelSpec(self.name, tuple(sorted(values.items())))


def _constraint_problems(params: tuple[Param, ...], values: Mapping[str, ParamValue]) -> list[Problem]:
    return [
        Problem(f"parameter {p.name!r}", f"must be {p.constraint.describe()}, got {_format(values[p.name])}")
        for p in params
        if p.constraint is not None and p.name in values and not p.constraint.admits(values[p.name])
    ]


def _unknown(key: str, declared: Mapping[str, Param], model: str) -> str:
    guess = get_close_matches(key, list(declared), n=1)
    hint = f"did you mean {guess[0]!r}? " if guess else ""
    return f"unknown parameter for {model}; {hint}allowed: {', '.join(sorted(declared))}"


def _format(value: ParamValue) -> str:
    return str(value.value) if isinstance(value, Enum) else repr(value) if isinstance(value, float) else str(value)


@dataclass(frozen=True)
class ModelSpec:
    """A resolved zoo model: its family name and every parameter, typed, sorted by name.

    Hashable and complete (defaults filled in), so `canonical()` is a faithful cache key.
    Build one with `compiler.zoo.parse_model_spec`, not by hand.
    """

    name: str
    params: tuple[tuple[str, ParamValue], ...]

    def __getitem__(self, key: str) -> ParamValue:
        for name, value in self.params:
            if name == key:
                return value
        raise KeyError(f"{self.name} has no parameter {key!r}")

    def as_dict(self) -> dict[str, ParamValue]:
        """The parameters as a fresh dict."""
        return dict(self.params)

    def canonical(self) -> str:
        """`name:key=value,...` with every parameter, sorted; parsing it gives this spec back."""
        return f"{self.name}:" + ",".join(f"{k}={_format(v)}" for k, v in self.params)

    def with_params(self, **overrides: ParamValue) -> ModelSpec:
        """A copy with some parameters replaced, validated again (InputError if invalid).

        Every other value is kept as it is, derived ones included: `with_params(hidden=1024)`
        on a spec whose ffn was derived from hidden=768 keeps ffn=3072.
        """
        from compiler.zoo.registry import zoo_model  # the registry imports this module

        raw: dict[str, str | ParamValue] = {**dict(self.params), **overrides}
        return zoo_model(self.name).resolve(raw, source=f"{self.canonical()} with {overrides}")

    def __str__(self) -> str:
        return self.canonical()

