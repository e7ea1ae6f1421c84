"""What every lowering rule may ask about a graph: shapes, constants, and data aliases.

A tensor is *constant* when its value is known at compile time: an initializer (weight), a
folded small constant, or the output of a node whose inputs are all constant (such a node
runs once at compile time, not per inference). A tensor's *root* is the tensor whose bytes it
names: the output of a view (Reshape, Squeeze, ...) has the root of the view's input, so
fusion sees a producer and a consumer separated only by views as directly connected.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from compiler.graph import Graph, Node
from compiler.lowering.free_rules import SHAPE_CONSTANT_OPS, is_view
from tessera.errors import InputError, Problem


def node_location(node: Node) -> str:
    """How error messages name a node: ``node 'conv1' (Conv)``."""
    return f"node '{node.name}' ({node.op_type})"


def node_error(graph: Graph, node: Node, message: str) -> InputError:
    """An InputError naming the graph's file, the node, its op type and what is wrong."""
    return InputError(source=graph.source, problems=[Problem(location=node_location(node), message=message)])


@dataclass(frozen=True)
class LoweringContext:
    """Read-only facts about a graph that rules and fusion share.

    Attributes:
        graph: the graph being lowered.
        roots: tensor name -> the tensor whose bytes it names (absent: itself).
        constants: names of tensors whose values are known at compile time.
        compile_time: names of nodes evaluated at compile time (all inputs constant).
    """

    graph: Graph
    roots: Mapping[str, str]
    constants: frozenset[str]
    compile_time: frozenset[str]

    def root(self, name: str) -> str:
        """The tensor whose bytes `name` refers to, looking through views."""
        return self.roots.get(name, name)

    def is_constant(self, name: str) -> bool:
        """True when the tensor's value is known at compile time."""
        return name in self.constants

    def shape(self, node: Node, name: str) -> tuple[int, ...]:
        """Static shape of a tensor that `node` reads or writes; InputError names the node."""
        info = self.graph.tensors.get(name)
        if info is None:
            raise node_error(self.graph, node, f"tensor {name!r} has no inferred shape")
        return info.shape

    def elements(self, node: Node, name: str) -> int:
        """Number of elements of a tensor that `node` reads or writes (an exact Python int)."""
        return math.prod(self.shape(node, name))

    def activation_inputs(self, node: Node) -> tuple[str, ...]:
        """The node's inputs produced at run time (omitted and constant inputs excluded)."""
        return tuple(name for name in node.inputs if name and not self.is_constant(name))

    def constant_inputs(self, node: Node) -> tuple[str, ...]:
        """The node's inputs whose values are known at compile time."""
        return tuple(name for name in node.inputs if name and self.is_constant(name))

    def constant_value(self, name: str) -> Any | None:
        """The folded value of a small constant, or None when it is not available."""
        return self.graph.constant_values.get(name)


def build_context(graph: Graph) -> LoweringContext:
    """Find the compile-time constants and the view aliases of a graph, in one pass."""
    constants = set(graph.initializers) | set(graph.constant_values)
    roots: dict[str, str] = {}
    compile_time: set[str] = set()
    for node in graph.nodes:
        inputs = [name for name in node.inputs if name]
        if node.op_type in SHAPE_CONSTANT_OPS or (inputs and all(name in constants for name in inputs)):
            constants.update(name for name in node.outputs if name)
            compile_time.add(node.name)
        elif is_view(node, graph.tensors):
            roots[node.outputs[0]] = roots.get(node.inputs[0], node.inputs[0])
    return LoweringContext(
        graph=graph,
        roots=MappingProxyType(roots),
        constants=frozenset(constants),
        compile_time=frozenset(compile_time),
    )
