"""Every committed ONNX export loads with static shapes; every bad file is a named InputError.

The files in tests/data/onnx are real torch exports (TorchScript opset 17 and torch.export
opset 18) with their weights stripped; the manifest records each network's input shapes and
its reference multiply-accumulate count from torch's FlopCounterMode.
"""

from __future__ import annotations

import json
from math import prod
from pathlib import Path

import onnx
import pytest

from compiler.frontend import load_onnx
from compiler.graph import Graph
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
