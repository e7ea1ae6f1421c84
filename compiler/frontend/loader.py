"""Reading an .onnx file: structure only, never the weights.

The file (a regular file under 2 GiB, `tessera.input_files`) is parsed from its bytes, which
never opens external data, so a model whose weights live in a separate `.data` file loads in
milliseconds and loads even when that file is absent. The
external-data locations are still checked: one that escapes the model's folder (an absolute
path or `..`) is rejected, because a tool that ever did follow it would read arbitrary files.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path, PurePosixPath, PureWindowsPath

import onnx
from google.protobuf.message import DecodeError

from compiler.frontend.build import graph_from_model
from compiler.graph import Graph
from tessera.errors import InputError, Problem
from tessera.input_files import GiB, read_input

MAX_ONNX_BYTES = 2 * GiB
"""Protobuf cannot parse a message of 2 GiB or more, so an ONNX file holding its weights inline
is smaller; bigger models store their weights as external data, which is never read."""


def load_onnx(
    path: str | Path,
    *,
    batch: int | None = None,
    input_shapes: Mapping[str, tuple[int, ...]] | None = None,
) -> Graph:
    """The static-shape Graph of an ONNX file; InputError (naming the file) for bad input."""
    source = str(path)
    data = read_input(path, limit=MAX_ONNX_BYTES, what="an .onnx file (larger models keep their weights as external data)")
    try:
        model = onnx.load_model_from_string(data)
    except (DecodeError, ValueError, RuntimeError, OSError) as error:
        raise InputError(
            source, f"cannot be parsed as an ONNX model (not ONNX, or truncated): {error}"
        ) from None
    if not model.opset_import and not model.graph.node:
        raise InputError(source, "is not an ONNX model (no graph and no opset import)")
    problems = [
        Problem(f"tensor {tensor.name!r}", f"external data location {location!r} {why}")
        for tensor, location, why in _unsafe_locations(model.graph)
    ]
    if problems:
        raise InputError(source, problems)
    return graph_from_model(model, source, batch=batch, input_shapes=input_shapes)


def _unsafe_locations(graph: onnx.GraphProto) -> Iterator[tuple[onnx.TensorProto, str, str]]:
    """External-data tensors whose location is not a relative path inside the model folder."""
    for tensor in _tensors(graph):
        if tensor.data_location != onnx.TensorProto.EXTERNAL:
            continue
        location = next((e.value for e in tensor.external_data if e.key == "location"), "")
        if not location:
            yield tensor, location, "is empty"
        elif PurePosixPath(location).is_absolute() or PureWindowsPath(location).anchor:
            yield tensor, location, "is an absolute path; it must be relative to the model's folder"
        elif ".." in PureWindowsPath(location).parts:
            yield tensor, location, "points outside the model's folder ('..')"


def _tensors(graph: onnx.GraphProto) -> Iterator[onnx.TensorProto]:
    """Every tensor stored in a graph: initializers and tensor attributes, subgraphs included."""
    yield from graph.initializer
    yield from (sparse.values for sparse in graph.sparse_initializer)
    for node in graph.node:
        for attr in node.attribute:
            if attr.type == onnx.AttributeProto.TENSOR:
                yield attr.t
            elif attr.type == onnx.AttributeProto.TENSORS:
                yield from attr.tensors
            elif attr.type == onnx.AttributeProto.GRAPH:
                yield from _tensors(attr.g)
            elif attr.type == onnx.AttributeProto.GRAPHS:
                for sub in attr.graphs:
                    yield from _tensors(sub)
