"""Memory of a long sweep: the process tree's resident memory as a 100,000-point sweep runs,
and how long its results table takes to read back (issue 16).

Runs `tessera sweep` as a user would (a fresh process, 2 local workers, a results folder) on a
random sweep whose every point is a chip drawn anew (`sweep_throughput.NEVER_SEEN_AXES`: rows,
cols, the three buffers and the DRAM bandwidth; about 10^17 chips, so no point repeats) of a
small network, so that 100,000 points take minutes, not hours: the sweep machinery (journal,
Parquet parts, strategy, per-point compile caches) is what is measured, and a larger network
only makes each point slower. Every second it samples the resident memory of the sweep's main
process and of its workers (psutil) and the points journaled so far; it prints them at each
tenth of the budget, then the time `pandas.read_parquet` takes to read the results table
(median of 5 reads) and its rows.

    python benchmarks/sweep_memory.py [--points 100000] [--workers 2] [--model mlp:layers=2,hidden=64,batch=1]

"RSS flat after warm-up" reads as: the workers' memory stops growing once their bounded caches
fill, and the main process grows only by what the sweep must hold per point.

Measured on a 2-core machine shared with other jobs (load 2-5), 100,000 points, 2 workers:

| code | main MiB at 10k → 100k points (peak) | workers MiB at 10k → 100k | read_parquet |
|---|---|---|---|
| rows as Python dicts | 299 → 426 (507) | 573 → 722 | 0.04 s |
| rows as Arrow columns (`explorer.table.RowBatches`) | 308 → 389 (455) | 573 → 723 | 0.03 s |
| rows on disk only, resolved points as numpy columns (`explorer.resolved`) | 300 → 309 (417) | 571 → 721 | 0.06 s |

With an output folder the main process now keeps no row (the store journals them and writes
Parquet parts; the final table is read back from the parts) and remembers each resolved point
in about 50 bytes (`explorer.resolved.ResolvedPoints`): 300 → 306 MiB from 10,000 to 90,000
points. The peak is the end, where the whole table is read back, the front computed and the
parts compacted into one. The workers grow until their schedule memo
(`compiler.scheduling.memo.SCHEDULES`, 65,536 entries of about 1.3 KB) is full, since every
never-seen chip adds its layers' schedules: on this network that is after about 150,000
points; a 200,000-point run read 736, 748, 750, 750, 751 MiB of workers at 120k, 140k, ..., 200k.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
import psutil
from rich.console import Console
from rich.table import Table

from sweep_throughput import EDGE, NEVER_SEEN_AXES

JOURNAL = "journal.jsonl"


def sweep_text(model: str, points: int) -> str:
    """A random never-seen-chip sweep of `points` points of `model` on the edge chip."""
    return (
        f"base: {EDGE}\nhardware:\n{NEVER_SEEN_AXES}"
        f'models: ["{model}"]\nobjectives: [latency, energy, area]\n'
        f"strategy: random\nbudget: {points}\nseed: 0\n"
    )


def journaled(folder: Path) -> int:
    """Points journaled so far (complete lines)."""
    try:
        with open(folder / JOURNAL, "rb") as journal:
            return sum(chunk.count(b"\n") for chunk in iter(lambda: journal.read(1 << 20), b""))
    except FileNotFoundError:
        return 0


def tree_rss(process: psutil.Process) -> tuple[int, int]:
    """(main process, all its descendants) resident bytes."""
    try:
        main = process.memory_info().rss
        children = process.children(recursive=True)
    except psutil.Error:
        return 0, 0
    workers = 0
    for child in children:
        try:
            workers += child.memory_info().rss
        except psutil.Error:  # a worker that exited between listing and reading
            pass
    return main, workers


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--model", default="mlp:layers=2,hidden=64,batch=1")
    args = parser.parse_args()
    table = Table(title=f"{args.points:,}-point never-seen-chip sweep of {args.model}, {args.workers} workers")
    for column in ("points", "elapsed s", "points/s", "main MiB", "workers MiB", "total MiB"):
        table.add_column(column, justify="right")
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch) / "out"
        spec = Path(scratch) / "sweep.yaml"
        spec.write_text(sweep_text(args.model, args.points))
        command = [sys.executable, "-m", "tessera", "sweep", str(spec), "--out", str(folder), "--workers", str(args.workers)]
        started = time.perf_counter()
        sweep = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        watched = psutil.Process(sweep.pid)
        next_mark = args.points // 10
        peak = (0, 0)
        while sweep.poll() is None:
            time.sleep(1.0)
            done = journaled(folder)
            main_rss, workers_rss = tree_rss(watched)
            peak = (max(peak[0], main_rss), max(peak[1], workers_rss))
            if done >= next_mark:
                elapsed = time.perf_counter() - started
                table.add_row(f"{done:,}", f"{elapsed:.0f}", f"{done / elapsed:.0f}", f"{main_rss / 2**20:.0f}",
                              f"{workers_rss / 2**20:.0f}", f"{(main_rss + workers_rss) / 2**20:.0f}")
                next_mark = (done // (args.points // 10) + 1) * (args.points // 10)
        if sweep.returncode != 0:
            raise SystemExit(f"the sweep failed ({sweep.returncode}): {sweep.stderr.read().decode()[-2000:]}")
        reads = []
        for _ in range(5):
            begun = time.perf_counter()
            rows = len(pd.read_parquet(folder / "results.parquet"))
            reads.append(time.perf_counter() - begun)
    console = Console(width=120)
    console.print(table)
    console.print(f"peak over the run (the end included: the front and the final Parquet part): main "
                  f"{peak[0] / 2**20:.0f} MiB, workers {peak[1] / 2**20:.0f} MiB")
    console.print(f"results table: {rows:,} rows read by pandas.read_parquet in {statistics.median(reads):.2f} s "
                  f"(median of 5); load average {', '.join(f'{v:.1f}' for v in psutil.getloadavg())}")


if __name__ == "__main__":
    main()
