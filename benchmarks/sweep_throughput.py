"""Sweep throughput: points per second and peak memory of MobileNetV2, ResNet-50 and BERT-base sweeps.

Two sweeps per model, with 1 and 2 workers, local and Dask executors, each run in memory in a
fresh Python process as `tessera sweep` runs it and timed there from `explorer.run_sweep`'s call
to its table (the executor's start: a Dask cluster, or a local sweep's workers and what is
left of its fork server's start, which `tessera sweep` begins before its imports; the model's
check, per-worker lowering, every point; not the imports):

* grid: the edge chip's array size and activation buffer on a grid (distinct points, but
  points share array sizes, so each worker's caches are hit);
* never-seen chips: a `random` sweep in which every point is a chip drawn anew, its matrix
  rows, matrix cols, the three buffers' capacities and the DRAM bandwidth each over a wide
  range (the ranges of `never_seen_chips.py`, which times such points on one core in
  process): no schedule, code or chip cache is shared between points, only each worker's
  lowering of the network. This is the rate a real co-design sweep runs at.

Points/s are medians over --runs; the ratios (2 workers / 1 worker, dask / local) come from
the same invocation. Peak RSS is the largest sum of resident memory over the sweep's process
and all its descendants (fork server, executor workers, Dask's scheduler side and nannies; not
this script's own process since 2026-12-05, when it counted it), sampled every 0.1 s
with psutil during each sweep; the most over --runs. Pages shared by forked workers are
counted once per process, so it is an upper bound on the machine's memory use.

    python benchmarks/sweep_throughput.py [--runs 3] [--points 768] [--models mobilenetv2,resnet50,bert]

Until 2026-12-05 (the entries below up to that day's last) every sweep ran in this process, so
only the first (MobileNetV2's grid, one local worker) paid for starting the fork server.
Worker start-up (about 1 s per process) is part of every sweep's time, so small sweeps scale
worse with workers than large ones: at 192 grid points two local workers gave 1.5x one
worker, at 768 points 1.8x. Measured 2026-12-04 on the idle 2-core machine, `--runs 1 --points
768 --models mobilenetv2`: never-seen chips 13.8 points/s with one local worker, 28.8 with two
(2.08x), Dask 8.6 and 18.7; grid 47.1 and 98.9 (2.10x). The same run while a test suite
occupied the machine gave 1.53x: a 2-worker ratio needs both cores free. Measured again later
the same day on a slower 2-core machine, two runs each, alternating with 992cb72 (before the
crowding challenger, `compiler/memory/crowding.py`): never-seen chips 9.0 and 9.8 points/s
with one local worker, 16.2 and 20.4 with two, against 10.4 and 9.8, 23.7 and 21.8 before;
grid 29.6 and 32.2, 62.4 and 59.1, against 29.2 and 34.8, 54.8 and 73.3 (runs of one sweep
vary by up to 25 % here). Measured 2026-12-05 on the idle machine, the same command, one
after the other: at ec03aba never-seen chips 15.6 points/s with one local worker, 29.6 with
two (1.89x), Dask 11.4 and 19.7, grid 50.6 and 107.6, Dask 32.6 and 55.5; after this day's
compile speed-ups (identical results) and local Dask workers started without Dask's
MALLOC_TRIM_THRESHOLD_ (`explorer/dask_executor.py`), never-seen chips 21.7 and 42.0 (1.93x),
Dask 19.7 and 33.9, grid 54.0 and 102.7, Dask 49.4 and 82.6; peak RSS of two Dask workers'
never-seen sweep 1,463 MiB before, 1,505 after. Measured later on 2026-12-05, `--runs 1
--points 512 --models mobilenetv2` twice each, alternating with 8ad13e0 (before that stop's
Numba kernels for the batched search: gemm_space, footprint, shortlist, channel bytes, the
challenger and per-tiling kernels' work cut, identical results): never-seen chips 29.1 and
28.6 points/s with one local worker, 52.2 and 52.2 with two (1.80x, 1.82x), Dask 23.0/23.2
and 36.9/37.0, against 15.9 and 19.4, 32.5 and 37.6 before; grid 70.3 and 65.7, 155.3 and
143.1, against 46.8 and 49.7, 95.6 and 101.7. Measured 2026-12-05 after cce66db (the per-shape
cache sized for the 81 arrays, measurements in rounds, results from the search's layer counts;
identical results), the same command, alternating with 5f69161: never-seen chips 33.8 and 35.7
points/s with one local worker, 52.4 and 61.2 with two (1.55x, 1.71x), Dask 27.6/27.0 and
43.5/43.6, against 28.4 and 52.0 (1.83x), Dask 24.2 and 41.5; grid 66.4/75.9 and 138.7/158.6
against 72.4 and 143.9. One worker gains more than two: it sees every array six times in 512
points, each of two workers three times, and the per-shape cache pays from the second time
(a worker per array would restore it). Peak RSS of the never-seen sweep with two local
workers 1,560 MiB against 1,250 (the per-shape cache, 216 MB a worker at most). Measured
2026-12-05 after 94aa1d8 (cache keys that hash once, identity-hashed enums, fused chains'
shared decisions and packings, points of one array dealt to one worker, full garbage
collections a tenth as often; the 512 rows of the never-seen sweep byte-identical), the same
command, alternating with bb9d706: never-seen chips 36.5 and 37.7 points/s with one local
worker, 68.7 and 63.6 with two (1.88x, 1.69x), Dask 29.3/26.8 and 47.4/48.1, against 31.8
and 31.2, 58.7 and 58.6 (1.84x, 1.88x), Dask 27.0/25.6 and 41.3/41.0; grid 79.6/79.6 and
177.0/170.9 against 68.4/64.0 and 144.8/133.6. Peak RSS of the never-seen sweep with two
local workers 1,323 and 1,325 MiB against 1,565 and 1,555: each worker now keeps the spaces
of about half the arrays. Measured 2026-12-05 with every sweep in a fresh process (this
script's `timed_sweep`; the same script for both), the same command twice each, alternating
with f7914b7: after 68f19ed (the fork server imports no pandas and starts while the sweep checks
its model) never-seen chips 36.4 and 35.8 points/s with one local worker, 64.7 and 60.7 with
two (1.78x, 1.70x), against 35.2 and 33.8, 57.7 and 57.5 (1.64x, 1.70x); grid 76.4/83.4 and
114.8/138.1 against 78.0/69.8 and 113.0/110.2. Peak RSS of the never-seen sweep with two local
workers 1,285 and 1,278 MiB against 1,294 and 1,294. The same command twice each later that
day, alternating with f7914b7, after 5379782 (the program takes the codes its search measured,
working sets kept per array; identical results): never-seen chips 40.0 and 39.2 points/s with
one local worker, 69.1 and 66.7 with two (1.73x, 1.70x), Dask 31.1/28.6 and 42.4/44.0,
against 29.3 and 30.4, 46.1 and 56.2 (1.57x, 1.85x), Dask 20.1/29.5 and 34.0/46.3; grid
79.7/91.4 and 133.0/140.7 against 69.6/64.8 and 113.2/92.2 (the machine was busier than in
the runs before: f7914b7 measured 57.5 to 57.7 never-seen points/s with two workers then).
Peak RSS of the never-seen sweep with two local workers 1,295 and 1,286 MiB against 1,284 and
1,277. From 2026-12-05's last entry a local sweep's fork server starts before the sweep stack
is imported (`one_sweep`), as `tessera sweep` now starts it, and a local sweep's model check
runs in its workers: this script against 54226ec's own (whose command started the server after
its imports and checked in the main process), the same command twice each, alternating, on a
faster or quieter machine than the entries before: never-seen chips 66.5 and 65.5 points/s with
one local worker, 119.5 and 118.1 with two (1.80x, 1.80x), Dask 49.6/50.3 and 73.3/73.3,
against 56.1 and 61.9, 97.7 and 107.1 (1.74x, 1.73x), Dask 47.3/48.0 and 71.0/73.8; grid
163.3/165.5 and 300.3/280.8 against 139.0 and 215.6 (54226ec's first grid run compiled its
kernels: left out). Peak RSS of the never-seen sweep with two local workers 1,109 and 1,084
MiB against 1,270 and 1,272: the main process compiles nothing. Measured later on 2026-12-05,
the same command twice each, each tree its own script, alternating with 63d7d0f, after 30a744d
(the batched search's footprint reading each workload's fields once and one kernel for a
network's finalists and bounds, memo keys packed at once, challengers examined in place, the
fork server loading the Numba kernels before it forks a worker, a compile's crowded layers
scheduled with its plan; identical results): never-seen chips 67.4 and 61.0 points/s with one
local worker, 128.8 and 115.1 with two (1.91x, 1.89x), Dask 49.1/44.9 and 73.0/67.0, against
58.9 and 55.3, 109.4 and 99.7 (1.86x, 1.80x), Dask 42.8/41.1 and 60.8/61.8; grid 163.8/165.3
and 290.2/275.6 against 145.3/141.8 and 253.0/253.5. Peak RSS of the never-seen sweep with
two local workers 1,044 and 1,044 MiB against 1,086 and 1,079. 63d7d0f measured 99.7 to 109.4
never-seen points/s with two workers here, against 118.1 to 119.5 in the entry before: the
machine was slower or busier. Measured later on 2026-12-05, the same command twice each, each
tree its own script, alternating with 87ea09a, after dea1d05 (kernels that skip estimates a
candidate's compute term already rules out and select on fit flags instead of branching, memo
flags packed by a kernel, a network's joined spaces kept for the next point of its array,
placed workloads' shape keys hashed once, cheaper chain finding, a chip's technology resolved
once a point; identical results): never-seen chips 66.2 and 64.5 points/s with one local
worker, 121.7 and 121.0 with two (1.84x, 1.88x), Dask 44.6/46.6 and 63.8/65.9, against 56.2
and 57.4, 104.5 and 107.2 (1.86x, 1.87x), Dask 41.0/41.8 and 60.3/64.4; grid 199.1/181.5
and 321.2/306.3 against 156.3/146.7 and 276.8/270.9. Peak RSS of the never-seen sweep with
two local workers 1,107 and 1,088 MiB against 1,049 and 1,061. Most of the rise was a
kernel whose cached code imported Numba's NumPy implementations and SciPy's linear algebra
in every worker (a289bed, mended in da8ccde); the rest is the four joins a worker keeps, about
9 MiB. The same command twice each after da8ccde, alternating with 87ea09a on a quieter
machine: never-seen chips 69.8 and 66.6 points/s with one local worker, 131.0 and 137.0 with
two (1.88x, 2.06x), Dask 49.2/51.3 and 69.4/73.3, against 63.8 and 62.8, 118.4 and 117.0
(1.86x, 1.86x), Dask 45.2/46.1 and 62.4/69.3; grid 212.1/219.6 and 362.0/380.5 against
135.8/166.1 and 269.4/284.6. Peak RSS of the never-seen sweep with two local workers 1,059
and 1,055 MiB against 1,039 and 1,039. Measured 2026-12-06 after 6c6360a (the challengers
kernel passing over rivals by compute cycles, fused chains' and vector layers' footprints and
terms, workload columns, roles, working sets and footprint tile bytes kept per array or per
join, schedules made once per join; identical results), at this script's default 768 points:
`--runs 1 --points 768 --models mobilenetv2` four times each, alternating with 9f84789:
never-seen chips 91.5, 80.0, 85.0 and 85.4 points/s with one local worker (median 85.2),
173.0, 161.6, 160.9 and 163.0 with two (median 162.3; 1.89x, 2.02x, 1.89x, 1.91x), Dask
60.6/57.3/56.9/60.4 and 90.5/83.0/87.5/93.4, against 77.6, 71.3, 69.3 and 84.2 (median 74.5),
143.2, 138.1, 137.9 and 153.9 (median 140.7; 1.85x, 1.94x, 1.99x, 1.83x), Dask
54.6/53.8/54.3/62.9 and 82.3/83.4/79.8/91.1; grid 284.0/268.8/265.5/257.1 and
520.4/478.2/459.2/454.8 against 226.6/227.1/219.7/222.1 and 390.9/405.7/389.5/433.1. Peak RSS
of the never-seen sweep with two local workers 1,130 to 1,147 MiB against 1,116 to 1,131.
Measured later on 2026-12-06 after 5dfb861 (the shortlist kernel visiting a space's tilings
by compute cycles, fused chains' runs kept per network and their packings and tile bytes in
one kernel call, a chip's technology and overrides parsed with less repeated work, estimate
terms' compute and tail cycles kept per join; identical results), the same command twice
each, alternating with 890f7f1, on a machine much busier than the entry before's (890f7f1
measured 124.0 and 133.0 never-seen points/s with two workers here, against 137.9 to 153.9
for its parent there): never-seen chips 70.4 and 69.9 points/s with one local worker, 139.0
and 136.6 with two (1.97x, 1.95x), Dask 45.3/47.3 and 71.5/69.1, against 68.6 and 61.2,
133.0 and 124.0 (1.94x, 2.02x), Dask 43.5/42.9 and 64.1/62.7; grid 245.4/223.0 and
423.9/395.5 against 216.8/214.3 and 388.9/365.9. Peak RSS of the never-seen sweep with two
local workers 1,151 and 1,139 MiB against 1,132 and 1,146. Measured later on 2026-12-06 after
6f888ef (fused chains' code from a Numba kernel, each chain's roofline bound found once per
search; identical results), `--runs 1 --points 768 --models mobilenetv2` twice each,
alternating with 36901e0, on a machine busier than at this day's start (36901e0 measured
192.3 never-seen points/s with two workers an hour before): never-seen chips 101.2 and 92.5
points/s with one local worker, 184.6 and 177.2 with two (1.82x, 1.92x), Dask 64.9/62.7 and
93.5/94.0, against 95.8 and 92.9, 166.6 and 178.0 (1.74x, 1.92x), Dask 60.1/63.9 and
86.3/89.8; grid 298.2/296.2 and 546.7/500.0 against 262.5/301.3 and 485.3/488.1. Peak RSS of
the never-seen sweep with two local workers 1,135 and 1,142 MiB against 1,137 and 1,128.
Measured 2026-12-06 after 7917e2c (capacity challengers' schedules made from scalars, the
footprint kernel's rows written without branches, a round's kept counters gathered with
`np.array`, a GEMM layer's schedule-independent code inputs kept, the results table converted
a column at a time, the compile stack imported by the evaluator only where a point or the
check needs it; identical results), the same command twice each, alternating with 67a8f83:
never-seen chips 115.5 and 113.4 points/s with one local worker, 212.1 and 205.1 with two
(1.84x, 1.81x), Dask 78.6/76.1 and 116.1/110.1, against 113.0 and 108.6, 202.6 and 197.3
(1.79x, 1.82x), Dask 71.9/70.2 and 102.7/102.6; grid 335.6/323.4 and 598.2/563.4 against
312.5/324.0 and 578.4/532.1. Peak RSS of the never-seen sweep with two local workers 1,130
and 1,134 MiB against 1,138 and 1,142. The sweep of two local workers alone (`--one`), six
times each alternating with 67a8f83: median 217.0 points/s (212.5 to 224.1) against 206.0
(198.2 to 212.4).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil
from rich.console import Console
from rich.table import Table

EDGE = Path(__file__).resolve().parents[1] / "examples" / "accelerators" / "edge.yaml"
MODELS = {
    "MobileNetV2": "mobilenetv2",
    "ResNet-50": "resnet50",
    "BERT-base": "bert:layers=12,hidden=768,seq=128",
}
CONFIGS = (("local", 1), ("local", 2), ("dask", 1), ("dask", 2))
NEVER_SEEN_AXES = """\
  matrix.rows: [8, 12, 16, 24, 32, 48, 64, 96, 128]
  matrix.cols: [8, 12, 16, 24, 32, 48, 64, 96, 128]
  buffers.activations.capacity: {range: [128 KiB, 8192 KiB], step: 1 KiB}
  buffers.weights.capacity: {range: [64 KiB, 4096 KiB], step: 1 KiB}
  buffers.accumulators.capacity: {range: [64 KiB, 1024 KiB], step: 1 KiB}
  dram.bandwidth: {range: [4 GB/s, 64 GB/s], step: 0.125 GB/s}
