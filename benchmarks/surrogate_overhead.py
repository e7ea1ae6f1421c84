"""Surrogate overhead: how much of a surrogate sweep's wall time the strategy costs, and how
busy it leaves the workers, over a space of ≥ 100,000 points (issue 16).

A surrogate sweep of MobileNetV2 variants on an edge NPU (8 hardware axes and 4 networks:
414,720 points, an area constraint) runs end to end through `explorer.execute_sweep` with 2
local workers and the real simulator, once with the heuristic scheduler (a simulation of about
0.07 s a point) and once with the exhaustive one (about 0.8 s a point). Measured per run:

- wall: the whole `execute_sweep` call (workers' start, the strategy's set-up, every point);
- first point starts / after last point: the wall time before any worker starts a point (the
  workers' start and the strategy's set-up) and after the last one ends (the models' quality,
  the results written);
- propose: time inside the strategy's `propose` and `tell` (the main process's own work), and
  per round: wall time, and the CPU time of the thread that ran them (what the strategy
  takes from the workers on a machine with as many cores as workers);
- busy: the share of wall time the workers spent evaluating points (each worker logs the
  start and end of every point; Σ busy / (workers × wall));
- peak RSS of the main process so far (it only grows from run to run; workers are separate
  processes).

Medians over --runs (the machine may be shared); every run uses the same seed, so runs differ
only by timing noise.

    python benchmarks/surrogate_overhead.py [--runs 3] [--budget 160] [--workers 2] [--schedulers heuristic exhaustive]

On a 2-core machine the strategy's thread and the workers share the cores, so what the strategy
costs the workers is its CPU time: a worker it pre-empts takes longer over its point (and counts
as busy), and a worker idles only when the next batch is not chosen when the current one ends,
before the first point starts and after the last one ends.

Measured on a 2-core machine shared with other work (medians of 3 runs; "load" is the 1-minute
load average before and after; the first two rows are from earlier, on a quieter machine, main
before issue 16 with 2 runs):

| scheduler | code | load | simulation s/point | wall s | first point s | after last s | propose + tell s | per round s | CPU per round s | workers busy | peak RSS MiB |
|---|---|---|---|---|---|---|---|---|---|---|---|
| heuristic | before issue 16 | | 0.067 | 84.6 | | | 76.5 | 8.50 | | 6 % | 795 |
| heuristic | pool per budget, one batch ahead | | 0.086 | 17.0 | | | 13.1 | 1.31 | | 41 % | 355 |
| heuristic | the same, again | 4.3-4.2 | 0.166 | 20.9 | 0.9 | 2.2 | 15.5 | 1.55 | 0.68 | 62 % | 341 |
| heuristic | small models, initial sample ahead | 4.2-4.9 | 0.198 | 19.0 | 1.1 | 0.4 | 10.9 | 0.99 | 0.20 | 89 % | 337 |
| heuristic | the same, no proposal past the budget | 4.7-5.5 | 0.167 | 15.5 | 0.8 | 0.4 | 8.8 | 0.88 | 0.18 | 85 % | 337 |
| exhaustive | before issue 16 | | 0.69 | 131.7 | | | 70.2 | 7.80 | | 42 % | 799 |
| exhaustive | pool per budget, one batch ahead | | 0.86 | 75.7 | | | 15.0 | 1.50 | | 90 % | 381 |

"The same, again" and "small models, initial sample ahead" ran back to back; four more sets
of the latter at load 4-6 gave 84 %, 87 %, 88 % and 88 % (and one more of the former, at load
2.4-2.7 with 0.089 s a simulation, 54 %). 60 trees of depth 3 instead of 150 of depth 6 cut the
strategy's CPU time from 0.68 s to 0.20 s a round and the time after the last point (mostly the
k-fold model quality) from 2.2 s to 0.4 s, and the initial sample proposed in batches, one
ahead, spares the workers the wait for the first guided batch.

These simulations took 0.15-0.2 s (the machine ran 4-6 loads on 2 cores), against 0.07 s on a
quiet one. There a 16-point round is 1.1 s of simulation, of which the strategy's 0.2 s a round
is a sixth (it slows the workers' points, which still count as busy), and what the workers wait
for is the start and the end: 0.3-1.1 s before the first point (the evaluator's check and the
workers' start, in a process whose fork server already runs) and 0.3-0.4 s after the last (the
models' quality), 10-20 % of a 7-8 s sweep. The first sweep of a process also waits for the
fork server to import the compiler stack (its first point started after 1.9-5.3 s in the sets
above) and is busy less. With a pool of 32 per point instead of 64 the first pass's heuristic
rounds took 0.78 s and the workers were busy 50 %; see `explorer.surrogate.POOL_PER_POINT` for
why it is 64.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.table import Table

import explorer.api
from explorer import execute_sweep, load_sweep
from explorer.api import default_evaluator
from explorer.evaluator import Evaluator, Outcome
from explorer.space import DesignSpace, Point
from explorer.strategies import Strategy

EDGE = Path(__file__).resolve().parents[1] / "examples" / "accelerators" / "edge.yaml"
SWEEP = f"""\
base: {EDGE}
hardware:
  matrix.rows: [8, 16, 24, 32, 48, 64, 96, 128]
  matrix.cols: [8, 16, 32, 64, 128]
  buffers.activations.capacity: {{log_range: [64 KiB, 2 MiB], points: 6}}
  buffers.weights.capacity: [128 KiB, 512 KiB, 2 MiB]
  dram.bandwidth: [4.266 GB/s, 8.532 GB/s, 17.064 GB/s, 34.128 GB/s]
  dram.latency: [60 ns, 120 ns, 240 ns]
  vector.lanes: [16, 32, 64]
  clock: [250 MHz, 500 MHz, 800 MHz, 1 GHz]
