"""Rules for the ops that run on the vector unit, and their operation counts.

Counts are lane operations per OpClass: E = elementwise, T = transcendental, R = reduction
step. "per out" counts per output element, "per in" per input element, "per row" per
normalised row (a row is the group of elements one mean/max/sum is taken over).

| op | counts | why |
|---|---|---|
| Add Sub Mul Div Neg Abs Relu Sign Floor Ceil Round Where, comparisons, logic, IsNaN IsInf, bitwise ops | 1 E per out | one lane op |
| Trilu | 1 E per out | keep or zero each element by its row and column (attention's causal mask) |
| Sum Max Min (n inputs) | n-1 E per out; Mean n E | a tree of adds, then a divide |
| PRelu LeakyRelu | 2 E per out | multiply, select |
| Clip | 2 E per out | max, min |
| HardSigmoid | 3 E per out | multiply-add, clip |
| HardSwish | 4 E per out | HardSigmoid, multiply |
| Exp Log Tanh Sigmoid Erf Sqrt Reciprocal Sin Cos | 1 T per out | special-function unit |
| Elu | 1 T + 2 E per out | exp, subtract 1, select |
| Softplus | 2 T + 1 E per out | log(1 + exp x) |
| Gelu (erf) | 1 T + 4 E per out | x/√2, erf, +1, ·x, ·½ (as the exported Div-Erf-Add-Mul-Mul chain) |
| Gelu (tanh) | 1 T + 8 E per out | x², x³, ·c, +x, ·√(2/π), tanh, +1, ·x, ·½ |
| Pow | 1 E per out for constant exponent 1 or 2; 1 T for ½; else 2 T + 1 E | x·x, sqrt, exp(y·log x) |
| Cast (width changes) | 1 E per out | conversion |
| BatchNormalization (unfused) | 2 E per out | scale and shift with precomputed per-channel constants |
| Softmax | 2 R + 2 E + 1 T per in | max, subtract, exp, sum, divide |
| LogSoftmax | 2 R + 2 E + 1 T per in, 1 T per row | max, subtract, exp, sum; log of the sum, subtract |
| LayerNormalization InstanceNormalization GroupNormalization | 2 R + 5 E per in; 3 E + 1 T per row | (1) |
| RMSNormalization | 1 R + 3 E per in; 2 E + 1 T per row | square, sum, ·1/rms, ·γ; mean, +ε, rsqrt |
| ReduceSum ReduceMax ReduceMin ReduceProd ArgMax ArgMin GlobalMaxPool | 1 R per in | |
| CumSum | 1 R per in | a running sum: one add into the running total per element (position ids from a padding mask) |
| ReduceMean GlobalAveragePool | 1 R per in, 1 E per out | sum, divide |
| ReduceSumSquare ReduceL1 | 1 E + 1 R per in | square or abs, sum |
| ReduceL2 | 1 E + 1 R per in, 1 T per out | square, sum, sqrt |
| ReduceLogSumExp | 2 R + 1 E + 1 T per in, 1 T + 1 E per out | max, subtract, exp, sum; log, add max |
| MaxPool | kh·kw R per out | one comparison per window element |
| AveragePool | kh·kw R + 1 E per out | window sum, divide |
| Resize Upsample | 1 E per out (nearest), 2^d (linear), 4^d (cubic) per out, d = resized axes | interpolation taps |
| data movement (2) | 1 E per out | a copy of every output element |
| Concat appending to a KV cache (3) | 1 E per appended element | a copy of the new entries into the cache |

(1) per element: sum, x-μ, square, sum, ·1/σ, ·γ, +β; per row: mean, variance, +ε, rsqrt.
(2) Transpose Concat Slice Gather GatherElements GatherND Split Pad Expand Tile DepthToSpace
SpaceToDepth ScatterND ScatterElements (`DATA_MOVEMENT_OPS`).
(3) `cache_append`: the past keys or values come in as a graph input, the new ones are
appended along the sequence axis and the result is a graph output (`compiler.workload.CacheAppend`).

Only the ops of the first table rows up to BatchNormalization are *elementwise*: they may
fuse into a producer's GEMM epilogue or into a chain of elementwise ops. A Gather from a
constant table (an embedding) reads only the gathered rows, so its weight operand counts
the output's elements, not the whole table.

Constants of elementwise and row-wise ops broadcast over the output; `broadcast_structure`
records how (`Workload.constant_period`), so scheduling can load the slice a chunk of
outputs reads. Elementwise constants, LayerNormalization's and RMSNormalization's scale and
bias broadcast as numpy does (aligned at the last axis); BatchNormalization's,
InstanceNormalization's and GroupNormalization's per-channel constants [C] at axis 1.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from math import prod
from types import MappingProxyType
from typing import Any

import numpy as np

from accel_spec.types import OpClass
from compiler.graph import Node
from compiler.lowering.context import LoweringContext, node_error
from compiler.lowering.ops import VectorOp, add_counts, op_counts
from compiler.workload import CacheAppend

E, T, R = OpClass.ELEMENTWISE, OpClass.TRANSCENDENTAL, OpClass.REDUCTION

Counts = Mapping[OpClass, int]

ELEMENTWISE_COSTS: Mapping[str, Counts] = MappingProxyType(
    {
        **{op: {E: 1} for op in (
            "Add", "Sub", "Mul", "Div", "Neg", "Abs", "Relu", "Sign", "Floor", "Ceil", "Round", "Where",
            "Equal", "Less", "LessOrEqual", "Greater", "GreaterOrEqual", "Not", "And", "Or", "Xor", "Mod",
            "IsNaN", "IsInf", "BitwiseAnd", "BitwiseOr", "BitwiseXor", "BitwiseNot", "BitShift",
        )},
        **{op: {T: 1} for op in ("Exp", "Log", "Tanh", "Sigmoid", "Erf", "Sqrt", "Reciprocal", "Sin", "Cos")},
        "PRelu": {E: 2},
        "LeakyRelu": {E: 2},
        "Clip": {E: 2},
        "HardSigmoid": {E: 3},
        "HardSwish": {E: 4},
        "Elu": {T: 1, E: 2},
        "Softplus": {T: 2, E: 1},
    }
)  # fmt: skip

_GELU_COSTS: Mapping[str, Counts] = MappingProxyType({"none": {T: 1, E: 4}, "tanh": {T: 1, E: 8}})

_ROWWISE_COSTS: Mapping[str, tuple[Counts, Counts]] = MappingProxyType(
    {
        "Softmax": ({R: 2, E: 2, T: 1}, {}),
        "LogSoftmax": ({R: 2, E: 2, T: 1}, {T: 1}),
        "LayerNormalization": ({R: 2, E: 5}, {E: 3, T: 1}),
        "InstanceNormalization": ({R: 2, E: 5}, {E: 3, T: 1}),
        "GroupNormalization": ({R: 2, E: 5}, {E: 3, T: 1}),
        "RMSNormalization": ({R: 1, E: 3}, {E: 2, T: 1}),
    }
)

_PER_CHANNEL_NORMS = frozenset({"InstanceNormalization", "GroupNormalization"})
"""Row-wise ops whose 1-D scale and bias apply per channel (axis 1), not along the last axis."""

_REDUCTION_COSTS: Mapping[str, tuple[Counts, Counts]] = MappingProxyType(
    {
        **{op: ({R: 1}, {}) for op in (
            "ReduceSum", "ReduceMax", "ReduceMin", "ReduceProd", "ArgMax", "ArgMin", "GlobalMaxPool",
        )},
        "ReduceMean": ({R: 1}, {E: 1}),
        "GlobalAveragePool": ({R: 1}, {E: 1}),
        "ReduceSumSquare": ({E: 1, R: 1}, {}),
        "ReduceL1": ({E: 1, R: 1}, {}),
        "ReduceL2": ({E: 1, R: 1}, {T: 1}),
        "ReduceLogSumExp": ({R: 2, E: 1, T: 1}, {T: 1, E: 1}),
    }
)  # fmt: skip

DATA_MOVEMENT_OPS = frozenset(
    {
        "Transpose", "Concat", "Slice", "Gather", "GatherElements", "GatherND", "Split", "Pad", "Expand",
        "Tile", "DepthToSpace", "SpaceToDepth", "ScatterND", "ScatterElements",
    }
)  # fmt: skip

_RESIZE_TAPS: Mapping[str, int] = MappingProxyType({"nearest": 1, "linear": 2, "bilinear": 2, "cubic": 4})


def _required(node: Node, ctx: LoweringContext, attribute: str) -> Any:
    """A required attribute's value; InputError naming the node when it is missing."""
    if attribute not in node.attrs:
        raise node_error(ctx.graph, node, f"required attribute '{attribute}' is missing")
    return node.attrs[attribute]


