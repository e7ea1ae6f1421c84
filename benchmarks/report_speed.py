"""Speed of `tessera report`: the quickstart sweep (limit 5 s for three formats) and a synthetic
sweep folder of 10,000 rows (limit 30 s).

The quickstart folder is `tessera sweep examples/sweeps/quickstart.yaml` (540 points, run
once into benchmarks/.cache/quickstart and reused); its report is timed as a user runs it,
`python -m tessera report DIR` in a fresh process, imports included. The synthetic folder is
a real sweep output (`explorer.execute_sweep` with the closed-form `FakeEvaluator`, serial):
20 array sizes × 10 input-buffer sizes × 5 weight-buffer sizes × 10 GEMM variants, 3
objectives, one constraint, 5 % infeasible points, reported in this process. Each table has
one row per format set: the median over --repeats runs, the slowest, and the limit.

    python benchmarks/report_speed.py [--repeats 3]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
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
QUICKSTART = REPO / "examples" / "sweeps" / "quickstart.yaml"
QUICKSTART_RUN = REPO / "benchmarks" / ".cache" / "quickstart"
QUICKSTART_LIMIT_S = 5.0
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


def quickstart_table(repeats: int) -> Table:
    """`tessera report` of the quickstart sweep in a fresh process, per format set."""
    if not (QUICKSTART_RUN / "pareto.csv").exists():
        subprocess.run([sys.executable, "-m", "tessera", "sweep", str(QUICKSTART), "--out", str(QUICKSTART_RUN), "--quiet"],
                       check=True, cwd=REPO)
    table = Table(title=f"tessera report of the quickstart sweep ({QUICKSTART_RUN.relative_to(REPO)}), fresh process")
    for column in ("formats", "median [s]", "slowest [s]", "limit [s]"):
        table.add_column(column.replace("[", "\\["), justify="left" if column == "formats" else "right")
    with tempfile.TemporaryDirectory() as scratch:
        for formats in FORMAT_SETS:
            times = []
            for repeat in range(repeats):
                argv = [sys.executable, "-m", "tessera", "report", str(QUICKSTART_RUN), "--out",
                        str(Path(scratch) / f"{formats}-{repeat}"), "--format", formats]
                started = time.perf_counter()
                subprocess.run(argv, check=True, cwd=REPO, stdout=subprocess.DEVNULL)
                times.append(time.perf_counter() - started)
            limit = f"{QUICKSTART_LIMIT_S:.0f}" if formats == "pdf,svg,png" else ""
            table.add_row(formats, f"{statistics.median(times):.2f}", f"{max(times):.2f}", limit)
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    Console(width=120).print(quickstart_table(args.repeats))
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        (folder / "sweep.yaml").write_text(SWEEP)
        result = execute_sweep(folder / "sweep.yaml", folder / "sweep", executor="serial",
                               evaluator=FakeEvaluator(infeasible_when={"matrix.rows": [40]}))
        table = Table(title=f"tessera report on {len(result.table):,} rows ({len(result.front.table)} on the front)")
        for column in ("formats", "figures", "median [s]", "slowest [s]", "limit [s]"):
            table.add_column(column.replace("[", "\\["), justify="left" if column == "formats" else "right")
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
