"""Resolve a MODEL argument to a Graph: an `.onnx` file, a SCALE-Sim topology `.csv`, or a zoo
spec `name[:key=value,...]`.

The one place that decides how a user names a network, so every command (inspect,
simulate, sweep) accepts the same spellings and gives the same errors.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from compiler.zoo import build_model, parse_model_spec
from tessera.errors import InputError, Problem

if TYPE_CHECKING:
    from compiler.graph import Graph

_FILE_SUFFIXES = (".onnx", ".csv")


def looks_like_file(model: str) -> bool:
    """True when MODEL names a file (has a file suffix or a path separator) rather than a zoo spec."""
    return model.lower().endswith(_FILE_SUFFIXES) or "/" in model or "\\" in model


def load_model(
    model: str,
    *,
    batch: int | None = None,
    input_shapes: Mapping[str, tuple[int, ...]] | None = None,
) -> Graph:
    """Build the Graph of a model given as an ONNX path, a SCALE-Sim topology CSV or a zoo spec.

    `batch` overrides the batch dimension: the symbolic leading dim of an ONNX file's inputs,
    or the `batch` parameter of a zoo model. `input_shapes` applies to ONNX files only.
    """
    # The frontend (onnx) is imported here, not at module level: naming models
    # (`looks_like_file`, sweep and report labels) must not pay for it.
    from compiler.frontend import graph_from_model, load_onnx
    from compiler.frontend.scalesim_topology import load_scalesim_topology

    if looks_like_file(model):
        path = Path(model)
        if not path.exists():
            raise InputError(model, Problem("", "model file not found"))
        if path.suffix.lower() == ".csv":
            if input_shapes:
                raise InputError(model, Problem("--input-shape", "applies to ONNX files only"))
            return load_scalesim_topology(path, batch=batch)
        if not path.suffix.lower() == ".onnx":
            raise InputError(
                model, Problem("", "unsupported model file type; expected an .onnx file or a SCALE-Sim topology .csv")
            )
        return load_onnx(path, batch=batch, input_shapes=input_shapes)
    if input_shapes:
        raise InputError(model, Problem("--input-shape", "applies to ONNX files only; set zoo model parameters instead"))
    spec = parse_model_spec(model)
    if batch is not None:
        spec = spec.with_params(batch=batch)
    return graph_from_model(build_model(spec), source=spec.canonical())
