"""Numpy evaluation of the small shape subgraphs that exporters emit.

`torch.onnx.export` computes reshape targets, slice bounds and masks with chains like
Shape -> Gather -> Unsqueeze -> Concat -> Reshape. Once input shapes are static, every such
chain has constant inputs and is evaluated here, so the Graph keeps only nodes that compute
on data. Folders only ever see small constants (`values.MAX_CONSTANT_ELEMENTS`); the driver
checks the output size from the shape rule before calling one.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from compiler.frontend.rules_tensor import slice_params, split_sizes
from compiler.frontend.values import OpContext, Value, normalize_axis

Folder = Callable[[OpContext], list[np.ndarray]]

# Ops that fold from their input's shape alone, without its contents.
SHAPE_ONLY = frozenset({"Shape", "Size"})


def _x(ctx: OpContext, index: int = 0) -> np.ndarray:
    data = ctx.inputs[index].data if ctx.inputs[index] is not None else None
    if data is None:
        raise ValueError(f"input {index} has no constant value")
    return data


def _unary(fn: Callable[[np.ndarray], np.ndarray]) -> Folder:
    return lambda ctx: [fn(_x(ctx))]


def _binary(fn: Callable[[np.ndarray, np.ndarray], np.ndarray]) -> Folder:
    return lambda ctx: [fn(_x(ctx, 0), _x(ctx, 1))]


def _variadic(fn: Callable[[np.ndarray, np.ndarray], np.ndarray]) -> Folder:
    def fold(ctx: OpContext) -> list[np.ndarray]:
        arrays = [v.data for v in ctx.inputs if v is not None]
        result = arrays[0]
        for array in arrays[1:]:
            result = fn(result, array)
        return [result]

    return fold


def _divide(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """ONNX Div: true division for floats, truncation toward zero for integers."""
    if np.issubdtype(a.dtype, np.integer):
        return np.trunc(a / b).astype(a.dtype)
    return a / b


def _mod(ctx: OpContext) -> list[np.ndarray]:
    a, b = _x(ctx, 0), _x(ctx, 1)
    return [np.fmod(a, b) if ctx.attr("fmod", 0) else np.mod(a, b)]


def _shape(ctx: OpContext) -> list[np.ndarray]:
    start, end = int(ctx.attr("start", 0)), ctx.attr("end")
    dims = ctx.input(0).shape[slice(start, None if end is None else int(end))]
    return [np.array(dims, dtype=np.int64)]


def _gather(ctx: OpContext) -> list[np.ndarray]:
    data = _x(ctx)
    axis = normalize_axis(int(ctx.attr("axis", 0)), data.ndim)
    indices = _x(ctx, 1).astype(np.int64)
    return [np.take(data, np.where(indices < 0, indices + data.shape[axis], indices), axis=axis)]


def _concat(ctx: OpContext) -> list[np.ndarray]:
    arrays = [v.data for v in ctx.inputs if v is not None]
    return [np.concatenate(arrays, axis=int(ctx.attr("axis", 0)))]


def _reshaped(ctx: OpContext, outputs: list[Value]) -> list[np.ndarray]:
    return [_x(ctx).reshape(outputs[0].shape)]


def _slice(ctx: OpContext) -> list[np.ndarray]:
    data = _x(ctx)
    index = [slice(None)] * data.ndim
    for axis, start, end, step in slice_params(ctx):
        first, stop, step = slice(start, end, step).indices(data.shape[axis])
        # a reversed slice through index 0 stops at -1, which numpy would read as the last index
        index[axis] = slice(first, None if stop < 0 else stop, step)
    return [data[tuple(index)]]


def _split(ctx: OpContext) -> list[np.ndarray]:
    data = _x(ctx)
    axis = normalize_axis(int(ctx.attr("axis", 0)), data.ndim)
    bounds = np.cumsum(split_sizes(ctx, data.shape[axis]))[:-1]
    return list(np.split(data, bounds, axis=axis))


def _transpose(ctx: OpContext) -> list[np.ndarray]:
    perm = ctx.attr("perm")
    return [np.transpose(_x(ctx), None if perm is None else list(perm))]


def _expand(ctx: OpContext) -> list[np.ndarray]:
    data = _x(ctx)
    shape = np.broadcast_shapes(data.shape, tuple(int(d) for d in _x(ctx, 1)))
    return [np.broadcast_to(data, shape).copy()]


def _range(ctx: OpContext) -> list[np.ndarray]:
    start, limit, delta = (_x(ctx, i) for i in range(3))
    return [np.arange(start, limit, delta, dtype=start.dtype)]


def _constant_of_shape(ctx: OpContext) -> list[np.ndarray]:
    value = ctx.attr("value")
    fill = np.zeros(1, dtype=np.float32) if value is None else np.asarray(value).reshape(-1)
    return [np.full(tuple(int(d) for d in _x(ctx)), fill[0], dtype=fill.dtype)]


def _where(ctx: OpContext) -> list[np.ndarray]:
    return [np.where(_x(ctx, 0), _x(ctx, 1), _x(ctx, 2))]


def _reduce(fn: Callable[..., np.ndarray]) -> Folder:
    def fold(ctx: OpContext) -> list[np.ndarray]:
        data = _x(ctx)
        axes = ctx.attr("axes")
        axes = list(axes) if axes is not None else ctx.ints(1)
        if not axes and ctx.attr("noop_with_empty_axes", 0):
            return [data]
        axis = None if not axes else tuple(normalize_axis(a, data.ndim) for a in axes)
        return [fn(data, axis=axis, keepdims=bool(ctx.attr("keepdims", 1)))]

    return fold


def _cumsum(ctx: OpContext) -> list[np.ndarray]:
    data = _x(ctx)
    axis = normalize_axis(int(_x(ctx, 1).reshape(-1)[0]), data.ndim)
    if ctx.attr("reverse", 0):
        data = np.flip(data, axis)
    result = np.cumsum(data, axis=axis)
    if ctx.attr("exclusive", 0):
        result = result - data
    return [np.flip(result, axis) if ctx.attr("reverse", 0) else result]


def _trilu(ctx: OpContext) -> list[np.ndarray]:
    k = ctx.ints(1)
    offset = 0 if k is None else k[0]
    upper = bool(ctx.attr("upper", 1))
    return [np.triu(_x(ctx), offset) if upper else np.tril(_x(ctx), offset)]


def _scatter_nd(ctx: OpContext) -> list[np.ndarray]:
    data = _x(ctx).copy()
    indices, updates = _x(ctx, 1), _x(ctx, 2)
    depth = indices.shape[-1]
    flat_indices = indices.reshape(-1, depth)
    flat_updates = updates.reshape((flat_indices.shape[0],) + data.shape[depth:])
    data[tuple(flat_indices.T)] = flat_updates
    return [data]


# Folders taking (ctx, output Values from the shape rule): they reuse the rule's result.
SHAPED_FOLDERS: dict[str, Callable[[OpContext, list[Value]], list[np.ndarray]]] = {
    "Reshape": _reshaped,
    "Flatten": _reshaped,
    "Squeeze": _reshaped,
    "Unsqueeze": _reshaped,
    "Identity": _reshaped,
    "Cast": _reshaped,
    "CastLike": _reshaped,
    "Dropout": lambda ctx, outs: [_x(ctx), np.ones(outs[0].shape, dtype=bool)],
    "Tile": lambda ctx, outs: [np.tile(_x(ctx), [int(r) for r in _x(ctx, 1)])],
}

FOLDERS: dict[str, Folder] = {
    "Shape": _shape,
    "Size": lambda ctx: [np.array(ctx.input(0).elements, dtype=np.int64)],
    "Gather": _gather,
    "Concat": _concat,
    "Slice": _slice,
    "Split": _split,
    "Transpose": _transpose,
    "Expand": _expand,
    "Range": _range,
    "ConstantOfShape": _constant_of_shape,
    "Where": _where,
    "Add": _variadic(np.add),
    "Sub": _binary(np.subtract),
    "Mul": _variadic(np.multiply),
    "Div": _binary(_divide),
    "Pow": _binary(np.power),
    "Mod": _mod,
    "Max": _variadic(np.maximum),
    "Min": _variadic(np.minimum),
    "Sum": _variadic(np.add),
    "Equal": _binary(np.equal),
    "Less": _binary(np.less),
    "LessOrEqual": _binary(np.less_equal),
    "Greater": _binary(np.greater),
    "GreaterOrEqual": _binary(np.greater_equal),
    "And": _binary(np.logical_and),
    "Or": _binary(np.logical_or),
    "Xor": _binary(np.logical_xor),
    "Not": _unary(np.logical_not),
    "Neg": _unary(np.negative),
    "Abs": _unary(np.abs),
    "Sqrt": _unary(np.sqrt),
    "Reciprocal": _unary(np.reciprocal),
    "Exp": _unary(np.exp),
    "Log": _unary(np.log),
    "Sin": _unary(np.sin),
    "Cos": _unary(np.cos),
    "Floor": _unary(np.floor),
    "Ceil": _unary(np.ceil),
    "Sign": _unary(np.sign),
    "IsNaN": _unary(np.isnan),
    "ReduceProd": _reduce(np.prod),
    "ReduceSum": _reduce(np.sum),
    "ReduceMax": _reduce(np.max),
    "ReduceMin": _reduce(np.min),
    "ReduceMean": _reduce(np.mean),
    "CumSum": _cumsum,
    "Trilu": _trilu,
    "ScatterND": _scatter_nd,
}


def can_fold(op_type: str) -> bool:
    """Whether the op has a numpy evaluator."""
    return op_type in FOLDERS or op_type in SHAPED_FOLDERS


def fold(ctx: OpContext, outputs: list[Value]) -> list[np.ndarray]:
    """Evaluate one node whose inputs are constants; outputs cast to the rule's dtypes."""
    if ctx.op_type in SHAPED_FOLDERS:
        arrays = SHAPED_FOLDERS[ctx.op_type](ctx, outputs)
    else:
        arrays = FOLDERS[ctx.op_type](ctx)
    return [
        np.asarray(array).astype(out.dtype, copy=False).reshape(out.shape)
        for array, out in zip(arrays, outputs)
    ]
