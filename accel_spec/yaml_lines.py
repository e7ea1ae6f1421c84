"""YAML parsing with key paths and their lines, shared by every file format Tessera reads
(chips, sweeps).

Plain PyYAML loses line numbers, silently keeps the last of two duplicate keys, and follows
YAML 1.1, which reads ``capacity: 01000`` as the octal number 512 and ``1:20`` as 80 (base
60) where YAML 1.2 and a reader see 1000 and a time. Composing the document first keeps the
lines: `compose` parses once into nodes (refusing alias bombs before anything walks them),
walks them once to map every key/item path to its 1-based line and to find duplicate keys and
those ambiguous numbers, and only then builds the data from the same nodes, so that merge keys
(``<<: *defaults`` followed by an override) are seen as written, not as the duplicates that
merging leaves in the nodes. Validation errors can then say ``matrix.rows (line 5)``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import yaml

from accel_spec.yaml_aliases import alias_problem
from tessera.errors import InputError, Problem

MAX_YAML_BYTES = 64 * 1024
"""Largest chip or sweep file read: written by hand, they are a few KiB (the biggest example is
under 2 KiB). PyYAML's pure-Python parser, which keeps the lines, reads roughly 30-100 KiB per
second, so this bounds parsing to a second or two before any problem is reported."""

Loc = tuple[str | int, ...]
"""A path into a YAML document: mapping keys and list indices, outermost first."""


def dotted(loc: Loc) -> str:
    """``('buffers', 'global', 'holds', 0)`` -> ``buffers.global.holds[0]``."""
    text = ""
    for step in loc:
        text += f"[{step}]" if isinstance(step, int) else (f".{step}" if text else str(step))
    return text


def line_of(loc: Loc, lines: dict[Loc, int]) -> int | None:
    """Line of the longest prefix of `loc` that appears in the file."""
    for end in range(len(loc), 0, -1):
        line = lines.get(tuple(loc[:end]))
        if line is not None:
            return line
    return None


@dataclass(frozen=True)
class Composed:
    """A parsed YAML document: its root node (None when empty), its data, and the line of
    every key/item path."""

    root: yaml.Node | None
    data: Any
    lines: dict[Loc, int]


def compose(text: str, source: str) -> Composed:
    """Parse YAML text once (see the module docstring).

    InputError (naming `source`) for a syntax error, nesting deeper than Python's recursion
    limit, aliases that recurse or expand too far, duplicate keys, or numbers that YAML 1.1
    and 1.2 read differently; the alias check runs on the nodes, before anything walks them.
    """
    try:
        loader = yaml.SafeLoader(text)  # the reader already refuses unprintable characters here
        try:
            root = loader.get_single_node()
            if root is None:
                return Composed(None, None, {})
            aliases = alias_problem(root)
            if aliases is not None:
                raise InputError(source, aliases)
            lines, problems = record_lines(root)
            if problems:
                raise InputError(source, problems)
            data = loader.construct_document(root)
        finally:
            loader.dispose()
    except yaml.YAMLError as error:
        raise InputError(source, syntax_problem(error)) from None
    except RecursionError:  # PyYAML composes recursively: [[[[...]]]] thousands deep
        raise InputError(source, "YAML nested too deeply (more levels than Python's recursion limit)") from None
    return Composed(root, data, lines)


def syntax_problem(error: yaml.YAMLError) -> Problem:
    """A YAML parser error as a Problem with its line."""
    mark = getattr(error, "problem_mark", None)
    problem = getattr(error, "problem", None) or str(error)
    context = getattr(error, "context", None)
    message = f"YAML syntax error: {problem}" + (f" ({context})" if context else "")
    return Problem("", message, line=mark.line + 1 if mark is not None else None)


def record_lines(root: yaml.Node) -> tuple[dict[Loc, int], list[Problem]]:
    """The 1-based line of every key/item path under `root`, and one Problem per duplicate key
    or ambiguous number. `root` must not have been constructed yet (merging rewrites it).

    Each node is walked once, under the path where it first appears: an alias reuses its
    anchor's node, so walking it again would loop on a recursive alias and take exponential
    time on nested ones (a "billion laughs" file). Paths below an alias resolve to the alias's
    own line (`line_of` takes the longest known prefix).
    """
    lines: dict[Loc, int] = {}
    problems: list[Problem] = []
    _walk(root, (), lines, problems, visited=set())
    return lines, problems


_MERGE_TAG = "tag:yaml.org,2002:merge"
_OCTAL = re.compile(r"^[-+]?0[0-7_]+$")
_SEXAGESIMAL = re.compile(r"^[-+]?[0-9][0-9_]*(:[0-5]?[0-9])+(\.[0-9_]*)?$")


def _ambiguous_number(node: yaml.ScalarNode) -> str | None:
    """Why a plain scalar means one number to PyYAML (YAML 1.1) and another to a reader, if it does."""
    if node.style is not None or node.tag not in ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float"):
        return None
    text = node.value
    if _OCTAL.match(text) and int(text.replace("_", ""), 8) != int(text.replace("_", ""), 10):
        octal = int(text.replace("_", ""), 8)
        plain = text.lstrip("+-").lstrip("0").replace("_", "") or "0"
        return (f"{text} is ambiguous: YAML 1.1 (which Tessera's parser follows) reads a leading 0 as "
                f"octal, {octal}; write {plain} for the decimal number")
    if _SEXAGESIMAL.match(text):
        value = yaml.safe_load(text)
        return f"{text} is ambiguous: YAML 1.1 reads it as base 60, {value}; quote it if it is text"
    return None


def _walk(node: yaml.Node, path: Loc, lines: dict[Loc, int], problems: list[Problem], visited: set[int]) -> None:
    if id(node) in visited:
        return
    visited.add(id(node))
    if isinstance(node, yaml.ScalarNode):
        ambiguous = _ambiguous_number(node)
        if ambiguous is not None:
            problems.append(Problem(dotted(path), ambiguous, node.start_mark.line + 1))
    elif isinstance(node, yaml.MappingNode):
        first_seen: dict[str, int] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                continue
            if key_node.tag == _MERGE_TAG:  # `<<: *defaults`: the merged keys live under the anchor
                merged = value_node.value if isinstance(value_node, yaml.SequenceNode) else [value_node]
                for source in merged:
                    _walk(source, path, lines, problems, visited)
                continue
            key, line = key_node.value, key_node.start_mark.line + 1
            if key in first_seen:
                problems.append(Problem(dotted((*path, key)), f"duplicate key {key!r} (first at line {first_seen[key]})", line))
                continue
            first_seen[key] = line
            lines[(*path, key)] = line
            _walk(value_node, (*path, key), lines, problems, visited)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            lines[(*path, index)] = item.start_mark.line + 1
            _walk(item, (*path, index), lines, problems, visited)
