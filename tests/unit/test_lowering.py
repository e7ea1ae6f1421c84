"""Lowering of the matrix-engine ops: GEMM views and MACs against hand computation."""

from __future__ import annotations

from math import prod

import pytest
from lowering_graphs import SOURCE, GraphBuilder, conv_out

from accel_spec.types import OpClass
from compiler.lowering import lower
from compiler.workload import ConvGeometry, GemmShape, WorkloadKind
from tessera.errors import InputError

E = OpClass.ELEMENTWISE


def _single(graph_builder: GraphBuilder):
    (workload,) = lower(graph_builder.build())
    return workload


CONV_CASES = {
    # name: (x shape, weight shape, stride, pad, dilation, groups)
    "plain": ((1, 16, 8, 8), (32, 16, 3, 3), 1, 1, 1, 1),
    "strided": ((2, 16, 9, 9), (32, 16, 3, 3), 2, 0, 1, 1),
    "padded": ((1, 8, 10, 10), (8, 8, 5, 5), 1, 2, 1, 1),
    "dilated": ((1, 4, 12, 12), (4, 4, 3, 3), 1, 0, 2, 1),
    "grouped": ((1, 8, 6, 6), (12, 4, 3, 3), 1, 1, 1, 2),
    "depthwise": ((1, 32, 7, 7), (32, 1, 3, 3), 1, 1, 1, 32),
    "pointwise": ((1, 64, 7, 7), (128, 64, 1, 1), 1, 0, 1, 1),
}


