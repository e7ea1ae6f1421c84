"""Published accuracy lookup: exact variants only, never interpolated."""

from __future__ import annotations

import math

import pytest

from compiler.zoo import parse_model_spec
from compiler.zoo.accuracy import published_accuracy
from explorer.accuracy import accuracy_top1


@pytest.mark.parametrize(
    ("spec", "top1"),
    [
        ("mobilenetv2", 71.8),  # Sandler et al. 2018: 1.0 / 224
        ("mobilenetv2:width=0.5,resolution=160", 61.0),
        ("mobilenetv2:width=0.35,resolution=96", 45.5),
        ("resnet50", 76.130),
        ("resnet18", 69.758),
    ],
)
def test_published_variants(spec: str, top1: float) -> None:
    found = published_accuracy(parse_model_spec(spec))
    assert found is not None and found.top1 == top1 and found.source


@pytest.mark.parametrize(
    "spec",
    ["mobilenetv2:width=0.6", "mobilenetv2:classes=10", "resnet50:resolution=160", "resnet50:width=0.5", "bert", "gemm:m=8,k=8,n=8"],
)
def test_unpublished_variants_have_no_accuracy(spec: str) -> None:
    assert published_accuracy(parse_model_spec(spec)) is None
    assert math.isnan(accuracy_top1(spec))


def test_onnx_files_have_no_accuracy() -> None:
    assert math.isnan(accuracy_top1("nets/model.onnx"))
