"""The op-type registry: which rule lowers each ONNX op (default domain only).

Every op type that lowering accepts is listed here, bound to a rule that makes it a GEMM, a
vector operation with counted lane operations, or a provably free op (see `free_rules` for
why each free op is free). An op type that is not listed is an error naming the node: a
compute op is never silently given zero cost.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType

from compiler.graph import Node
from compiler.lowering import free_rules, gemm_rules, vector_rules
from compiler.lowering.context import LoweringContext, node_error, node_location
from compiler.lowering.ops import Lowered
from tessera.errors import Problem

Rule = Callable[[Node, LoweringContext], Lowered]

ONNX_DOMAINS = frozenset({"", "ai.onnx"})


def _bind(rule: Rule, ops: frozenset[str] | tuple[str, ...]) -> dict[str, Rule]:
    return {op: rule for op in ops}


RULES: Mapping[str, Rule] = MappingProxyType(
    {
        "Conv": gemm_rules.conv,
        "ConvTranspose": gemm_rules.conv_transpose,
        "MatMul": gemm_rules.matmul,
        "Gemm": gemm_rules.gemm,
        "Einsum": gemm_rules.einsum,
        **_bind(vector_rules.elementwise, tuple(vector_rules.ELEMENTWISE_COSTS)),
        **_bind(vector_rules.variadic, ("Sum", "Mean", "Max", "Min")),
        "Gelu": vector_rules.gelu,
        "Pow": vector_rules.power,
        "BatchNormalization": vector_rules.batch_normalization,
        **_bind(vector_rules.rowwise, ("Softmax", "LogSoftmax", "LayerNormalization", "InstanceNormalization",
                                      "GroupNormalization", "RMSNormalization")),
        **_bind(vector_rules.reduction, ("ReduceSum", "ReduceMax", "ReduceMin", "ReduceProd", "ArgMax", "ArgMin",
                                         "GlobalMaxPool", "ReduceMean", "GlobalAveragePool", "ReduceSumSquare",
                                         "ReduceL1", "ReduceL2", "ReduceLogSumExp")),
        **_bind(vector_rules.pooling, ("MaxPool", "AveragePool")),
        **_bind(vector_rules.resize, ("Resize", "Upsample")),
        **_bind(vector_rules.data_movement, vector_rules.DATA_MOVEMENT_OPS - {"Concat"}),
        "Concat": vector_rules.concat,
        "Trilu": vector_rules.trilu,
        "CumSum": vector_rules.cumsum,
        **_bind(free_rules.view, ("Reshape", "Flatten", "Squeeze", "Unsqueeze")),
        **_bind(free_rules.identity, ("Identity", "Dropout")),
        **_bind(free_rules.shape_constant, free_rules.SHAPE_CONSTANT_OPS),
        **_bind(free_rules.cast, ("Cast", "CastLike")),
    }
)  # fmt: skip


def unsupported(node: Node) -> str | None:
    """Why a node cannot be lowered (unknown domain or op type), or None when it can."""
    if node.domain not in ONNX_DOMAINS:
        return f"op type '{node.op_type}' of domain '{node.domain}' is not supported"
    if node.op_type not in RULES:
        return f"op type '{node.op_type}' is not supported by lowering (no GEMM, vector or free rule)"
    return None


def unsupported_problems(nodes: tuple[Node, ...]) -> list[Problem]:
    """One Problem per node that no rule lowers, so a user sees all of them at once."""
    return [
        Problem(location=node_location(node), message=reason)
        for node in nodes
        if (reason := unsupported(node)) is not None
    ]


def lower_node(node: Node, ctx: LoweringContext) -> Lowered:
    """Apply the node's rule; InputError (naming the node) when its op type has none."""
    reason = unsupported(node)
    if reason is not None:
        raise node_error(ctx.graph, node, reason)
    return RULES[node.op_type](node, ctx)
