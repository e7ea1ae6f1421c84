"""`tessera inspect` on linear chains of 5k, 20k and 100k ONNX nodes: time per node must stay flat.

Two chains per size, written to an .onnx file and inspected as the command does it (read the
file, frontend, lowering, report, terminal table, JSON):

- ``fused``: Relu after Relu; every node joins one fused workload (the longest fusion group).
- ``separate``: Relu and Softmax alternating; a Softmax cannot fuse, so every pair is a workload.

Prints one row per chain with the median seconds of each stage over RUNS runs and the
microseconds per node; a linear frontend shows the same µs/node at every size.
Not run by CI:  python benchmarks/frontend_linearity.py
"""

from __future__ import annotations

import io
import json
import statistics
import tempfile
import time
from pathlib import Path

import onnx
from onnx import TensorProto, helper
from rich.console import Console

from accel_spec.types import Precision
from compiler.inspect_report import build_inspect_report, inspect_table
from compiler.lowering import lower
from compiler.models import load_model

SIZES = (5_000, 20_000, 100_000)
CHAINS = {"fused": ("Relu",), "separate": ("Relu", "Softmax")}
RUNS = 3
STAGES = ("load", "lower", "report", "table", "json")


def chain_model(nodes: int, ops: tuple[str, ...]) -> onnx.ModelProto:
    """x -> op -> op -> ... -> y, `nodes` long, cycling through `ops`, on a 1×16 tensor."""
    body = []
    for index in range(nodes):
        op = ops[index % len(ops)]
        attrs = {"axis": -1} if op == "Softmax" else {}
        body.append(helper.make_node(op, [f"t{index}"], [f"t{index + 1}"], name=f"n{index}", **attrs))
    graph = helper.make_graph(
        body,
        "chain",
        [helper.make_tensor_value_info("t0", TensorProto.FLOAT, [1, 16])],
        [helper.make_tensor_value_info(f"t{nodes}", TensorProto.FLOAT, [1, 16])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    return model


def inspect_once(path: Path) -> tuple[dict[str, float], int]:
    """Seconds of each stage of `tessera inspect --model PATH --json ...`, and the workload count."""
    seconds: dict[str, float] = {}
    start = time.perf_counter()
    graph = load_model(str(path))
    seconds["load"] = time.perf_counter() - start
    start = time.perf_counter()
    workloads = lower(graph)
    seconds["lower"] = time.perf_counter() - start
    start = time.perf_counter()
    report = build_inspect_report(graph, workloads)
    seconds["report"] = time.perf_counter() - start
    start = time.perf_counter()
    Console(file=io.StringIO(), width=160).print(inspect_table(report, Precision.INT8))
    seconds["table"] = time.perf_counter() - start
    start = time.perf_counter()
    json.dumps(report.to_json())
    seconds["json"] = time.perf_counter() - start
    return seconds, len(workloads)


def main() -> None:
    header = f"{'nodes':>8} {'chain':<9}{'workloads':>10}" + "".join(f"{s + ' s':>9}" for s in STAGES)
    print(header + f"{'total s':>9}{'µs/node':>9}")
    with tempfile.TemporaryDirectory() as folder:
        for nodes in SIZES:
            for kind, ops in CHAINS.items():
                path = Path(folder, f"{kind}{nodes}.onnx")
                onnx.save(chain_model(nodes, ops), path)
                runs = [inspect_once(path) for _ in range(RUNS)]
                median = {stage: statistics.median(run[0][stage] for run in runs) for stage in STAGES}
                total = sum(median.values())
                cells = "".join(f"{median[stage]:>9.2f}" for stage in STAGES)
                print(f"{nodes:>8,} {kind:<9}{runs[0][1]:>10,}{cells}{total:>9.2f}{total / nodes * 1e6:>9.1f}")


if __name__ == "__main__":
    main()
