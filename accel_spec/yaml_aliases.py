"""A bound on YAML alias expansion, shared by chip files and sweep files.

An alias (``*name``) makes a YAML document a graph: PyYAML builds it with shared references,
so nested aliases (a "billion laughs" file: ten references to ten references to ...) describe
a document of 10^9 values in a few hundred bytes, and a recursive alias (``a: &a [*a]``) one
that never ends. Anything that walks the data as a tree (validation, error messages that
repr a value) then runs for hours. Hand-written chip and sweep files have a few dozen values,
so a document that expands to more than `MAX_EXPANDED_NODES` is refused up front.
"""

from __future__ import annotations

import yaml

from tessera.errors import Problem

MAX_EXPANDED_NODES = 100_000
"""Values a document may hold once every alias is expanded; a real chip file has ~50."""


def alias_problem(root: yaml.Node) -> Problem | None:
    """A Problem when aliases in the composed document `root` recurse or expand too far.

    The problem names the deepest mapping key whose value alone is too big (``matrix.dataflows``).
    """
    sizes: dict[int, int] = {}
    try:
        size = _expanded_size(root, sizes, active=set())
    except _Recursive as recursive:
        return Problem("", "recursive YAML alias: a value contains itself", recursive.line)
    if size <= MAX_EXPANDED_NODES:
        return None
    if _distinct_nodes(root) > MAX_EXPANDED_NODES:  # big as written: no alias to blame
        return Problem(
            "",
            f"the document holds more than {MAX_EXPANDED_NODES:,} values; a chip or sweep file has a few "
            "dozen (is this the right file?)",
        )
    path: list[str] = []
    node = root
    while isinstance(node, yaml.MappingNode):
        big = [(key, child) for key, child in _children(node) if sizes.get(id(child), 0) > MAX_EXPANDED_NODES]
        if not big:
            break
        key, node = big[0]
        path.append(key)
    return Problem(
        ".".join(path),
        f"YAML aliases expand to more than {MAX_EXPANDED_NODES:,} values; "
        "write the values out instead of nesting aliases",
        node.start_mark.line + 1,
    )


def _children(node: yaml.Node) -> list[tuple[str, yaml.Node]]:
    """(key, value) pairs of a mapping node; ("", item) pairs of a sequence; none for a scalar."""
    if isinstance(node, yaml.MappingNode):
        return [(str(key.value), value) for key, value in node.value]
    if isinstance(node, yaml.SequenceNode):
        return [("", item) for item in node.value]
    return []


def _distinct_nodes(root: yaml.Node) -> int:
    """Nodes written in the document (each alias's target once), counted up to one past the bound."""
    seen: set[int] = set()
    stack = [root]
    while stack and len(seen) <= MAX_EXPANDED_NODES:
        node = stack.pop()
        if id(node) not in seen:
            seen.add(id(node))
            stack.extend(child for _, child in _children(node))
    return len(seen)


class _Recursive(Exception):
    def __init__(self, line: int) -> None:
        self.line = line


def _expanded_size(node: yaml.Node, sizes: dict[int, int], active: set[int]) -> int:
    """Nodes in the tree `node` stands for, memoised per shared node (linear in the file)."""
    key = id(node)
    if key in sizes:
        return sizes[key]
    if key in active:
        raise _Recursive(node.start_mark.line + 1)
    active.add(key)
    total = 1
    for _, child in _children(node):
        total += _expanded_size(child, sizes, active)
        if total > MAX_EXPANDED_NODES:
            break
    active.discard(key)
    sizes[key] = total
    return total
