"""Sweep-file YAML → plain data plus the line of every key path, so errors can name lines.

The file is composed once with PyYAML's safe loader; duplicate keys (which plain PyYAML
silently resolves to the last one) are reported instead of being lost.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from accel_spec.yaml_aliases import alias_problem
from tessera.errors import InputError, Problem

Loc = tuple[str | int, ...]


def dotted(loc: Loc) -> str:
    """``('hardware', 'matrix.rows', 0)`` → ``hardware.matrix.rows[0]``."""
    text = ""
    for step in loc:
        text += f"[{step}]" if isinstance(step, int) else (f".{step}" if text else str(step))
    return text


def line_of(loc: Loc, lines: dict[Loc, int]) -> int | None:
    """Line of the longest prefix of `loc` present in the file."""
    for end in range(len(loc), 0, -1):
        line = lines.get(tuple(loc[:end]))
        if line is not None:
            return line
    return None


def read_yaml(path: Path) -> tuple[dict[str, Any], dict[Loc, int]]:
    """Parse a YAML mapping file; InputError for a missing file, bad syntax or duplicate keys."""
    source = str(path)
    if not path.is_file():
        raise InputError(source, "file not found" if not path.exists() else "is not a file")
    try:
        text = path.read_text(encoding="utf-8")
        loader = yaml.SafeLoader(text)
        try:
            root = loader.get_single_node()
            data = loader.construct_document(root) if root is not None else None
        finally:
            loader.dispose()
    except UnicodeDecodeError as error:
        raise InputError(source, f"not UTF-8 text (byte {error.start})") from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        message = f"YAML syntax error: {getattr(error, 'problem', None) or error}"
        raise InputError(source, Problem("", message, mark.line + 1 if mark else None)) from None
    except RecursionError:  # PyYAML composes recursively: [[[[...]]]] thousands deep
        raise InputError(source, "YAML nested too deeply (more levels than Python's recursion limit)") from None
    aliases = alias_problem(root) if root is not None else None
    if aliases is not None:
        raise InputError(source, aliases)
    if not isinstance(data, dict):
        raise InputError(source, "the top level must be a mapping (base, hardware, models, objectives, ...)")
    lines: dict[Loc, int] = {}
    duplicates: list[Problem] = []
    _record_lines(root, (), lines, duplicates, visited=set())
    if duplicates:
        raise InputError(source, duplicates)
    return data, lines


def _record_lines(
    node: yaml.Node, path: Loc, lines: dict[Loc, int], duplicates: list[Problem], visited: set[int]
) -> None:
    """Lines of every key path; each node walked once, where it first appears (aliases share nodes)."""
    if id(node) in visited:
        return
    visited.add(id(node))
    if isinstance(node, yaml.MappingNode):
        seen: dict[str, int] = {}
        for key_node, value_node in node.value:
            key, line = str(key_node.value), key_node.start_mark.line + 1
            if key in seen:
                duplicates.append(Problem(dotted((*path, key)), f"duplicate key (first at line {seen[key]})", line))
                continue
            seen[key] = line
            lines[(*path, key)] = line
            _record_lines(value_node, (*path, key), lines, duplicates, visited)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            lines[(*path, index)] = item.start_mark.line + 1
            _record_lines(item, (*path, index), lines, duplicates, visited)