def _activation_elements(node: Node, ctx: LoweringContext) -> int:
    return sum(ctx.elements(node, name) for name in ctx.activation_inputs(node))


def _constant_elements(node: Node, ctx: LoweringContext) -> int:
    return sum(ctx.elements(node, name) for name in ctx.constant_inputs(node))


def _output_elements(node: Node, ctx: LoweringContext) -> int:
    return sum(ctx.elements(node, name) for name in node.outputs if name)


def broadcast_structure(constant: tuple[int, ...], output: tuple[int, ...]) -> tuple[int, int]:
    """(period, repeat) of a constant broadcast against `output` by numpy's rules (shapes
    aligned at the last axis), as `Workload.constant_period` defines them; (0, 1) when the
    axes the constant spans are not contiguous once the output's unit axes are dropped (a
    [C, 1, W] constant against [N, C, H, W]) or the shapes do not broadcast.

    e.g. [768] against [2, 128, 768] gives (768, 1); [64, 1, 1] against [1, 64, 56, 56]
    gives (64·56·56, 56·56); a scalar gives (elements of the output, the same).
    """
    if len(constant) > len(output):
        return 0, 1
    padded = (1,) * (len(output) - len(constant)) + tuple(constant)
    if any(c not in (1, o) for c, o in zip(padded, output)):
        return 0, 1
    spanned = [axis for axis, (c, o) in enumerate(zip(padded, output)) if o > 1 and c == o]
    if not spanned:
        return prod(output), prod(output)
    first, last = spanned[0], spanned[-1]
    if any(output[axis] > 1 and padded[axis] == 1 for axis in range(first, last)):
        return 0, 1
    return prod(output[first:]), prod(output[last + 1 :])


