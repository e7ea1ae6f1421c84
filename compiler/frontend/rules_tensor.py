"""Shape rules for data-movement and shape ops: Reshape, Slice, Gather, Pad, Resize, ...

Many of these take their output shape from a constant input (a Reshape's target, a Slice's
starts); `OpContext.constant` raises a ShapeError when that input does not fold, since the
output shape would then depend on run-time data.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from math import prod

import numpy as np

from compiler.frontend.values import OpContext, ShapeError, Value, normalize_axis, onnx_dtype_name

Rule = Callable[[OpContext], list[Value]]


def reshape(ctx: OpContext) -> list[Value]:
    """Reshape: 0 copies the input dim (unless allowzero), one -1 takes the remainder."""
    x = ctx.input(0)
    target = ctx.ints(1)
    if target is None:
        target = list(ctx.attr("shape", ()))
    allow_zero = bool(ctx.attr("allowzero", 0))
    dims = []
    for i, d in enumerate(target):
        if d == 0 and not allow_zero:
            if i >= x.rank:
                raise ShapeError(f"target dim {i} is 0 (copy) but the input has rank {x.rank}")
            d = x.shape[i]
        dims.append(d)
    if dims.count(-1) > 1:
        raise ShapeError(f"target shape {target} has more than one -1")
    known = prod(d for d in dims if d != -1)
    if -1 in dims:
        if known == 0 or x.elements % known:
            raise ShapeError(f"cannot reshape {list(x.shape)} to {target}")
        dims[dims.index(-1)] = x.elements // known
    elif known != x.elements:
        raise ShapeError(f"cannot reshape {list(x.shape)} ({x.elements} elements) to {target}")
    if any(d < 0 for d in dims):
        raise ShapeError(f"target shape {target} has a negative dim")
    return [Value(tuple(dims), x.dtype)]


def flatten(ctx: OpContext) -> list[Value]:
    """Flatten: dims before `axis` become the rows, the rest the columns."""
    x = ctx.input(0)
    axis = int(ctx.attr("axis", 1))
    axis = axis + x.rank if axis < 0 else axis
    if not 0 <= axis <= x.rank:
        raise ShapeError(f"axis {ctx.attr('axis')} is out of range for rank {x.rank}")
    return [Value((prod(x.shape[:axis]), prod(x.shape[axis:])), x.dtype)]


def transpose(ctx: OpContext) -> list[Value]:
    """Transpose: permute dims by `perm` (reverse when omitted)."""
    x = ctx.input(0)
    perm = list(ctx.attr("perm", range(x.rank - 1, -1, -1)))
    if sorted(perm) != list(range(x.rank)):
        raise ShapeError(f"perm {perm} is not a permutation of rank {x.rank}")
    return [Value(tuple(x.shape[p] for p in perm), x.dtype)]


def _axes(ctx: OpContext, index: int) -> list[int] | None:
    """Axes from the attribute (older opsets) or the given input (newer opsets)."""
    attr = ctx.attr("axes")
    return list(attr) if attr is not None else ctx.ints(index)


def squeeze(ctx: OpContext) -> list[Value]:
    """Squeeze: drop the given size-1 axes, or every size-1 axis when none are given."""
    x = ctx.input(0)
    axes = _axes(ctx, 1)
    if axes is None:
        drop = {i for i, d in enumerate(x.shape) if d == 1}
    else:
        drop = {normalize_axis(a, x.rank) for a in axes}
        wrong = [a for a in sorted(drop) if x.shape[a] != 1]
        if wrong:
            raise ShapeError(f"cannot squeeze axes {wrong} of shape {list(x.shape)}: size is not 1")
    return [Value(tuple(d for i, d in enumerate(x.shape) if i not in drop), x.dtype)]


def unsqueeze(ctx: OpContext) -> list[Value]:
    """Unsqueeze: insert size-1 axes at the given output positions."""
    x = ctx.input(0)
    axes = _axes(ctx, 1)
    if axes is None:
        raise ShapeError("axes are missing")
    rank = x.rank + len(axes)
    inserted = {normalize_axis(a, rank) for a in axes}
    if len(inserted) != len(axes):
        raise ShapeError(f"axes {axes} repeat an axis")
    dims = iter(x.shape)
    return [Value(tuple(1 if i in inserted else next(dims) for i in range(rank)), x.dtype)]


def concat(ctx: OpContext) -> list[Value]:
    """Concat: all inputs agree except on `axis`, where sizes add up."""
    values = [v for v in ctx.inputs if v is not None]
    if not values:
        raise ShapeError("needs at least one input")
    first = values[0]
    axis = normalize_axis(int(ctx.attr("axis", 0)), first.rank)
    for v in values[1:]:
        if v.rank != first.rank or any(
            a != b for i, (a, b) in enumerate(zip(v.shape, first.shape)) if i != axis
        ):
            shapes = ", ".join(str(list(u.shape)) for u in values)
            raise ShapeError(f"cannot concatenate shapes {shapes} on axis {axis}")
    size = sum(v.shape[axis] for v in values)
    return [Value(first.shape[:axis] + (size,) + first.shape[axis + 1 :], first.dtype)]


def split_sizes(ctx: OpContext, dim: int) -> list[int]:
    """Sizes of a Split's parts: explicit `split`, or `num_outputs`/outputs parts of equal size."""
    sizes = ctx.ints(1) if ctx.attr("split") is None else list(ctx.attr("split"))
    if sizes is not None:
        if sum(sizes) != dim or len(sizes) != ctx.num_outputs:
            raise ShapeError(
                f"split sizes {sizes} do not cover dim {dim} in {ctx.num_outputs} parts"
            )
        return sizes
    parts = int(ctx.attr("num_outputs", ctx.num_outputs))
    chunk = math.ceil(dim / parts)
    sizes = [min(chunk, max(dim - i * chunk, 0)) for i in range(parts)]
    return sizes


