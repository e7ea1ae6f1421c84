"""Topological order of a graph's nodes, with the errors a broken graph deserves.

ONNX requires nodes to be stored in topological order, but hand-edited or buggy files are
not always. This orders them (stably: an already sorted graph keeps its order), and reports
inputs that nothing defines, tensors produced twice, and cycles, naming the nodes.
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence

import onnx

from tessera.errors import InputError, Problem


def node_label(node: onnx.NodeProto, index: int) -> str:
    """How errors name a node: its name (or its position when unnamed) and op type."""
    name = node.name or f"#{index}"
    return f"node {name!r} ({node.op_type})"


def outer_names(graph: onnx.GraphProto) -> set[str]:
    """Tensors a subgraph reads from its enclosing scopes (If/Loop bodies see outer tensors)."""
    defined = {t.name for t in graph.initializer} | {vi.name for vi in graph.input}
    used: set[str] = set()
    for node in graph.node:
        used.update(name for name in node.input if name)
        used |= _subgraph_reads(node)
        defined.update(node.output)
    used.update(vi.name for vi in graph.output)
    return used - defined


def _subgraph_reads(node: onnx.NodeProto) -> set[str]:
    reads: set[str] = set()
    for attr in node.attribute:
        if attr.type == onnx.AttributeProto.GRAPH:
            reads |= outer_names(attr.g)
        elif attr.type == onnx.AttributeProto.GRAPHS:
            for graph in attr.graphs:
                reads |= outer_names(graph)
    return reads


def topological_order(
    nodes: Sequence[onnx.NodeProto], available: set[str], source: str
) -> list[onnx.NodeProto]:
    """Nodes ordered so every producer precedes its consumers; InputError if impossible.

    `available` holds the tensors defined before these nodes run (graph inputs, initializers,
    and for a subgraph, every tensor of the enclosing scopes).
    """
    problems: list[Problem] = []
    producer: dict[str, int] = {}
    for index, node in enumerate(nodes):
        for name in node.output:
            if not name:
                continue
            if name in producer or name in available:
                problems.append(
                    Problem(
                        node_label(node, index), f"output {name!r} is already defined elsewhere"
                    )
                )
            producer[name] = index
    consumers: list[list[int]] = [[] for _ in nodes]
    pending = [0] * len(nodes)
    for index, node in enumerate(nodes):
        reads = {name for name in node.input if name} | _subgraph_reads(node)
        for name in sorted(reads):
            if name in producer:
                consumers[producer[name]].append(index)
                pending[index] += 1
            elif name not in available:
                problems.append(
                    Problem(
                        node_label(node, index),
                        f"input {name!r} is not a graph input, an initializer, "
                        "or any node's output",
                    )
                )
    if problems:
        raise InputError(source, problems)
    ready = [index for index, count in enumerate(pending) if count == 0]
    heapq.heapify(ready)
    order: list[int] = []
    while ready:
        index = heapq.heappop(ready)
        order.append(index)
        for consumer in consumers[index]:
            pending[consumer] -= 1
            if pending[consumer] == 0:
                heapq.heappush(ready, consumer)
    if len(order) < len(nodes):
        stuck = [node_label(nodes[i], i) for i, count in enumerate(pending) if count > 0]
        shown = ", ".join(stuck[:6]) + (f" and {len(stuck) - 6} more" if len(stuck) > 6 else "")
        raise InputError(
            source,
            Problem("graph", f"has a cycle, so it cannot be ordered topologically: {shown}"),
        )
    return [nodes[i] for i in order]
