"""Argument types and output helpers shared by the sub-commands.

Registering a command must stay cheap: `tessera --help` builds every command's parser, so
this module and the top level of each command module import only the standard library and
rich's console. Everything else is imported inside `run()` or when an argument is parsed.
"""

from __future__ import annotations

import argparse
import enum
import functools
import importlib
import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console

from tessera.errors import InputError, Problem

if TYPE_CHECKING:
    from accel_spec.precision import PrecisionAssignment

# Tables are wide; when output goes to a file or pipe, do not squeeze them into 80 columns.
console = Console(highlight=False, width=None if sys.stdout.isatty() else 160)


def add_model_arguments(parser: argparse.ArgumentParser) -> None:
    """--model, --batch and --input-shape, as every command that reads a network takes them."""
    parser.add_argument(
        "--model",
        required=True,
        help="an .onnx file or a zoo spec such as mobilenetv2:width=0.5,resolution=160 "
        "(see `tessera models`)",
    )
    parser.add_argument("--batch", type=positive_int, help="batch size (overrides a symbolic batch dim)")
    parser.add_argument(
        "--input-shape",
        action="append",
        default=[],
        type=input_shape,
        metavar="NAME=1x3x224x224",
        help="static shape of an ONNX input with symbolic dims (repeatable)",
    )


def positive_int(text: str) -> int:
    """argparse type: an integer ≥ 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value


def zero_fraction(text: str) -> float:
    """argparse type: a fraction in [0, 1) (of input activations that are zero)."""
    try:
        value = float(text)
    except ValueError:
        value = None
    if value is None or not 0 <= value < 1:
        raise argparse.ArgumentTypeError(f"expected a fraction in [0, 1), such as 0.7, got {text!r}")
    return value


class EnumChoices:
    """argparse `choices` holding the values of an enum that is imported on first use.

    argparse accepts any container as choices; this one imports `module` only when a value
    is checked or the command's own help is printed, never when the parser is built (give
    the argument a `metavar`, since argparse formats it at registration).
    """

    def __init__(self, module: str, name: str) -> None:
        self._module = module
        self._name = name

    @functools.cached_property
    def values(self) -> tuple[str, ...]:
        """The enum's values, in definition order."""
        kind: type[enum.Enum] = getattr(importlib.import_module(self._module), self._name)
        return tuple(str(member.value) for member in kind)

    def __contains__(self, item: object) -> bool:
        return item in self.values

    def __iter__(self) -> Iterator[str]:
        return iter(self.values)


def precision(text: str) -> PrecisionAssignment:
    """argparse type: a format for all operands (int8, bf16...) or one per operand class
    (w4a16, w8a8kv8: `accel_spec.precision`)."""
    from accel_spec.precision import PrecisionAssignment

    try:
        return PrecisionAssignment.parse(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def input_shape(text: str) -> tuple[str, tuple[int, ...]]:
    """argparse type: NAME=1x3x224x224."""
    name, sep, dims = text.partition("=")
    try:
        shape = tuple(int(d) for d in dims.lower().split("x"))
    except ValueError:
        shape = ()
    if not sep or not name or not shape or min(shape) < 1:
        raise argparse.ArgumentTypeError(f"expected NAME=1x3x224x224 with positive dims, got {text!r}")
    return name, shape


def check_destination(path: str, option: str, *, folder: bool = False) -> None:
    """Refuse, before any work is spent, an output that cannot be written; create nothing.

    A file path must not be a folder (nor a folder path a file), and the nearest existing
    folder on the way to it must be writable: folders that do not exist yet are created when
    the output is written (`ensure_parent`), after the work succeeded.
    """
    target = Path(path)
    verb = "cannot create" if folder else "cannot write"
    if target.exists():
        if target.is_dir() != folder:
            what = "exists and is not a folder" if folder else "is a directory; expected a file path"
            raise InputError(path, Problem(option, what))
        if not os.access(target, os.W_OK):
            raise InputError(path, Problem(option, f"{verb}: permission denied"))
        return
    ancestor = target.parent
    while not ancestor.exists():
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise InputError(path, Problem(option, f"{verb}: {ancestor} is a file, not a folder"))
    if not os.access(ancestor, os.W_OK | os.X_OK):
        raise InputError(path, Problem(option, f"{verb}: {ancestor} is not writable"))


def ensure_parent(path: str, option: str) -> None:
    """Create the folders above an output file (InputError naming `option` if impossible)."""
    try:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise InputError(path, Problem(option, f"cannot write: {error.strerror}")) from None


def write_json(path: str, document: Any, option: str = "--json") -> None:
    """Write a JSON document (folders above it created), an unwritable destination an InputError."""
    check_destination(path, option)
    ensure_parent(path, option)
    try:
        Path(path).write_text(json.dumps(document, indent=2, allow_nan=False) + "\n")
    except OSError as error:
        raise InputError(path, Problem(option, f"cannot write: {error.strerror}")) from None