def _constant_structure(node: Node, ctx: LoweringContext, per_channel: bool = False) -> tuple[int, int]:
    """`broadcast_structure` shared by every constant input of `node` against its output,
    (0, 1) when they differ or there is none. `per_channel`: 1-D constants apply along
    axis 1 (BatchNormalization, InstanceNormalization, GroupNormalization)."""
    output = ctx.shape(node, node.outputs[0])
    structures = set()
    for name in ctx.constant_inputs(node):
        shape = ctx.shape(node, name)
        if per_channel and len(shape) == 1:
            shape = shape + (1,) * max(len(output) - 2, 0)
        structures.add(broadcast_structure(shape, output))
    return structures.pop() if len(structures) == 1 else (0, 1)


def _elementwise_op(node: Node, ctx: LoweringContext, per_out: Counts, per_channel: bool = False) -> VectorOp:
    period, repeat = _constant_structure(node, ctx, per_channel)
    return VectorOp(
        ops=op_counts(per_out, ctx.elements(node, node.outputs[0])),
        input_elements=_activation_elements(node, ctx),
        weight_elements=_constant_elements(node, ctx),
        elementwise=True,
        constant_period=period,
        constant_repeat=repeat,
    )


def elementwise(node: Node, ctx: LoweringContext) -> VectorOp:
    """Unary and binary elementwise ops and activations, counted from ELEMENTWISE_COSTS."""
    return _elementwise_op(node, ctx, ELEMENTWISE_COSTS[node.op_type])


