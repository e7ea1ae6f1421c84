"""Shape rules, one hand-built graph per op family, against hand-computed shapes."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from compiler.frontend import graph_from_model
from compiler.frontend.registry import is_supported

F = TensorProto.FLOAT


def weight(name: str, dims: list[int]) -> TensorProto:
    """A weight declared by dims only (no data), as a stripped model stores it."""
    return TensorProto(name=name, data_type=F, dims=dims)


def const(name: str, values: list | np.ndarray, dtype: type = np.int64) -> TensorProto:
    return numpy_helper.from_array(np.asarray(values, dtype=dtype), name)


def run(
    node: onnx.NodeProto,
    inputs: dict[str, list[int]],
    initializers: list[TensorProto] = (),
    opset: int = 18,
) -> list[tuple[int, ...]]:
    """Shapes of `node`'s outputs when it is the only node of a graph."""
    graph = helper.make_graph(
        [node],
        "g",
        [helper.make_tensor_value_info(n, F, s) for n, s in inputs.items()],
        [helper.make_tensor_value_info(o, F, None) for o in node.output if o],
        list(initializers),
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    g = graph_from_model(model, "test.onnx")
    shapes = [g.tensor(o).shape for o in node.output if o]
    for ours, reference in zip(shapes, onnx_reference_shapes(model)):
        assert reference is None or ours == reference
    return shapes


def onnx_reference_shapes(model: onnx.ModelProto) -> list[tuple[int, ...] | None]:
    """Output shapes from onnx's own shape inference, None where it leaves a dim unknown."""
    inferred = onnx.shape_inference.infer_shapes(model, data_prop=True)
    result = []
    for vi in inferred.graph.output:
        dims = vi.type.tensor_type.shape.dim
        static = vi.type.tensor_type.HasField("shape") and all(
            d.HasField("dim_value") for d in dims
        )
        result.append(tuple(d.dim_value for d in dims) if static else None)
    return result


def test_conv_padding_stride_group_and_same_padding() -> None:
    node = helper.make_node("Conv", ["x", "w"], ["y"], strides=[2, 2], pads=[3, 3, 3, 3], group=1)
    assert run(node, {"x": [1, 3, 224, 224]}, [weight("w", [64, 3, 7, 7])]) == [(1, 64, 112, 112)]
    dw = helper.make_node(
        "Conv", ["x", "w"], ["y"], group=32, auto_pad="SAME_UPPER", strides=[2, 2]
    )
    assert run(dw, {"x": [2, 32, 15, 15]}, [weight("w", [32, 1, 3, 3])]) == [(2, 32, 8, 8)]
    dil = helper.make_node("Conv", ["x", "w"], ["y"], dilations=[2, 2])
    assert run(dil, {"x": [1, 8, 10, 10]}, [weight("w", [4, 8, 3, 3])]) == [(1, 4, 6, 6)]


def test_conv_transpose_doubles_resolution() -> None:
    node = helper.make_node(
        "ConvTranspose", ["x", "w"], ["y"], strides=[2, 2], pads=[1, 1, 1, 1], output_padding=[1, 1]
    )
    # (7 - 1) * 2 + 1 + (3 - 1) + 1 - 2 = 14
    assert run(node, {"x": [1, 16, 7, 7]}, [weight("w", [16, 8, 3, 3])]) == [(1, 8, 14, 14)]


@pytest.mark.parametrize(
    ("ceil_mode", "expected"),
    [(0, 56), (1, 57)],
)
def test_max_pool_floor_and_ceil_mode(ceil_mode: int, expected: int) -> None:
    node = helper.make_node(
        "MaxPool", ["x"], ["y"], kernel_shape=[3, 3], strides=[2, 2], ceil_mode=ceil_mode
    )
    # (114 - 3) / 2 = 55.5 windows past the first: floor gives 56 outputs, ceil gives 57
    assert run(node, {"x": [1, 8, 114, 114]}) == [(1, 8, expected, expected)]


def test_global_pool_and_flatten_and_gemm() -> None:
    pool = helper.make_node("GlobalAveragePool", ["x"], ["y"])
    assert run(pool, {"x": [4, 512, 7, 7]}) == [(4, 512, 1, 1)]
    flat = helper.make_node("Flatten", ["x"], ["y"], axis=1)
    assert run(flat, {"x": [4, 512, 1, 1]}) == [(4, 512)]
    gemm = helper.make_node("Gemm", ["x", "w", "b"], ["y"], transB=1)
    inits = [weight("w", [1000, 512]), weight("b", [1000])]
    assert run(gemm, {"x": [4, 512]}, inits) == [(4, 1000)]


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ([2, 128, 768], [768, 3072], (2, 128, 3072)),
        ([2, 12, 128, 64], [2, 12, 64, 128], (2, 12, 128, 128)),
        ([768], [768, 10], (10,)),
        ([5, 1, 4, 3], [7, 3, 2], (5, 7, 4, 2)),
    ],
)
def test_matmul_numpy_semantics(a: list[int], b: list[int], expected: tuple[int, ...]) -> None:
    node = helper.make_node("MatMul", ["a", "b"], ["y"])
    assert run(node, {"a": a, "b": b}) == [expected]
    assert expected == np.matmul(np.zeros(a), np.zeros(b)).shape