@pytest.mark.parametrize("case", CONV_CASES)
def test_conv_gemm_view_and_macs(case: str) -> None:
    (n, c, h, w), (k_out, c_per_group, kh, kw), stride, pad, dilation, groups = CONV_CASES[case]
    out_h = conv_out(h, kh, stride, pad, dilation)
    out_w = conv_out(w, kw, stride, pad, dilation)
    b = GraphBuilder()
    x = b.input("x", (n, c, h, w))
    b.node(
        "Conv", [x, b.weight("w", (k_out, c_per_group, kh, kw))], (n, k_out, out_h, out_w), name="conv",
        strides=[stride, stride], pads=[pad] * 4, dilations=[dilation, dilation], group=groups,
    )  # fmt: skip
    workload = _single(b)

    assert workload.kind is WorkloadKind.GEMM
    assert workload.gemm == GemmShape(m=n * out_h * out_w, k=c_per_group * kh * kw, n=k_out // groups, batch=groups)
    # every output element is a dot product over its group's C/groups·kh·kw inputs
    assert workload.macs == n * k_out * out_h * out_w * (c // groups) * kh * kw
    assert workload.conv == ConvGeometry(
        images=n, in_h=h, in_w=w, in_c=c, out_h=out_h, out_w=out_w, out_c=k_out, kernel_h=kh, kernel_w=kw,
        stride_h=stride, stride_w=stride, dilation_h=dilation, dilation_w=dilation, groups=groups,
    )  # fmt: skip
    assert workload.input_elements == n * c * h * w
    assert workload.weight_elements == k_out * c_per_group * kh * kw
    assert workload.output_elements == n * k_out * out_h * out_w
    assert not workload.weight_is_activation
    assert workload.vector_ops == {}


def test_conv_1d_is_a_2d_conv_of_height_one() -> None:
    b = GraphBuilder()
    x = b.input("x", (2, 8, 20))
    b.node("Conv", [x, b.weight("w", (16, 8, 5))], (2, 16, conv_out(20, 5)), strides=[1])
    workload = _single(b)
    assert workload.gemm == GemmShape(m=2 * 16, k=8 * 5, n=16)
    assert (workload.conv.in_h, workload.conv.out_h, workload.conv.kernel_h) == (1, 1, 1)
    assert (workload.conv.in_w, workload.conv.out_w, workload.conv.kernel_w) == (20, 16, 5)


def test_conv_bias_is_one_add_per_output_element() -> None:
    b = GraphBuilder()
    x = b.input("x", (1, 4, 6, 6))
    b.node("Conv", [x, b.weight("w", (8, 4, 1, 1)), b.weight("bias", (8,))], (1, 8, 6, 6))
    assert _single(b).vector_ops == {E: 8 * 36}


def test_3d_conv_is_an_error_naming_the_node() -> None:
    b = GraphBuilder()
    x = b.input("x", (1, 4, 6, 6, 6))
    b.node("Conv", [x, b.weight("w", (8, 4, 3, 3, 3))], (1, 8, 4, 4, 4), name="conv3d")
    with pytest.raises(InputError) as error:
        lower(b.build())
    assert error.value.problems[0].location == "node 'conv3d' (Conv)"
    assert "3-D convolution" in str(error.value) and SOURCE in str(error.value)


@pytest.mark.parametrize("groups", [1, 2])
def test_conv_transpose_is_the_scatter_gemm(groups: int) -> None:
    n, c_in, h, w, k_out, kernel, stride = 1, 8, 4, 4, 4, 3, 2
    out = (h - 1) * stride + kernel
    b = GraphBuilder()
    x = b.input("x", (n, c_in, h, w))
    b.node(
        "ConvTranspose", [x, b.weight("w", (c_in, k_out // groups, kernel, kernel))], (n, k_out, out, out),
        strides=[stride, stride], group=groups,
    )  # fmt: skip
    workload = _single(b)
    assert workload.macs == n * h * w * c_in * (k_out // groups) * kernel * kernel
    assert workload.gemm == GemmShape(
        m=n * h * w, k=c_in // groups, n=(k_out // groups) * kernel * kernel, batch=groups
    )
    # col2im: every product of the scatter GEMM is added into the output once
    assert workload.vector_ops == {E: n * h * w * k_out * kernel * kernel}


MATMUL_CASES = {
    # name: (A shape, B shape, B is a weight, expected view)
    "weight": ((2, 5, 16), (16, 8), True, GemmShape(m=10, k=16, n=8)),
    "vector_times_weight": ((16,), (16, 8), True, GemmShape(m=1, k=16, n=8)),
    "matrix_times_vector": ((3, 16), (16,), True, GemmShape(m=3, k=16, n=1)),
    "batched_weight": ((4, 5, 16), (4, 16, 8), True, GemmShape(m=5, k=16, n=8, batch=4)),
    "weight_broadcast_over_leading_dim": ((2, 3, 5, 16), (3, 16, 8), True, GemmShape(m=10, k=16, n=8, batch=3)),
    "attention_scores": ((2, 4, 10, 16), (2, 4, 16, 12), False, GemmShape(m=10, k=16, n=12, batch=8)),
    "attention_values": ((2, 4, 10, 12), (2, 4, 12, 16), False, GemmShape(m=10, k=12, n=16, batch=8)),
    "keys_broadcast_over_images": ((2, 4, 10, 16), (1, 4, 16, 12), False, GemmShape(m=20, k=16, n=12, batch=4)),
    "activation_broadcast": ((1, 4, 10, 16), (2, 4, 16, 12), False, GemmShape(m=10, k=16, n=12, batch=8)),
}


def _broadcast_matmul_macs(a: tuple[int, ...], b: tuple[int, ...]) -> int:
    """numpy matmul MACs: output elements × K, with 1-D operands promoted and dropped."""
    a2 = (1, *a) if len(a) == 1 else a
    b2 = (*b, 1) if len(b) == 1 else b
    depth = max(len(a2), len(b2)) - 2
    batch = [max(x, y) for x, y in zip((1,) * (depth + 2 - len(a2)) + a2[:-2], (1,) * (depth + 2 - len(b2)) + b2[:-2])]
    return prod(batch) * a2[-2] * b2[-1] * a2[-1]


@pytest.mark.parametrize("case", MATMUL_CASES)
def test_matmul_broadcast_cases(case: str) -> None:
    a_shape, b_shape, b_is_weight, view = MATMUL_CASES[case]
    b = GraphBuilder()
    a = b.input("a", a_shape)
    second = b.weight("b", b_shape) if b_is_weight else b.input("b", b_shape)
    b.node("MatMul", [a, second], (1,))
    workload = _single(b)
    assert workload.gemm == view
    assert workload.macs == _broadcast_matmul_macs(a_shape, b_shape)
    assert workload.weight_is_activation is not b_is_weight
    assert (workload.input_elements, workload.weight_elements) == (prod(a_shape), prod(b_shape))


def test_matmul_by_a_constant_first_operand_makes_it_the_weight() -> None:
    b = GraphBuilder()
    x = b.input("x", (2, 16, 5))
    b.node("MatMul", [b.weight("w", (8, 16)), x], (2, 8, 5))
    workload = _single(b)
    assert workload.gemm == GemmShape(m=2 * 5, k=16, n=8)
    assert (workload.input_elements, workload.weight_elements) == (160, 128)
    assert not workload.weight_is_activation


def test_matmul_by_a_weight_transposed_at_compile_time() -> None:
    b = GraphBuilder()
    x = b.input("x", (4, 32))
    w_t = b.node("Transpose", [b.weight("w", (16, 32))], (32, 16), name="transpose_w", perm=[1, 0])
    b.node("MatMul", [x, w_t], (4, 16), name="mm")
    (workload,) = lower(b.build())
    assert workload.name == "mm" and not workload.weight_is_activation


@pytest.mark.parametrize(
    ("a_shape", "b_shape", "trans_a", "trans_b"),
    [((4, 32), (32, 16), 0, 0), ((4, 32), (16, 32), 0, 1), ((32, 4), (32, 16), 1, 0), ((32, 4), (16, 32), 1, 1)],
)
def test_gemm_transposes(a_shape, b_shape, trans_a: int, trans_b: int) -> None:
    b = GraphBuilder()
    a = b.input("a", a_shape)
    b.node("Gemm", [a, b.weight("b", b_shape), b.weight("c", (16,))], (4, 16), transA=trans_a, transB=trans_b)
    workload = _single(b)
    assert workload.gemm == GemmShape(m=4, k=32, n=16)
    assert workload.macs == 4 * 32 * 16
    assert workload.vector_ops == {E: 4 * 16}  # the bias


def test_gemm_with_an_activation_bias_reads_it_as_a_side_input() -> None:
    b = GraphBuilder()
    a, c = b.input("a", (4, 32)), b.input("c", (4, 16))
    b.node("Gemm", [a, b.weight("b", (16, 32)), c], (4, 16), transB=1)
    assert _single(b).side_input_elements == 64


EINSUM_CASES = {
    "bhqd,bhkd->bhqk": ((2, 4, 10, 16), (2, 4, 12, 16), False, GemmShape(m=10, k=16, n=12, batch=8)),
    "bhqk,bhkd->bhqd": ((2, 4, 10, 12), (2, 4, 12, 16), False, GemmShape(m=10, k=12, n=16, batch=8)),
    "bsd,df->bsf": ((2, 7, 16), (16, 32), True, GemmShape(m=14, k=16, n=32)),
    "...ij,jk->...ik": ((3, 5, 16), (16, 8), True, GemmShape(m=15, k=16, n=8)),
    "bij,bjk": ((3, 5, 16), (3, 16, 8), False, GemmShape(m=5, k=48, n=8)),  # implicit output "ik" sums b
}


@pytest.mark.parametrize("equation", EINSUM_CASES)
def test_einsum_products(equation: str) -> None:
    a_shape, b_shape, b_is_weight, view = EINSUM_CASES[equation]
    b = GraphBuilder()
    a = b.input("a", a_shape)
    second = b.weight("b", b_shape) if b_is_weight else b.input("b", b_shape)
    b.node("Einsum", [a, second], (1,), equation=equation)
    workload = _single(b)
    assert workload.gemm == view
    assert workload.weight_is_activation is not b_is_weight


@pytest.mark.parametrize(
    ("equation", "shapes"),
    [
        ("ii,ij->ij", [(4, 4), (4, 4)]),  # a repeated index (a diagonal)
        ("bij,bjk,bkl->bil", [(2, 3, 4)] * 3),  # three operands
        ("bij,bkl->bil", [(2, 3, 4), (2, 4, 5)]),  # j and k summed within one operand
    ],
)
def test_unsupported_einsum_names_the_equation(equation: str, shapes) -> None:
    b = GraphBuilder()
    names = [b.input(f"x{i}", shape) for i, shape in enumerate(shapes)]
    b.node("Einsum", names, (1,), name="ein", equation=equation)
    with pytest.raises(InputError) as error:
        lower(b.build())
    assert error.value.problems[0].location == "node 'ein' (Einsum)"
    assert equation in error.value.problems[0].message
