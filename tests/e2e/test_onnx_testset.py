"""Every committed ONNX export loads with static shapes; every bad file is a named InputError.

The files in tests/data/onnx are real torch exports (TorchScript opset 17 and torch.export
opset 18) with their weights stripped; the manifest records each network's input shapes and
its reference multiply-accumulate count from torch's FlopCounterMode. The hf_* files are
Hugging Face transformers models; the *_decode ones carry a KV cache in and out.
"""

from __future__ import annotations

import json
from math import prod
from pathlib import Path

import onnx
import pytest

from compiler.frontend import load_onnx
from compiler.graph import Graph
from compiler.lowering import lower
from compiler.models import load_model
from tessera.errors import InputError

DATA = Path(__file__).resolve().parents[1] / "data" / "onnx"
MAC_OPS = ("Conv", "ConvTranspose", "MatMul", "Gemm", "Einsum")


def _entries(name: str) -> list[dict]:
    path = DATA / name
    if not path.exists():
        return []
    return [e for e in json.loads(path.read_text()) if "file" in e]


GOOD = _entries("manifest.json")
BAD = _entries("manifest_bad.json")


def _macs(g: Graph) -> int:
    """Multiply-accumulates of the conv and matrix-product nodes, from inferred shapes."""
    total = 0
    for node in g.nodes:
        out = g.tensor(node.outputs[0]).shape
        if node.op_type == "Conv":
            total += prod(out) * prod(g.tensor(node.inputs[1]).shape[1:])
        elif node.op_type == "MatMul":
            total += prod(out) * g.tensor(node.inputs[0]).shape[-1]
        elif node.op_type == "Gemm":
            a = g.tensor(node.inputs[0]).shape
            total += prod(out) * (a[0] if node.attrs.get("transA") else a[1])
    return total


def _batch(entry: dict) -> int | None:
    return entry["export_batch"] if entry["dynamic_batch"] else None


@pytest.mark.parametrize("entry", GOOD, ids=[e["file"] for e in GOOD])
def test_export_loads_with_static_shapes(entry: dict) -> None:
    path = DATA / entry["file"]
    g = load_onnx(path, batch=_batch(entry))
    for name, dims in entry["input_shapes"].items():
        expected = tuple(entry["export_batch"] if isinstance(d, str) else d for d in dims)
        assert g.tensor(name).shape == expected
    defined = set(g.inputs) | set(g.initializers)
    for node in g.nodes:
        assert all(n in defined for n in node.inputs if n), node.name
        defined.update(o for o in node.outputs if o)
        for name in (*node.inputs, *node.outputs):
            if name:
                assert all(isinstance(d, int) and d >= 0 for d in g.tensor(name).shape)
    model = onnx.load(str(path), load_external_data=False)
    in_file = sorted(n.op_type for n in model.graph.node if n.op_type in MAC_OPS)
    kept = sorted(n.op_type for n in g.nodes if n.op_type in MAC_OPS)
    assert kept == in_file  # no compute op was folded away
    assert _macs(g) == entry["reference_macs"]


@pytest.mark.parametrize("entry", [e for e in GOOD if e["dynamic_batch"]], ids=lambda e: e["file"])
def test_dynamic_batch_needs_a_batch_and_scales(entry: dict) -> None:
    path = DATA / entry["file"]
    with pytest.raises(InputError, match="--batch N") as info:
        load_onnx(path)
    assert "dim 0" in str(info.value)
    one = load_onnx(path, batch=1)
    assert _macs(one) * entry["export_batch"] == entry["reference_macs"]


DECODERS = [e for e in GOOD if any(name.startswith("past_key_values.") for name in e["input_shapes"])]


@pytest.mark.parametrize("entry", DECODERS, ids=[e["file"] for e in DECODERS])
def test_decode_step_appends_the_new_token_to_each_kv_cache(entry: dict) -> None:
    """present.<i>.key = Concat(past_key_values.<i>.key, k) lowers to an append of one token's
    keys, not a copy of the cache; no layer reads the past cache itself."""
    pasts = {name: dims for name, dims in entry["input_shapes"].items() if name.startswith("past_key_values.")}
    workloads = lower(load_onnx(DATA / entry["file"]))
    appends = {w.cache_append.cache: w for w in workloads if w.cache_append is not None}
    assert set(appends) == set(pasts)
    for cache, (batch, heads, cached, head_dim) in pasts.items():
        append = appends[cache]
        assert append.output_tensor == cache.replace("past_key_values.", "present.") and append.graph_output
        assert (append.cache_append.axis, append.cache_append.cached, append.cache_append.appended) == (2, cached, 1)
        assert append.output_elements == append.input_elements == batch * heads * head_dim
    assert not any(cache in w.input_tensors + w.side_tensors + (w.weight_tensor,) for w in workloads for cache in pasts)


# The Llama-family exports have the dims of this zoo decoder (Mistral's sliding window and
# Qwen2's Q/K/V biases add no MACs): two implementations of the same network, counted apart.
ZOO_LLAMA = "llama:layers=2,hidden=256,heads=8,kv_heads=2,ffn=704,vocab=8192"
ZOO_TWINS = {"hf_llama": f"{ZOO_LLAMA},seq=64", "hf_llama_decode": f"{ZOO_LLAMA},phase=decode,kv_len=63"}
ZOO_TWINS |= {name.replace("llama", family): spec for name, spec in ZOO_TWINS.items() for family in ("mistral", "qwen2")}
TWINS = [e for e in GOOD if e["network"] in ZOO_TWINS]


@pytest.mark.parametrize("entry", TWINS, ids=[e["file"] for e in TWINS])
def test_transformers_llama_family_matches_the_zoo_llama(entry: dict) -> None:
    zoo = lower(load_model(ZOO_TWINS[entry["network"]]))
    assert sum(w.macs for w in zoo) == entry["reference_macs"]
    exported = lower(load_onnx(DATA / entry["file"]))
    assert sum(w.macs for w in exported) == entry["reference_macs"]
    zoo_appends = sorted((w.cache_append.cached, w.cache_append.appended, w.cache_append.entry_elements)
                         for w in zoo if w.cache_append is not None)
    exported_appends = sorted((w.cache_append.cached, w.cache_append.appended, w.cache_append.entry_elements)
                              for w in exported if w.cache_append is not None)
    assert zoo_appends == exported_appends


@pytest.mark.parametrize("entry", BAD, ids=[e["file"] for e in BAD])
def test_bad_file_is_named_input_error(entry: dict) -> None:
    path = DATA / entry["file"]
    with pytest.raises(InputError) as info:
        load_onnx(path)
    assert info.value.source == str(path)
    expected = entry["expected_error"]
    message = str(info.value)
    if "node_name" in expected:
        assert f"node {expected['node_name']!r} ({expected['op_type']})" in message
    else:
        assert "cannot be parsed" in message
