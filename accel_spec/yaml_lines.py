"""YAML parsing with key paths and their lines, shared by every file format Tessera reads
(chips, sweeps).

Plain PyYAML loses line numbers and silently keeps the last of two duplicate keys. Composing
the document first keeps both: `compose` parses once into nodes (refusing alias bombs before
anything walks them) and builds the data from those same nodes; `record_lines` maps every
key/item path to its 1-based line and reports duplicates, so validation errors can say
``matrix.rows (line 5)``.
"""

from __future__ import annotations

from typing import Any

import yaml

from accel_spec.yaml_aliases import alias_problem
from tessera.errors import InputError, Problem

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


def compose(text: str, source: str) -> tuple[yaml.Node | None, Any]:
    """Parse YAML text once: the composed root node (None for an empty document) and its data.

    InputError (naming `source`) for a syntax error, nesting deeper than Python's recursion
    limit, or aliases that recurse or expand too far; the alias check runs on the nodes,
    before the data is built or anything walks it.
    """
    try:
        loader = yaml.SafeLoader(text)  # the reader already refuses unprintable characters here
        try:
            root = loader.get_single_node()
            aliases = alias_problem(root) if root is not None else None
            if aliases is not None:
                raise InputError(source, aliases)
            data = loader.construct_document(root) if root is not None else None
        finally:
            loader.dispose()
    except yaml.YAMLError as error:
        raise InputError(source, syntax_problem(error)) from None
    except RecursionError:  # PyYAML composes recursively: [[[[...]]]] thousands deep
        raise InputError(source, "YAML nested too deeply (more levels than Python's recursion limit)") from None
    return root, data


def syntax_problem(error: yaml.YAMLError) -> Problem:
    """A YAML parser error as a Problem with its line."""
    mark = getattr(error, "problem_mark", None)
    problem = getattr(error, "problem", None) or str(error)
    context = getattr(error, "context", None)
    message = f"YAML syntax error: {problem}" + (f" ({context})" if context else "")
    return Problem("", message, line=mark.line + 1 if mark is not None else None)


def record_lines(root: yaml.Node) -> tuple[dict[Loc, int], list[Problem]]:
    """The 1-based line of every key/item path under `root`, and one Problem per duplicate key.

    Each node is walked once, under the path where it first appears: an alias reuses its
    anchor's node, so walking it again would loop on a recursive alias and take exponential
    time on nested ones (a "billion laughs" file). Paths below an alias resolve to the alias's
    own line (`line_of` takes the longest known prefix).
    """
    lines: dict[Loc, int] = {}
    duplicates: list[Problem] = []
    _walk(root, (), lines, duplicates, visited=set())
    return lines, duplicates


def _walk(node: yaml.Node, path: Loc, lines: dict[Loc, int], duplicates: list[Problem], visited: set[int]) -> None:
    if id(node) in visited:
        return
    visited.add(id(node))
    if isinstance(node, yaml.MappingNode):
        first_seen: dict[str, int] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                continue
            key, line = key_node.value, key_node.start_mark.line + 1
            if key in first_seen:
                duplicates.append(Problem(dotted((*path, key)), f"duplicate key {key!r} (first at line {first_seen[key]})", line))
                continue
            first_seen[key] = line
            lines[(*path, key)] = line
            _walk(value_node, (*path, key), lines, duplicates, visited)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            lines[(*path, index)] = item.start_mark.line + 1
            _walk(item, (*path, index), lines, duplicates, visited)
