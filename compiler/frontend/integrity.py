"""An ONNX initializer's stored data against its declared type and shape.

An initializer whose stored data holds more or fewer elements than its declared shape is corrupt
(a truncated export, a hand edit). The data itself is never decoded: the number of stored entries
(or raw bytes) is compared with the shape, which costs nothing for a gigabyte of weights.
"""

from __future__ import annotations

from math import ceil, prod

import numpy as np
import onnx
from onnx import TensorProto, helper

from compiler.graph import MAX_COUNT, MAX_ELEMENT_BYTES

MAX_ELEMENTS = MAX_COUNT // MAX_ELEMENT_BYTES
"""Elements a tensor may hold: its bytes, at the widest element type, stay an exact count."""

_PACKED_BITS = {
    TensorProto.UINT4: 4, TensorProto.INT4: 4, TensorProto.FLOAT4E2M1: 4,
    TensorProto.UINT2: 2, TensorProto.INT2: 2,
}
"""Element types narrower than a byte, stored packed (bits per element)."""

_TYPED_FIELDS = {
    "float_data": {TensorProto.FLOAT: 1, TensorProto.COMPLEX64: 2},
    "double_data": {TensorProto.DOUBLE: 1, TensorProto.COMPLEX128: 2},
    "int64_data": {TensorProto.INT64: 1},
    "uint64_data": {TensorProto.UINT32: 1, TensorProto.UINT64: 1},
    "int32_data": {
        kind: 1
        for kind in (TensorProto.INT32, TensorProto.INT16, TensorProto.INT8, TensorProto.UINT16, TensorProto.UINT8,
                     TensorProto.BOOL, TensorProto.FLOAT16, TensorProto.BFLOAT16, TensorProto.FLOAT8E4M3FN,
                     TensorProto.FLOAT8E4M3FNUZ, TensorProto.FLOAT8E5M2, TensorProto.FLOAT8E5M2FNUZ)
    },
    "string_data": {TensorProto.STRING: 1},
}
"""Typed storage fields of a TensorProto and the entries each element takes in them (ONNX
onnx.proto3: complex numbers store their real and imaginary parts as two entries)."""


def initializer_problem(tensor: onnx.TensorProto) -> str | None:
    """Why a stored tensor's data disagrees with its element type or shape, or None."""
    if tensor.data_type not in TensorProto.DataType.values() or tensor.data_type == TensorProto.UNDEFINED:
        return f"has element type {tensor.data_type}, which ONNX does not define"
    if any(d < 0 for d in tensor.dims):
        return f"has a negative dim in its shape {list(tensor.dims)}"
    elements = prod(tensor.dims)
    if elements > MAX_ELEMENTS:
        return f"has {elements:,} elements, more than the {MAX_ELEMENTS:,} (2^60 - 1) a tensor may hold"
    if tensor.data_location == TensorProto.EXTERNAL:
        length = next((entry.value for entry in tensor.external_data if entry.key == "length"), None)
        expected = _bytes(tensor.data_type, elements)
        if length is not None and expected is not None and length.isdigit() and int(length) != expected:
            return f"declares {length} external bytes, but its shape {list(tensor.dims)} holds {expected}"
        return None
    if tensor.HasField("raw_data"):
        expected = _bytes(tensor.data_type, elements)
        if expected is not None and len(tensor.raw_data) != expected:
            return f"stores {len(tensor.raw_data)} bytes, but its shape {list(tensor.dims)} holds {expected}"
        return None
    for field, per_element in _TYPED_FIELDS.items():
        stored = len(getattr(tensor, field))
        if stored and tensor.data_type in per_element and stored != elements * per_element[tensor.data_type]:
            count = stored // per_element[tensor.data_type]
            return f"stores {count} elements, but its shape {list(tensor.dims)} holds {elements}"
    return None


def _bytes(data_type: int, elements: int) -> int | None:
    """Bytes of `elements` elements of an ONNX type stored raw (None for strings)."""
    if data_type in _PACKED_BITS:
        return ceil(elements * _PACKED_BITS[data_type] / 8)
    if data_type == TensorProto.STRING:
        return None
    try:
        return elements * np.dtype(helper.tensor_dtype_to_np_dtype(data_type)).itemsize
    except (KeyError, TypeError, ValueError):
        return None
