"""Folding of exporter shape subgraphs, aliasing, If inlining and graph invariants."""

from __future__ import annotations

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from compiler.frontend import graph_from_model
from compiler.frontend.values import MAX_CONSTANT_ELEMENTS
from compiler.graph import Graph

F = TensorProto.FLOAT


def const(name: str, values: list | np.ndarray, dtype: type = np.int64) -> TensorProto:
    return numpy_helper.from_array(np.asarray(values, dtype=dtype), name)


def model(
    nodes: list[onnx.NodeProto],
    inputs: dict[str, list],
    outputs: list[str],
    initializers: list[TensorProto] = (),
) -> onnx.ModelProto:
    graph = helper.make_graph(
        nodes,
        "g",
        [helper.make_tensor_value_info(n, F, s) for n, s in inputs.items()],
        [helper.make_tensor_value_info(o, F, None) for o in outputs],
        list(initializers),
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])


def assert_well_formed(g: Graph) -> None:
    """Every kept node reads defined tensors, in topological order, all shapes static ints."""
    defined = set(g.inputs) | set(g.initializers)
    for node in g.nodes:
        assert all(n in defined for n in node.inputs if n), node
        defined.update(o for o in node.outputs if o)
    assert all(o in g.tensors for o in g.outputs)
    for info in g.tensors.values():
        assert all(isinstance(d, int) and d >= 0 for d in info.shape), info


def test_exporter_reshape_chain_folds_to_one_reshape() -> None:
    """Shape -> Gather -> Unsqueeze -> Concat -> Reshape, as torch emits for view(b, s, h, d)."""
    nodes = [
        helper.make_node("Shape", ["x"], ["shape"]),
        helper.make_node("Gather", ["shape", "zero"], ["b"], axis=0),
        helper.make_node("Gather", ["shape", "one"], ["s"], axis=0),
        helper.make_node("Unsqueeze", ["b", "axes"], ["b1"]),
        helper.make_node("Unsqueeze", ["s", "axes"], ["s1"]),
        helper.make_node("Concat", ["b1", "s1", "heads"], ["target"], axis=0),
        helper.make_node("Reshape", ["x", "target"], ["y"]),
    ]
    inits = [const("zero", 0), const("one", 1), const("axes", [0]), const("heads", [12, 64])]
    g = graph_from_model(model(nodes, {"x": ["batch", 128, 768]}, ["y"], inits), "m", batch=3)
    assert [n.op_type for n in g.nodes] == ["Reshape"]
    assert g.tensor("y").shape == (3, 128, 12, 64)
    assert g.constant_values["target"].tolist() == [3, 128, 12, 64]
    assert g.initializers == frozenset({"target"})
    assert_well_formed(g)


def test_int_shape_arithmetic_folds_exactly() -> None:
    """Range/Equal/Where/ReduceMax/Mul/Sub/Div on int64 shape tensors, evaluated by numpy."""
    nodes = [
        helper.make_node("Shape", ["x"], ["last"], start=-1),
        helper.make_node("Div", ["last", "two"], ["half"]),
        helper.make_node("Range", ["zero", "seven", "one"], ["r"]),
        helper.make_node("Equal", ["r", "three"], ["is3"]),
        helper.make_node("Where", ["is3", "r", "minus"], ["w"]),
        helper.make_node("ReduceMax", ["w"], ["wmax"], keepdims=1),
        helper.make_node("Mul", ["wmax", "three"], ["nine"]),
        helper.make_node("Sub", ["nine", "one"], ["eight"]),
        helper.make_node("Concat", ["eight", "half"], ["target"], axis=0),
        helper.make_node("Reshape", ["x", "target"], ["y"]),
    ]
    inits = [const("two", [2]), const("zero", 0), const("seven", 7), const("one", 1),
             const("three", 3), const("minus", -1)]
    g = graph_from_model(model(nodes, {"x": [4, 10]}, ["y"], inits), "m")
    # last = [10], half = [5]; w = [-1, -1, -1, 3, -1, -1, -1], max 3; 3 * 3 - 1 = 8
    assert g.constant_values["target"].tolist() == [8, 5]
    assert g.constant_values["target"].dtype == np.int64
    assert [n.op_type for n in g.nodes] == ["Reshape"]
    assert g.tensor("y").shape == (8, 5)