def split(ctx: OpContext) -> list[Value]:
    """Split: one output per part along `axis`."""
    x = ctx.input(0)
    axis = normalize_axis(int(ctx.attr("axis", 0)), x.rank)
    return [
        Value(x.shape[:axis] + (size,) + x.shape[axis + 1 :], x.dtype)
        for size in split_sizes(ctx, x.shape[axis])
    ]


def slice_params(ctx: OpContext) -> list[tuple[int, int, int, int]]:
    """(axis, start, end, step) per sliced axis, from inputs (opset >= 10) or attributes."""
    x = ctx.input(0)
    if ctx.attr("starts") is not None:
        starts, ends = list(ctx.attr("starts")), list(ctx.attr("ends"))
        axes, steps = ctx.attr("axes"), None
    else:
        starts, ends, axes, steps = ctx.ints(1), ctx.ints(2), ctx.ints(3), ctx.ints(4)
    if starts is None or ends is None:
        raise ShapeError("starts and ends are required")
    axes = list(range(len(starts))) if axes is None else list(axes)
    steps = [1] * len(starts) if steps is None else steps
    if not len(starts) == len(ends) == len(axes) == len(steps):
        raise ShapeError(
            f"starts {starts}, ends {ends}, axes {axes}, steps {steps} differ in length"
        )
    if 0 in steps:
        raise ShapeError("a slice step is 0")
    return [
        (normalize_axis(a, x.rank), s, e, st) for a, s, e, st in zip(axes, starts, ends, steps)
    ]


def slice_(ctx: OpContext) -> list[Value]:
    """Slice: each sliced axis keeps len(range(start, end, step)) after clamping."""
    x = ctx.input(0)
    dims = list(x.shape)
    for axis, start, end, step in slice_params(ctx):
        dims[axis] = len(range(*slice(start, end, step).indices(x.shape[axis])))
    return [Value(tuple(dims), x.dtype)]


def gather(ctx: OpContext) -> list[Value]:
    """Gather: the indexed axis of data is replaced by the indices' shape."""
    data, indices = ctx.input(0), ctx.input(1)
    axis = normalize_axis(int(ctx.attr("axis", 0)), data.rank)
    return [Value(data.shape[:axis] + indices.shape + data.shape[axis + 1 :], data.dtype)]


def gather_elements(ctx: OpContext) -> list[Value]:
    """GatherElements: the indices' shape, the data's dtype."""
    data, indices = ctx.input(0), ctx.input(1)
    if data.rank != indices.rank:
        raise ShapeError(f"data rank {data.rank} differs from indices rank {indices.rank}")
    return [Value(indices.shape, data.dtype)]


