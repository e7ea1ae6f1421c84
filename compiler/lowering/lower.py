"""Lowering: Graph -> Workloads, as three named passes.

1. `build_context`: compile-time constants and view aliases.
2. `lower_nodes`: each node's rule (registry) makes it a GEMM, a vector op, or free.
3. `group_nodes` (fusion) and `_assemble`: one Workload per group, in topological order.

A BatchNormalization that directly follows a GEMM with constant weights (and is the only
reader of its output) is folded into it as a real inference compiler does: its scale
multiplies the weights offline and its shift becomes the GEMM's bias, so it adds no vector
work when the GEMM already adds a bias and one bias add per output element otherwise.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType

from accel_spec.types import OpClass
from compiler.graph import MAX_COUNT, Graph
from compiler.lowering.context import LoweringContext, build_context
from compiler.lowering.kv import mark_kv_operands
from compiler.lowering.fusion import Group, group_nodes, readers_by_tensor
from compiler.lowering.ops import FreeOp, GemmOp, Lowered, VectorOp, add_counts, op_counts
from compiler.lowering.registry import lower_node, unsupported_problems
from compiler.workload import Workload, WorkloadKind
from tessera.errors import InputError, Problem


@dataclass(frozen=True)
class LoweredNodes:
    """Every node's fate before fusion.

    Attributes:
        compute: node index -> its GEMM or vector op, for the nodes that do work.
        free: names of the nodes that do no work at inference: free ops (views, shape
            constants) and nodes whose inputs are all constant (evaluated at compile time).
    """

    compute: Mapping[int, GemmOp | VectorOp]
    free: tuple[str, ...]


def lower_nodes(ctx: LoweringContext) -> LoweredNodes:
    """Apply every node's rule; one InputError lists every node that cannot be lowered."""
    problems: list[Problem] = unsupported_problems(ctx.graph.nodes)
    if problems:
        raise InputError(ctx.graph.source, problems)
    compute: dict[int, GemmOp | VectorOp] = {}
    free: list[str] = []
    for index, node in enumerate(ctx.graph.nodes):
        if node.name in ctx.compile_time:
            free.append(node.name)
            continue
        try:
            lowered: Lowered = lower_node(node, ctx)
        except InputError as error:
            problems.extend(error.problems)
            continue
        if isinstance(lowered, FreeOp):
            free.append(node.name)
        else:
            compute[index] = lowered
    if problems:
        raise InputError(ctx.graph.source, problems)
    return LoweredNodes(compute=MappingProxyType(compute), free=tuple(free))


def _epilogue(
    ctx: LoweringContext,
    group: Group,
    compute: Mapping[int, GemmOp | VectorOp],
    readers: Mapping[str, tuple[int, ...]],
) -> tuple[Mapping[OpClass, int], dict[str, int]]:
    """Vector ops and side inputs (root tensor -> elements) of the fused nodes of a group."""
    nodes = ctx.graph.nodes
    head = compute[group.head]
    head_output = ctx.root(nodes[group.head].outputs[0])
    produced = {ctx.root(name) for index in group.members for name in nodes[index].outputs if name}
    # A vector head reads its inputs element by element, so a fused node re-reading one finds
    # it on chip; a GEMM reads its input as M×K tiles, so a fused re-read is a side input.
    already_read = set()
    if isinstance(head, VectorOp):
        already_read = {ctx.root(name) for name in ctx.activation_inputs(nodes[group.head])}
    has_bias = isinstance(head, GemmOp) and head.has_bias
    counts: list[Mapping[OpClass, int]] = []
    side: dict[str, int] = {}
    for index in group.members[1:]:
        node, op = nodes[index], compute[index]
        folds = (
            isinstance(head, GemmOp)
            and head.folds_batchnorm
            and isinstance(op, VectorOp)
            and op.folds_into_gemm
            and ctx.root(node.inputs[0]) == head_output
            and readers.get(head_output) == (index,)
        )
        if folds:
            shift_as_bias = {OpClass.ELEMENTWISE: 0 if has_bias else 1}
            counts.append(op_counts(shift_as_bias, ctx.elements(node, node.outputs[0])))
            has_bias = True
        else:
            counts.append(op.ops)
        for name in ctx.activation_inputs(node):
            root = ctx.root(name)
            if root not in produced and root not in already_read:
                side[root] = ctx.elements(node, name)
    return add_counts(*counts), side


def _vector_constants(head: VectorOp, members: Sequence[GemmOp | VectorOp]) -> tuple[int, int, int]:
    """(elements, period, repeat) of the constants a vector workload reads: its head's and
    those of the elementwise ops fused into it (an RMSNorm's scale multiplying its division),
    with the broadcast structure they share ((0, 1), unknown, where they differ)."""
    ops = [op for op in (head, *members) if isinstance(op, VectorOp) and op.weight_elements]
    if not ops:
        return 0, head.constant_period, head.constant_repeat
    structures = {(op.constant_period, op.constant_repeat) for op in ops}
    period, repeat = structures.pop() if len(structures) == 1 else (0, 1)
    return sum(op.weight_elements for op in ops), period, repeat


