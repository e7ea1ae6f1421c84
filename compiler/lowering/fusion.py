"""Fusion: which nodes share a workload.

Rule. Walking the graph in order, every GEMM node and every elementwise node not yet taken
starts a group; any other vector node (Softmax, normalisations, reductions, pooling, data
movement) is a group of its own. A group grows by elementwise consumers of its tensors
(Relu, Clip, Sigmoid, HardSwish, Gelu and its Erf chain, bias and residual Add, Mul,
BatchNormalization, ...), looking through free views, earliest consumer first. A grown group
is kept only in a state where at most one of its tensors is read outside it (or is a graph
output), and that tensor is written by its last node: then every intermediate stays on chip
and the group writes one tensor to DRAM, as a real compiler's epilogue or elementwise fusion
would. So Conv→BN→Relu, MatMul→Add(bias)→Gelu and x·sigmoid(x) (the producer read twice
inside the group) fuse, while a producer whose output another layer also reads does not. An
input of a fused node that comes from outside the group is a side input read from DRAM (the
other operand of a residual Add). At most two tensors may be pending while a group grows,
enough for the x·f(x) patterns. A reader joins only if its output has as many elements as the
head's: an epilogue works per output element, so a broadcasting op that expands the tensor
(the squeeze-excitation gate Mul reading a 1×1×C GEMM output against an H×W×C map) starts
its own workload instead of silently changing what the GEMM writes.

Groups are returned ordered by their last node, which is a topological order of the groups:
every tensor a group reads from outside is written by a node before that last node.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from compiler.lowering.context import LoweringContext
from compiler.lowering.ops import GemmOp, Lowered, VectorOp

MAX_PENDING = 2


@dataclass(frozen=True)
class Group:
    """Node indices (into graph.nodes) of one workload: the head first, then in graph order."""

    members: tuple[int, ...]

    @property
    def head(self) -> int:
        return self.members[0]

    @property
    def last(self) -> int:
        return max(self.members)


def readers_by_tensor(ctx: LoweringContext, compute: Mapping[int, Lowered]) -> dict[str, tuple[int, ...]]:
    """Root tensor -> indices of the compute nodes that read it, in graph order."""
    readers: dict[str, list[int]] = {}
    for index in sorted(compute):
        for name in dict.fromkeys(ctx.activation_inputs(ctx.graph.nodes[index])):
            readers.setdefault(ctx.root(name), []).append(index)
    return {root: tuple(indices) for root, indices in readers.items()}


def _is_elementwise(op: Lowered) -> bool:
    return isinstance(op, VectorOp) and op.elementwise


@dataclass(frozen=True)
class _Grower:
    """The fixed facts a group grows against."""

    ctx: LoweringContext
    compute: Mapping[int, Lowered]
    readers: Mapping[str, tuple[int, ...]]
    graph_outputs: frozenset[str]

    def elements(self, index: int) -> int:
        """Elements of a node's first output."""
        return self.ctx.graph.tensor(self.ctx.graph.nodes[index].outputs[0]).elements

    def grow(self, head: int, taken: set[int]) -> tuple[int, ...]:
        """The largest valid group reached by adding elementwise readers one at a time.

        The pending tensors (group tensors read outside the group, or graph outputs) are kept
        up to date as each member joins, so growing a group costs time linear in its size.
        """
        head_elements = self.elements(head)
        growth = _Growth(self)
        growth.add(head)
        best = 1
        while True:
            if len(growth.pending) <= 1 and all(writer == growth.last for writer in growth.pending.values()):
                best = len(growth.members)
            if len(growth.pending) > MAX_PENDING:
                break
            candidates = [
                reader
                for tensor in growth.pending
                for reader in self.readers.get(tensor, ())
                if reader not in taken
                and reader not in growth.inside
                and _is_elementwise(self.compute[reader])
                and self.elements(reader) == head_elements
            ]
            if not candidates:
                break
            growth.add(min(candidates))
        return tuple(growth.members[:best])


class _Growth:
    """A group while it grows: its members and its pending tensors, updated per member."""

    def __init__(self, grower: _Grower) -> None:
        self.grower = grower
        self.members: list[int] = []
        self.inside: set[int] = set()
        self.last = -1
        self.pending: dict[str, int] = {}  # tensor -> writer, in the order they became pending
        self._outside: dict[str, int] = {}  # group tensor -> readers outside the group

    def add(self, index: int) -> None:
        """Make node `index` a member: its reads may settle pending tensors, its writes add some."""
        grower = self.grower
        self.members.append(index)
        self.inside.add(index)
        self.last = max(self.last, index)
        for name in dict.fromkeys(grower.ctx.activation_inputs(grower.ctx.graph.nodes[index])):
            tensor = grower.ctx.root(name)
            if tensor in self._outside:
                self._outside[tensor] -= 1
                if self._outside[tensor] == 0 and tensor not in grower.graph_outputs:
                    self.pending.pop(tensor, None)
        for name in grower.ctx.graph.nodes[index].outputs:
            if not name:
                continue
            tensor = grower.ctx.root(name)
            outside = sum(1 for reader in grower.readers.get(tensor, ()) if reader not in self.inside)
            self._outside[tensor] = outside
            if outside or tensor in grower.graph_outputs:
                self.pending[tensor] = index


def group_nodes(ctx: LoweringContext, compute: Mapping[int, Lowered]) -> tuple[Group, ...]:
    """Partition the compute nodes (index -> lowered op) into fused groups, in topological order."""
    grower = _Grower(
        ctx=ctx,
        compute=compute,
        readers=readers_by_tensor(ctx, compute),
        graph_outputs=frozenset(ctx.root(name) for name in ctx.graph.outputs),
    )
    taken: set[int] = set()
    groups: list[Group] = []
    for index in sorted(compute):
        if index in taken:
            continue
        op = compute[index]
        fusible_head = isinstance(op, GemmOp) or _is_elementwise(op)
        members = grower.grow(index, taken) if fusible_head else (index,)
        taken.update(members)
        groups.append(Group((members[0], *sorted(members[1:]))))
    return tuple(sorted(groups, key=lambda group: group.last))