@pytest.mark.parametrize(
    ("equation", "shapes", "expected"),
    [
        ("bhqd,bhkd->bhqk", [[1, 2, 5, 8], [1, 2, 7, 8]], (1, 2, 5, 7)),
        ("ij,jk", [[3, 4], [4, 5]], (3, 5)),
        ("...ij,...jk->...ik", [[2, 3, 4], [4, 6]], (2, 3, 6)),
    ],
)
def test_einsum_matches_numpy(equation: str, shapes: list, expected: tuple[int, ...]) -> None:
    names = [f"in{i}" for i in range(len(shapes))]
    node = helper.make_node("Einsum", names, ["y"], equation=equation)
    assert run(node, dict(zip(names, shapes))) == [expected]
    assert np.einsum(equation, *(np.zeros(s) for s in shapes)).shape == expected


def test_broadcasting_binary_and_where() -> None:
    add = helper.make_node("Add", ["a", "b"], ["y"])
    assert run(add, {"a": [8, 1, 6, 1], "b": [7, 1, 5]}) == [(8, 7, 6, 5)]
    where = helper.make_node("Where", ["c", "a", "b"], ["y"])
    assert run(where, {"c": [1, 1, 4, 4], "a": [2, 3, 4, 4], "b": []}) == [(2, 3, 4, 4)]


def test_normalisations_keep_shape_and_layer_norm_statistics() -> None:
    ln = helper.make_node("LayerNormalization", ["x", "s", "b"], ["y", "mean", "inv"], axis=-1)
    inits = [weight("s", [768]), weight("b", [768])]
    assert run(ln, {"x": [2, 128, 768]}, inits) == [(2, 128, 768), (2, 128, 1), (2, 128, 1)]
    bn = helper.make_node("BatchNormalization", ["x", "s", "b", "m", "v"], ["y"])
    inits = [weight(n, [16]) for n in "sbmv"]
    assert run(bn, {"x": [1, 16, 8, 8]}, inits) == [(1, 16, 8, 8)]


def test_reductions_with_axes_attribute_and_input() -> None:
    mean = helper.make_node("ReduceMean", ["x"], ["y"], axes=[2, 3], keepdims=1)
    assert run(mean, {"x": [1, 64, 7, 7]}, opset=17) == [(1, 64, 1, 1)]
    total = helper.make_node("ReduceSum", ["x", "axes"], ["y"], keepdims=0)
    assert run(total, {"x": [2, 3, 4]}, [const("axes", [-1])]) == [(2, 3)]
    everything = helper.make_node("ReduceMax", ["x"], ["y"], keepdims=0)
    assert run(everything, {"x": [2, 3, 4]}) == [()]


def test_reshape_with_zero_and_minus_one() -> None:
    node = helper.make_node("Reshape", ["x", "shape"], ["y"])
    inits = [const("shape", [0, 0, 12, -1])]
    assert run(node, {"x": [2, 128, 768]}, inits) == [(2, 128, 12, 64)]


def test_transpose_squeeze_unsqueeze_concat_split() -> None:
    tr = helper.make_node("Transpose", ["x"], ["y"], perm=[0, 2, 1, 3])
    assert run(tr, {"x": [2, 128, 12, 64]}) == [(2, 12, 128, 64)]
    sq = helper.make_node("Squeeze", ["x", "axes"], ["y"])
    assert run(sq, {"x": [1, 3, 1, 5]}, [const("axes", [0, 2])]) == [(3, 5)]
    unsq = helper.make_node("Unsqueeze", ["x", "axes"], ["y"])
    assert run(unsq, {"x": [3, 5]}, [const("axes", [0, -1])]) == [(1, 3, 5, 1)]
    cat = helper.make_node("Concat", ["a", "b"], ["y"], axis=1)
    assert run(cat, {"a": [1, 64, 28, 28], "b": [1, 32, 28, 28]}) == [(1, 96, 28, 28)]
    split = helper.make_node("Split", ["x"], ["p", "q", "r"], axis=-1, num_outputs=3)
    assert run(split, {"x": [2, 10]}) == [(2, 4), (2, 4), (2, 2)]
    split13 = helper.make_node("Split", ["x", "sizes"], ["p", "q"], axis=1)
    assert run(split13, {"x": [2, 10]}, [const("sizes", [3, 7])], opset=13) == [(2, 3), (2, 7)]


def test_slice_clamps_like_python() -> None:
    node = helper.make_node("Slice", ["x", "s", "e", "a", "st"], ["y"])
    inits = [
        const("s", [1, -1]),
        const("e", [2**63 - 1, -(2**63)]),
        const("a", [1, 2]),
        const("st", [2, -1]),
    ]
    # axis 1: range(1, 10, 2) has 5 elements; axis 2: reversed whole axis, 6 elements
    assert run(node, {"x": [4, 10, 6]}, inits) == [(4, 5, 6)]


