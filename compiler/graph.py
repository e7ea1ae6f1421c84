"""The frontend's output: a network as a list of nodes over tensors with static shapes.

A Graph is what `compiler.frontend` makes of an ONNX file or a zoo builder, after shape
inference and after folding every shape/metadata subgraph. It carries no weights: only
names, static shapes, element types and node attributes. Lowering turns it into Workloads.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from math import prod
from types import MappingProxyType
from typing import Any

MAX_COUNT = 2**63 - 1
"""The largest count (elements, bytes, MACs, vector ops) Tessera keeps: the results table and
the simulator's arrays hold counts as signed 64-bit integers. Counts are exact Python ints up
to here; a model needing more is refused, never wrapped or rounded."""

MAX_ELEMENT_BYTES = 8
"""Bytes of the widest element a tensor may have (int64, float64), for bounding its bytes."""


@dataclass(frozen=True)
class TensorInfo:
    """A tensor's name, static shape and element type (numpy dtype name, e.g. ``float32``)."""

    name: str
    shape: tuple[int, ...]
    dtype: str

    @property
    def elements(self) -> int:
        """Number of elements (1 for a scalar)."""
        return prod(self.shape)


@dataclass(frozen=True)
class Node:
    """One ONNX operator application that survives constant folding.

    `inputs` may contain the empty string for an omitted optional input, as in ONNX.
    `attrs` holds decoded attribute values (ints, floats, strings, lists); `constants`
    holds the values of small constant inputs that lowering needs (e.g. a Pad's pads).
    """

    name: str
    op_type: str
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    attrs: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    domain: str = ""


@dataclass(frozen=True)
class Graph:
    """A network with static shapes: nodes in topological order and every tensor's info.

    `initializers` names the tensors that are weights or constants (stored in the model,
    not produced by a node); their shapes are in `tensors` but their values are never loaded.
    `source` is the file path or zoo spec the graph came from, used in error messages.
    """

    name: str
    nodes: tuple[Node, ...]
    tensors: Mapping[str, TensorInfo]
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    initializers: frozenset[str]
    source: str
    constant_values: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))

    def tensor(self, name: str) -> TensorInfo:
        """Info of one tensor; KeyError names the graph's source."""
        try:
            return self.tensors[name]
        except KeyError:
            raise KeyError(f"{self.source}: tensor {name!r} has no inferred shape") from None

    def producers(self) -> dict[str, Node]:
        """Map from tensor name to the node that produces it."""
        return {out: node for node in self.nodes for out in node.outputs if out}

    def consumers(self) -> dict[str, list[Node]]:
        """Map from tensor name to the nodes that read it, in graph order."""
        result: dict[str, list[Node]] = {}
        for node in self.nodes:
            for name in node.inputs:
                if name:
                    result.setdefault(name, []).append(node)
        return result
