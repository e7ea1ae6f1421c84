"""The shape-rule registry: op type -> rule, merged from the per-family rule modules."""

from __future__ import annotations

from compiler.frontend import rules_elementwise, rules_nn, rules_tensor
from compiler.frontend.rules_elementwise import Rule

SHAPE_RULES: dict[str, Rule] = {**rules_elementwise.RULES, **rules_tensor.RULES, **rules_nn.RULES}

# Ops the graph builder handles itself: Constant (a value, not a computation) and If (its
# taken branch is inlined when the condition folds).
BUILDER_OPS = frozenset({"Constant", "If"})

# Ops that carry multiply-accumulates: never folded, even when every input is a constant.
MAC_OPS = frozenset({"Conv", "ConvTranspose", "Gemm", "MatMul", "MatMulInteger", "Einsum"})

# Ops whose result (or output shape) is a data-dependent selection: no static shape or
# fixed amount of work exists for them, so they are rejected with a reason of their own.
DATA_DEPENDENT_OPS = frozenset({"NonZero", "Unique", "Compress", "NonMaxSuppression", "TopK"})

STANDARD_DOMAINS = frozenset({"", "ai.onnx"})


def is_supported(op_type: str) -> bool:
    """Whether the frontend can infer shapes through this standard-domain op."""
    return op_type in SHAPE_RULES or op_type in BUILDER_OPS
