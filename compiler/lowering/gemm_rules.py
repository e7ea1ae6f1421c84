"""Rules for the ops that run on the matrix engine: Conv, ConvTranspose, MatMul, Gemm, Einsum.

Every rule returns the exact multiply-accumulates of its node as a GEMM view
``batch × (M×K)·(K×N)``. The operand whose value is known at compile time is the WEIGHT
operand (the N side); when both operands are activations (attention's QKᵀ and PV) the
second one is, and the workload is marked `weight_is_activation`.

Batch dimensions: a batch dimension along which the weight operand is broadcast (size 1 or
absent) is folded into M, because every row of it multiplies the same weight matrix; the
others form `batch`. ConvTranspose is lowered as its equivalent scatter GEMM: each input
pixel's C_in/groups channels times a (C_in/groups) × (K_out/groups·kh·kw) matrix, so
MACs = images·in_h·in_w·C_in·(K_out/groups)·kh·kw, followed by the col2im accumulation of
those products into the output (one elementwise add per GEMM output element).

A bias (Conv's B, Gemm's C) costs one elementwise add per output element in the epilogue.
"""

from __future__ import annotations

from math import prod

from accel_spec.types import OpClass
from compiler.graph import Node
from compiler.lowering.context import LoweringContext, node_error
from compiler.lowering.ops import GemmOp, add_counts, op_counts
from compiler.workload import ConvGeometry, GemmShape

_ADD = {OpClass.ELEMENTWISE: 1}


def _optional_input(node: Node, index: int) -> str:
    """The name of an optional input, or '' when omitted."""
    return node.inputs[index] if len(node.inputs) > index else ""


def _as_2d(values: tuple[int, ...] | list[int], fill: int) -> tuple[int, int]:
    """A 1-D convolution's per-axis attribute as the (h, w) pair of a 2-D one."""
    values = tuple(int(v) for v in values)
    return (fill, values[0]) if len(values) == 1 else (values[0], values[1])


