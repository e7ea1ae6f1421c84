"""Speed of reading networks: zoo build, ONNX → Graph, lowering, and `tessera inspect`.

Three tables, medians over --repeats (after one warm-up run):
  * zoo networks: building the ONNX model, converting it to a Graph, lowering it (ms);
  * the ONNX test set (tests/data/onnx): `load_onnx` per exported file, slowest first (ms);
  * `tessera inspect` in a fresh process for BERT-base and for a model declaring 1 GiB of
    external weights that are not on disk, beside a bare `python -c pass` (s).

    python benchmarks/frontend_speed.py [--repeats 5]

Speed is measured here rather than asserted in tests: on a shared machine a timed assertion
fails for reasons that have nothing to do with the code.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import onnx
from onnx import TensorProto, helper
from rich.console import Console
from rich.table import Table

from compiler.frontend import graph_from_model, load_onnx
from compiler.lowering import lower
from compiler.zoo import build_model, parse_model_spec

REPO = Path(__file__).resolve().parents[1]
ONNX_DIR = REPO / "tests" / "data" / "onnx"
ZOO = ("resnet50", "mobilenetv2", "vit", "bert:layers=12,seq=128", "llama")


def median_s(work: Callable[[], object], repeats: int) -> float:
    work()
    samples = []
    for _ in range(repeats):
        began = time.perf_counter()
        work()
        samples.append(time.perf_counter() - began)
    return statistics.median(samples)


def zoo_table(repeats: int) -> Table:
    table = Table(title=f"zoo networks, median of {repeats} (ms)")
    for column in ("model", "nodes", "build", "ONNX → Graph", "lower"):
        table.add_column(column, justify="left" if column == "model" else "right")
    for text in ZOO:
        spec = parse_model_spec(text)
        model = build_model(spec)
        graph = graph_from_model(model, source=spec.canonical())
        table.add_row(
            text,
            str(len(model.graph.node)),
            f"{median_s(lambda: build_model(spec), repeats) * 1e3:.1f}",
            f"{median_s(lambda: graph_from_model(model, source=spec.canonical()), repeats) * 1e3:.1f}",
            f"{median_s(lambda: lower(graph), repeats) * 1e3:.1f}",
        )
    return table


def testset_table(repeats: int) -> Table:
    entries = json.loads((ONNX_DIR / "manifest.json").read_text())
    rows = []
    for entry in entries:
        batch = entry["export_batch"] if entry["dynamic_batch"] else None
        rows.append((entry["file"], entry["nodes"], median_s(lambda: load_onnx(ONNX_DIR / entry["file"], batch=batch), repeats)))
    rows.sort(key=lambda row: -row[2])
    table = Table(title=f"ONNX test set: load_onnx, median of {repeats} (ms), slowest first")
    for column in ("file", "nodes", "load"):
        table.add_column(column, justify="left" if column == "file" else "right")
    for file, nodes, seconds in rows:
        table.add_row(file, str(nodes), f"{seconds * 1e3:.1f}")
    return table


def external_gigabyte_model(path: Path) -> None:
    """Four 8192² fp32 MatMul weights (1 GiB) declared in a data file that is never written."""
    hidden, nodes, weights, current = 8192, [], [], "x"
    for i in range(4):
        weight = TensorProto(name=f"w{i}", data_type=TensorProto.FLOAT, dims=[hidden, hidden])
        weight.data_location = TensorProto.EXTERNAL
        for key, value in (("location", "weights.data"), ("offset", str(i * hidden * hidden * 4)),
                           ("length", str(hidden * hidden * 4))):
            entry = weight.external_data.add()
            entry.key, entry.value = key, value
        weights.append(weight)
        nodes.append(helper.make_node("MatMul", [current, f"w{i}"], [f"h{i}"], name=f"fc{i}"))
        current = f"h{i}"
    graph = helper.make_graph(nodes, "big", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, hidden])],
                              [helper.make_tensor_value_info(current, TensorProto.FLOAT, [1, hidden])], weights)
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), path)


def inspect_table(repeats: int) -> Table:
    def fresh(argv: list[str]) -> Callable[[], object]:
        return lambda: subprocess.run(argv, cwd=REPO, check=True, stdout=subprocess.DEVNULL)

    table = Table(title=f"tessera inspect in a fresh process, median of {repeats} (s)")
    for column in ("model", "wall", "over python -c pass"):
        table.add_column(column, justify="left" if column == "model" else "right")
    with tempfile.TemporaryDirectory() as scratch:
        big = Path(scratch) / "big.onnx"
        external_gigabyte_model(big)
        bare = median_s(fresh([sys.executable, "-c", "pass"]), repeats)
        for label, model in (("bert:layers=12,seq=128", "bert:layers=12,seq=128"), ("1 GiB external weights", str(big))):
            seconds = median_s(fresh([sys.executable, "-m", "tessera", "inspect", "--model", model]), repeats)
            table.add_row(label, f"{seconds:.2f}", f"{seconds - bare:.2f}")
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    console = Console(width=120)
    for table in (zoo_table(args.repeats), testset_table(args.repeats), inspect_table(args.repeats)):
        console.print(table)


if __name__ == "__main__":
    main()