def test_gather_family_and_expand_tile_pad() -> None:
    gather = helper.make_node("Gather", ["table", "ids"], ["y"], axis=0)
    assert run(gather, {"ids": [2, 128]}, [weight("table", [30522, 768])]) == [(2, 128, 768)]
    elements = helper.make_node("GatherElements", ["x", "i"], ["y"], axis=1)
    assert run(elements, {"x": [3, 9], "i": [3, 2]}) == [(3, 2)]
    expand = helper.make_node("Expand", ["x", "shape"], ["y"])
    assert run(expand, {"x": [3, 1]}, [const("shape", [2, 1, 6])]) == [(2, 3, 6)]
    tile = helper.make_node("Tile", ["x", "r"], ["y"])
    assert run(tile, {"x": [2, 3]}, [const("r", [2, 4])]) == [(4, 12)]
    pad = helper.make_node("Pad", ["x", "pads"], ["y"])
    pads = [const("pads", [0, 0, 1, 2, 0, 0, 3, 4])]
    assert run(pad, {"x": [1, 3, 5, 5]}, pads) == [(1, 3, 9, 11)]


def test_resize_by_scales_and_by_sizes() -> None:
    by_scale = helper.make_node("Resize", ["x", "", "scales"], ["y"], mode="nearest")
    inits = [const("scales", [1, 1, 2, 2], np.float32)]
    assert run(by_scale, {"x": [1, 8, 14, 14]}, inits) == [(1, 8, 28, 28)]
    by_size = helper.make_node("Resize", ["x", "", "", "sizes"], ["y"], mode="linear")
    assert run(by_size, {"x": [1, 8, 14, 14]}, [const("sizes", [1, 8, 224, 224])]) == [
        (1, 8, 224, 224)
    ]


def test_depth_to_space_and_space_to_depth_invert() -> None:
    d2s = helper.make_node("DepthToSpace", ["x"], ["y"], blocksize=2)
    assert run(d2s, {"x": [1, 16, 5, 7]}) == [(1, 4, 10, 14)]
    s2d = helper.make_node("SpaceToDepth", ["x"], ["y"], blocksize=2)
    assert run(s2d, {"x": [1, 4, 10, 14]}) == [(1, 16, 5, 7)]


def test_cast_changes_dtype_only() -> None:
    node = helper.make_node("Cast", ["x"], ["y"], to=TensorProto.FLOAT16)
    graph = helper.make_graph(
        [node], "g", [helper.make_tensor_value_info("x", F, [2, 3])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT16, None)],
    )
    g = graph_from_model(helper.make_model(graph), "test.onnx")
    assert g.tensor("y").shape == (2, 3)
    assert g.tensor("y").dtype == "float16"
    assert g.tensor("x").dtype == "float32"


BRIEF_OPS = """Conv ConvTranspose Gemm MatMul BatchNormalization Relu Clip Sigmoid HardSigmoid
HardSwish Tanh Erf Gelu Softplus Mish LeakyRelu PRelu Elu Selu Add Sub Mul Div Pow Sqrt
Reciprocal Neg Exp Log Abs Max Min Mean Sum Where Equal Less Greater Not And Or Cast CastLike
MaxPool AveragePool GlobalAveragePool GlobalMaxPool Flatten Reshape Transpose Squeeze Unsqueeze
Concat Split Slice Gather GatherElements ScatterND Expand Tile Pad Resize Softmax LogSoftmax
LayerNormalization GroupNormalization InstanceNormalization ReduceMean ReduceSum ReduceMax
ReduceMin ReduceProd ReduceL2 ArgMax Shape Size ConstantOfShape Range Trilu Einsum CumSum
Dropout Identity DepthToSpace SpaceToDepth Sin Cos IsNaN Constant If""".split()


def test_every_op_exporters_emit_for_cnns_and_transformers_is_supported() -> None:
    assert [op for op in BRIEF_OPS if not is_supported(op)] == []


@pytest.mark.parametrize(
    "op_type",
    ["Relu", "Sigmoid", "Tanh", "Erf", "Gelu", "Softplus", "Mish", "HardSwish", "Elu", "Selu",
     "Sqrt", "Exp", "Log", "Abs", "Neg", "Reciprocal", "Sin", "Cos", "Softmax", "LogSoftmax"],
)
def test_unary_ops_keep_shape_and_stay_in_graph(op_type: str) -> None:
    node = helper.make_node(op_type, ["x"], ["y"])
    assert run(node, {"x": [2, 3, 5]}) == [(2, 3, 5)]


def test_arg_max_and_int_outputs() -> None:
    node = helper.make_node("ArgMax", ["x"], ["y"], axis=1, keepdims=0)
    assert run(node, {"x": [2, 10, 4]}) == [(2, 4)]
