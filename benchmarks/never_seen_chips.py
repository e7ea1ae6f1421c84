"""Points per second on chips never seen before: the rate a real co-design sweep runs at.

Every point draws its own edge-chip variant (array rows and columns, the three buffer
capacities and the DRAM bandwidth independently at random), so no schedule, code or chip
cache is shared between points; only the network's lowering is done once, as a sweep worker
does. Each point is a full compile (memory plan, schedule search, code) and simulation, in
this process, one core. Medians over --runs; the table also gives the milliseconds a point.

    python benchmarks/never_seen_chips.py [--runs 3] [--points 40]

`sweep_throughput.py` measures sweeps whose points share array sizes and hit the caches; this
is the other end of the range. Not entirely: rows and columns come from 9 sides each, so
points begin to repeat an array as --points grows (100 points draw about 59 arrays), and a
repeated array finds its shapes' tilings in the per-shape cache (`batched.SPACES`) while its
bound (about 14 ResNet-50 arrays) has not evicted them: compare rates at one --points.
"""

from __future__ import annotations

import argparse
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
    """`count` independent draws of the swept fields (overrides of the edge chip)."""
    rng = random.Random(seed)
    return [
        {
            "matrix.rows": rng.choice(ARRAY_SIDES),
            "matrix.cols": rng.choice(ARRAY_SIDES),
            "buffers.activations.capacity": f"{rng.randint(128, 8192)} KiB",
            "buffers.weights.capacity": f"{rng.randint(64, 4096)} KiB",
            "buffers.accumulators.capacity": f"{rng.randint(64, 1024)} KiB",
            "dram.bandwidth": f"{rng.uniform(4, 64):.3f} GB/s",
        }
        for _ in range(count)
    ]


def points_per_second(model: str, points: int, seed: int) -> float:
    """Never-seen chips a second for one model, caches cleared first (Numba already compiled)."""
    base = load_accelerator(EDGE)
    workloads = lower(load_model(model))
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
    warm = load_accelerator(EDGE)
    simulate_workloads(warm, lower(load_model("gemm:m=64,k=64,n=64")), "gemm", CompileOptions())  # Numba JIT
    table = Table(title=f"Never-seen chips, one core, {args.points} points a run, median of {args.runs}")
    for column in ("model", "points/s", "ms a point"):
        table.add_column(column, justify="right" if column != "model" else "left")
    for label, model in MODELS.items():
        rate = statistics.median(points_per_second(model, args.points, seed) for seed in range(args.runs))
        table.add_row(label, f"{rate:.1f}", f"{1e3 / rate:.0f}")
    Console().print(table)


if __name__ == "__main__":
    main()
