"""Zoo MACs against hand-derived closed forms and published reference counts.

MACs are counted by a deliberately tiny oracle that needs nothing from the rest of the
compiler: strict ONNX shape inference, then for every Conv / MatMul / Gemm
(output elements) × (reduction length): Conv (C/groups)·kh·kw, MatMul the last axis of A,
Gemm the K of A.
"""

from __future__ import annotations

import json
from math import prod
from pathlib import Path

import onnx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from compiler.zoo import build_model, parse_model_spec
from tessera.errors import InputError

ONNX_DATA = Path(__file__).parents[1] / "data" / "onnx"


def oracle_macs(model: onnx.ModelProto) -> int:
    graph = onnx.shape_inference.infer_shapes(model, strict_mode=True).graph
    values = (*graph.input, *graph.value_info, *graph.output)
    shape = {v.name: tuple(d.dim_value for d in v.type.tensor_type.shape.dim) for v in values}
    shape |= {t.name: tuple(t.dims) for t in graph.initializer}
    total = 0
    for node in graph.node:
        out = prod(shape[node.output[0]])
        if node.op_type == "Conv":
            total += out * prod(shape[node.input[1]][1:])
        elif node.op_type == "MatMul":
            total += out * shape[node.input[0]][-1]
        elif node.op_type == "Gemm":
            trans_a = any(a.name == "transA" and a.i for a in node.attribute)
            total += out * shape[node.input[0]][0 if trans_a else 1]
    return total


def zoo_macs(text: str) -> int:
    return oracle_macs(build_model(parse_model_spec(text)))


# ---------------------------------------------------------------- ResNet


def _conv(hw: int, cin: int, cout: int, k: int) -> int:
    return hw * hw * cin * cout * k * k


def _resnet_closed_form(depth: int, width: float, resolution: int, classes: int) -> int:
    """Stem 7×7/2 at r/2, then per stage at side hw (r/4, r/8, r/16, r/32):
    bottleneck (planes p, input channels c): first block c·p·hw_in² (1×1 before the stride)
    + (9p² + 4p² + 4p·c)·hw² (3×3/s, 1×1 expand, projection); every other block 17p²·hw²;
    basic: first block (9c·p + 9p² + [c≠p or s≠1]·c·p)·hw², others 18p²·hw²; fc 2048·w·classes."""
    bottleneck = depth >= 50
    blocks = {18: (2, 2, 2, 2), 34: (3, 4, 6, 3), 50: (3, 4, 6, 3), 101: (3, 4, 23, 3), 152: (3, 8, 36, 3)}[depth]
    side = (resolution - 1) // 2 + 1  # 7×7/2 pad 3
    total = _conv(side, 3, round(64 * width), 7)
    side, c = (side - 1) // 2 + 1, round(64 * width)  # 3×3/2 max pool pad 1
    for stage, n in enumerate(blocks):
        p = round(64 * 2**stage * width)
        side_in, side = side, side if stage == 0 else (side - 1) // 2 + 1
        if bottleneck:
            total += c * p * side_in**2 + (9 * p * p + 4 * p * p + 4 * p * c) * side**2 + (n - 1) * 17 * p * p * side**2
            c = 4 * p
        else:
            shortcut = c * p if (c != p or stage > 0) else 0
            total += (9 * c * p + 9 * p * p + shortcut) * side**2 + (n - 1) * 18 * p * p * side**2
            c = p
    return total + c * classes


def test_resnet50_and_resnet18_match_torchvision_exactly() -> None:
    # ResNet-50 at 224: stem 112²·64·3·49 = 118,013,952; stages 667,942,912 + 1,027,604,480
    # + 1,464,336,384 + 809,238,528; fc 2048·1000 = 2,048,000; total 4,089,184,256 (torchvision).
    assert _resnet_closed_form(50, 1.0, 224, 1000) == 4_089_184_256
    assert zoo_macs("resnet50") == 4_089_184_256
    # ResNet-18: 118,013,952 + 462,422,016 + 3·411,041,792 + 512,000 = 1,814,073,344 (torchvision).
    assert _resnet_closed_form(18, 1.0, 224, 1000) == 1_814_073_344
    assert zoo_macs("resnet18") == 1_814_073_344


@pytest.mark.parametrize("depth", [18, 34, 50, 101, 152])
@pytest.mark.parametrize(("width", "resolution", "classes"), [(1.0, 224, 1000), (0.5, 160, 10), (1.25, 97, 100)])
def test_resnet_macs_follow_the_closed_form(depth: int, width: float, resolution: int, classes: int) -> None:
    text = f"resnet:depth={depth},width={width},resolution={resolution},classes={classes}"
    assert zoo_macs(text) == _resnet_closed_form(depth, width, resolution, classes)