def gather_nd(ctx: OpContext) -> list[Value]:
    """GatherND: indices' leading dims, then the data dims past the indexed ones."""
    data, indices = ctx.input(0), ctx.input(1)
    batch = int(ctx.attr("batch_dims", 0))
    depth = indices.shape[-1] if indices.rank else 0
    if batch + depth > data.rank:
        raise ShapeError(
            f"indices depth {depth} + batch_dims {batch} exceeds data rank {data.rank}"
        )
    return [Value(indices.shape[:-1] + data.shape[batch + depth :], data.dtype)]


def expand(ctx: OpContext) -> list[Value]:
    """Expand: bidirectional broadcast of the input with the target shape."""
    x = ctx.input(0)
    target = ctx.required_ints(1)
    try:
        shape = np.broadcast_shapes(x.shape, tuple(target))
    except ValueError:
        raise ShapeError(f"cannot expand {list(x.shape)} to {target}") from None
    return [Value(tuple(int(d) for d in shape), x.dtype)]


def tile(ctx: OpContext) -> list[Value]:
    """Tile: each dim multiplied by its repeat count."""
    x = ctx.input(0)
    repeats = ctx.required_ints(1)
    if len(repeats) != x.rank:
        raise ShapeError(f"repeats {repeats} do not match input rank {x.rank}")
    return [Value(tuple(d * r for d, r in zip(x.shape, repeats)), x.dtype)]


def pad(ctx: OpContext) -> list[Value]:
    """Pad: each padded axis grows by its begin and end pads (negative pads crop)."""
    x = ctx.input(0)
    pads = list(ctx.attr("pads")) if ctx.attr("pads") is not None else ctx.ints(1)
    if pads is None:
        raise ShapeError("pads are missing")
    axes = ctx.ints(3)
    axes = list(range(x.rank)) if axes is None else [normalize_axis(a, x.rank) for a in axes]
    if len(pads) != 2 * len(axes):
        raise ShapeError(f"pads {pads} need 2 values per padded axis ({len(axes)} axes)")
    dims = list(x.shape)
    for i, axis in enumerate(axes):
        dims[axis] += pads[i] + pads[i + len(axes)]
    if any(d < 0 for d in dims):
        raise ShapeError(f"pads {pads} crop shape {list(x.shape)} below zero")
    return [Value(tuple(dims), x.dtype)]


def _nonempty(ctx: OpContext, index: int) -> np.ndarray | None:
    data = ctx.constant(index)
    return None if data is None or data.size == 0 else data


def resize(ctx: OpContext) -> list[Value]:
    """Resize/Upsample: output from `sizes`, else floor(input * scales), on `axes`."""
    x = ctx.input(0)
    axes = ctx.attr("axes")
    axes = list(range(x.rank)) if axes is None else [normalize_axis(a, x.rank) for a in axes]
    dims = list(x.shape)
    if ctx.op_type == "Upsample" or len(ctx.inputs) == 2:  # also Resize-10: (X, scales)
        scales = ctx.attr("scales")
        scales = np.asarray(scales if scales is not None else ctx.constant(1), dtype=np.float64)
        sizes = None
    else:
        sizes, scales = _nonempty(ctx, 3), _nonempty(ctx, 2)
    if sizes is not None:
        if sizes.size != len(axes):
            raise ShapeError(f"sizes {sizes.tolist()} do not match {len(axes)} axes")
        sizes = _keep_aspect(ctx, [x.shape[a] for a in axes], [int(s) for s in sizes])
        for axis, size in zip(axes, sizes):
            dims[axis] = size
    elif scales is not None:
        if scales.size != len(axes):
            raise ShapeError(f"scales {scales.tolist()} do not match {len(axes)} axes")
        for axis, scale in zip(axes, scales.reshape(-1)):
            dims[axis] = int(math.floor(x.shape[axis] * float(scale) + 1e-9))
    else:
        raise ShapeError("neither scales nor sizes is given")
    return [Value(tuple(dims), x.dtype)]


def _keep_aspect(ctx: OpContext, dims: list[int], sizes: list[int]) -> list[int]:
    policy = ctx.attr("keep_aspect_ratio_policy", "stretch")
    if policy == "stretch":
        return sizes
    ratios = [s / d for s, d in zip(sizes, dims)]
    scale = min(ratios) if policy == "not_larger" else max(ratios)
    return [int(round(scale * d)) for d in dims]


