"""`tessera inspect` and `tessera models` through the real CLI: contracts, errors, work bounds."""

from __future__ import annotations

import json
from pathlib import Path

import onnx
import pytest
from onnx import TensorProto, helper

from cli_runner import REPO, assert_bad_input, tessera

ONNX_DIR = REPO / "tests" / "data" / "onnx"


def test_models_lists_every_family() -> None:
    result = tessera("models")
    assert result.returncode == 0, result.stderr
    for name in ("resnet", "mobilenetv2", "vit", "bert", "llama", "mlp", "gemm", "conv2d"):
        assert name in result.stdout


def test_inspect_json_contract_and_resnet50_macs(tmp_path: Path) -> None:
    out = tmp_path / "r50.json"
    result = tessera("inspect", "--model", "resnet50", "--json", str(out))
    assert result.returncode == 0, result.stderr
    report = json.loads(out.read_text())
    # He et al. 2016 / torchvision: 4.09 GMACs at 224x224, fully connected layer included.
    assert report["macs"] == 4_089_184_256
    assert report["macs"] == sum(layer["macs"] for layer in report["layers"])
    assert report["vector_ops"] > 0
    first = report["layers"][0]
    assert {"name", "op", "macs", "inputs", "outputs"} <= set(first)
    assert first["inputs"][0] == [1, 3, 224, 224]


def test_inspect_onnx_with_symbolic_batch_needs_and_takes_batch(tmp_path: Path) -> None:
    model = ONNX_DIR / "resnet18.dynbatch.ts17.onnx"
    assert_bad_input(tessera("inspect", "--model", str(model)), str(model), "--batch")
    out = tmp_path / "r18.json"
    result = tessera("inspect", "--model", str(model), "--batch", "3", "--json", str(out))
    assert result.returncode == 0, result.stderr
    assert json.loads(out.read_text())["macs"] == 3 * 1_814_073_344


@pytest.mark.parametrize(
    ("model", "fragments"),
    [
        ("resnet51", ["resnet51", "did you mean"]),
        ("mobilenetv2:width=-1", ["width"]),
        ("bert:heads=7", ["heads"]),
        ("llama:colour=red", ["colour"]),
        ("missing/model.onnx", ["missing/model.onnx", "not found"]),
    ],
)
def test_bad_model_specs_exit_2(model: str, fragments: list[str]) -> None:
    assert_bad_input(tessera("inspect", "--model", model), *fragments)


@pytest.mark.parametrize(
    ("name", "fragments"),
    [
        ("conv_topk.onnx", ["topk0", "TopK"]),
        ("conv_nms.onnx", ["nms0", "NonMaxSuppression"]),
        ("truncated.onnx", ["truncated.onnx"]),
        ("notonnx.onnx", ["notonnx.onnx"]),
    ],
)
def test_bad_onnx_files_exit_2_naming_node(name: str, fragments: list[str]) -> None:
    path = ONNX_DIR / "bad" / name
    assert_bad_input(tessera("inspect", "--model", str(path)), str(path), *fragments)


def test_unwritable_json_output_exits_2(tmp_path: Path) -> None:
    assert_bad_input(tessera("inspect", "--model", "gemm:m=8,k=8,n=8", "--json", str(tmp_path)), str(tmp_path))


def _big_external_model(path: Path) -> None:
    """A 1 GiB-of-weights MLP whose weights live in a .data file that is never written."""
    hidden, layers = 8192, 4  # 4 × 8192² fp32 = 1 GiB
    nodes, inits = [], []
    current = "x"
    for i in range(layers):
        weight = TensorProto(name=f"w{i}", data_type=TensorProto.FLOAT, dims=[hidden, hidden])
        weight.data_location = TensorProto.EXTERNAL
        for key, value in (("location", "weights.data"), ("offset", str(i * hidden * hidden * 4)), ("length", str(hidden * hidden * 4))):
            entry = weight.external_data.add()
            entry.key, entry.value = key, value
        inits.append(weight)
        nodes.append(helper.make_node("MatMul", [current, f"w{i}"], [f"h{i}"], name=f"fc{i}"))
        current = f"h{i}"
    graph = helper.make_graph(
        nodes,
        "big",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, hidden])],
        [helper.make_tensor_value_info(current, TensorProto.FLOAT, [1, hidden])],
        initializer=inits,
    )
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), path)


def test_inspect_of_a_gigabyte_of_external_weights_reads_none_of_it(tmp_path: Path) -> None:
    """The work bound of inspect: shapes only. Its speed is in benchmarks/frontend_speed.py."""
    path = tmp_path / "big.onnx"
    _big_external_model(path)
    # 4 × 8192² fp32 weights = 1 GiB declared, none of it on disk.
    assert path.stat().st_size < 1_000_000 and not (tmp_path / "weights.data").exists()
    result = tessera("inspect", "--model", str(path), "--json", str(tmp_path / "inspect.json"))
    assert result.returncode == 0, result.stderr
    layers = json.loads((tmp_path / "inspect.json").read_text())["layers"]
    assert [layer["weights"] for layer in layers] == [[[8192, 8192]]] * 4
    assert sum(layer["macs"] for layer in layers) == 4 * 8192 * 8192

