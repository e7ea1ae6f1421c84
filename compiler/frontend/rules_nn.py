"""Shape rules for the compute ops: convolutions, pooling, matrix products, reductions.

These are the ops that carry a network's multiply-accumulates, so each rule also checks the
operand shapes agree (channels, contraction dims) and names the mismatch when they do not.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable

import numpy as np

from compiler.frontend.values import OpContext, ShapeError, Value, normalize_axis

Rule = Callable[[OpContext], list[Value]]

REDUCE_OPS = (
    "ReduceMean", "ReduceSum", "ReduceMax", "ReduceMin", "ReduceProd", "ReduceL1", "ReduceL2",
    "ReduceLogSum", "ReduceLogSumExp", "ReduceSumSquare",
)


def _window(ctx: OpContext, spatial: tuple[int, ...], kernel: tuple[int, ...]) -> tuple[int, ...]:
    """Output spatial dims of a sliding window (conv or pool), honouring auto_pad and ceil_mode."""
    n = len(spatial)
    strides = list(ctx.attr("strides", (1,) * n))
    dilations = list(ctx.attr("dilations", (1,) * n))
    pads = list(ctx.attr("pads", (0,) * (2 * n)))
    auto_pad = ctx.attr("auto_pad", "NOTSET")
    ceil_mode = bool(ctx.attr("ceil_mode", 0))
    if not len(strides) == len(dilations) == n or len(pads) != 2 * n:
        raise ShapeError(
            f"strides {strides}, dilations {dilations}, pads {pads} do not fit {n} spatial dims"
        )
    if min(strides, default=1) < 1 or min(dilations, default=1) < 1 or min(kernel, default=1) < 1:
        raise ShapeError(
            f"strides {strides}, dilations {dilations} and kernel {list(kernel)} must be at least 1"
        )
    if min(pads, default=0) < 0:
        raise ShapeError(f"pads {pads} must not be negative")
    out = []
    for i, (size, k, s, d) in enumerate(zip(spatial, kernel, strides, dilations)):
        extent = d * (k - 1) + 1
        if auto_pad in ("SAME_UPPER", "SAME_LOWER"):
            out.append(math.ceil(size / s))
            continue
        begin, end = (0, 0) if auto_pad == "VALID" else (pads[i], pads[i + n])
        span = size + begin + end - extent
        if span < 0:
            raise ShapeError(
                f"window {extent} (kernel {k}, dilation {d}) is larger than padded input "
                f"{size + begin + end} on spatial dim {i}"
            )
        count = (math.ceil(span / s) if ceil_mode else span // s) + 1
        if ceil_mode and (count - 1) * s >= size + begin:
            count -= 1
        out.append(count)
    return tuple(out)


def conv(ctx: OpContext) -> list[Value]:
    """Conv: [N, C, *spatial] * [M, C/group, *kernel] -> [N, M, *out]."""
    x, w = ctx.input(0), ctx.input(1)
    if x.rank < 3 or w.rank != x.rank:
        raise ShapeError(f"input {list(x.shape)} and weight {list(w.shape)} ranks do not fit")
    group = int(ctx.attr("group", 1))
    if x.shape[1] != w.shape[1] * group:
        raise ShapeError(
            f"input channels {x.shape[1]} != weight channels {w.shape[1]} x group {group}"
        )
    kernel = tuple(ctx.attr("kernel_shape", w.shape[2:]))
    bias = ctx.optional(2)
    if bias is not None and bias.shape != (w.shape[0],):
        raise ShapeError(f"bias shape {list(bias.shape)} != [{w.shape[0]}]")
    return [Value((x.shape[0], w.shape[0]) + _window(ctx, x.shape[2:], kernel), x.dtype)]


def conv_transpose(ctx: OpContext) -> list[Value]:
    """ConvTranspose: [N, C, *in] * [C, M/group, *kernel] -> [N, M, *out]."""
    x, w = ctx.input(0), ctx.input(1)
    if x.rank < 3 or w.rank != x.rank or x.shape[1] != w.shape[0]:
        raise ShapeError(f"input {list(x.shape)} and weight {list(w.shape)} do not fit")
    n = x.rank - 2
    group = int(ctx.attr("group", 1))
    kernel = list(ctx.attr("kernel_shape", w.shape[2:]))
    channels = w.shape[1] * group
    output_shape = ctx.attr("output_shape")
    if output_shape is not None:
        return [Value((x.shape[0], channels) + tuple(output_shape[-n:]), x.dtype)]
    strides = list(ctx.attr("strides", (1,) * n))
    dilations = list(ctx.attr("dilations", (1,) * n))
    out_pad = list(ctx.attr("output_padding", (0,) * n))
    pads = list(ctx.attr("pads", (0,) * (2 * n)))
    auto_pad = ctx.attr("auto_pad", "NOTSET")
    out = []
    for i in range(n):
        if auto_pad in ("SAME_UPPER", "SAME_LOWER"):
            out.append(x.shape[2 + i] * strides[i])
            continue
        begin, end = (0, 0) if auto_pad == "VALID" else (pads[i], pads[i + n])
        full = strides[i] * (x.shape[2 + i] - 1) + out_pad[i] + (kernel[i] - 1) * dilations[i] + 1
        out.append(full - begin - end)
    return [Value((x.shape[0], channels) + tuple(out), x.dtype)]


def pool(ctx: OpContext) -> list[Value]:
    """MaxPool/AveragePool/LpPool: window over the spatial dims; MaxPool adds int64 indices."""
    x = ctx.input(0)
    if x.rank < 3:
        raise ShapeError(f"input {list(x.shape)} has no spatial dims")
    kernel = ctx.attr("kernel_shape")
    if kernel is None or len(kernel) != x.rank - 2:
        raise ShapeError(f"kernel_shape {kernel} does not fit input rank {x.rank}")
    dims = x.shape[:2] + _window(ctx, x.shape[2:], tuple(kernel))
    return [Value(dims, x.dtype), Value(dims, "int64")]


def global_pool(ctx: OpContext) -> list[Value]:
    """Global pools: every spatial dim becomes 1."""
    x = ctx.input(0)
    return [Value(x.shape[:2] + (1,) * (x.rank - 2), x.dtype)]


def gemm(ctx: OpContext) -> list[Value]:
    """Gemm: op(A)[M, K] @ op(B)[K, N] -> [M, N]; C must broadcast to [M, N]."""
    a, b = ctx.input(0), ctx.input(1)
    if a.rank != 2 or b.rank != 2:
        raise ShapeError(f"A {list(a.shape)} and B {list(b.shape)} must be matrices")
    m, k = a.shape[::-1] if ctx.attr("transA", 0) else a.shape
    kb, n = b.shape[::-1] if ctx.attr("transB", 0) else b.shape
    if k != kb:
        raise ShapeError(f"contraction dims differ: A gives K={k}, B gives K={kb}")
    c = ctx.optional(2)
    if c is not None:
        try:
            np.broadcast_shapes(c.shape, (m, n))
        except ValueError:
            raise ShapeError(f"C {list(c.shape)} does not broadcast to [{m}, {n}]") from None
    return [Value((m, n), a.dtype)]


def matmul(ctx: OpContext) -> list[Value]:
    """MatMul: numpy matmul semantics (1-D promotion, broadcast batch dims)."""
    a, b = ctx.input(0), ctx.input(1)
    if a.rank == 0 or b.rank == 0:
        raise ShapeError("MatMul operands must have rank >= 1")
    sa = (1,) + a.shape if a.rank == 1 else a.shape
    sb = b.shape + (1,) if b.rank == 1 else b.shape
    if sa[-1] != sb[-2]:
        raise ShapeError(f"contraction dims differ: {list(a.shape)} @ {list(b.shape)}")
    try:
        batch = tuple(int(d) for d in np.broadcast_shapes(sa[:-2], sb[:-2]))
    except ValueError:
        raise ShapeError(
            f"batch dims of {list(a.shape)} and {list(b.shape)} do not broadcast"
        ) from None
    dims = batch + ((sa[-2],) if a.rank > 1 else ()) + ((sb[-1],) if b.rank > 1 else ())
    dtype = "int32" if ctx.op_type == "MatMulInteger" else a.dtype
    return [Value(dims, dtype)]


def einsum(ctx: OpContext) -> list[Value]:
    """Einsum: label sizes from the operands, output labels explicit or implicit."""
    equation = str(ctx.attr("equation", "")).replace(" ", "")
    operands = [v for v in ctx.inputs if v is not None]
    lhs, arrow, rhs = equation.partition("->")
    terms = lhs.split(",")
    if len(terms) != len(operands):
        raise ShapeError(
            f"equation {equation!r} has {len(terms)} operands, the node has {len(operands)}"
        )
    sizes: dict[str, int] = {}
    ellipsis: tuple[int, ...] = ()
    for term, value in zip(terms, operands):
        labels = term.replace("...", "")
        if not re.fullmatch(r"[A-Za-z]*", labels):
            raise ShapeError(f"equation {equation!r} has an invalid term {term!r}")
        extra = value.rank - len(labels)
        if extra < 0 or (extra and "..." not in term):
            raise ShapeError(f"term {term!r} does not fit operand shape {list(value.shape)}")
        head = term.index("...") if "..." in term else len(labels)
        dims = value.shape[:head] + value.shape[head + extra :]
        try:
            ellipsis = tuple(
                int(d) for d in np.broadcast_shapes(ellipsis, value.shape[head : head + extra])
            )
        except ValueError:
            raise ShapeError(f"ellipsis dims of {equation!r} do not broadcast") from None
        for label, size in zip(labels, dims):
            if sizes.setdefault(label, size) != size and 1 not in (size, sizes[label]):
                raise ShapeError(f"label {label!r} has sizes {sizes[label]} and {size}")
            sizes[label] = max(sizes[label], size)
    if not arrow:
        counts = {c: lhs.count(c) for c in sizes}
        once = "".join(sorted(c for c, n in counts.items() if n == 1))
        rhs = ("..." if "..." in lhs else "") + once
    out_labels = rhs.replace("...", "")
    unknown = [c for c in out_labels if c not in sizes]
    if unknown:
        raise ShapeError(f"output labels {unknown} of {equation!r} appear in no operand")
    head = rhs.index("...") if "..." in rhs else len(out_labels)
    dims = [sizes[c] for c in out_labels]
    if "..." in rhs:
        dims[head:head] = ellipsis
    return [Value(tuple(dims), operands[0].dtype)]


def reduce(ctx: OpContext) -> list[Value]:
    """Reduce*: axes from attribute or input; all axes when none (unless noop_with_empty_axes)."""
    x = ctx.input(0)
    axes = ctx.attr("axes")
    axes = list(axes) if axes is not None else ctx.ints(1)
    if not axes:
        if ctx.attr("noop_with_empty_axes", 0):
            return [Value(x.shape, x.dtype)]
        axes = list(range(x.rank))
    reduced = {normalize_axis(a, x.rank) for a in axes}
    keep = bool(ctx.attr("keepdims", 1))
    dims = tuple(
        1 if i in reduced else d for i, d in enumerate(x.shape) if keep or i not in reduced
    )
    return [Value(dims, x.dtype)]


RULES: dict[str, Rule] = {
    "Conv": conv,
    "ConvTranspose": conv_transpose,
    "MaxPool": pool,
    "AveragePool": pool,
    "LpPool": pool,
    "GlobalAveragePool": global_pool,
    "GlobalMaxPool": global_pool,
    "GlobalLpPool": global_pool,
    "Gemm": gemm,
    "MatMul": matmul,
    "MatMulInteger": matmul,
    "Einsum": einsum,
    **{op: reduce for op in REDUCE_OPS},
}
