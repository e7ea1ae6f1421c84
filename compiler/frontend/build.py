"""ONNX ModelProto -> Graph: static shapes for every tensor, shape subgraphs folded away.

One pass over the nodes in topological order. Each node's shape rule gives its outputs'
shapes; a node whose inputs are all constants is folded (evaluated with numpy when small,
or recorded as a constant of unknown value when it only rearranges weights), and every
other node is kept. Identity, inference-mode Dropout, a Concat of a single input (which the TorchScript
exporter leaves where a KV cache starts empty) and an Expand to the shape its input already
has become aliases, and an If whose condition folds is replaced by its taken branch.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np
import onnx
import onnx.inliner

from compiler.frontend.folding import SHAPE_ONLY, can_fold, fold
from compiler.frontend.inputs import resolve_inputs
from compiler.frontend.model_checks import attribute_problems, default_opset, model_problems, shape_problem
from compiler.frontend.registry import (
    DATA_DEPENDENT_OPS,
    MAC_OPS,
    SHAPE_RULES,
    STANDARD_DOMAINS,
    is_supported,
)
from compiler.frontend.topology import node_label, topological_order
from compiler.frontend.values import (
    MAX_CONSTANT_ELEMENTS,
    OpContext,
    ShapeError,
    Value,
    decode_attribute,
    tensor_value,
)
from compiler.graph import Graph, Node, TensorInfo
from tessera.errors import InputError, Problem

_ALIAS_OPS = frozenset({"Identity", "Dropout"})
_NOT_NUMBERS = {"object": "string", "bool": "boolean", "undefined": "undefined"}
"""Element types (as `onnx_dtype_name` spells them) a multiply-accumulate cannot take, and
how a message names them."""


def graph_from_model(
    model: onnx.ModelProto,
    source: str,
    *,
    batch: int | None = None,
    input_shapes: Mapping[str, tuple[int, ...]] | None = None,
) -> Graph:
    """The static-shape Graph of an ONNX model; InputError (naming `source`) if impossible.

    `batch` fixes the leading symbolic dim of every graph input; `input_shapes` fixes whole
    input shapes by name. Weights are never read: only initializer dims and dtypes are used.
    """
    if model.functions:
        model = _inline_functions(model, source)
    graph = model.graph
    if not graph.node:
        raise InputError(
            source, Problem("graph", "has no nodes (empty graph, or not an ONNX model)")
        )
    problems = model_problems(model)
    if problems:
        raise InputError(source, problems)
    _check_supported(graph.node, source)
    constants = {t.name: tensor_value(t) for t in graph.initializer}
    constants.update({t.values.name: _sparse_value(t) for t in graph.sparse_initializer})
    graph_inputs = [vi for vi in graph.input if vi.name not in constants]
    inputs = resolve_inputs(graph_inputs, source, batch=batch, input_shapes=input_shapes)
    problems = [
        Problem(f"input {name!r}", problem)
        for name, value in inputs.items()
        if (problem := shape_problem(value.shape)) is not None
    ]
    if problems:
        raise InputError(source, problems)
    builder = _Builder(source, {**constants, **inputs}, set(constants), default_opset(model))
    builder.run(graph.node)
    outputs = tuple(builder.resolve(vi.name) for vi in graph.output)
    return builder.assemble(graph.name or Path(source).stem, tuple(inputs), outputs)


def _inline_functions(model: onnx.ModelProto, source: str) -> onnx.ModelProto:
    try:
        return onnx.inliner.inline_local_functions(model)
    except Exception as error:  # the inliner reports malformed functions with many types
        problem = Problem("functions", f"cannot inline model-local functions: {error}")
        raise InputError(source, problem) from None


def _sparse_value(tensor: onnx.SparseTensorProto) -> Value:
    return Value(tuple(int(d) for d in tensor.dims), tensor_value(tensor.values).dtype)


def _check_supported(nodes: Sequence[onnx.NodeProto], source: str) -> None:
    """One problem per unsupported op type (first node named), before any inference runs."""
    seen: dict[tuple[str, str], list[str]] = {}
    for index, node in enumerate(nodes):
        if node.domain not in STANDARD_DOMAINS or not is_supported(node.op_type):
            seen.setdefault((node.domain, node.op_type), []).append(node_label(node, index))
    problems = []
    for (domain, op_type), labels in seen.items():
        more = f" (and {len(labels) - 1} more nodes)" if len(labels) > 1 else ""
        if domain not in STANDARD_DOMAINS:
            message = (
                f"op domain {domain!r} is not supported (only the standard ONNX domain is){more}"
            )
        elif op_type in DATA_DEPENDENT_OPS:
            message = (
                f"op type {op_type!r} is a data-dependent selection (its result depends on tensor "
                f"values), which Tessera cannot compile or simulate{more}"
            )
        elif op_type in ("Loop", "Scan"):
            message = f"nested subgraphs ({op_type}) are not supported{more}"
        else:
            message = f"op type {op_type!r} has no shape rule in the Tessera frontend{more}"
        problems.append(Problem(labels[0], message))
    if problems:
        raise InputError(source, problems)


class _Builder:
    """Mutable state of one graph_from_model call: values, aliases and kept nodes so far."""

    def __init__(self, source: str, values: dict[str, Value], constants: set[str], opset: int | None) -> None:
        self.source = source
        self.opset = opset
        self.values = values
        self.constants = constants
        self.alias: dict[str, str] = {}
        self.kept: list[Node] = []
        self.names: set[str] = set()
        self.count = 0

    def resolve(self, name: str) -> str:
        """The tensor a name stands for after Identity/If aliasing."""
        while name in self.alias:
            name = self.alias[name]
        return name

    def run(self, nodes: Sequence[onnx.NodeProto]) -> None:
        """Infer (and fold or keep) every node, in topological order."""
        available = set(self.values) | set(self.alias)
        for node in topological_order(nodes, available, self.source):
            self.visit(node)

    def visit(self, node: onnx.NodeProto) -> None:
        """Infer one node's outputs, then fold it, alias it or keep it."""
        self.count += 1
        name = self._unique_name(node.name or f"{node.op_type}_{self.count}")
        where = f"node {name!r} ({node.op_type})"
        wrong = list(attribute_problems(node, self.opset))
        if wrong:
            raise InputError(self.source, [Problem(where, message) for message in wrong])
        attrs = {a.name: decode_attribute(a) for a in node.attribute}
        if node.op_type == "Constant":
            self._define(node.output[0], _constant_value(attrs, where, self.source), constant=True)
            return
        inputs = tuple(self.resolve(n) if n else "" for n in node.input)
        if node.op_type == "If":
            self._inline_if(inputs[0], attrs, node.output, where)
            return
        ctx = OpContext(
            name=name,
            op_type=node.op_type,
            attrs=attrs,
            inputs=tuple(self.values[n] if n else None for n in inputs),
            input_names=inputs,
            num_outputs=len(node.output),
        )
        if node.op_type in MAC_OPS:
            self._check_numeric(ctx, where)
        outs = self._infer(ctx, where)
        named = [index for index, out in enumerate(node.output) if out]
        wrong = [(node.output[i], shape_problem(outs[i].shape)) for i in named]
        if any(problem for _, problem in wrong):
            problems = [Problem(where, f"output {out!r}: {problem}") for out, problem in wrong if problem]
            raise InputError(self.source, problems)
        present = [n for n in inputs if n]
        if named == [0] and _is_alias(node.op_type, present, ctx.inputs[0], outs[0]):
            self.alias[node.output[0]] = present[0]
            return
        all_constant = bool(present) and all(n in self.constants for n in present)
        if node.op_type in SHAPE_ONLY or (all_constant and node.op_type not in MAC_OPS):
            self._fold(ctx, node.output, outs, where)
            return
        for index in named:
            self._define(node.output[index], outs[index], constant=False)
        self.kept.append(
            Node(
                name=name,
                op_type=node.op_type,
                inputs=inputs,
                outputs=tuple(node.output),
                attrs=MappingProxyType(attrs),
                domain=node.domain,
            )
        )

    def _check_numeric(self, ctx: OpContext, where: str) -> None:
        """Multiply-accumulates need numbers: a MatMul on strings or booleans is refused."""
        for name, value in zip(ctx.input_names, ctx.inputs):
            if value is not None and value.dtype in _NOT_NUMBERS:
                kind = _NOT_NUMBERS[value.dtype]
                problem = Problem(where, f"input {name!r} holds {kind} elements; {ctx.op_type} multiplies numbers")
                raise InputError(self.source, problem)

    def _infer(self, ctx: OpContext, where: str) -> list[Value]:
        try:
            outs = SHAPE_RULES[ctx.op_type](ctx)
        except ShapeError as error:
            shapes = ", ".join(
                f"{n!r}: {list(v.shape)}" if v is not None else "(omitted)"
                for n, v in zip(ctx.input_names, ctx.inputs)
            )
            problem = Problem(where, f"{error}; input shapes: {shapes}")
            raise InputError(self.source, problem) from None
        if len(outs) < ctx.num_outputs:
            raise InputError(
                self.source,
                Problem(
                    where, f"has {ctx.num_outputs} outputs; this op produces at most {len(outs)}"
                ),
            )
        return outs

    def _fold(
        self, ctx: OpContext, names: Sequence[str], outs: list[Value], where: str
    ) -> None:
        """Record a node with constant inputs as constant outputs, with values when small."""
        arrays: list[np.ndarray | None] = [None] * len(outs)
        small = all(outs[i].elements <= MAX_CONSTANT_ELEMENTS for i, n in enumerate(names) if n)
        known = ctx.op_type in SHAPE_ONLY or all(
            v is None or v.data is not None for v in ctx.inputs
        )
        if small and known and can_fold(ctx.op_type):
            try:
                with np.errstate(all="ignore"):
                    folded = fold(ctx, outs)
                arrays[: len(folded)] = folded
            except (ValueError, TypeError, IndexError) as error:
                raise InputError(
                    self.source, Problem(where, f"cannot evaluate constant node: {error}")
                ) from None
        for name, value, array in zip(names, outs, arrays):
            if name:
                self._define(name, Value(value.shape, value.dtype, array), constant=True)

    def _inline_if(
        self, cond_name: str, attrs: Mapping[str, Any], outputs: Sequence[str], where: str
    ) -> None:
        cond = self.values[cond_name]
        if cond.data is None:
            raise InputError(
                self.source,
                Problem(
                    where,
                    "nested subgraphs are not supported: this If's condition is only known at run "
                    "time (an If is inlined only when its condition folds to a constant)",
                ),
            )
        taken = "then_branch" if bool(cond.data.reshape(-1)[0]) else "else_branch"
        branch: onnx.GraphProto = attrs[taken]
        _check_supported(branch.node, self.source)
        for tensor in branch.initializer:
            self._define(tensor.name, tensor_value(tensor), constant=True)
        self.run(branch.node)
        if len(branch.output) != len(outputs):
            raise InputError(
                self.source,
                Problem(where, f"branch has {len(branch.output)} outputs, the node {len(outputs)}"),
            )
        for out, branch_out in zip(outputs, branch.output):
            if out:
                self.alias[out] = self.resolve(branch_out.name)

    def _define(self, name: str, value: Value, *, constant: bool) -> None:
        self.values[name] = value
        if constant:
            self.constants.add(name)

    def _unique_name(self, name: str) -> str:
        unique, suffix = name, 1
        while unique in self.names:
            suffix += 1
            unique = f"{name}_{suffix}"
        self.names.add(unique)
        return unique

    def assemble(self, name: str, inputs: tuple[str, ...], outputs: tuple[str, ...]) -> Graph:
        """The Graph of the kept nodes, the tensors they touch, and the constants they read."""
        produced = {out for node in self.kept for out in node.outputs if out}
        read = [n for node in self.kept for n in node.inputs if n]
        initializers = frozenset(n for n in read if n not in produced and n not in inputs)
        names = dict.fromkeys([*inputs, *read, *produced, *outputs])
        tensors = {n: TensorInfo(n, self.values[n].shape, self.values[n].dtype) for n in names}
        constant_values = {}
        for n in names:
            data = self.values[n].data
            if n in self.constants and data is not None and n not in produced:
                data = data.copy()
                data.setflags(write=False)
                constant_values[n] = data
        return Graph(
            name=name,
            nodes=tuple(self.kept),
            tensors=MappingProxyType(tensors),
            inputs=inputs,
            outputs=outputs,
            initializers=initializers,
            source=self.source,
            constant_values=MappingProxyType(constant_values),
        )


def _is_alias(op_type: str, present: list[str], first: Value | None, out: Value) -> bool:
    """Whether a node's only output is its first input: Identity, Dropout at inference, a
    Concat of one input, an Expand to the input's own shape."""
    if op_type in _ALIAS_OPS:
        return True
    if op_type == "Concat":
        return len(present) == 1
    return op_type == "Expand" and first is not None and first.shape == out.shape and first.dtype == out.dtype


def _constant_value(attrs: Mapping[str, Any], where: str, source: str) -> Value:
    """The Value of a Constant node from whichever value attribute it sets."""
    for key, dtype in (
        ("value_float", "float32"),
        ("value_floats", "float32"),
        ("value_int", "int64"),
        ("value_ints", "int64"),
    ):
        if key in attrs:
            data = np.asarray(attrs[key], dtype=dtype)
            return Value(data.shape, dtype, data)
    value = attrs.get("value")
    if isinstance(value, np.ndarray):
        return Value(value.shape, value.dtype.name, value)
    if isinstance(value, Value):
        return value
    if "sparse_value" in attrs:
        return _sparse_value(attrs["sparse_value"])
    problem = Problem(where, f"sets none of the supported value attributes: {sorted(attrs)}")
    raise InputError(source, problem)
