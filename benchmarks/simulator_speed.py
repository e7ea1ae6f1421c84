"""End-to-end speed of `tessera simulate`: compile, schedule, generate, simulate.

Prints one table row per network × chip: program size, the median over warm runs of each
stage (lower, schedule + codegen, simulator), the kernel's instructions per second, and the
whole pipeline, both warm (repeats hit the content-keyed schedule and code caches, as sweep
points sharing a chip configuration do) and cold (caches cleared first, as for a new chip). Then the CLI's cold start: the first `tessera simulate` (may compile Numba
kernels into the on-disk cache) and the median of later runs (cache warm).

    python benchmarks/simulator_speed.py [--repeats 5]

Medians are over --repeats warm runs in one process; the machine is shared, so compare rows
measured in the same run rather than absolute numbers across runs.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from rich.console import Console
from rich.table import Table

from accel_spec import load_accelerator
from accel_spec.technology import resolve
from compiler.lowering import lower
from compiler.models import load_model
from compiler.pipeline import CompileOptions, clear_compile_caches, compile_workloads
from simulator import run

REPO = Path(__file__).resolve().parents[1]
MODELS = (
    "resnet50",
    "mobilenetv2",
    "bert:layers=12,hidden=768,heads=12,seq=128",
    "llama:layers=4,hidden=2048,heads=32,kv_heads=4,seq=512",
)
CHIPS = ("edge", "gemmini", "tpu_v1")


def median_seconds(call: Callable[[], object], repeats: int) -> float:
    call()
    samples = []
    for _ in range(repeats):
        began = time.perf_counter()
        call()
        samples.append(time.perf_counter() - began)
    return statistics.median(samples)


def pipeline_table(repeats: int) -> Table:
    table = Table(title=f"pipeline, median of {repeats} warm runs (ms)")
    for column in ("model", "chip", "instructions", "lower", "schedule+codegen", "simulate", "run() M instr/s",
                   "end to end", "end to end, cold"):
        table.add_column(column, justify="left" if column in ("model", "chip") else "right")
    for model in MODELS:
        graph = load_model(model)
        workloads = lower(graph)
        for chip in CHIPS:
            accel = load_accelerator(REPO / "examples" / "accelerators" / f"{chip}.yaml")
            compiled = compile_workloads(workloads, model, accel, CompileOptions())
            technology = resolve(accel, compiled.precision)

            def end_to_end(cold: bool) -> None:
                if cold:
                    clear_compile_caches()
                again = compile_workloads(lower(graph), model, accel, CompileOptions())
                run(again.program, again.target, technology)

            t_lower = median_seconds(lambda: lower(graph), repeats)
            t_compile = median_seconds(lambda: compile_workloads(workloads, model, accel, CompileOptions()), repeats)
            t_sim = median_seconds(lambda: run(compiled.program, compiled.target, technology), repeats)
            t_total = median_seconds(lambda: end_to_end(False), repeats)
            t_cold = median_seconds(lambda: end_to_end(True), repeats)
            size = len(compiled.program)
            table.add_row(
                model.split(":")[0], chip, f"{size:,}", f"{t_lower * 1e3:.1f}", f"{t_compile * 1e3:.1f}",
                f"{t_sim * 1e3:.1f}", f"{size / t_sim / 1e6:.1f}", f"{t_total * 1e3:.1f}", f"{t_cold * 1e3:.1f}",
            )
    return table


def cli_table(repeats: int) -> Table:
    command = [sys.executable, "-m", "tessera", "simulate", "--accel", "examples/accelerators/edge.yaml",
               "--model", "resnet50"]

    def once() -> float:
        began = time.perf_counter()
        subprocess.run(command, cwd=REPO, check=True, capture_output=True)
        return time.perf_counter() - began

    first = once()
    later = statistics.median(once() for _ in range(repeats))
    table = Table(title="CLI: tessera simulate --accel edge.yaml --model resnet50 (s)")
    table.add_column("first run")
    table.add_column(f"median of next {repeats}")
    table.add_row(f"{first:.2f}", f"{later:.2f}")
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    console = Console(width=140)
    console.print(pipeline_table(args.repeats))
    console.print(cli_table(args.repeats))


if __name__ == "__main__":
    main()