def test_identity_and_dropout_are_aliases() -> None:
    nodes = [
        helper.make_node("Identity", ["w"], ["w_copy"]),
        helper.make_node("MatMul", ["x", "w_copy"], ["h"]),
        helper.make_node("Dropout", ["h"], ["y"]),
    ]
    w = TensorProto(name="w", data_type=F, dims=[64, 32])
    g = graph_from_model(model(nodes, {"x": [8, 64]}, ["y"], [w]), "m")
    assert [(n.op_type, n.inputs) for n in g.nodes] == [("MatMul", ("x", "w"))]
    assert g.outputs == ("h",)
    assert g.initializers == frozenset({"w"})
    assert_well_formed(g)


def test_reversed_slice_through_the_first_element_folds_whole() -> None:
    """The TorchScript exporter's F.pad: pads reshaped to [-1, 2], reversed with Slice(start -1,
    end -INT64_MAX, step -1), transposed and flattened (the Swin-T window padding)."""
    nodes = [
        helper.make_node("Reshape", ["pads", "pairs"], ["paired"]),
        helper.make_node("Slice", ["paired", "minus1", "far", "zero", "minus1"], ["reversed"]),
        helper.make_node("Transpose", ["reversed"], ["by_side"], perm=[1, 0]),
        helper.make_node("Reshape", ["by_side", "flat"], ["onnx_pads"]),
        helper.make_node("Pad", ["x", "onnx_pads"], ["y"]),
    ]
    inits = [const("pads", [0, 0, 0, 1, 0, 2, 0, 0]), const("pairs", [-1, 2]), const("minus1", [-1]),
             const("far", [-(2**63) + 1]), const("zero", [0]), const("flat", [-1])]
    g = graph_from_model(model(nodes, {"x": [1, 5, 6, 8]}, ["y"], inits), "m")
    assert g.constant_values["onnx_pads"].tolist() == [0, 0, 0, 0, 0, 2, 1, 0]
    assert g.tensor("y").shape == (1, 7, 7, 8)
    assert [n.op_type for n in g.nodes] == ["Pad"]


def test_one_input_concat_and_same_shape_expand_are_aliases() -> None:
    """A Concat of one tensor (TorchScript's KV-cache start) and an Expand to the input's own
    shape copy nothing: their outputs are their inputs."""
    nodes = [
        helper.make_node("Concat", ["x"], ["x_cat"], axis=2),
        helper.make_node("Expand", ["x_cat", "same"], ["x_wide"]),
        helper.make_node("Expand", ["x_wide", "wider"], ["y"]),
    ]
    g = graph_from_model(model(nodes, {"x": [1, 2, 3, 4]}, ["y"], [const("same", [1, 2, 1, 4]),
                                                                   const("wider", [2, 2, 3, 4])]), "m")
    assert [(n.op_type, n.inputs[0]) for n in g.nodes] == [("Expand", "x")]
    assert g.tensor("y").shape == (2, 2, 3, 4)
    assert_well_formed(g)


def test_weight_rearrangement_becomes_a_constant_without_value() -> None:
    """Transpose of a weight folds away (shape known, value never read); MatMul stays."""
    nodes = [
        helper.make_node("Transpose", ["w"], ["wt"], perm=[1, 0]),
        helper.make_node("MatMul", ["x", "wt"], ["y"]),
    ]
    w = TensorProto(name="w", data_type=F, dims=[32, 64])
    g = graph_from_model(model(nodes, {"x": [8, 64]}, ["y"], [w]), "m")
    assert [n.op_type for n in g.nodes] == ["MatMul"]
    assert g.tensor("wt").shape == (64, 32)
    assert "wt" in g.initializers and "wt" not in g.constant_values


