"""Sweep throughput: points per second for MobileNetV2, ResNet-50 and BERT-base sweeps.

Each sweep varies the edge chip's array size and activation buffer (distinct points, nothing
cached across runs but each worker's lowering cache within a run) and is timed end to end by
`explorer.run_sweep` in memory: executor start, per-worker lowering, every point. Medians over
--runs; the ratios (2 workers / 1 worker, dask / local) come from the same invocation.

    python benchmarks/sweep_throughput.py [--runs 3] [--points 768]

Worker start-up (about 1 s per process) is part of every sweep's time, so small sweeps scale
worse with workers than large ones: at 192 points two local workers gave 1.5x one worker,
at 768 points 1.8x.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from explorer import load_sweep, run_sweep

EDGE = Path(__file__).resolve().parents[1] / "examples" / "accelerators" / "edge.yaml"
MODELS = {
    "MobileNetV2": "mobilenetv2",
    "ResNet-50": "resnet50",
    "BERT-base": "bert:layers=12,hidden=768,seq=128",
}
CONFIGS = (("local", 1), ("local", 2), ("dask", 1), ("dask", 2))


def sweep_file(folder: Path, model: str, points: int) -> Path:
    """A grid of `points` chips (array sizes × activation buffer sizes) for one model."""
    rows = [16, 32, 64, 128]
    capacities = max(1, points // len(rows))
    path = folder / f"{model.split(':')[0]}.yaml"
    path.write_text(
        f"base: {EDGE}\n"
        "hardware:\n"
        f"  matrix.rows: {rows}\n"
        "  matrix.cols: =matrix.rows\n"
        f"  buffers.activations.capacity: {{log_range: [1 MiB, 8 MiB], points: {capacities}}}\n"
        f'models: ["{model}"]\n'
        "objectives: [latency, energy, area]\n"
    )
    return path


def measure(path: Path, executor: str, workers: int, runs: int) -> float:
    """Median points per second of `runs` complete sweeps."""
    spec = load_sweep(path)
    rates = []
    for _ in range(runs):
        started = time.perf_counter()
        table = run_sweep(spec, workers=workers, executor=executor)
        rates.append(len(table) / (time.perf_counter() - started))
    return statistics.median(rates)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="runs per configuration (median reported)")
    parser.add_argument("--points", type=int, default=768, help="points per sweep")
    args = parser.parse_args()
    table = Table(title=f"sweep throughput, points/s (median of {args.runs}, {args.points} points per sweep)")
    table.add_column("model")
    for executor, workers in CONFIGS:
        table.add_column(f"{executor} ×{workers}", justify="right")
    table.add_column("local 2/1", justify="right")
    table.add_column("dask/local (×2)", justify="right")
    with tempfile.TemporaryDirectory() as folder:
        for label, model in MODELS.items():
            path = sweep_file(Path(folder), model, args.points)
            rates = {config: measure(path, *config, args.runs) for config in CONFIGS}
            table.add_row(
                label,
                *(f"{rates[c]:.1f}" for c in CONFIGS),
                f"{rates[('local', 2)] / rates[('local', 1)]:.2f}",
                f"{rates[('dask', 2)] / rates[('local', 2)]:.2f}",
            )
    Console().print(table)


if __name__ == "__main__":
    main()
