"""A small builder of hand-made Graphs for the lowering and inspect-report tests.

Tests state every shape themselves, so lowering is checked against hand computation and
never against the frontend it is meant to be independent of.
"""

from __future__ import annotations

from collections.abc import Sequence
from types import MappingProxyType
from typing import Any

import numpy as np

from compiler.graph import Graph, Node, TensorInfo

SOURCE = "models/hand_made.onnx"


class GraphBuilder:
    """Accumulates tensors and nodes, then freezes them into a Graph with `build`."""

    def __init__(self) -> None:
        self.nodes: list[Node] = []
        self.tensors: dict[str, TensorInfo] = {}
        self.inputs: list[str] = []
        self.initializers: set[str] = set()
        self.constant_values: dict[str, Any] = {}

    def _tensor(self, name: str, shape: Sequence[int], dtype: str) -> str:
        self.tensors[name] = TensorInfo(name, tuple(shape), dtype)
        return name

    def input(self, name: str, shape: Sequence[int], dtype: str = "float32") -> str:
        """A graph input (an activation)."""
        self.inputs.append(name)
        return self._tensor(name, shape, dtype)

    def weight(self, name: str, shape: Sequence[int]) -> str:
        """An initializer whose value is never available (a weight)."""
        self.initializers.add(name)
        return self._tensor(name, shape, "float32")

    def constant(self, name: str, value: Any) -> str:
        """A small folded constant whose value lowering may read."""
        array = np.asarray(value, dtype=np.float32)
        self.initializers.add(name)
        self.constant_values[name] = array
        return self._tensor(name, array.shape, "float32")

    def node(
        self,
        op: str,
        inputs: Sequence[str],
        shape: Sequence[int],
        name: str | None = None,
        dtype: str = "float32",
        domain: str = "",
        **attrs: Any,
    ) -> str:
        """Append a node with one output of the given shape; returns the output's name."""
        name = name or f"{op.lower()}{len(self.nodes)}"
        output = self._tensor(f"{name}_out", shape, dtype)
        self.nodes.append(Node(name, op, tuple(inputs), (output,), MappingProxyType(dict(attrs)), domain))
        return output

    def build(self, outputs: Sequence[str] = ()) -> Graph:
        """The Graph; its outputs default to the last node's output."""
        return Graph(
            name="hand_made",
            nodes=tuple(self.nodes),
            tensors=MappingProxyType(dict(self.tensors)),
            inputs=tuple(self.inputs),
            outputs=tuple(outputs) or (self.nodes[-1].outputs[0],),
            initializers=frozenset(self.initializers),
            source=SOURCE,
            constant_values=MappingProxyType(dict(self.constant_values)),
        )


def conv_out(size: int, kernel: int, stride: int = 1, pad: int = 0, dilation: int = 1) -> int:
    """Output length of a convolution along one axis (pad on both sides)."""
    return (size + 2 * pad - dilation * (kernel - 1) - 1) // stride + 1
