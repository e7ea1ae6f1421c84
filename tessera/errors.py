"""The one exception type for bad user input, shared by every package.

Anything a user can get wrong (a chip file, a model, a sweep file, a command-line argument)
raises `InputError`. The CLI turns it into a message on stderr and exit code 2; anything
else that escapes is an internal error (exit 1). An `InputError` lists every problem found,
each naming the file, the location inside it (a YAML path such as ``matrix.rows``, an ONNX
node, a CSV line) and what is wrong, so a user fixes all of them in one round.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import TypeVar

E = TypeVar("E", bound=Enum)


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input.

    Attributes:
        location: where inside the source: ``matrix.rows``, ``node 'conv1' (Conv)``, ``line 3``.
        message: what is wrong, and what would be right where that is known.
        line: 1-based line number in the source file, when known.
    """

    location: str
    message: str
    line: int | None = None

    def render(self) -> str:
        where = self.location
        if self.line is not None:
            where = f"{where} (line {self.line})" if where else f"line {self.line}"
        return f"{where}: {self.message}" if where else self.message


class InputError(Exception):
    """Bad user input: one source (file, model spec, argument) and every problem in it."""

    def __init__(self, source: str, problems: list[Problem] | Problem | str) -> None:
        if isinstance(problems, str):
            problems = [Problem("", problems)]
        elif isinstance(problems, Problem):
            problems = [problems]
        self.source = source
        self.problems = tuple(problems)
        super().__init__(self.render())

    def __reduce__(self) -> tuple:
        """Pickled by its source and problems, so it crosses to a sweep's main process from the
        worker whose check raised it (`explorer.executors.LocalExecutor.check`)."""
        return type(self), (self.source, list(self.problems))

    def render(self) -> str:
        """The message the CLI prints: the source, then one line per problem."""
        if len(self.problems) == 1:
            return f"{self.source}: {self.problems[0].render()}"
        lines = [f"{self.source}: {len(self.problems)} problems"]
        lines += [f"  - {p.render()}" for p in self.problems]
        return "\n".join(lines)


def parse_enum(kind: type[E], value: E | str, source: str) -> E:
    """A member of `kind` given as itself, its value or its name (any case).

    The public APIs take every option as its enum or its name (``precision="int8"`` or
    ``Precision.INT8``); anything else is an InputError naming `source` (the keyword) and
    the allowed names.
    """
    if isinstance(value, kind):
        return value
    if isinstance(value, str):
        text = value.strip()
        for member in kind:
            if text.lower() in (str(member.value).lower(), member.name.lower()):
                return member
    allowed = ", ".join(str(member.value) for member in kind)
    raise InputError(source, Problem("", f"unknown value {value!r}; allowed: {allowed}"))