"""
"""The never-seen chips' axes: those `never_seen_chips.random_chips` draws, over the same
ranges (about 10^17 chips, so a random sweep of thousands of points repeats none)."""


def grid_sweep_text(model: str, points: int) -> str:
    """A grid of `points` chips (array sizes × activation buffer sizes) for one model."""
    rows = [16, 32, 64, 128]
    capacities = max(1, points // len(rows))
    return (
        f"base: {EDGE}\n"
        "hardware:\n"
        f"  matrix.rows: {rows}\n"
        "  matrix.cols: =matrix.rows\n"
        f"  buffers.activations.capacity: {{log_range: [1 MiB, 8 MiB], points: {capacities}}}\n"
        f'models: ["{model}"]\n'
        "objectives: [latency, energy, area]\n"
    )


def never_seen_sweep_text(model: str, points: int, seed: int = 0) -> str:
    """A random sweep of `points` chips, every one drawn anew (`NEVER_SEEN_AXES`), for one model."""
    return (
        f"base: {EDGE}\nhardware:\n{NEVER_SEEN_AXES}"
        f'models: ["{model}"]\nobjectives: [latency, energy, area]\n'
        f"strategy: random\nbudget: {points}\nseed: {seed}\n"
    )


class PeakTreeMemory:
    """Peak summed RSS of this process's descendants (a sweep's process and its tree) while the
    `with` block runs."""

    def __init__(self, interval_s: float = 0.1) -> None:
        self.interval_s, self.peak_bytes = interval_s, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> PeakTreeMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _sample(self) -> None:
        me = psutil.Process()
        while True:
            total = 0
            for process in me.children(recursive=True):
                try:
                    total += process.memory_info().rss
                except psutil.Error:  # a worker that exited between listing and reading
                    pass
            self.peak_bytes = max(self.peak_bytes, total)
            if self._stop.wait(self.interval_s):
                return


def measure(path: Path, executor: str, workers: int, runs: int) -> tuple[float, int]:
    """Median points per second of `runs` complete sweeps (`timed_sweep`), and the peak tree
    RSS in bytes."""
    rates, peak = [], 0
    for _ in range(runs):
        with PeakTreeMemory() as memory:
            rates.append(timed_sweep(path, executor, workers))
        peak = max(peak, memory.peak_bytes)
    return statistics.median(rates), peak


def timed_sweep(path: Path, executor: str, workers: int) -> float:
    """Points per second of one sweep run in a fresh Python process, as `tessera sweep` runs
    it: timed there from `run_sweep`'s call to its table, its imports excluded and the start
    of its executor included (a local sweep's workers and what is left of its fork server's
    start, which overlaps the imports as in `tessera sweep`; a Dask cluster), which a later
    sweep in the same process would find started."""
    command = [sys.executable, __file__, "--one", str(path), executor, str(workers)]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{path.name} ({executor} x{workers}) failed:\n{done.stderr}")
    return float(done.stdout.split()[-1])


def one_sweep(path: Path, executor: str, workers: int) -> None:
    """Run one sweep in this process and print its points per second (`timed_sweep`). As
    `tessera sweep` does, a local sweep's fork server is started before the sweep stack is
    imported, so its imports overlap this process's (`explorer.fork_server`)."""
    from explorer.executor_kind import ExecutorKind

    if ExecutorKind(executor) is ExecutorKind.LOCAL:
        from explorer.fork_server import start_fork_server

        start_fork_server()
    from explorer import load_sweep, run_sweep

    spec = load_sweep(path)
    started = time.perf_counter()
    table = run_sweep(spec, workers=workers, executor=executor)
    rate = len(table) / (time.perf_counter() - started)
    if not (table["status"] == "ok").all():
        raise RuntimeError(f"{path.name}: points not ok: {table['status'].value_counts().to_dict()}")
    print(f"{rate:.6f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="runs per configuration (median reported)")
    parser.add_argument("--points", type=int, default=768, help="points per sweep (grid and never-seen)")
    names = [model.split(":")[0] for model in MODELS.values()]  # the zoo builders: a spec's commas would split
    parser.add_argument("--models", default=",".join(names), help="comma-separated, of: " + ", ".join(names))
    parser.add_argument("--one", nargs=3, metavar=("SWEEP", "EXECUTOR", "WORKERS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        sweep, executor, workers = args.one
        one_sweep(Path(sweep), executor, int(workers))
        return
    chosen = args.models.split(",")
    unknown = sorted(set(chosen) - set(names))
    if unknown:
        parser.error(f"--models: unknown {unknown}; choose from {names}")
    title = f"{args.points} points per sweep, median of {args.runs}"
    rates = Table(title=f"sweep throughput, points/s ({title})")
    memory = Table(title=f"peak RSS of the process tree, MiB ({title}; most over the runs)")
    for table in (rates, memory):
        table.add_column("model")
        table.add_column("sweep")
        for executor, workers in CONFIGS:
            table.add_column(f"{executor} ×{workers}", justify="right")
    rates.add_column("local 2/1", justify="right")
    rates.add_column("dask/local (×2)", justify="right")
    with tempfile.TemporaryDirectory() as folder:
        for label, model in MODELS.items():
            if model.split(":")[0] not in chosen:
                continue
            for kind, text in (("grid", grid_sweep_text), ("never-seen chips", never_seen_sweep_text)):
                path = Path(folder) / f"{model.split(':')[0]}-{kind.split()[0]}.yaml"
                path.write_text(text(model, args.points))
                results = {config: measure(path, *config, args.runs) for config in CONFIGS}
                rate = {config: result[0] for config, result in results.items()}
                rates.add_row(
                    label,
                    kind,
                    *(f"{rate[c]:.1f}" for c in CONFIGS),
                    f"{rate[('local', 2)] / rate[('local', 1)]:.2f}",
                    f"{rate[('dask', 2)] / rate[('local', 2)]:.2f}",
                )
                memory.add_row(label, kind, *(f"{results[c][1] / 2**20:.0f}" for c in CONFIGS))
    console = Console(width=120)
    console.print(rates)
    console.print(memory)


if __name__ == "__main__":
    main()