@pytest.mark.parametrize(("depth", "gmacs"), [(34, 3.66), (101, 7.80), (152, 11.51)])
def test_deeper_resnets_match_torchvision_published_counts(depth: int, gmacs: float) -> None:
    # torchvision's model table lists "GFLOPS" = multiply-accumulates / 1e9, rounded to 2 places.
    assert round(zoo_macs(f"resnet{depth}") / 1e9, 2) == gmacs


# ---------------------------------------------------------------- MobileNetV2


def test_mobilenetv2_matches_torchvision_exactly() -> None:
    # Same layout, same make_divisible rounding, classifier 1280·1000 = 1,280,000 included.
    assert zoo_macs("mobilenetv2") == 300_774_272


@pytest.mark.parametrize(
    ("width", "resolution", "mmacs"),
    [(1.4, 224, 582), (1.3, 224, 509), (1.0, 192, 221), (1.0, 128, 99), (1.0, 96, 56),
     (0.75, 224, 209), (0.5, 160, 50), (0.35, 224, 59), (0.35, 96, 11)],
)
def test_mobilenetv2_variants_match_the_reference_checkpoint_table(width: float, resolution: int, mmacs: int) -> None:
    # tensorflow/models research/slim/nets/mobilenet/README.md (1001 classes, millions, truncated).
    assert zoo_macs(f"mobilenetv2:width={width},resolution={resolution},classes=1001") // 10**6 == mmacs


# ---------------------------------------------------------------- transformers


@pytest.mark.parametrize(
    ("layers", "hidden", "heads", "seq", "ffn", "batch"), [(12, 768, 12, 128, 3072, 1), (2, 256, 4, 64, 1000, 3)]
)
def test_bert_matches_per_layer_closed_form(
    layers: int, hidden: int, heads: int, seq: int, ffn: int, batch: int
) -> None:
    per_layer = 4 * seq * hidden**2 + 2 * seq**2 * hidden + 2 * seq * hidden * ffn
    text = f"bert:layers={layers},hidden={hidden},heads={heads},seq={seq},ffn={ffn},batch={batch}"
    assert zoo_macs(text) == batch * layers * per_layer
    if (layers, hidden, seq) == (12, 768, 128):
        assert batch * layers * per_layer == 11_173_625_856


