"""Every bad input is an InputError naming the file and the node, input or tensor at fault."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from compiler.frontend import graph_from_model, load_onnx
from tessera.errors import InputError

F = TensorProto.FLOAT


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


def error_of(m: onnx.ModelProto, **kwargs: object) -> str:
    with pytest.raises(InputError) as info:
        graph_from_model(m, "net.onnx", **kwargs)
    assert info.value.source == "net.onnx"
    return str(info.value)


def test_missing_file_and_directory(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="file not found") as info:
        load_onnx(tmp_path / "absent.onnx")
    assert info.value.source == str(tmp_path / "absent.onnx")
    with pytest.raises(InputError, match="is a directory"):
        load_onnx(tmp_path)


def test_not_onnx_and_truncated(tmp_path: Path) -> None:
    text = tmp_path / "text.onnx"
    text.write_text("this is not a protobuf\n" * 20)
    with pytest.raises(InputError, match="cannot be parsed"):
        load_onnx(text)
    good = model([helper.make_node("Relu", ["x"], ["y"])], {"x": [1, 4]}, ["y"])
    truncated = tmp_path / "cut.onnx"
    truncated.write_bytes(good.SerializeToString()[:40])
    with pytest.raises(InputError, match=str(truncated)):
        load_onnx(truncated)
    empty = tmp_path / "empty.onnx"
    empty.write_bytes(b"")
    with pytest.raises(InputError, match="not an ONNX model"):
        load_onnx(empty)


def test_empty_graph() -> None:
    assert "has no nodes" in error_of(model([], {"x": [1]}, ["x"]))


def test_cycle_names_the_nodes() -> None:
    nodes = [
        helper.make_node("Add", ["x", "b"], ["a"], name="first"),
        helper.make_node("Relu", ["a"], ["b"], name="second"),
    ]
    message = error_of(model(nodes, {"x": [2]}, ["b"]))
    assert "cycle" in message and "'first' (Add)" in message and "'second' (Relu)" in message


def test_undefined_input_names_node_and_tensor() -> None:
    nodes = [helper.make_node("Relu", ["ghost"], ["y"], name="r")]
    message = error_of(model(nodes, {"x": [2]}, ["y"]))
    assert "node 'r' (Relu)" in message and "'ghost'" in message


def test_shape_mismatch_names_node_op_and_input_shapes() -> None:
    nodes = [helper.make_node("MatMul", ["a", "b"], ["y"], name="proj")]
    message = error_of(model(nodes, {"a": [2, 64], "b": [32, 8]}, ["y"]))
    assert "node 'proj' (MatMul)" in message
    assert "'a': [2, 64]" in message and "'b': [32, 8]" in message


def test_conv_channel_mismatch() -> None:
    nodes = [helper.make_node("Conv", ["x", "w"], ["y"], name="c1")]
    w = TensorProto(name="w", data_type=F, dims=[8, 4, 3, 3])
    message = error_of(model(nodes, {"x": [1, 3, 8, 8]}, ["y"], [w]))
    assert "node 'c1' (Conv)" in message and "input channels 3" in message


def test_unsupported_op_and_custom_domain_are_all_listed() -> None:
    nodes = [
        helper.make_node("Relu", ["x"], ["a"], name="ok"),
        helper.make_node("Frobnicate", ["a"], ["b"], name="odd"),
        helper.make_node("FusedGelu", ["b"], ["y"], name="ms", domain="com.microsoft"),
    ]
    m = model(nodes, {"x": [2]}, ["y"])
    m.opset_import.append(helper.make_opsetid("com.microsoft", 1))
    message = error_of(m)
    assert "node 'odd' (Frobnicate)" in message and "no shape rule" in message
    assert "node 'ms' (FusedGelu)" in message and "'com.microsoft'" in message


def test_data_dependent_selection_is_rejected() -> None:
    nodes = [helper.make_node("NonZero", ["x"], ["y"], name="nz")]
    assert "node 'nz' (NonZero)" in error_of(model(nodes, {"x": [4]}, ["y"]))


def test_runtime_if_and_loop_are_nested_subgraph_errors() -> None:
    branch = helper.make_graph(
        [helper.make_node("Relu", ["x"], ["o"])],
        "b",
        [],
        [helper.make_tensor_value_info("o", F, None)],
    )
    nodes = [
        helper.make_node("ReduceMax", ["x"], ["m"], keepdims=0),
        helper.make_node("Cast", ["m"], ["c"], to=TensorProto.BOOL),
        helper.make_node(
            "If", ["c"], ["y"], name="branchy", then_branch=branch, else_branch=branch
        ),
    ]
    message = error_of(model(nodes, {"x": [4]}, ["y"]))
    assert "node 'branchy' (If)" in message and "nested subgraph" in message
    loop = [helper.make_node("Loop", ["", "c"], ["y"], name="looper", body=branch)]
    assert "node 'looper' (Loop)" in error_of(model(loop, {"c": []}, ["y"]))


def test_reshape_target_from_runtime_data_is_named() -> None:
    nodes = [
        helper.make_node("Cast", ["x"], ["t"], to=TensorProto.INT64),
        helper.make_node("Reshape", ["x", "t"], ["y"], name="rs"),
    ]
    message = error_of(model(nodes, {"x": [2]}, ["y"]))
    assert "node 'rs' (Reshape)" in message and "only known at run time" in message


def test_dynamic_dim_without_override_suggests_flags() -> None:
    nodes = [helper.make_node("Relu", ["ids"], ["y"])]
    message = error_of(model(nodes, {"ids": ["batch", "seq"]}, ["y"]))
    assert "input 'ids' dim 0 ('batch')" in message and "input 'ids' dim 1 ('seq')" in message
    assert "--batch N" in message and "--input-shape ids=1x1" in message
    message = error_of(model(nodes, {"ids": ["batch", "seq"]}, ["y"]), batch=2)
    assert "dim 1 ('seq')" in message and "dim 0" not in message


def test_bad_overrides() -> None:
    nodes = [helper.make_node("Relu", ["x"], ["y"])]
    m = model(nodes, {"x": [1, 3]}, ["y"])
    assert "no such input" in error_of(m, input_shapes={"nope": (1, 3)})
    assert "rank 3" in error_of(m, input_shapes={"x": (1, 3, 4)})
    assert "fixed to 3" in error_of(m, input_shapes={"x": (1, 4)})
    assert "positive integer" in error_of(model(nodes, {"x": ["b", 3]}, ["y"]), batch=0)


def test_constant_reshape_target_of_wrong_size() -> None:
    target = numpy_helper.from_array(np.array([5, 5], np.int64), "t")
    nodes = [helper.make_node("Reshape", ["x", "t"], ["y"], name="bad_view")]
    message = error_of(model(nodes, {"x": [4, 6]}, ["y"], [target]))
    assert "node 'bad_view' (Reshape)" in message and "cannot reshape [4, 6]" in message


def _stored(data_type: int, dims: list[int], **fields) -> onnx.TensorProto:
    tensor = onnx.TensorProto(name="t", data_type=data_type, dims=dims)
    for name, value in fields.items():
        if name == "raw_data":
            tensor.raw_data = value
        elif name == "external_length":
            tensor.data_location = onnx.TensorProto.EXTERNAL
            for key, item in (("location", "w.bin"), ("length", str(value))):
                entry = tensor.external_data.add()
                entry.key, entry.value = key, item
        else:
            getattr(tensor, name).extend(value)
    return tensor


@pytest.mark.parametrize(
    ("fields", "data_type", "dims", "fragment"),
    [
        ({}, 1, [4, 3], None),  # declared only: nothing stored to disagree
        ({"float_data": [0.0] * 12}, 1, [4, 3], None),
        ({"float_data": [0.0] * 11}, 1, [4, 3], "stores 11 elements, but its shape [4, 3] holds 12"),
        ({"float_data": [0.0] * 24}, 14, [4, 3], None),  # complex64: real and imaginary parts
        ({"int32_data": [0] * 6}, 3, [2, 3], None),  # int8 stored widened in int32_data
        ({"raw_data": b"\0" * 48}, 1, [4, 3], None),
        ({"raw_data": b"\0" * 40}, 1, [4, 3], "stores 40 bytes, but its shape [4, 3] holds 48"),
        ({"raw_data": b"\0" * 3}, 22, [5], None),  # int4: two per byte, rounded up
        ({"external_length": 48}, 1, [4, 3], None),
        ({"external_length": 4}, 1, [4, 3], "declares 4 external bytes, but its shape [4, 3] holds 48"),
        ({}, 999, [4], "has element type 999, which ONNX does not define"),
    ],
)
def test_an_initializer_must_store_what_its_shape_declares(fields: dict, data_type: int, dims: list[int],
                                                          fragment: str | None) -> None:
    from compiler.frontend.integrity import initializer_problem

    problem = initializer_problem(_stored(data_type, dims, **fields))
    assert problem == fragment if fragment is None else fragment in problem
