"""Write the bad ONNX files of the corpus (run from anywhere: `python make_onnx_cases.py`).

Each file is built with `onnx.helper` from a few nodes, so its defect is the only thing
wrong with it and the bytes are reproducible (`tests/e2e/test_bad_inputs.py` checks that
running this script again gives the committed files). Weights are declared, never filled:
the frontend reads shapes only.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import onnx
from onnx import TensorProto, helper

HERE = Path(__file__).resolve().parent
OPSET = 17


def _model(
    nodes: Sequence[onnx.NodeProto],
    inputs: Sequence[onnx.ValueInfoProto],
    outputs: Sequence[onnx.ValueInfoProto],
    initializers: Sequence[onnx.TensorProto] = (),
) -> onnx.ModelProto:
    graph = helper.make_graph(list(nodes), "corpus", list(inputs), list(outputs), list(initializers))
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="tessera-corpus")
    model.ir_version = 8
    return model


def _tensor(name: str, shape: Sequence[int | str]) -> onnx.ValueInfoProto:
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, list(shape))


def _weight(name: str, shape: Sequence[int]) -> onnx.TensorProto:
    """A float initializer of `shape` filled with zeros (never read by Tessera)."""
    size = 1
    for dim in shape:
        size *= dim
    return helper.make_tensor(name, TensorProto.FLOAT, list(shape), [0.0] * size)


def _external_weight(name: str, shape: Sequence[int], location: str) -> onnx.TensorProto:
    """An initializer whose data lives in an external file at `location`."""
    tensor = TensorProto(name=name, data_type=TensorProto.FLOAT, dims=list(shape))
    tensor.data_location = TensorProto.EXTERNAL
    for key, value in (("location", location), ("offset", "0"), ("length", str(4 * shape[0] * shape[1]))):
        entry = tensor.external_data.add()
        entry.key, entry.value = key, value
    return tensor


def conv_model(input_shape: Sequence[int | str] = (1, 3, 8, 8), weight_shape: Sequence[int] = (4, 3, 3, 3), **attrs) -> onnx.ModelProto:
    """x -> Conv(w) -> Relu -> y: the valid base that several cases break one way."""
    nodes = [
        helper.make_node("Conv", ["x", "w"], ["c"], name="conv1", pads=[1, 1, 1, 1], **attrs),
        helper.make_node("Relu", ["c"], ["y"], name="relu1"),
    ]
    return _model(nodes, [_tensor("x", input_shape)], [_tensor("y", [])], [_weight("w", weight_shape)])


def _binary(op: str, a: Sequence[int], b: Sequence[int]) -> onnx.ModelProto:
    node = helper.make_node(op, ["a", "b"], ["y"], name=f"{op.lower()}1")
    return _model([node], [_tensor("a", a), _tensor("b", b)], [_tensor("y", [])])


def empty_graph() -> onnx.ModelProto:
    return _model([], [_tensor("x", [1, 4])], [_tensor("x", [1, 4])])


def unsupported_op() -> onnx.ModelProto:
    nodes = [helper.make_node("Relu", ["x"], ["r"], name="relu1"), helper.make_node("Unique", ["r"], ["y"], name="unique1")]
    return _model(nodes, [_tensor("x", [1, 16])], [_tensor("y", [])])


def custom_domain() -> onnx.ModelProto:
    model = _model(
        [helper.make_node("FusedGelu", ["x"], ["y"], name="gelu1", domain="com.example")],
        [_tensor("x", [1, 16])],
        [_tensor("y", [])],
    )
    model.opset_import.append(helper.make_opsetid("com.example", 1))
    return model


def cycle() -> onnx.ModelProto:
    nodes = [
        helper.make_node("Add", ["x", "b"], ["a"], name="add_a"),
        helper.make_node("Relu", ["a"], ["b"], name="relu_b"),
    ]
    return _model(nodes, [_tensor("x", [1, 8])], [_tensor("b", [])])


def undefined_input() -> onnx.ModelProto:
    nodes = [helper.make_node("Add", ["x", "ghost"], ["y"], name="add_ghost")]
    return _model(nodes, [_tensor("x", [1, 8])], [_tensor("y", [])])


def reshape_mismatch() -> onnx.ModelProto:
    shape = helper.make_tensor("shape", TensorProto.INT64, [2], [5, 5])
    nodes = [helper.make_node("Reshape", ["x", "shape"], ["y"], name="reshape1")]
    return _model(nodes, [_tensor("x", [1, 12])], [_tensor("y", [])], [shape])


def external(location: str) -> Callable[[], onnx.ModelProto]:
    def build() -> onnx.ModelProto:
        nodes = [helper.make_node("MatMul", ["x", "w"], ["y"], name="matmul1")]
        return _model(nodes, [_tensor("x", [1, 16])], [_tensor("y", [])], [_external_weight("w", [16, 16], location)])

    return build


def opset_too_new() -> onnx.ModelProto:
    model = conv_model()
    model.opset_import[0].version = 999
    return model


def matmul_on_strings() -> onnx.ModelProto:
    a = helper.make_tensor_value_info("a", TensorProto.STRING, [2, 3])
    b = helper.make_tensor_value_info("b", TensorProto.STRING, [3, 4])
    return _model([helper.make_node("MatMul", ["a", "b"], ["y"], name="matmul1")], [a, b], [_tensor("y", [])])


def negative_weight_dims() -> onnx.ModelProto:
    weight = TensorProto(name="w", data_type=TensorProto.FLOAT, dims=[-4, 3, 3, 3])
    nodes = [helper.make_node("Conv", ["x", "w"], ["y"], name="conv1")]
    return _model(nodes, [_tensor("x", [1, 3, 8, 8])], [_tensor("y", [])], [weight])


def cast_undefined_type() -> onnx.ModelProto:
    nodes = [helper.make_node("Cast", ["x"], ["y"], name="cast1", to=999)]
    return _model(nodes, [_tensor("x", [1, 4])], [_tensor("y", [])])


def initializer_size_mismatch() -> onnx.ModelProto:
    """The conv weight declares 4x3x3x3 = 108 floats but stores 10 (a truncated export)."""
    model = conv_model()
    del model.graph.initializer[0].float_data[10:]
    return model


def no_outputs() -> onnx.ModelProto:
    model = conv_model()
    del model.graph.output[:]
    return model


def output_too_big() -> onnx.ModelProto:
    """A 2^40 × 1 by 1 × 2^40 product: its 2^80-element output once printed as 0 B."""
    weight = TensorProto(name="w", data_type=TensorProto.FLOAT, dims=[1, 2**40])
    nodes = [helper.make_node("MatMul", ["x", "w"], ["y"], name="matmul1")]
    return _model(nodes, [_tensor("x", [2**40, 1])], [_tensor("y", [])], [weight])


def conv_good() -> bytes:
    return conv_model().SerializeToString()


CASES: dict[str, Callable[[], bytes]] = {
    "truncated.onnx": lambda: conv_good()[: len(conv_good()) * 2 // 3],
    "not_onnx.onnx": lambda: b"name: this is a YAML chip file saved with an .onnx extension\nclock: 1 GHz\n",
    "empty_file.onnx": lambda: b"",
    "empty_graph.onnx": lambda: empty_graph().SerializeToString(),
    "unsupported_op.onnx": lambda: unsupported_op().SerializeToString(),
    "custom_domain.onnx": lambda: custom_domain().SerializeToString(),
    "dynamic_batch.onnx": lambda: conv_model(input_shape=("N", 3, 8, 8)).SerializeToString(),
    "dynamic_spatial.onnx": lambda: conv_model(input_shape=("N", 3, "H", "W")).SerializeToString(),
    "cycle.onnx": lambda: cycle().SerializeToString(),
    "undefined_input.onnx": lambda: undefined_input().SerializeToString(),
    "matmul_mismatch.onnx": lambda: _binary("MatMul", [2, 3], [4, 5]).SerializeToString(),
    "add_broadcast_mismatch.onnx": lambda: _binary("Add", [2, 3], [4, 5]).SerializeToString(),
    "conv_channel_mismatch.onnx": lambda: conv_model(weight_shape=(4, 5, 3, 3)).SerializeToString(),
    "conv_zero_stride.onnx": lambda: conv_model(strides=[0, 0]).SerializeToString(),
    "conv_kernel_larger_than_input.onnx": lambda: conv_model(input_shape=(1, 3, 2, 2), weight_shape=(4, 3, 7, 7)).SerializeToString(),
    "zero_dim.onnx": lambda: conv_model(input_shape=(1, 3, 0, 8)).SerializeToString(),
    "reshape_mismatch.onnx": lambda: reshape_mismatch().SerializeToString(),
    "external_absolute.onnx": lambda: external("/etc/passwd")().SerializeToString(),
    "external_dotdot.onnx": lambda: external("../../weights/secret.bin")().SerializeToString(),
    "model.onnx.txt": conv_good,
    "static_batch.onnx": conv_good,  # valid at batch 1; bad input with any other batch
    "cast_undefined_type.onnx": lambda: cast_undefined_type().SerializeToString(),
    "initializer_size_mismatch.onnx": lambda: initializer_size_mismatch().SerializeToString(),
    "no_outputs.onnx": lambda: no_outputs().SerializeToString(),
    "opset_too_new.onnx": lambda: opset_too_new().SerializeToString(),
    "matmul_on_strings.onnx": lambda: matmul_on_strings().SerializeToString(),
    "float_strides.onnx": lambda: conv_model(strides=[2.0, 2.0]).SerializeToString(),
    "negative_weight_dims.onnx": lambda: negative_weight_dims().SerializeToString(),
    "output_too_big.onnx": lambda: output_too_big().SerializeToString(),
}


def main(folder: Path = HERE) -> None:
    """Write every case into `folder`."""
    for name, build in CASES.items():
        (folder / name).write_bytes(build())


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE)
