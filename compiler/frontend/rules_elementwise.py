"""Shape rules for elementwise ops: unary maps, broadcasting binaries, casts, normalisations.

Each rule takes an `OpContext` and returns the output Values (shape and dtype, no data),
one per node output. `RULES` maps op types to rules; `compiler.frontend.registry` merges it.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from compiler.frontend.values import OpContext, ShapeError, Value, normalize_axis, onnx_dtype_name

Rule = Callable[[OpContext], list[Value]]

UNARY_SAME = (
    "Abs", "Acos", "Acosh", "Asin", "Asinh", "Atan", "Atanh", "BitwiseNot", "Ceil", "Celu",
    "Cos", "Cosh", "CumSum", "Elu", "Erf", "Exp", "Floor", "Gelu", "HardSigmoid", "HardSwish",
    "Hardmax", "Identity", "InstanceNormalization", "LRN", "LeakyRelu", "Log", "LogSoftmax",
    "LpNormalization", "MeanVarianceNormalization", "Mish", "Neg", "Reciprocal", "Relu",
    "Round", "Selu", "Shrink", "Sigmoid", "Sign", "Sin", "Sinh", "Softmax", "Softplus",
    "Softsign", "Sqrt", "Tan", "Tanh", "ThresholdedRelu", "Trilu", "Clip", "GroupNormalization",
    "RMSNormalization", "ScatterND", "ScatterElements", "Scatter", "Swish",
)
UNARY_BOOL = ("IsNaN", "IsInf", "Not")
BROADCAST_SAME = (
    "Add", "Sub", "Mul", "Div", "Pow", "Mod", "Max", "Min", "Mean", "Sum", "PRelu",
    "BitShift", "BitwiseAnd", "BitwiseOr", "BitwiseXor",
)
BROADCAST_BOOL = ("And", "Or", "Xor", "Equal", "Less", "Greater", "LessOrEqual", "GreaterOrEqual")


def broadcast(values: list[Value]) -> tuple[int, ...]:
    """The multidirectional (numpy) broadcast of the given inputs' shapes."""
    try:
        return tuple(int(d) for d in np.broadcast_shapes(*(v.shape for v in values)))
    except ValueError:
        raise ShapeError("the input shapes do not broadcast") from None


def _present(ctx: OpContext) -> list[Value]:
    return [v for v in ctx.inputs if v is not None]


def unary_same(ctx: OpContext) -> list[Value]:
    """Output 0 has the first input's shape and dtype (extra outputs handled per op)."""
    x = ctx.input(0)
    return [Value(x.shape, x.dtype)]


def unary_bool(ctx: OpContext) -> list[Value]:
    """Same shape as the input, boolean elements."""
    return [Value(ctx.input(0).shape, "bool")]


def dequantize(ctx: OpContext) -> list[Value]:
    """DequantizeLinear: input shape, dtype of the scale (float)."""
    return [Value(ctx.input(0).shape, ctx.input(1).dtype)]


def quantize(ctx: OpContext) -> list[Value]:
    """QuantizeLinear: input shape, dtype of the zero point (uint8 when omitted)."""
    zero = ctx.optional(2)
    dtype = onnx_dtype_name(ctx.attr("output_dtype")) if ctx.attr("output_dtype") else None
    return [Value(ctx.input(0).shape, dtype or (zero.dtype if zero else "uint8"))]


def broadcast_same(ctx: OpContext) -> list[Value]:
    """Broadcast of all inputs, dtype of the first."""
    present = _present(ctx)
    if not present:
        raise ShapeError("needs at least one input")
    return [Value(broadcast(present), present[0].dtype)]


def broadcast_bool(ctx: OpContext) -> list[Value]:
    """Broadcast of all inputs, boolean elements (comparisons and logic)."""
    return [Value(broadcast(_present(ctx)), "bool")]


def where(ctx: OpContext) -> list[Value]:
    """Where(cond, x, y): broadcast of the three, dtype of x."""
    values = [ctx.input(0), ctx.input(1), ctx.input(2)]
    return [Value(broadcast(values), values[1].dtype)]


def cast(ctx: OpContext) -> list[Value]:
    """Cast: same shape, the dtype named by `to`."""
    to = ctx.attr("to")
    if to is None:
        raise ShapeError("attribute 'to' is missing")
    return [Value(ctx.input(0).shape, onnx_dtype_name(int(to)))]


def cast_like(ctx: OpContext) -> list[Value]:
    """CastLike: same shape as input 0, dtype of input 1."""
    return [Value(ctx.input(0).shape, ctx.input(1).dtype)]


def dropout(ctx: OpContext) -> list[Value]:
    """Dropout: output and boolean mask, both the input's shape."""
    x = ctx.input(0)
    return [Value(x.shape, x.dtype), Value(x.shape, "bool")]


def batch_norm(ctx: OpContext) -> list[Value]:
    """BatchNormalization: Y like X; training-mode outputs are per-channel statistics."""
    x = ctx.input(0)
    if x.rank < 2:
        raise ShapeError(f"input rank {x.rank} < 2 has no channel dimension")
    for index in range(1, 5):
        param = ctx.optional(index)
        if param is not None and param.shape != (x.shape[1],):
            raise ShapeError(
                f"input {index} has shape {list(param.shape)}, expected [{x.shape[1]}]"
            )
    stats = Value((x.shape[1],), x.dtype)
    return [Value(x.shape, x.dtype), stats, stats]


def layer_norm(ctx: OpContext) -> list[Value]:
    """LayerNormalization: Y like X; Mean and InvStdDev keep the leading dims, 1 elsewhere."""
    x = ctx.input(0)
    axis = normalize_axis(int(ctx.attr("axis", -1)), x.rank)
    scale = ctx.input(1)
    normalized = x.shape[axis:]
    try:
        np.broadcast_shapes(scale.shape, normalized)
    except ValueError:
        raise ShapeError(
            f"scale shape {list(scale.shape)} does not match normalized shape {list(normalized)}"
        ) from None
    stash = onnx_dtype_name(int(ctx.attr("stash_type", 1)))
    stats = Value(x.shape[:axis] + (1,) * (x.rank - axis), stash)
    return [Value(x.shape, x.dtype), stats, stats]


def _family(names: tuple[str, ...], rule: Rule) -> dict[str, Rule]:
    return {name: rule for name in names}


RULES: dict[str, Rule] = {
    **_family(UNARY_SAME, unary_same),
    **_family(UNARY_BOOL, unary_bool),
    **_family(BROADCAST_SAME, broadcast_same),
    **_family(BROADCAST_BOOL, broadcast_bool),
    "DequantizeLinear": dequantize,
    "QuantizeLinear": quantize,
    "Where": where,
    "Cast": cast,
    "CastLike": cast_like,
    "Dropout": dropout,
    "BatchNormalization": batch_norm,
    "LayerNormalization": layer_norm,
}
