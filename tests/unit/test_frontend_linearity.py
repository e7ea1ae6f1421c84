"""Inspecting a graph costs work linear in its nodes (benchmarks/frontend_linearity.py has the seconds).

The work is the number of Python and C function calls that reading, lowering and reporting a
chain makes, counted with `sys.setprofile`: deterministic, and independent of how busy the
machine is. Four times the nodes must cost about four times the calls; the quadratic fusion
this replaces cost sixteen.
"""

from __future__ import annotations

import io
import sys
from collections.abc import Callable

import onnx
import pytest
from onnx import TensorProto, helper
from rich.console import Console

from accel_spec.types import Precision
from compiler.frontend import graph_from_model
from compiler.inspect_report import MAX_TABLE_ROWS, build_inspect_report, inspect_table
from compiler.lowering import lower


def _chain(nodes: int, ops: tuple[str, ...]) -> onnx.ModelProto:
    body = [
        helper.make_node(op, [f"t{i}"], [f"t{i + 1}"], name=f"n{i}", **({"axis": -1} if op == "Softmax" else {}))
        for i, op in ((i, ops[i % len(ops)]) for i in range(nodes))
    ]
    graph = helper.make_graph(
        body,
        "chain",
        [helper.make_tensor_value_info("t0", TensorProto.FLOAT, [1, 16])],
        [helper.make_tensor_value_info(f"t{nodes}", TensorProto.FLOAT, [1, 16])],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def _calls(work: Callable[[], object]) -> int:
    count = 0

    def profile(frame, event, arg) -> None:  # noqa: ANN001 - the sys.setprofile signature
        nonlocal count
        if event in ("call", "c_call"):
            count += 1

    sys.setprofile(profile)
    try:
        work()
    finally:
        sys.setprofile(None)
    return count


def _inspect(model: onnx.ModelProto) -> None:
    graph = graph_from_model(model, "chain.onnx")
    report = build_inspect_report(graph, lower(graph))
    Console(file=io.StringIO(), width=160).print(inspect_table(report, Precision.INT8))
    report.to_json()


@pytest.mark.parametrize("ops", [("Relu",), ("Relu", "Softmax")], ids=["one-fused-workload", "a-workload-per-pair"])
def test_four_times_the_nodes_cost_about_four_times_the_work(ops: tuple[str, ...]) -> None:
    small, large = _chain(1_000, ops), _chain(4_000, ops)
    _inspect(small)  # imports and caches outside the count
    ratio = _calls(lambda: _inspect(large)) / _calls(lambda: _inspect(small))
    assert ratio < 4.4, ratio


def test_the_table_lists_the_first_and_last_layers_and_counts_the_rest() -> None:
    graph = graph_from_model(_chain(2 * MAX_TABLE_ROWS + 10, ("Softmax",)), "chain.onnx")
    report = build_inspect_report(graph, lower(graph))
    out = io.StringIO()
    Console(file=out, width=200).print(inspect_table(report, Precision.INT8))
    text = out.getvalue()
    assert f"{len(report.layers) - MAX_TABLE_ROWS:,} more layers" in text
    assert f" n{len(report.layers) - 1} " in text and " n0 " in text
    assert f" n{MAX_TABLE_ROWS} " not in text  # the first hidden layer
    assert f"{report.vector_ops:,}" in text  # totals over every layer