def conv(node: Node, ctx: LoweringContext) -> GemmOp:
    """Conv (1-D and 2-D, grouped and depthwise) as `groups` GEMMs of the im2col matrix:
    M = images·out_h·out_w, K = (C/groups)·kh·kw, N = K_out/groups, batch = groups."""
    x_shape = ctx.shape(node, node.inputs[0])
    w_shape = ctx.shape(node, node.inputs[1])
    y_shape = ctx.shape(node, node.outputs[0])
    spatial = len(x_shape) - 2
    if spatial not in (1, 2):
        raise node_error(ctx.graph, node, f"{spatial}-D convolution is not supported (only 1-D and 2-D)")
    groups = int(node.attrs.get("group", 1))
    images, in_c = x_shape[0], x_shape[1]
    out_c = w_shape[0]
    if in_c % groups or out_c % groups or w_shape[1] * groups != in_c:
        raise node_error(
            ctx.graph, node, f"weight shape {list(w_shape)} does not match {in_c} input channels in {groups} groups"
        )
    in_h, in_w = _as_2d(x_shape[2:], 1)
    out_h, out_w = _as_2d(y_shape[2:], 1)
    kernel_h, kernel_w = _as_2d(w_shape[2:], 1)
    stride_h, stride_w = _as_2d(node.attrs.get("strides", (1,) * spatial), 1)
    dilation_h, dilation_w = _as_2d(node.attrs.get("dilations", (1,) * spatial), 1)
    geometry = ConvGeometry(
        images=images, in_h=in_h, in_w=in_w, in_c=in_c, out_h=out_h, out_w=out_w, out_c=out_c,
        kernel_h=kernel_h, kernel_w=kernel_w, stride_h=stride_h, stride_w=stride_w,
        dilation_h=dilation_h, dilation_w=dilation_w, groups=groups,
    )  # fmt: skip
    gemm = GemmShape(m=images * out_h * out_w, k=(in_c // groups) * kernel_h * kernel_w, n=out_c // groups, batch=groups)
    bias = _optional_input(node, 2)
    weight_is_activation = not ctx.is_constant(node.inputs[1])
    return GemmOp(
        gemm=gemm,
        input_elements=prod(x_shape),
        weight_elements=prod(w_shape),
        epilogue=op_counts(_ADD, prod(y_shape) * bool(bias)),
        conv=geometry,
        weight_is_activation=weight_is_activation,
        side_input_elements=ctx.elements(node, bias) if bias and not ctx.is_constant(bias) else 0,
        has_bias=bool(bias),
        folds_batchnorm=not weight_is_activation,
    )


def conv_transpose(node: Node, ctx: LoweringContext) -> GemmOp:
    """ConvTranspose (1-D and 2-D) as the scatter GEMM described in the module docstring:
    M = images·in_h·in_w, K = C_in/groups, N = (K_out/groups)·kh·kw, batch = groups."""
    x_shape = ctx.shape(node, node.inputs[0])
    w_shape = ctx.shape(node, node.inputs[1])
    y_shape = ctx.shape(node, node.outputs[0])
    spatial = len(x_shape) - 2
    if spatial not in (1, 2):
        raise node_error(ctx.graph, node, f"{spatial}-D transposed convolution is not supported (only 1-D and 2-D)")
    groups = int(node.attrs.get("group", 1))
    images, in_c = x_shape[0], x_shape[1]
    if in_c % groups or w_shape[0] != in_c:
        raise node_error(
            ctx.graph, node, f"weight shape {list(w_shape)} does not match {in_c} input channels in {groups} groups"
        )
    gemm = GemmShape(m=images * prod(x_shape[2:]), k=in_c // groups, n=w_shape[1] * prod(w_shape[2:]), batch=groups)
    bias = _optional_input(node, 2)
    col2im = op_counts(_ADD, gemm.batch * gemm.m * gemm.n)
    weight_is_activation = not ctx.is_constant(node.inputs[1])
    return GemmOp(
        gemm=gemm,
        input_elements=prod(x_shape),
        weight_elements=prod(w_shape),
        epilogue=add_counts(col2im, op_counts(_ADD, prod(y_shape) * bool(bias))),
        weight_is_activation=weight_is_activation,
        has_bias=bool(bias),
        folds_batchnorm=not weight_is_activation,
    )


def _product_view(
    rows_batch: tuple[int, ...], rows: int, k: int, cols_batch: tuple[int, ...], cols: int
) -> GemmShape:
    """GEMM view of [..., rows, k]·[..., k, cols] with numpy broadcasting of the batch dims;
    dims along which the cols (weight) operand broadcasts are folded into M."""
    depth = max(len(rows_batch), len(cols_batch))
    rows_batch = (1,) * (depth - len(rows_batch)) + rows_batch
    cols_batch = (1,) * (depth - len(cols_batch)) + cols_batch
    m, batch = rows, 1
    for row_size, col_size in zip(rows_batch, cols_batch):
        if col_size == 1:
            m *= row_size
        else:
            batch *= col_size
    return GemmShape(m=m, k=k, n=cols, batch=batch)


def _split_matrix(shape: tuple[int, ...], vector_is_row: bool) -> tuple[tuple[int, ...], int, int]:
    """(batch dims, rows, cols) of a MatMul operand; a 1-D operand is a row or column vector."""
    if len(shape) == 1:
        return ((), 1, shape[0]) if vector_is_row else ((), shape[0], 1)
    return shape[:-2], shape[-2], shape[-1]


def _batch_compatible(a: tuple[int, ...], b: tuple[int, ...]) -> bool:
    """True when two batch shapes broadcast against each other."""
    return all(x == y or 1 in (x, y) for x, y in zip(reversed(a), reversed(b)))


def matmul(node: Node, ctx: LoweringContext) -> GemmOp:
    """MatMul with numpy semantics: by a weight (M = product of leading dims · rows), or of two
    activations (batch = broadcast batch dims, weight_is_activation)."""
    a, b = node.inputs[0], node.inputs[1]
    a_shape, b_shape = ctx.shape(node, a), ctx.shape(node, b)
    a_batch, m, k = _split_matrix(a_shape, vector_is_row=True)
    b_batch, k_b, n = _split_matrix(b_shape, vector_is_row=False)
    if k != k_b or not _batch_compatible(a_batch, b_batch):
        raise node_error(ctx.graph, node, f"operand shapes {list(a_shape)} and {list(b_shape)} cannot be multiplied")
    if ctx.is_constant(a) and not ctx.is_constant(b):
        gemm = _product_view(b_batch, n, k, a_batch, m)
        return GemmOp(gemm=gemm, input_elements=prod(b_shape), weight_elements=prod(a_shape))
    return GemmOp(
        gemm=_product_view(a_batch, m, k, b_batch, n),
        input_elements=prod(a_shape),
        weight_elements=prod(b_shape),
        weight_is_activation=not ctx.is_constant(b),
    )


def gemm(node: Node, ctx: LoweringContext) -> GemmOp:
    """Gemm: alpha·op(A)·op(B) + beta·C with transA/transB. Scalings fold into constant
    operands; otherwise each costs one elementwise op per output element."""
    a, b, c = node.inputs[0], node.inputs[1], _optional_input(node, 2)
    a_shape, b_shape = ctx.shape(node, a), ctx.shape(node, b)
    if len(a_shape) != 2 or len(b_shape) != 2:
        raise node_error(ctx.graph, node, f"Gemm needs 2-D operands, got {list(a_shape)} and {list(b_shape)}")
    m, k = reversed(a_shape) if node.attrs.get("transA", 0) else a_shape
    k_b, n = reversed(b_shape) if node.attrs.get("transB", 0) else b_shape
    if k != k_b:
        raise node_error(ctx.graph, node, f"operand shapes {list(a_shape)} and {list(b_shape)} cannot be multiplied")
    outputs = m * n
    swapped = ctx.is_constant(a) and not ctx.is_constant(b)
    weight_is_activation = not swapped and not ctx.is_constant(b)
    scale_a = float(node.attrs.get("alpha", 1.0)) != 1.0 and not ctx.is_constant(a) and not ctx.is_constant(b)
    scale_c = bool(c) and float(node.attrs.get("beta", 1.0)) != 1.0 and not ctx.is_constant(c)
    epilogue = op_counts(_ADD, outputs * (bool(c) + scale_a + scale_c))
    return GemmOp(
        gemm=GemmShape(m=n, k=k, n=m) if swapped else GemmShape(m=m, k=k, n=n),
        input_elements=prod(b_shape) if swapped else prod(a_shape),
        weight_elements=prod(a_shape) if swapped else prod(b_shape),
        epilogue=epilogue,
        weight_is_activation=weight_is_activation,
        side_input_elements=ctx.elements(node, c) if c and not ctx.is_constant(c) else 0,
        has_bias=bool(c),
        folds_batchnorm=not swapped and not weight_is_activation,
    )


def _expand_ellipsis(term: str, count: int) -> str:
    """Replace '...' by `count` private symbols, one per broadcast dimension, right-aligned."""
    return term.replace("...", "".join(chr(0x100 + i) for i in reversed(range(count))))


def _einsum_terms(node: Node, ctx: LoweringContext, shapes: list[tuple[int, ...]]) -> tuple[str, str, str]:
    """The two input subscripts and the output subscript, with ellipses expanded."""
    equation = str(node.attrs.get("equation", "")).replace(" ", "")
    lhs, arrow, out = equation.partition("->")
    terms = lhs.split(",")
    if len(terms) != 2 or len(shapes) != 2:
        raise node_error(ctx.graph, node, f"Einsum '{equation}' is not a product of two operands")
    if not arrow:
        letters = [s for s in lhs if s.isalpha()]
        once = sorted(s for s in set(letters) if letters.count(s) == 1)
        out = ("..." if "..." in lhs else "") + "".join(once)
    counts = [len(shape) - (len(term) - 3) if "..." in term else 0 for term, shape in zip(terms, shapes)]
    a, b = (_expand_ellipsis(term, count) for term, count in zip(terms, counts))
    return a, b, _expand_ellipsis(out, max(counts))


def einsum(node: Node, ctx: LoweringContext) -> GemmOp:
    """Einsum of two operands whose indices are batch (in both and the output), M (first
    operand only), N (second only) or K (both, summed): attention QKᵀ/PV and linear layers.
    Any other equation (one or three operands, a repeated index, an index summed within one
    operand) is an error naming the equation."""
    a, b = node.inputs[0], node.inputs[1]
    shapes = [ctx.shape(node, a), ctx.shape(node, b)]
    sub_a, sub_b, sub_out = _einsum_terms(node, ctx, shapes)
    equation = node.attrs.get("equation", "")
    if ctx.is_constant(a) and not ctx.is_constant(b):
        (sub_a, sub_b), shapes, (a, b) = (sub_b, sub_a), shapes[::-1], (b, a)
    sizes_a, sizes_b = dict(zip(sub_a, shapes[0])), dict(zip(sub_b, shapes[1]))
    malformed = (
        len(sub_a) != len(shapes[0])
        or len(sub_b) != len(shapes[1])
        or len(set(sub_a)) != len(sub_a)
        or len(set(sub_b)) != len(sub_b)
        or not set(sub_out) <= set(sub_a) | set(sub_b)
        or (set(sub_a) ^ set(sub_b)) - set(sub_out)
    )
    if malformed:
        raise node_error(ctx.graph, node, f"Einsum '{equation}' is not a supported matrix product")
    m = n = k = batch = 1
    for symbol in set(sub_a) | set(sub_b):
        size_a, size_b = sizes_a.get(symbol, 1), sizes_b.get(symbol, 1)
        if size_a != size_b and 1 not in (size_a, size_b):
            raise node_error(ctx.graph, node, f"Einsum '{equation}': index sizes {size_a} and {size_b} differ")
        if symbol not in sizes_b:
            m *= size_a
        elif symbol not in sizes_a:
            n *= size_b
        elif symbol not in sub_out:
            k *= max(size_a, size_b)
        elif size_b == 1:
            m *= size_a
        else:
            batch *= size_b
    return GemmOp(
        gemm=GemmShape(m=m, k=k, n=n, batch=batch),
        input_elements=prod(shapes[0]),
        weight_elements=prod(shapes[1]),
        weight_is_activation=not ctx.is_constant(b),
    )