def _assemble(
    ctx: LoweringContext,
    group: Group,
    compute: Mapping[int, GemmOp | VectorOp],
    readers: Mapping[str, tuple[int, ...]],
) -> Workload:
    """The Workload of one fused group."""
    nodes = ctx.graph.nodes
    head_node, head = nodes[group.head], compute[group.head]
    last = nodes[group.last]
    output_elements = ctx.elements(last, last.outputs[0])
    fused_ops, side = _epilogue(ctx, group, compute, readers)
    side_elements = sum(side.values())
    fused = tuple(nodes[index].name for index in group.members[1:])
    reads = tuple(dict.fromkeys(ctx.root(name) for name in ctx.activation_inputs(head_node)))
    output = ctx.root(last.outputs[0])
    tensors = dict(output_tensor=output, graph_output=output in {ctx.root(name) for name in ctx.graph.outputs})
    if isinstance(head, GemmOp):
        # the first activation input is the input operand, the next the second operand when it
        # is an activation (attention's K or V), the rest (Gemm's C) side inputs
        second = head.weight_is_activation and len(reads) > 1
        return Workload(
            name=head_node.name,
            op=head_node.op_type,
            kind=WorkloadKind.GEMM,
            input_elements=head.input_elements,
            output_elements=output_elements,
            weight_elements=head.weight_elements,
            side_input_elements=head.side_input_elements + side_elements,
            gemm=head.gemm,
            conv=head.conv,
            vector_ops=add_counts(head.epilogue, fused_ops),
            weight_is_activation=head.weight_is_activation,
            fused=fused,
            input_tensors=reads[:1],
            weight_tensor=reads[1] if second else "",
            side_tensors=tuple(dict.fromkeys(reads[2 if second else 1 :] + tuple(side))),
            **tensors,
        )
    if head.cache_append is not None:
        reads = tuple(name for name in reads if name != head.cache_append.cache)
        output_elements = head.cache_append.appended_elements
    constants, period, repeat = _vector_constants(head, [compute[index] for index in group.members[1:]])
    return Workload(
        name=head_node.name,
        op=head_node.op_type,
        kind=WorkloadKind.VECTOR,
        input_elements=head.input_elements,
        output_elements=output_elements,
        weight_elements=constants,
        side_input_elements=side_elements,
        vector_ops=add_counts(head.ops, fused_ops),
        fused=fused,
        constant_period=period,
        constant_repeat=repeat,
        input_tensors=reads,
        side_tensors=tuple(side),
        cache_append=head.cache_append,
        **tensors,
    )


def lower(graph: Graph) -> tuple[Workload, ...]:
    """Every compute node of `graph` as part of exactly one Workload, in topological order.

    Free nodes (see `free_nodes`) produce no workload. Raises InputError naming the file,
    the node and its op type for any node that cannot be lowered.
    """
    ctx = build_context(graph)
    compute = lower_nodes(ctx).compute
    readers = readers_by_tensor(ctx, compute)
    workloads = mark_kv_operands(tuple(_assemble(ctx, group, compute, readers) for group in group_nodes(ctx, compute)))
    problems = count_problems(workloads)
    if problems:
        raise InputError(graph.source, problems)
    return workloads


_COUNTS = {
    "MACs": lambda w: w.macs,
    "vector ops": lambda w: w.total_vector_ops,
    "elements read and written": lambda w: (
        w.input_elements + w.weight_elements + w.side_input_elements + w.output_elements
    ),
}
"""The counts of a workload that results add up, by the name a message gives them."""


def count_problems(workloads: tuple[Workload, ...]) -> list[Problem]:
    """Counts past `MAX_COUNT`: a workload's, or the network's total (each named once).

    Every count stays an exact integer up to `MAX_COUNT`; a bigger network is refused rather
    than wrapped (the simulator and the results table count in signed 64 bits).
    """
    problems = []
    for label, count in _COUNTS.items():
        total = 0
        for workload in workloads:
            value = count(workload)
            total += value
            if value > MAX_COUNT:
                problems.append(Problem(f"node {workload.name!r} ({workload.op})", _too_many(label, value)))
        if total > MAX_COUNT and not problems:
            problems.append(Problem("network", _too_many(f"{label} in total", total)))
    return problems


def _too_many(label: str, value: int) -> str:
    return f"{value:,} {label}, more than the {MAX_COUNT:,} (2^63 - 1) Tessera counts exactly"


def free_nodes(graph: Graph) -> tuple[str, ...]:
    """Names of the nodes that do no work at inference time and so belong to no workload."""
    return lower_nodes(build_context(graph)).free