def variadic(node: Node, ctx: LoweringContext) -> VectorOp:
    """Sum, Mean, Max, Min over n inputs: n-1 combining ops per output (Mean adds a divide)."""
    combines = max(len([name for name in node.inputs if name]) - 1, 1)
    return _elementwise_op(node, ctx, {E: combines + (node.op_type == "Mean")})


def trilu(node: Node, ctx: LoweringContext) -> VectorOp:
    """Trilu: one select per output element, keeping it or writing zero by its row and column.
    Its diagonal offset k is a parameter, not an operand."""
    return VectorOp(
        ops=op_counts({E: 1}, ctx.elements(node, node.outputs[0])),
        input_elements=_activation_elements(node, ctx),
        elementwise=True,
    )


def cumsum(node: Node, ctx: LoweringContext) -> VectorOp:
    """CumSum: a running sum along one axis, one add into the running total per element."""
    return VectorOp(
        ops=op_counts({R: 1}, ctx.elements(node, node.inputs[0])),
        input_elements=_activation_elements(node, ctx),
    )


def gelu(node: Node, ctx: LoweringContext) -> VectorOp:
    """Gelu in its erf or tanh approximation form."""
    return _elementwise_op(node, ctx, _GELU_COSTS.get(str(node.attrs.get("approximate", "none")), _GELU_COSTS["none"]))


def power(node: Node, ctx: LoweringContext) -> VectorOp:
    """Pow: a multiply for a constant exponent of 1 or 2, a square root for ½, else exp(y·log x)."""
    exponent = ctx.constant_value(node.inputs[1])
    values = set(np.asarray(exponent).ravel().tolist()) if exponent is not None else set()
    if values and values <= {1.0, 2.0}:
        return _elementwise_op(node, ctx, {E: 1})
    if values == {0.5}:
        return _elementwise_op(node, ctx, {T: 1})
    return _elementwise_op(node, ctx, {T: 2, E: 1})


def batch_normalization(node: Node, ctx: LoweringContext) -> VectorOp:
    """BatchNormalization at inference: a per-channel scale and shift (2 E per element).
    Directly after a GEMM with constant weights it folds into them (see fusion)."""
    op = _elementwise_op(node, ctx, {E: 2}, per_channel=True)
    return replace(op, folds_into_gemm=True)


def _rows(node: Node, ctx: LoweringContext) -> int:
    """Number of rows a row-wise op normalises over, from its axis or channel/group attributes."""
    shape = ctx.shape(node, node.inputs[0])
    if node.op_type == "InstanceNormalization":
        return prod(shape[:2])
    if node.op_type == "GroupNormalization":
        return shape[0] * int(_required(node, ctx, "num_groups"))
    axis = int(node.attrs.get("axis", -1)) % len(shape)
    if node.op_type in ("Softmax", "LogSoftmax"):
        return prod(shape) // shape[axis]
    return prod(shape[:axis])


def rowwise(node: Node, ctx: LoweringContext) -> VectorOp:
    """Softmax and the normalisations: per-element counts plus per-row counts (_ROWWISE_COSTS)."""
    per_in, per_row = _ROWWISE_COSTS[node.op_type]
    data = node.inputs[0]
    period, repeat = _constant_structure(node, ctx, per_channel=node.op_type in _PER_CHANNEL_NORMS)
    return VectorOp(
        ops=add_counts(op_counts(per_in, ctx.elements(node, data)), op_counts(per_row, _rows(node, ctx))),
        input_elements=_activation_elements(node, ctx),
        weight_elements=_constant_elements(node, ctx),
        constant_period=period,
        constant_repeat=repeat,
    )


