"""The zoo: every parametric model by name, the spec parser, and `build_model`.

A spec is ``name[:key=value,...]``; `name` is a family (``resnet``) or an alias that fixes
some parameters (``resnet50`` = ``resnet:depth=50``). Parsing resolves it to a complete,
typed `ModelSpec`; `build_model` turns that into an ONNX ModelProto.

Listing and parsing the zoo (`tessera models`, sweep files) never imports onnx: the family
modules import the ONNX graph builder inside their build functions.
"""

from __future__ import annotations

from difflib import get_close_matches
from typing import TYPE_CHECKING

from compiler.zoo.bert import BERT
from compiler.zoo.layers import CONV2D, GEMM
from compiler.zoo.llama import LLAMA
from compiler.zoo.mlp import MLP
from compiler.zoo.mobilenetv2 import MOBILENETV2
from compiler.zoo.params import ModelSpec, Params, ZooModel
from compiler.zoo.resnet import RESNET
from compiler.zoo.vit import VIT
from tessera.errors import InputError, Problem

if TYPE_CHECKING:
    import onnx

_ZOO = (RESNET, MOBILENETV2, VIT, BERT, LLAMA, MLP, GEMM, CONV2D)
_BY_NAME: dict[str, tuple[ZooModel, Params]] = {m.name: (m, {}) for m in _ZOO} | {
    alias: (m, fixed) for m in _ZOO for alias, fixed in m.aliases.items()
}


def zoo_models() -> tuple[ZooModel, ...]:
    """Every model family of the zoo, in the order `tessera models` lists them."""
    return _ZOO


def zoo_model(name: str) -> ZooModel:
    """The family called `name` (aliases excluded); InputError if there is none."""
    model, fixed = _lookup(name, source=name)
    if fixed or model.name != name:
        raise InputError(name, Problem("model", f"{name!r} is an alias of {model.name!r}, not a family"))
    return model


def _lookup(name: str, source: str) -> tuple[ZooModel, Params]:
    """The family and fixed parameters a (lower-case) model name stands for."""
    if name not in _BY_NAME:
        guess = get_close_matches(name, list(_BY_NAME), n=1)
        hint = f"did you mean {guess[0]!r}? " if guess else ""
        known = ", ".join(sorted(_BY_NAME))
        raise InputError(source, Problem("model", f"unknown model {name!r}; {hint}the zoo has: {known}"))
    return _BY_NAME[name]


def parse_model_spec(text: str) -> ModelSpec:
    """Parse ``name[:key=value,...]`` into a complete ModelSpec; InputError(source=text) if bad."""
    name, _, rest = text.strip().partition(":")
    model, fixed = _lookup(name.strip().lower(), source=text)
    raw: dict[str, str] = {}
    problems: list[Problem] = []
    for item in filter(None, (part.strip() for part in rest.split(","))):
        key, sep, value = (s.strip() for s in item.partition("="))
        if not sep or not key or not value:
            problems.append(Problem(f"{item!r}", "expected key=value"))
        elif key in raw:
            problems.append(Problem(f"parameter {key!r}", "given twice"))
        else:
            raw[key] = value
    if problems:
        raise InputError(text, problems)
    return model.resolve(raw, source=text, fixed=fixed)


def build_model(spec: ModelSpec) -> onnx.ModelProto:
    """The ONNX model of a spec (validated again, so a hand-made spec fails cleanly).

    Shapes are static, weights are external-data declarations with no file (see
    `compiler.zoo.graph_builder`); the model's doc_string is the canonical spec.
    """
    family = zoo_model(spec.name)
    resolved = family.resolve(spec.as_dict(), source=spec.canonical())
    model = family.build(resolved.as_dict())
    model.doc_string = resolved.canonical()
    return model