def test_vit_matches_closed_form() -> None:
    b, p, r, layers, h, f, classes = 2, 16, 224, 3, 192, 768, 10
    n = (r // p) ** 2
    t = n + 1
    expected = b * (n * h * 3 * p * p + layers * (4 * t * h * h + 2 * t * t * h + 2 * t * h * f) + h * classes)
    text = f"vit:batch={b},patch={p},resolution={r},layers={layers},hidden={h},heads=3,mlp_ratio=4,classes={classes}"
    assert zoo_macs(text) == expected


def _llama_closed_form(b: int, layers: int, h: int, heads: int, kv: int, f: int, vocab: int, s: int, t: int) -> int:
    d = h // heads
    per_layer = 2 * s * h * h + 2 * s * h * kv * d + 2 * s * t * h + 3 * s * h * f
    return b * (layers * per_layer + s * h * vocab)


def test_llama_prefill_with_gqa_matches_closed_form() -> None:
    text = "llama:layers=4,hidden=2048,heads=32,kv_heads=4,seq=512,vocab=1000,batch=2"
    assert zoo_macs(text) == _llama_closed_form(2, 4, 2048, 32, 4, 5632, 1000, s=512, t=512)


def test_llama_decode_attends_to_the_cache_plus_the_new_token() -> None:
    text = "llama:layers=4,hidden=2048,heads=32,kv_heads=4,seq=512,phase=decode,kv_len=1024,vocab=1000,batch=3"
    assert zoo_macs(text) == _llama_closed_form(3, 4, 2048, 32, 4, 5632, 1000, s=1, t=1025)


def test_llama_without_kv_heads_has_one_kv_head_per_query_head() -> None:
    # heads=16 with the default kv_heads: multi-head attention, 16 key/value heads
    text = "llama:layers=2,hidden=1024,heads=16,seq=64,vocab=1000"
    assert zoo_macs(text) == _llama_closed_form(1, 2, 1024, 16, 16, 2816, 1000, s=64, t=64)


def test_llama2_7b_prefill_is_two_macs_per_parameter_token_plus_attention() -> None:
    # Llama-2-7B without its embedding table has 6,607,343,616 weights, each used once per token.
    s = 512
    attention = 32 * 2 * s * s * 4096
    assert zoo_macs("llama") == 6_607_343_616 * s - 32 * 2 * 4096 * s - 4096 * s + attention


# ---------------------------------------------------------------- MLP and single layers


@pytest.mark.parametrize(
    ("layers", "hidden", "batch", "inp", "out"), [(5, 2048, 200, 784, 10), (1, 64, 4, 32, 16), (2, 8, 1, 8, 8)]
)
def test_mlp_matches_closed_form(layers: int, hidden: int, batch: int, inp: int, out: int) -> None:
    expected = batch * inp * out if layers == 1 else batch * (inp * hidden + (layers - 2) * hidden**2 + hidden * out)
    assert zoo_macs(f"mlp:layers={layers},hidden={hidden},batch={batch},in={inp},out={out}") == expected


def test_gemm_is_m_k_n() -> None:
    assert zoo_macs("gemm:m=512,k=1024,n=256") == 512 * 1024 * 256
    assert zoo_macs("gemm:m=3,k=5,n=7,batch=4") == 4 * 3 * 5 * 7


@settings(max_examples=40, deadline=None)
@given(
    h=st.integers(1, 40), w=st.integers(1, 40), c_groups=st.integers(1, 4), k_groups=st.integers(1, 4),
    groups=st.integers(1, 4), r=st.integers(1, 5), s=st.integers(1, 5), stride=st.integers(1, 3),
    pad=st.integers(0, 3), batch=st.integers(1, 3),
)
def test_conv2d_matches_closed_form(
    h: int, w: int, c_groups: int, k_groups: int, groups: int, r: int, s: int, stride: int, pad: int, batch: int
) -> None:
    c, k = c_groups * groups, k_groups * groups
    out_h, out_w = (h + 2 * pad - r) // stride + 1, (w + 2 * pad - s) // stride + 1
    text = f"conv2d:h={h},w={w},c={c},k={k},r={r},s={s},stride={stride},pad={pad},groups={groups},batch={batch}"
    if out_h < 1 or out_w < 1:
        with pytest.raises(InputError, match="exceeds"):
            parse_model_spec(text)
        return
    assert zoo_macs(text) == batch * k * out_h * out_w * (c // groups) * r * s


def test_conv2d_default_pad_keeps_the_size_at_stride_one() -> None:
    assert zoo_macs("conv2d:h=56,w=56,c=64,k=64,r=3,s=3,stride=1") == 56 * 56 * 64 * 64 * 9
    assert zoo_macs("conv2d:h=56,w=56,c=64,k=128,r=3,s=3,stride=2,groups=4") == 28 * 28 * 128 * 16 * 9


# ---------------------------------------------------------------- torch exports in tests/data


@pytest.mark.parametrize(
    ("export", "spec"), [("resnet18", "resnet18"), ("resnet50", "resnet50"), ("mobilenet_v2", "mobilenetv2")]
)
def test_zoo_equals_the_torch_export_in_tests_data(export: str, spec: str) -> None:
    path = ONNX_DATA / f"{export}.ts17.onnx"
    if not path.exists():
        pytest.skip(f"{path} not present")
    assert zoo_macs(spec) == oracle_macs(onnx.load(str(path), load_external_data=False))


def _manifest_reference(export: str) -> int | None:
    """reference_macs of the manifest entry whose name or file starts with `export.`, if any."""
    path = ONNX_DATA / "manifest.json"
    if not path.exists():
        return None
    data = json.loads(path.read_text())
    entries = data.get("models", data) if isinstance(data, dict) else data
    pairs = entries.items() if isinstance(entries, dict) else ((e.get("name") or e.get("file", ""), e) for e in entries)
    for key, entry in pairs:
        if isinstance(entry, dict) and "reference_macs" in entry and str(key).split(".")[0] == export:
            return int(entry["reference_macs"])
    return None


@pytest.mark.parametrize(("export", "spec"), [("resnet50", "resnet50"), ("mobilenet_v2", "mobilenetv2")])
def test_zoo_equals_manifest_reference_macs(export: str, spec: str) -> None:
    reference = _manifest_reference(export)
    if reference is None:
        pytest.skip(f"no {export} entry with reference_macs in {ONNX_DATA / 'manifest.json'} yet")
    assert zoo_macs(spec) == reference
