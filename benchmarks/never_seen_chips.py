"""Points per second on chips never seen before: the rate a real co-design sweep runs at.

Every point draws its own edge-chip variant (the three buffer capacities and the DRAM
bandwidth at random, and an array of rows × columns that no earlier point of the run had:
the 81 pairs of 9 sides, drawn without replacement), so no schedule, code or per-shape cache
is shared between points; only the network's lowering is done once, as a sweep worker does.
Each point is a full compile (memory plan, schedule search, code) and simulation, in this
process, one core, caches cleared first; every Numba kernel the network needs has been
loaded by one untimed compile on the unmodified chip (a sweep worker pays that once). Medians
over --runs; the table also gives the milliseconds a point.

    python benchmarks/never_seen_chips.py [--runs 3] [--points 40]

`sweep_throughput.py` measures sweeps whose points share array sizes and hit the caches; this
is the other end of the range. Past 81 points the arrays repeat (every pair once per 81
points), and a repeated array may find its shapes' tilings in the per-shape cache
(`batched.SPACES`, about 80 MobileNetV2 or ResNet-50 arrays): compare rates at one --points.

Measured 2026-12-05 on the 2-core machine, `--runs 3 --points 40`, this tree after that day's
kernels for the batched search (identical schedules and cycles) run before and after 8ad13e0:
MobileNetV2 26.7 and 23.8 points/s against 19.0, ResNet-50 20.7 and 19.5 against 16.3,
BERT-base 14.3 and 14.1 against 13.5 (its vector layers, fused attention and MLP blocks and
whole-program simulations take most of its point, and were not the day's work). Measured later
on 2026-12-05 after cce66db (measurements in rounds, results from the search's layer counts,
identical results), the same command, alternating with 5f69161: MobileNetV2 25.8 and 26.5
points/s against 24.7, ResNet-50 22.4 and 22.1 against 21.6, BERT-base 14.9 and 16.2 against
14.4; process time a point (min of three 30-point rounds, seed 10): MobileNetV2 30.5/32.0 ms
against 34.5/34.2, ResNet-50 34.9 against 39.3, BERT-base 30.3 against 36.2. Measured later
on 2026-12-05 after 94aa1d8 (cache keys that hash once, identity-hashed enums, fused chains'
shared decisions and packings; identical results), the same command, alternating with
bb9d706: MobileNetV2 27.9 and 30.0 points/s against 27.0 and 28.9, ResNet-50 24.5 and 24.2
against 23.0 and 23.3, BERT-base 19.7 and 19.7 against 16.4 and 16.8; process time a point
(min of three 30-point rounds, seed 10): MobileNetV2 29.3/29.8 ms against 33.2/32.8. Measured
later on 2026-12-05 after 76d23ba (the footprint kernel reading each workload's fields once, one
kernel for a network's finalists and bounds, memo keys packed at once, capacity challengers
examined in place; identical results), the same command twice each, alternating with 63d7d0f
on a busier machine: MobileNetV2 38.7 and 41.2 points/s against 35.1 and 34.4, ResNet-50 29.0
and 31.1 against 28.1 and 26.2, BERT-base 28.6 and 29.8 against 27.1 and 26.7. Measured later
on 2026-12-05 after dea1d05 (kernels that skip estimates a candidate's compute term already
rules out and select on fit flags instead of branching, memo flags packed by a kernel, placed
workloads' shape keys hashed once, cheaper chain finding, a chip's technology resolved once a
point; identical results), the same command twice each, alternating with 87ea09a: MobileNetV2
42.6 and 43.5 points/s against 37.8 and 39.0, ResNet-50 31.5 and 32.1 against 29.4 and 28.4,
BERT-base 32.0 and 34.0 against 28.6 and 27.3.
"""

from __future__ import annotations

import argparse
import itertools
import random
import statistics
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from accel_spec import load_accelerator, with_overrides
from compiler.lowering import lower
from compiler.models import load_model
from compiler.pipeline import CompileOptions, clear_compile_caches
from tessera.api import simulate_workloads

EDGE = Path(__file__).resolve().parents[1] / "examples" / "accelerators" / "edge.yaml"
MODELS = {"MobileNetV2": "mobilenetv2", "ResNet-50": "resnet50", "BERT-base": "bert:layers=12,hidden=768,seq=128"}
ARRAY_SIDES = (8, 12, 16, 24, 32, 48, 64, 96, 128)


def random_chips(count: int, seed: int) -> list[dict[str, object]]:
    """`count` draws of the swept fields (overrides of the edge chip): each array shape new
    until all 81 have been drawn, the other fields independent."""
    rng = random.Random(seed)
    pairs = list(itertools.product(ARRAY_SIDES, ARRAY_SIDES))
    arrays = [shape for _ in range(-(-count // len(pairs))) for shape in rng.sample(pairs, len(pairs))]
    return [
        {
            "matrix.rows": rows,
            "matrix.cols": cols,
            "buffers.activations.capacity": f"{rng.randint(128, 8192)} KiB",
            "buffers.weights.capacity": f"{rng.randint(64, 4096)} KiB",
            "buffers.accumulators.capacity": f"{rng.randint(64, 1024)} KiB",
            "dram.bandwidth": f"{rng.uniform(4, 64):.3f} GB/s",
        }
        for rows, cols in arrays[:count]
    ]


def points_per_second(model: str, points: int, seed: int) -> float:
    """Never-seen chips a second for one model, caches cleared first (module doc)."""
    base = load_accelerator(EDGE)
    workloads = lower(load_model(model))
    simulate_workloads(base, workloads, model, CompileOptions())  # loads every Numba kernel it needs
    chips = random_chips(points, seed)
    clear_compile_caches()
    start = time.perf_counter()
    for overrides in chips:
        simulate_workloads(with_overrides(base, overrides), workloads, model, CompileOptions())
    return points / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--points", type=int, default=40)
    args = parser.parse_args()
    table = Table(title=f"Never-seen chips, one core, {args.points} points a run, median of {args.runs}")
    for column in ("model", "points/s", "ms a point"):
        table.add_column(column, justify="right" if column != "model" else "left")
    for label, model in MODELS.items():
        rate = statistics.median(points_per_second(model, args.points, seed) for seed in range(args.runs))
        table.add_row(label, f"{rate:.1f}", f"{1e3 / rate:.0f}")
    Console().print(table)


if __name__ == "__main__":
    main()
