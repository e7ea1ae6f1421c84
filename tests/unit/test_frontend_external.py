"""External weights are never read: a 1 GB model loads fast without its .data file."""

from __future__ import annotations

from pathlib import Path

import onnx
import pytest
from onnx import TensorProto, helper

from compiler.frontend import load_onnx
from tessera.errors import InputError

HIDDEN = 8192  # 4 MatMul weights of 8192 x 8192 float32 = 4 x 256 MiB = 1 GiB


def external_weight(name: str, dims: list[int], location: str, offset: int) -> TensorProto:
    """A weight whose bytes live in `location` (which need not exist)."""
    tensor = TensorProto(name=name, data_type=TensorProto.FLOAT, dims=dims)
    tensor.data_location = TensorProto.EXTERNAL
    size = 4 * dims[0] * dims[1]
    for key, value in (("location", location), ("offset", str(offset)), ("length", str(size))):
        entry = tensor.external_data.add()
        entry.key, entry.value = key, value
    return tensor


def save_big_model(path: Path, location: str = "weights.data", layers: int = 4) -> None:
    nodes, weights, x = [], [], "x"
    for i in range(layers):
        w = external_weight(f"w{i}", [HIDDEN, HIDDEN], location, i * 4 * HIDDEN * HIDDEN)
        weights.append(w)
        nodes.append(helper.make_node("MatMul", [x, w.name], [f"h{i}"], name=f"mm{i}"))
        x = f"h{i}"
    graph = helper.make_graph(
        nodes,
        "big",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", HIDDEN])],
        [helper.make_tensor_value_info(x, TensorProto.FLOAT, None)],
        weights,
    )
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), path)


def test_gigabyte_of_external_weights_loads_fast_without_data_file(tmp_path: Path) -> None:
    path = tmp_path / "big.onnx"
    save_big_model(path)
    assert not (tmp_path / "weights.data").exists()
    assert path.stat().st_size < 10_000
    g = load_onnx(path, batch=16)  # the 1 GiB data file does not exist: no weight byte is read
    assert [n.op_type for n in g.nodes] == ["MatMul"] * 4
    assert g.tensor("h3").shape == (16, HIDDEN)
    assert g.initializers == frozenset({"w0", "w1", "w2", "w3"})
    assert g.constant_values == {}
    total_weight_bytes = sum(4 * g.tensor(w).elements for w in g.initializers)
    assert total_weight_bytes == 2**30


@pytest.mark.parametrize(
    ("location", "reason"),
    [
        ("/etc/passwd", "absolute path"),
        ("../outside.data", "outside the model's folder"),
        ("sub/../../outside.data", "outside the model's folder"),
        ("C:\\weights.data", "absolute path"),
    ],
)
def test_external_location_outside_model_folder_is_rejected(
    tmp_path: Path, location: str, reason: str
) -> None:
    path = tmp_path / "evil.onnx"
    save_big_model(path, location=location, layers=1)
    with pytest.raises(InputError, match=reason) as info:
        load_onnx(path, batch=1)
    assert "tensor 'w0'" in str(info.value)
    assert info.value.source == str(path)
