"""Zoo builders: valid ONNX, static shapes, standard ops, weights declared but never materialised.

How fast they build is measured by `benchmarks/frontend_speed.py`.
"""

from __future__ import annotations

from collections import Counter
from math import prod

import onnx
import pytest

from compiler.zoo import build_model, parse_model_spec, zoo_models
from compiler.zoo.graph_builder import OPSET, WEIGHTS_FILE
from compiler.zoo.mobilenetv2 import make_divisible
from compiler.zoo.validate import check_zoo_model, external_bytes

SPECS = [
    "resnet18:resolution=64,classes=10",
    "resnet50:width=0.5,resolution=97",
    "mobilenetv2:width=0.35,resolution=96,batch=2",
    "vit:layers=2,hidden=64,heads=4,patch=8,resolution=32,batch=2",
    "bert:layers=2,hidden=64,heads=4,seq=16,batch=2",
    "llama:layers=2,hidden=64,heads=8,kv_heads=2,seq=16,vocab=100,batch=2",
    "llama:layers=2,hidden=64,heads=8,kv_heads=2,phase=decode,kv_len=20,vocab=100,batch=2",
    "mlp:layers=4,hidden=32,in=16,out=8,batch=5",
    "gemm:m=8,k=16,n=4,batch=2",
    "conv2d:h=9,w=7,c=8,k=12,r=3,s=1,stride=2,groups=4",
]
# Standard ONNX operators the zoo may emit (Expand: ViT's class token per image).
ALLOWED_OPS = {
    "Conv", "MatMul", "Gemm", "Add", "Mul", "Div", "Pow", "Sqrt", "Neg", "Erf", "Sigmoid", "Relu", "Clip",
    "Softmax", "LayerNormalization", "ReduceMean", "Reshape", "Transpose", "Concat", "Slice", "Expand",
    "MaxPool", "GlobalAveragePool", "Flatten",
}


@pytest.mark.parametrize("text", SPECS)
def test_built_model_passes_the_onnx_checker_with_strict_shape_inference(text: str) -> None:
    model = build_model(parse_model_spec(text))
    check_zoo_model(model)
    assert model.doc_string == parse_model_spec(text).canonical()
    assert [(o.domain, o.version) for o in model.opset_import] == [("", OPSET)]


@pytest.mark.parametrize("text", SPECS)
def test_shapes_are_static_ops_standard_and_names_unique(text: str) -> None:
    model = build_model(parse_model_spec(text))
    graph = model.graph
    for value in (*graph.input, *graph.value_info, *graph.output):
        dims = value.type.tensor_type.shape.dim
        assert all(d.HasField("dim_value") and d.dim_value > 0 for d in dims), value.name
    assert {n.op_type for n in graph.node} <= ALLOWED_OPS
    names = [n.name for n in graph.node]
    assert len(names) == len(set(names))
    # every intermediate tensor carries its shape: graph inputs + value_info + outputs cover all node outputs
    described = {v.name for v in (*graph.value_info, *graph.output)}
    assert all(out in described for n in graph.node for out in n.output)


@pytest.mark.parametrize("text", SPECS)
def test_weights_are_external_declarations_laid_out_back_to_back(text: str) -> None:
    graph = build_model(parse_model_spec(text)).graph
    offset = 0
    for tensor in graph.initializer:
        if tensor.data_type == onnx.TensorProto.INT64 or not tensor.dims:
            assert tensor.data_location == onnx.TensorProto.DEFAULT and prod(tensor.dims) <= 8
            continue
        info = {e.key: e.value for e in tensor.external_data}
        assert tensor.data_location == onnx.TensorProto.EXTERNAL and not tensor.raw_data and not tensor.float_data
        assert info == {"location": WEIGHTS_FILE, "offset": str(offset), "length": str(4 * prod(tensor.dims))}
        offset += 4 * prod(tensor.dims)


def test_llama2_7b_builds_small_with_the_published_parameter_count() -> None:
    model = build_model(parse_model_spec("llama"))
    weights = {t.name: prod(t.dims) for t in model.graph.initializer if t.data_location == onnx.TensorProto.EXTERNAL}
    constants = weights.pop("rope.cos") + weights.pop("rope.sin") + weights.pop("causal_mask")
    # Llama-2-7B has 6,738,415,616 parameters; less its 32000×4096 embedding table = 6,607,343,616.
    assert sum(weights.values()) == 6_738_415_616 - 32000 * 4096
    assert constants == 2 * 512 * 128 + 512 * 512
    assert external_bytes(model) == 4 * (sum(weights.values()) + constants)
    assert model.ByteSize() < 1_000_000


def test_llama_decode_takes_and_returns_the_kv_cache() -> None:
    spec = parse_model_spec("llama:layers=3,hidden=64,heads=8,kv_heads=2,phase=decode,kv_len=20,batch=2")
    graph = build_model(spec).graph
    inputs = {v.name: tuple(d.dim_value for d in v.type.tensor_type.shape.dim) for v in graph.input}
    outputs = {v.name: tuple(d.dim_value for d in v.type.tensor_type.shape.dim) for v in graph.output}
    assert inputs["hidden_states"] == (2, 1, 64)
    assert all(inputs[f"past.{i}.{kv}"] == (2, 2, 20, 8) for i in range(3) for kv in ("key", "value"))
    assert sorted(shape for name, shape in outputs.items() if name != "logits") == [(2, 2, 21, 8)] * 6
    assert outputs["logits"] == (2, 1, 32000)


def test_ops_of_a_resnet_block_read_like_the_paper() -> None:
    graph = build_model(parse_model_spec("resnet50")).graph
    ops = Counter(n.op_type for n in graph.node)
    # 1 stem + 16 blocks × 3 + 4 projection shortcuts = 53 convolutions, 16 residual adds, one classifier.
    assert (ops["Conv"], ops["Add"], ops["Gemm"], ops["MaxPool"]) == (53, 16, 1, 1)
    assert "layer2.0.downsample" in {n.name for n in graph.node}


def test_mobilenetv2_channel_rounding_matches_make_divisible() -> None:
    assert [make_divisible(c * 0.35) for c in (32, 16, 24, 320)] == [16, 8, 8, 112]
    assert make_divisible(1280 * 1.4) == 1792
    convs = [n for n in build_model(parse_model_spec("mobilenetv2")).graph.node if n.op_type == "Conv"]
    assert len(convs) == 52  # stem + 2 + 16×3 + last 1×1, as torchvision's export


def test_plain_checker_needs_the_weights_file_and_check_zoo_model_catches_real_faults() -> None:
    model = build_model(parse_model_spec("gemm:m=4,k=4,n=4"))
    with pytest.raises(onnx.checker.ValidationError, match=WEIGHTS_FILE):
        onnx.checker.check_model(model)  # why check_zoo_model supplies a sparse weights file
    model.graph.node[0].op_type = "MatMull"
    with pytest.raises(onnx.checker.ValidationError, match="MatMull"):
        check_zoo_model(model)


def test_every_family_builds_at_its_defaults() -> None:
    for model in zoo_models():
        if model.name != "llama":  # defaults are Llama-2-7B, covered above
            check_zoo_model(build_model(parse_model_spec(model.name)))
