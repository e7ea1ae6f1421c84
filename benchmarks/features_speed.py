"""Speed of featurising design points for the surrogate's cost models (`explorer.space_features`).

Featurises --points random index vectors of the quickstart sweep (examples/sweeps/quickstart.yaml:
array size, two buffer sizes, nine MobileNetV2 variants) in one call, after one warm call that
lowers the networks (cached). Prints the median over --repeats and the rate in points per second.

    python benchmarks/features_speed.py [--points 100000] [--repeats 5]
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table

from explorer import load_sweep
from explorer.space import DesignSpace
from explorer.surrogate import sweep_features

QUICKSTART = Path(__file__).resolve().parents[1] / "examples" / "sweeps" / "quickstart.yaml"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    spec = load_sweep(QUICKSTART)
    space = DesignSpace(spec)
    features = sweep_features(spec, space)
    rng = np.random.default_rng(0)
    indices = np.column_stack([rng.integers(0, axis.size, args.points) for axis in space.axes])
    features.features(indices)
    samples = []
    for _ in range(args.repeats):
        began = time.perf_counter()
        features.features(indices)
        samples.append(time.perf_counter() - began)
    median = statistics.median(samples)
    table = Table(title=f"featurising quickstart design points, median of {args.repeats}")
    for column in ("points", "features", "median (s)", "points/s"):
        table.add_column(column, justify="right")
    table.add_row(f"{args.points:,}", str(len(features.names)), f"{median:.3f}", f"{args.points / median:,.0f}")
    Console(width=100).print(table)


if __name__ == "__main__":
    main()
