"""Static shapes for a model's graph inputs, from the model and the user's overrides.

Exported models often leave the batch (and sometimes the sequence length) symbolic. The user
fixes them with `batch` (the leading symbolic dim of every input, or any symbolic dim named
like a batch) or per input with `input_shapes`. Anything still symbolic is an error that
says which input and dim, and how to fix it on the command line.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

import onnx

from compiler.frontend.values import ShapeError, Value, onnx_dtype_name
from tessera.errors import InputError, Problem

_BATCH_NAME = re.compile(r"^(n|b|bs|.*batch.*)$", re.IGNORECASE)


def resolve_inputs(
    graph_inputs: Sequence[onnx.ValueInfoProto],
    source: str,
    *,
    batch: int | None,
    input_shapes: Mapping[str, tuple[int, ...]] | None,
) -> dict[str, Value]:
    """Value (static shape, dtype) of every graph input; InputError lists every dynamic dim."""
    overrides = dict(input_shapes or {})
    problems: list[Problem] = []
    if batch is not None and (not isinstance(batch, int) or batch < 1):
        problems.append(Problem("batch", f"must be a positive integer, got {batch!r}"))
    names = [vi.name for vi in graph_inputs]
    for name in overrides:
        if name not in names:
            problems.append(
                Problem(f"input {name!r}", f"the model has no such input; its inputs are {names}")
            )
    values: dict[str, Value] = {}
    for vi in graph_inputs:
        value = _resolve_one(vi, batch, overrides.get(vi.name), problems)
        if value is not None:
            values[vi.name] = value
    if problems:
        raise InputError(source, problems)
    return values


def _resolve_one(
    vi: onnx.ValueInfoProto,
    batch: int | None,
    override: tuple[int, ...] | None,
    problems: list[Problem],
) -> Value | None:
    where = f"input {vi.name!r}"
    if vi.type.WhichOneof("value") != "tensor_type":
        problems.append(Problem(where, "is not a tensor (sequences and maps are not supported)"))
        return None
    tensor_type = vi.type.tensor_type
    try:
        dtype = onnx_dtype_name(tensor_type.elem_type)
    except ShapeError as error:
        problems.append(Problem(where, str(error)))
        return None
    declared = list(tensor_type.shape.dim) if tensor_type.HasField("shape") else None
    if override is not None:
        dims = tuple(int(d) for d in override)
        return _check_override(where, declared, dims, dtype, problems)
    if declared is None:
        problems.append(
            Problem(
                where, f"has no declared shape; give it with --input-shape {vi.name}=1x3x224x224"
            )
        )
        return None
    dims_out: list[int] = []
    for index, dim in enumerate(declared):
        if dim.HasField("dim_value") and dim.dim_value > 0:
            dims_out.append(dim.dim_value)
        elif batch is not None and (index == 0 or _BATCH_NAME.match(dim.dim_param or "")):
            dims_out.append(batch)
        else:
            label = f" ({dim.dim_param!r})" if dim.dim_param else ""
            example = "x".join(str(d.dim_value) if d.dim_value > 0 else "1" for d in declared)
            what = f"has size {dim.dim_value}" if dim.HasField("dim_value") else "is dynamic"
            problems.append(
                Problem(
                    f"{where} dim {index}{label}",
                    f"{what}; fix it with --batch N or --input-shape {vi.name}={example}",
                )
            )
            dims_out.append(0)
    return Value(tuple(dims_out), dtype)


def _check_override(
    where: str,
    declared: list[onnx.TensorShapeProto.Dimension] | None,
    dims: tuple[int, ...],
    dtype: str,
    problems: list[Problem],
) -> Value | None:
    if any(d < 1 for d in dims):
        problems.append(Problem(where, f"override shape {list(dims)} has a dim < 1"))
        return None
    if declared is None:
        return Value(dims, dtype)
    if len(declared) != len(dims):
        problems.append(
            Problem(
                where,
                f"override shape {list(dims)} has rank {len(dims)}, "
                f"the model declares rank {len(declared)}",
            )
        )
        return None
    for index, (dim, size) in enumerate(zip(declared, dims)):
        if dim.HasField("dim_value") and dim.dim_value > 0 and dim.dim_value != size:
            problems.append(
                Problem(
                    f"{where} dim {index}",
                    f"is fixed to {dim.dim_value} in the model; the override gives {size}",
                )
            )
    return Value(dims, dtype)