def depth_to_space(ctx: OpContext) -> list[Value]:
    """DepthToSpace: channels / b^2, height and width * b."""
    x = ctx.input(0)
    b = int(ctx.attr("blocksize"))
    if x.rank != 4 or x.shape[1] % (b * b):
        raise ShapeError(f"shape {list(x.shape)} is not NCHW with C divisible by {b * b}")
    n, c, h, w = x.shape
    return [Value((n, c // (b * b), h * b, w * b), x.dtype)]


def space_to_depth(ctx: OpContext) -> list[Value]:
    """SpaceToDepth: channels * b^2, height and width / b."""
    x = ctx.input(0)
    b = int(ctx.attr("blocksize"))
    if x.rank != 4 or x.shape[2] % b or x.shape[3] % b:
        raise ShapeError(f"shape {list(x.shape)} is not NCHW with H, W divisible by {b}")
    n, c, h, w = x.shape
    return [Value((n, c * b * b, h // b, w // b), x.dtype)]


def shape(ctx: OpContext) -> list[Value]:
    """Shape: a 1-D int64 of length end - start (clamped)."""
    x = ctx.input(0)
    start, end = int(ctx.attr("start", 0)), ctx.attr("end")
    length = len(range(*slice(start, None if end is None else int(end)).indices(x.rank)))
    return [Value((length,), "int64")]


def size(ctx: OpContext) -> list[Value]:
    """Size: an int64 scalar."""
    ctx.input(0)
    return [Value((), "int64")]


def constant_of_shape(ctx: OpContext) -> list[Value]:
    """ConstantOfShape: the given shape, dtype of the `value` attribute (float32 default)."""
    dims = ctx.required_ints(0)
    if any(d < 0 for d in dims):
        raise ShapeError(f"shape {dims} has a negative dim")
    value = ctx.attr("value")
    return [Value(tuple(dims), "float32" if value is None else value.dtype.name)]


def range_(ctx: OpContext) -> list[Value]:
    """Range: max(ceil((limit - start) / delta), 0) elements."""
    start, limit, delta = (ctx.required_constant(i) for i in range(3))
    if float(delta) == 0:
        raise ShapeError("delta is 0")
    count = max(math.ceil((float(limit) - float(start)) / float(delta)), 0)
    return [Value((count,), ctx.input(0).dtype)]


def eye_like(ctx: OpContext) -> list[Value]:
    """EyeLike: the input's shape, dtype from `dtype` or the input."""
    x = ctx.input(0)
    dtype = ctx.attr("dtype")
    return [Value(x.shape, x.dtype if dtype is None else onnx_dtype_name(int(dtype)))]


def one_hot(ctx: OpContext) -> list[Value]:
    """OneHot: indices' shape with a `depth` axis inserted at `axis`, dtype of values."""
    indices = ctx.input(0)
    depth = ctx.required_ints(1)[0]
    rank = indices.rank + 1
    axis = normalize_axis(int(ctx.attr("axis", -1)), rank)
    dims = list(indices.shape)
    dims.insert(axis, depth)
    return [Value(tuple(dims), ctx.input(2).dtype)]


def arg_reduce(ctx: OpContext) -> list[Value]:
    """ArgMax/ArgMin: `axis` reduced (kept as 1 when keepdims), int64."""
    x = ctx.input(0)
    axis = normalize_axis(int(ctx.attr("axis", 0)), x.rank)
    keep = bool(ctx.attr("keepdims", 1))
    dims = x.shape[:axis] + ((1,) if keep else ()) + x.shape[axis + 1 :]
    return [Value(dims, "int64")]


RULES: dict[str, Rule] = {
    "Reshape": reshape,
    "Flatten": flatten,
    "Transpose": transpose,
    "Squeeze": squeeze,
    "Unsqueeze": unsqueeze,
    "Concat": concat,
    "Split": split,
    "Slice": slice_,
    "Gather": gather,
    "GatherElements": gather_elements,
    "GatherND": gather_nd,
    "Expand": expand,
    "Tile": tile,
    "Pad": pad,
    "Resize": resize,
    "Upsample": resize,
    "DepthToSpace": depth_to_space,
    "SpaceToDepth": space_to_depth,
    "Shape": shape,
    "Size": size,
    "ConstantOfShape": constant_of_shape,
    "Range": range_,
    "EyeLike": eye_like,
    "OneHot": one_hot,
    "ArgMax": arg_reduce,
    "ArgMin": arg_reduce,
}