models:
  - mobilenetv2:width: [0.35, 0.5]
    mobilenetv2:resolution: [96, 128]
schedule: {{scheduler: SCHEDULER, precision: int8}}
objectives: [latency, energy, area]
constraints:
  - area_mm2 <= 4
strategy: surrogate
budget: 160
population: 16
seed: 0
"""


@dataclass(frozen=True)
class TimedEvaluator(Evaluator):
    """The real evaluator, logging each point's start and end (monotonic clock) to a file per
    worker process."""

    inner: Evaluator
    folder: str
    name: str = "timed"

    def run(self, point: Point) -> Outcome:
        started = time.monotonic()
        outcome = self.inner.run(point)
        with open(os.path.join(self.folder, f"{os.getpid()}.log"), "a") as log:
            log.write(f"{started} {time.monotonic()}\n")
        return outcome

    def analytic(self, point: Point) -> dict[str, float]:
        return self.inner.analytic(point)

    def check(self, space: DesignSpace) -> None:
        self.inner.check(space)


class TimedStrategy(Strategy):
    """A strategy whose `propose` and `tell` are timed: wall time, and CPU time of the thread
    that runs them (which a busy machine does not inflate)."""

    def __init__(self, inner: Strategy) -> None:
        self.inner, self.seconds, self.cpu, self.rounds = inner, 0.0, 0.0, 0

    @property
    def lookahead(self) -> int:
        return getattr(self.inner, "lookahead", 0)  # 0 before the strategy could propose ahead

    def propose(self):
        started, cpu = time.perf_counter(), time.thread_time()
        try:
            return self.inner.propose()
        finally:
            self.seconds += time.perf_counter() - started
            self.cpu += time.thread_time() - cpu
            self.rounds += 1

    def tell(self, batch, feedback) -> None:
        started, cpu = time.perf_counter(), time.thread_time()
        self.inner.tell(batch, feedback)
        self.seconds += time.perf_counter() - started
        self.cpu += time.thread_time() - cpu

    def model_records(self):
        return self.inner.model_records()


def one_run(path: Path, budget: int, workers: int) -> dict[str, float]:
    spec = load_sweep(path).model_copy(update={"budget": budget})
    made: list[TimedStrategy] = []
    original = explorer.api.make_strategy

    def timed(*args, **kwargs):
        started = time.perf_counter()
        strategy = TimedStrategy(original(*args, **kwargs))
        strategy.setup = time.perf_counter() - started
        made.append(strategy)
        return strategy

    with tempfile.TemporaryDirectory() as logs:
        evaluator = TimedEvaluator(default_evaluator(spec), logs)
        explorer.api.make_strategy = timed
        try:
            started_mono, started = time.monotonic(), time.perf_counter()
            result = execute_sweep(spec, evaluator=evaluator, workers=workers, executor="local")
            wall = time.perf_counter() - started
        finally:
            explorer.api.make_strategy = original
        spans = [tuple(map(float, line.split())) for log in Path(logs).glob("*.log") for line in log.read_text().splitlines()]
        busy = sum(end - max(start, started_mono) for start, end in spans)
    strategy = made[0]
    return {
        "points": len(result.table),
        "simulation": busy / len(result.table),
        "wall": wall,
        "first": min(start for start, _ in spans) - started_mono,
        "last": started_mono + wall - max(end for _, end in spans),
        "setup": strategy.setup,
        "propose": strategy.seconds,
        "per_round": strategy.seconds / max(1, strategy.rounds),
        "cpu_round": strategy.cpu / max(1, strategy.rounds),
        "evaluating": busy,
        "busy": busy / (workers * wall),
        "rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--budget", type=int, default=160)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--schedulers", nargs="+", default=["heuristic", "exhaustive"])
    args = parser.parse_args()
    console = Console(highlight=False, width=160)
    medians: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as folder:
        for scheduler in args.schedulers:
            path = Path(folder) / f"surrogate_overhead_{scheduler}.yaml"
            path.write_text(SWEEP.replace("SCHEDULER", scheduler))
            size = DesignSpace(load_sweep(path)).size
            runs = []
            for number in range(args.runs):
                runs.append(one_run(path, args.budget, args.workers))
                console.print(f"{scheduler} run {number + 1}: " + ", ".join(f"{k} {v:.3g}" for k, v in runs[-1].items()))
            medians[scheduler] = {key: statistics.median(r[key] for r in runs) for key in runs[0]}
    table = Table(title=f"surrogate sweep: {size:,} points, budget {args.budget}, batch 16, {args.workers} local workers; "
                        f"median of {args.runs} runs")
    table.add_column("scheduler")
    columns = (
        ("simulation s/point", "simulation", "{:.3f}"),
        ("wall s", "wall", "{:.1f}"),
        ("strategy set-up s", "setup", "{:.1f}"),
        ("first point starts s", "first", "{:.1f}"),
        ("after last point s", "last", "{:.1f}"),
        ("propose + tell s", "propose", "{:.1f}"),
        ("per round s", "per_round", "{:.2f}"),
        ("CPU per round s", "cpu_round", "{:.2f}"),
        ("workers evaluating s (Σ)", "evaluating", "{:.1f}"),
        ("workers busy", "busy", "{:.0%}"),
        ("peak RSS MiB (main)", "rss", "{:.0f}"),
    )
    for title, _, _ in columns:
        table.add_column(title, justify="right")
    for scheduler, values in medians.items():
        table.add_row(scheduler, *(fmt.format(values[key]) for _, key, fmt in columns))
    console.print(table)


if __name__ == "__main__":
    main()