def reduction(node: Node, ctx: LoweringContext) -> VectorOp:
    """Reductions and global pooling: counts per input and per output element."""
    per_in, per_out = _REDUCTION_COSTS[node.op_type]
    return VectorOp(
        ops=add_counts(
            op_counts(per_in, ctx.elements(node, node.inputs[0])),
            op_counts(per_out, ctx.elements(node, node.outputs[0])),
        ),
        input_elements=_activation_elements(node, ctx),
    )


def pooling(node: Node, ctx: LoweringContext) -> VectorOp:
    """MaxPool and AveragePool: one reduction step per window element per output element
    (AveragePool also divides once per output)."""
    window = prod(int(k) for k in _required(node, ctx, "kernel_shape"))
    per_out = {R: window, E: 1} if node.op_type == "AveragePool" else {R: window}
    return VectorOp(
        ops=op_counts(per_out, ctx.elements(node, node.outputs[0])),
        input_elements=_activation_elements(node, ctx),
    )


def resize(node: Node, ctx: LoweringContext) -> VectorOp:
    """Resize and Upsample: one op per interpolation tap per output element; a tap count of
    2 (linear) or 4 (cubic) per resized axis, 1 for nearest."""
    in_shape, out_shape = ctx.shape(node, node.inputs[0]), ctx.shape(node, node.outputs[0])
    resized_axes = sum(a != b for a, b in zip(in_shape, out_shape))
    taps = _RESIZE_TAPS.get(str(node.attrs.get("mode", "nearest")), 1) ** resized_axes
    return VectorOp(
        ops=op_counts({E: taps}, prod(out_shape)),
        input_elements=_activation_elements(node, ctx),
    )


def data_movement(node: Node, ctx: LoweringContext) -> VectorOp:
    """Transpose, Concat, Slice, Gather, Split, Pad, Expand, Tile, DepthToSpace...: a copy
    of every output element. A Gather from a constant table reads only the gathered rows."""
    outputs = _output_elements(node, ctx)
    table = node.op_type == "Gather" and ctx.is_constant(node.inputs[0])
    return VectorOp(
        ops=op_counts({E: 1}, outputs),
        input_elements=_activation_elements(node, ctx),
        weight_elements=outputs if table else 0,
    )


def cache_append(node: Node, ctx: LoweringContext) -> CacheAppend | None:
    """The KV-cache append a Concat performs (`compiler.workload.CacheAppend`), or None.

    A Concat appends to a cache when its first input is a graph input (the cache the previous
    step left), its other inputs are computed by the network (this step's keys or values)
    and its output is a graph output (the cache the next step receives)."""
    inputs = [name for name in node.inputs if name]
    if len(inputs) < 2 or ctx.is_constant(inputs[0]) or any(ctx.is_constant(name) for name in inputs[1:]):
        return None
    cache = ctx.root(inputs[0])
    if cache not in ctx.graph.inputs or ctx.root(node.outputs[0]) not in {ctx.root(n) for n in ctx.graph.outputs}:
        return None
    shape = ctx.shape(node, node.outputs[0])
    axis = int(_required(node, ctx, "axis")) % len(shape)
    cached = ctx.shape(node, inputs[0])[axis]
    if shape[axis] == cached:
        return None
    return CacheAppend(
        cache=cache, axis=axis, cached=cached, appended=shape[axis] - cached, entry_elements=prod(shape) // shape[axis]
    )


def concat(node: Node, ctx: LoweringContext) -> VectorOp:
    """Concat: a copy of every output element, or, when it appends to a KV cache
    (`cache_append`), a copy of the appended entries only, the cache not being read."""
    append = cache_append(node, ctx)
    if append is None:
        return data_movement(node, ctx)
    return VectorOp(
        ops=op_counts({E: 1}, append.appended_elements),
        input_elements=append.appended_elements,
        cache_append=append,
    )