def test_large_constant_keeps_shape_but_no_value() -> None:
    side = 512
    assert side * side > MAX_CONSTANT_ELEMENTS
    nodes = [
        helper.make_node("ConstantOfShape", ["mask_shape"], ["mask"],
                         value=numpy_helper.from_array(np.array([1.0], np.float32))),
        helper.make_node("Add", ["x", "mask"], ["y"]),
    ]
    inits = [const("mask_shape", [1, 1, side, side])]
    g = graph_from_model(model(nodes, {"x": [2, 4, side, side]}, ["y"], inits), "m")
    assert [n.op_type for n in g.nodes] == ["Add"]
    assert g.tensor("mask").shape == (1, 1, side, side)
    assert "mask" in g.initializers and "mask" not in g.constant_values


def test_small_constant_of_shape_and_trilu_fold_to_values() -> None:
    nodes = [
        helper.make_node("ConstantOfShape", ["shape"], ["ones"],
                         value=numpy_helper.from_array(np.array([1.0], np.float32))),
        helper.make_node("Trilu", ["ones"], ["causal"], upper=0),
        helper.make_node("Mul", ["x", "causal"], ["y"]),
    ]
    g = graph_from_model(model(nodes, {"x": [2, 4, 4]}, ["y"], [const("shape", [4, 4])]), "m")
    assert [n.op_type for n in g.nodes] == ["Mul"]
    np.testing.assert_array_equal(g.constant_values["causal"], np.tril(np.ones((4, 4))))


def test_if_with_constant_condition_inlines_taken_branch() -> None:
    then_graph = helper.make_graph(
        [helper.make_node("Relu", ["x"], ["then_out"])], "then", [],
        [helper.make_tensor_value_info("then_out", F, None)],
    )
    else_graph = helper.make_graph(
        [helper.make_node("Sigmoid", ["x"], ["else_out"])], "else", [],
        [helper.make_tensor_value_info("else_out", F, None)],
    )
    nodes = [
        helper.make_node("Size", ["x"], ["n"]),
        helper.make_node("Greater", ["n", "limit"], ["big"]),
        helper.make_node("If", ["big"], ["z"], then_branch=then_graph, else_branch=else_graph),
        helper.make_node("Neg", ["z"], ["y"]),
    ]
    g = graph_from_model(model(nodes, {"x": [4, 8]}, ["y"], [const("limit", 10)]), "m")
    assert [n.op_type for n in g.nodes] == ["Relu", "Neg"]  # 32 > 10 takes the then-branch
    assert g.nodes[1].inputs == ("then_out",)
    assert_well_formed(g)


def test_unsorted_nodes_are_ordered_and_attributes_decoded() -> None:
    nodes = [
        helper.make_node("Relu", ["c"], ["y"], name="relu"),
        helper.make_node("Conv", ["x", "w"], ["c"], name="conv", pads=[1, 1, 1, 1],
                         auto_pad="NOTSET"),
    ]
    w = TensorProto(name="w", data_type=F, dims=[8, 3, 3, 3])
    g = graph_from_model(model(nodes, {"x": [1, 3, 16, 16]}, ["y"], [w]), "m")
    assert [n.name for n in g.nodes] == ["conv", "relu"]
    assert g.nodes[0].attrs["pads"] == (1, 1, 1, 1)
    assert g.nodes[0].attrs["auto_pad"] == "NOTSET"
    assert g.tensor("c").shape == (1, 8, 16, 16)


def test_batch_and_input_shapes_overrides() -> None:
    nodes = [helper.make_node("Add", ["a", "b"], ["y"])]
    m = model(nodes, {"a": ["N", "seq", 5], "b": [1, "batch_size"]}, ["y"])
    g = graph_from_model(m, "m", batch=5, input_shapes={"a": (5, 7, 5)})
    assert g.tensor("a").shape == (5, 7, 5)
    assert g.tensor("b").shape == (1, 5)  # a dim named like a batch takes `batch`
    assert g.tensor("y").shape == (5, 7, 5)
