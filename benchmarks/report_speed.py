"""Speed of `tessera report` on a synthetic sweep folder of 10,000 rows (the issue's limit: 30 s).

The folder is a real sweep output (`explorer.execute_sweep` with the closed-form
`FakeEvaluator`, serial): 20 array sizes × 10 input-buffer sizes × 5 weight-buffer sizes ×
10 GEMM variants, 3 objectives, one constraint, 5 % infeasible points. Prints one row per
format set: the median over --repeats runs of the whole command in this process (reading the
folder, every figure, report.html), and the limit.

    python benchmarks/report_speed.py [--repeats 3]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from explorer import execute_sweep
from explorer.fake_evaluator import FakeEvaluator
from reports.style import parse_formats
from reports.sweep_report import sweep_report

REPO = Path(__file__).resolve().parents[1]
LIMIT_S = 30.0
SWEEP = f"""\
base: {REPO / "examples" / "accelerators" / "tiny.yaml"}
hardware:
  matrix.rows: {{range: [2, 40], step: 2}}
  matrix.cols: =matrix.rows
  buffers.inputs.capacity: {{log_range: [1 KiB, 64 KiB], points: 10}}
  buffers.weights.capacity: [1 KiB, 2 KiB, 4 KiB, 8 KiB, 16 KiB]
models:
  - gemm:m: [16, 32, 64, 128, 256]
    gemm:k: [16, 32]
    gemm:n: 16
objectives: [latency, energy, area]
constraints:
  - area_mm2 <= 1.8
strategy: grid
seed: 1
"""
FORMAT_SETS = ("png", "pdf,svg,png")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        (folder / "sweep.yaml").write_text(SWEEP)
        result = execute_sweep(folder / "sweep.yaml", folder / "sweep", executor="serial",
                               evaluator=FakeEvaluator(infeasible_when={"matrix.rows": [40]}))
        table = Table(title=f"tessera report on {len(result.table):,} rows ({len(result.front.table)} on the front)")
        for column in ("formats", "figures", "median [s]", "slowest [s]", "limit [s]"):
            table.add_column(column, justify="left" if column == "formats" else "right")
        for formats in FORMAT_SETS:
            times = []
            for repeat in range(args.repeats):
                started = time.perf_counter()
                report = sweep_report(folder / "sweep", folder / f"report-{repeat}", parse_formats(formats))
                times.append(time.perf_counter() - started)
            table.add_row(formats, str(len(report.figures)), f"{statistics.median(times):.2f}", f"{max(times):.2f}",
                          f"{LIMIT_S:.0f}")
        Console(width=120).print(table)


if __name__ == "__main__":
    main()
