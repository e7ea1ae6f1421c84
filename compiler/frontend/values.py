"""What shape inference knows about one tensor, and what a shape rule sees of one node.

A `Value` is a tensor's static shape and element type, plus its contents when they are a
small constant (an initializer stored in the model, a Constant node, or the result of folding
a shape subgraph). Weights never get contents: shape rules and folding only ever see their
shapes. An `OpContext` is the read-only view of one node that shape rules and folders take.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from math import prod
from typing import Any

import numpy as np
import onnx
from onnx import helper, numpy_helper

# Largest constant (in elements) whose contents are read or produced by folding. Anything
# bigger is a weight or a run-time tensor: its shape is known, its value deliberately is not.
MAX_CONSTANT_ELEMENTS = 64 * 1024


class ShapeError(Exception):
    """A node's inputs do not fit its op's shape rule; the frontend names the node."""


@dataclass(frozen=True, eq=False)
class Value:
    """A tensor's static shape, numpy dtype name and, for small constants, its contents."""

    shape: tuple[int, ...]
    dtype: str
    data: np.ndarray | None = None

    @property
    def elements(self) -> int:
        """Number of elements (1 for a scalar)."""
        return prod(self.shape)

    @property
    def rank(self) -> int:
        """Number of dimensions."""
        return len(self.shape)


def onnx_dtype_name(elem_type: int) -> str:
    """Numpy dtype name of an ONNX element type (``float32``, ``int64``, ``bfloat16``, ...);
    ShapeError for a number that names no ONNX type (``Cast(to=999)``)."""
    try:
        return np.dtype(helper.tensor_dtype_to_np_dtype(elem_type)).name
    except (KeyError, TypeError, ValueError):
        pass
    try:
        return onnx.TensorProto.DataType.Name(elem_type).lower()
    except ValueError:
        raise ShapeError(f"element type {elem_type} is not an ONNX data type") from None


def tensor_value(tensor: onnx.TensorProto) -> Value:
    """The Value of an initializer or constant tensor, reading contents only when small.

    Contents stored externally are never read (the data file may not even exist), and a
    tensor that declares dims but carries no data (as synthetic models do) gets no contents.
    """
    shape = tuple(int(d) for d in tensor.dims)
    dtype = onnx_dtype_name(tensor.data_type)
    if tensor.data_location == onnx.TensorProto.EXTERNAL or prod(shape) > MAX_CONSTANT_ELEMENTS:
        return Value(shape, dtype)
    try:
        data = numpy_helper.to_array(tensor)
    except (ValueError, TypeError):
        return Value(shape, dtype)
    if data.size != prod(shape):
        return Value(shape, dtype)
    return Value(shape, dtype, data.reshape(shape))


def decode_attribute(attr: onnx.AttributeProto) -> Any:
    """Plain Python value of a node attribute: str, int, float, tuples, numpy for tensors.

    A tensor attribute too large to read (or stored externally) becomes a data-less Value.

    Graph-valued attributes (If/Loop/Scan bodies) are returned as GraphProto; the frontend
    inlines or rejects them, so they never reach a kept node.
    """
    value = helper.get_attribute_value(attr)
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    if isinstance(value, onnx.TensorProto):
        return _tensor_attribute(value)
    if isinstance(value, list):
        return tuple(_decode_item(item) for item in value)
    return value


def _decode_item(item: Any) -> Any:
    if isinstance(item, bytes):
        return item.decode("utf-8", errors="replace")
    if isinstance(item, onnx.TensorProto):
        return _tensor_attribute(item)
    return item


def _tensor_attribute(tensor: onnx.TensorProto) -> np.ndarray | Value:
    value = tensor_value(tensor)
    return value.data if value.data is not None else value


@dataclass(frozen=True)
class OpContext:
    """One node as a shape rule or folder sees it: attributes and the Values of its inputs.

    `inputs[i]` is None where the optional input i is omitted (empty name) or absent.
    """

    name: str
    op_type: str
    attrs: Mapping[str, Any]
    inputs: tuple[Value | None, ...]
    input_names: tuple[str, ...]
    num_outputs: int

    def input(self, index: int) -> Value:
        """A required input; ShapeError if the node does not provide it."""
        value = self.optional(index)
        if value is None:
            raise ShapeError(f"required input {index} is missing")
        return value

    def optional(self, index: int) -> Value | None:
        """An optional input, or None when omitted."""
        return self.inputs[index] if index < len(self.inputs) else None

    def constant(self, index: int) -> np.ndarray | None:
        """Contents of an optional input that must be a constant (None when omitted).

        Shape-defining inputs (a Reshape's shape, a Slice's starts) must fold to constants:
        otherwise the output shape depends on run-time data and cannot be static.
        """
        value = self.optional(index)
        if value is None:
            return None
        if value.data is None:
            raise ShapeError(
                f"input {index} ({self.input_names[index]!r}) must be a constant that folds at "
                "compile time, but its value is only known at run time, so the output shape is "
                "not static"
            )
        return value.data

    def ints(self, index: int) -> list[int] | None:
        """A constant input as a list of Python ints (None when omitted)."""
        data = self.constant(index)
        return None if data is None else [int(v) for v in np.asarray(data).reshape(-1)]

    def required_constant(self, index: int) -> np.ndarray:
        """Contents of a required constant input; ShapeError when missing or not constant."""
        data = self.constant(index)
        if data is None:
            raise ShapeError(f"required input {index} is missing")
        return data

    def required_ints(self, index: int) -> list[int]:
        """A required constant input as a list of Python ints."""
        return [int(v) for v in np.asarray(self.required_constant(index)).reshape(-1)]

    def attr(self, key: str, default: Any = None) -> Any:
        """An attribute's decoded value, or `default` when the node does not set it."""
        return self.attrs.get(key, default)


def normalize_axis(axis: int, rank: int) -> int:
    """An ONNX axis (negative counts from the end) as an index in [0, rank)."""
    if not -rank <= axis < rank:
        raise ShapeError(f"axis {axis} is out of range for rank {rank}")
    return axis % rank
