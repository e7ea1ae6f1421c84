"""Rules for ops that are provably free at inference time: no workload, no data moved.

Two kinds exist. *Views* (Reshape, Flatten, Squeeze, Unsqueeze, Identity, Dropout, a Cast or CastLike
between types of the same width) give a new name or shape to the bytes of their first input;
lowering treats their output as an alias of that input, so a producer still fuses with a
consumer on the other side of a view. *Shape constants* (Shape, Size, Constant,
ConstantOfShape) produce values that depend only on static shapes and attributes; the
frontend normally folds them, and any that remain are evaluated at compile time.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING

from accel_spec.types import OpClass
from compiler.graph import Node, TensorInfo
from compiler.lowering.ops import FreeOp, VectorOp, op_counts

if TYPE_CHECKING:
    from compiler.lowering.context import LoweringContext

VIEW_OPS = frozenset({"Reshape", "Flatten", "Squeeze", "Unsqueeze", "Identity", "Dropout"})
SHAPE_CONSTANT_OPS = frozenset({"Shape", "Size", "Constant", "ConstantOfShape"})


def dtype_bits(dtype: str) -> int:
    """Storage width in bits of a numpy/ONNX dtype name (``bfloat16`` 16, ``bool`` 8)."""
    if dtype == "bool":
        return 8
    match = re.search(r"\d+", dtype)
    if match is None:
        raise ValueError(f"unknown element type {dtype!r}")
    return int(match.group())


def is_view(node: Node, tensors: Mapping[str, TensorInfo]) -> bool:
    """True when the node's first output is its first input under another name or shape."""
    if node.op_type in VIEW_OPS:
        return True
    if node.op_type in ("Cast", "CastLike"):
        source, target = tensors.get(node.inputs[0]), tensors.get(node.outputs[0])
        return source is not None and target is not None and dtype_bits(source.dtype) == dtype_bits(target.dtype)
    return False


def view(node: Node, ctx: LoweringContext) -> FreeOp:
    """Reshape, Flatten, Squeeze, Unsqueeze: free because tensors are stored contiguously,
    so a new shape is only new metadata over the same bytes (every op that permutes data,
    such as Transpose, materialises its output and is costed)."""
    return FreeOp("a new shape over the same contiguous bytes")


def identity(node: Node, ctx: LoweringContext) -> FreeOp:
    """Identity, and Dropout at inference (ONNX defines it as the identity when not training):
    free because the output is the input."""
    return FreeOp("the output is the input")


def shape_constant(node: Node, ctx: LoweringContext) -> FreeOp:
    """Shape, Size, Constant, ConstantOfShape: free because every shape is static, so the
    output is known at compile time and reads no activation data."""
    return FreeOp("a compile-time constant of static shapes and attributes")


def cast(node: Node, ctx: LoweringContext) -> FreeOp | VectorOp:
    """Cast and CastLike: free between types of the same width (a reinterpretation the
    compiler folds into its consumers); otherwise one elementwise conversion per element."""
    if is_view(node, ctx.graph.tensors):
        return FreeOp("a conversion between types of the same width")
    elements = ctx.elements(node, node.outputs[0])
    return VectorOp(
        ops=op_counts({OpClass.ELEMENTWISE: 1}, elements),
        input_elements=ctx.elements(node, node.inputs[0]),
        elementwise=True,
    )

