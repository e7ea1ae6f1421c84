"""What an ONNX model must satisfy before shape inference runs, and what every inferred shape must.

A model can parse as protobuf and still be nonsense: an opset newer than any ONNX release, a
graph that declares no outputs, an initializer whose stored values disagree with its dims, a
float where the op's schema declares integers (``strides: [2.0, 2.0]`` would make a shape of
``3.0``). Each is refused with the node or tensor named. Every shape the frontend infers is
checked as it is defined: whole numbers ≥ 0, and small enough that its bytes are an exact
count (`MAX_COUNT`).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from functools import lru_cache

import numpy as np
import onnx
from onnx import defs, helper

from compiler.frontend.integrity import MAX_ELEMENTS, initializer_problem
from compiler.frontend.registry import STANDARD_DOMAINS
from tessera.errors import Problem

NEWEST_OPSET = defs.onnx_opset_version()
"""The newest default-domain opset the installed ONNX library defines; a model importing a
newer one uses op semantics nobody here knows."""


def default_opset(model: onnx.ModelProto) -> int | None:
    """The model's default-domain opset version, or None when it imports none."""
    versions = [entry.version for entry in model.opset_import if entry.domain in STANDARD_DOMAINS]
    return max(versions) if versions else None


def model_problems(model: onnx.ModelProto) -> list[Problem]:
    """Every problem of the model as a whole: its opset, its outputs, its initializers."""
    problems: list[Problem] = []
    opset = default_opset(model)
    if opset is not None and not 1 <= opset <= NEWEST_OPSET:
        problems.append(
            Problem("opset_import", f"imports default-domain opset {opset}; the ONNX opsets are 1 to {NEWEST_OPSET}")
        )
    if not model.graph.output:
        problems.append(Problem("graph", "declares no outputs, so none of its nodes computes anything used"))
    for tensor in model.graph.initializer:
        problem = initializer_problem(tensor)
        if problem is not None:
            problems.append(Problem(f"initializer {tensor.name!r}", problem))
    return problems


def shape_problem(shape: tuple[object, ...]) -> str | None:
    """What is wrong with an inferred shape, if anything: a dim that is not a whole number ≥ 0,
    or more elements than `MAX_ELEMENTS`."""
    for dim in shape:
        if isinstance(dim, bool) or not isinstance(dim, (int, np.integer)):
            return f"shape {_text(shape)} has a dim that is not a whole number ({dim!r})"
        if dim < 0:
            return f"shape {_text(shape)} has a negative dim"
    elements = math.prod(int(d) for d in shape)
    if elements > MAX_ELEMENTS:
        return f"shape {_text(shape)} has {elements:,} elements, more than the {MAX_ELEMENTS:,} (2^60 - 1) a tensor may hold"
    return None


def _text(shape: tuple[object, ...]) -> str:
    return "[" + ", ".join(str(d) for d in shape) + "]"


def attribute_problems(node: onnx.NodeProto, opset: int | None) -> Iterator[str]:
    """Attributes whose type differs from the one the op's schema declares at this opset."""
    declared = _declared_types(node.op_type, node.domain, opset)
    for attr in node.attribute:
        expected = declared.get(attr.name)
        if expected is not None and attr.type != expected:
            got = onnx.AttributeProto.AttributeType.Name(attr.type)
            want = onnx.AttributeProto.AttributeType.Name(expected)
            shown = helper.get_attribute_value(attr) if attr.type != onnx.AttributeProto.UNDEFINED else None
            yield f"attribute {attr.name!r} must be {want}, got {got} {shown!r}"


@lru_cache(maxsize=None)
def _declared_types(op_type: str, domain: str, opset: int | None) -> dict[str, int]:
    """Attribute name -> AttributeProto type from the op's schema (empty when there is none)."""
    try:
        schema = defs.get_schema(op_type, opset or NEWEST_OPSET, domain)
    except defs.SchemaError:
        return {}
    return {name: int(attr.type) for name, attr in schema.attributes.items()}
