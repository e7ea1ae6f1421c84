"""The inspect report: JSON contract, totals, shapes and the byte columns of the table."""

from __future__ import annotations

import json

import pytest
from lowering_graphs import SOURCE, GraphBuilder

from accel_spec.types import Precision
from compiler.graph import Graph
from compiler.inspect_report import build_inspect_report, inspect_table
from compiler.lowering import lower


def _classifier() -> Graph:
    """Conv+Relu, a residual Add of the input, MaxPool, Flatten, Gemm."""
    b = GraphBuilder()
    x = b.input("x", (1, 8, 6, 6))
    c = b.node("Conv", [x, b.weight("w", (8, 8, 3, 3)), b.weight("bias", (8,))], (1, 8, 6, 6), name="conv", pads=[1] * 4)
    a = b.node("Add", [c, x], (1, 8, 6, 6), name="add")
    r = b.node("Relu", [a], (1, 8, 6, 6), name="relu")
    p = b.node("MaxPool", [r], (1, 8, 3, 3), name="pool", kernel_shape=[2, 2], strides=[2, 2])
    f = b.node("Flatten", [p], (1, 72), name="flatten")
    b.node("Gemm", [f, b.weight("fc", (10, 72))], (1, 10), name="fc", transB=1)
    return b.build()


CONV_MACS = 8 * 36 * 8 * 9
FC_MACS = 72 * 10


def test_json_follows_the_contract() -> None:
    graph = _classifier()
    report = build_inspect_report(graph, lower(graph))
    data = json.loads(json.dumps(report.to_json()))
    assert data["model"] == SOURCE
    assert data["macs"] == CONV_MACS + FC_MACS
    assert [layer["name"] for layer in data["layers"]] == ["conv", "pool", "fc"]
    for layer in data["layers"]:
        assert {"name", "op", "macs", "inputs", "outputs", "vector_ops", "fused", "gemm"} <= set(layer)
        assert all(isinstance(d, int) for shape in layer["inputs"] + layer["outputs"] for d in shape)
    conv, pool, fc = data["layers"]
    assert conv["inputs"] == [[1, 8, 6, 6]]  # the residual operand is the same tensor
    assert conv["weights"] == [[8, 8, 3, 3], [8]]
    assert conv["outputs"] == [[1, 8, 6, 6]]
    assert conv["fused"] == ["add", "relu"]
    assert conv["gemm"] == {"m": 36, "k": 72, "n": 8, "batch": 1}
    assert pool["outputs"] == [[1, 8, 3, 3]] and pool["gemm"] is None
    assert fc["inputs"] == [[1, 72]] and fc["macs"] == FC_MACS


def test_totals_are_the_sums_of_the_rows() -> None:
    graph = _classifier()
    workloads = lower(graph)
    data = build_inspect_report(graph, workloads).to_json()
    assert data["macs"] == sum(layer["macs"] for layer in data["layers"]) == sum(w.macs for w in workloads)
    assert data["vector_ops"] == sum(layer["vector_ops"] for layer in data["layers"])
    assert data["vector_ops"] == sum(w.total_vector_ops for w in workloads)
    assert data["vector_ops"] == sum(data["vector_ops_by_class"].values())


def test_side_inputs_of_fused_nodes_are_listed_as_inputs() -> None:
    b = GraphBuilder()
    x, y = b.input("x", (1, 8, 6, 6)), b.input("y", (1, 8, 3, 3))
    c = b.node("Conv", [x, b.weight("w", (8, 8, 1, 1))], (1, 8, 3, 3), name="conv", strides=[2, 2])
    b.node("Add", [c, y], (1, 8, 3, 3), name="add")
    graph = b.build()
    (row,) = build_inspect_report(graph, lower(graph)).layers
    assert row.inputs == ((1, 8, 6, 6), (1, 8, 3, 3))
    assert row.side_input_elements == 72


def _cells(table, header: str) -> list[str]:
    column = next(c for c in table.columns if c.header == header)
    return [*column.cells, column.footer]


@pytest.mark.parametrize(
    ("precision", "weight_cells"),
    [
        (Precision.INT8, ["576 B", "0 B", "720 B", "1.27 KiB"]),  # 576 + 720 = 1296 B
        (Precision.FP32, ["2.25 KiB", "0 B", "2.81 KiB", "5.06 KiB"]),  # 2304 + 2880 = 5184 B
    ],
)
def test_table_bytes_are_elements_times_precision(precision: Precision, weight_cells: list[str]) -> None:
    graph = _classifier()
    report = build_inspect_report(graph, lower(graph))
    table = inspect_table(report, precision)
    assert table.row_count == len(report.layers)
    assert _cells(table, "weights") == weight_cells
    assert _cells(table, "MACs")[-1] == f"{CONV_MACS + FC_MACS:,}"
    assert _cells(table, "layer") == ["conv", "pool", "fc", "total"]
