"""Does more on-chip memory ever make a network slower? Random pairs of buffer capacities.

For each example chip and network, draws pairs of capacity vectors C ≤ C' (every buffer at
0.25–2 × the chip's own, then each kept or grown up to 4×) and simulates the network on both;
a pair where C' takes more cycles than C is an artifact of the search, not of the machine (a
program that fits C fits C'). Prints, per chip and network, the pairs, how many got slower
and the worst slowdown.

    python benchmarks/capacity_monotone.py [--pairs 20] [--seed 0] [--chips edge,gemmini]

Measured 2026-12-04, `--pairs 20`: edge and gemmini 0 of 60 slower, eyeriss 1 (BERT,
+1.41 %), tiny 1 (MobileNetV2, +0.02 %); before the crowding challenger
(`compiler/memory/crowding.py`, at 992cb72) eyeriss 1 (BERT, +2.55 %) and tiny 5 (MobileNetV2,
worst +2.69 %), and before the capacity challengers (`compiler/scheduling/challengers.py`, at
1630a39) edge and gemmini 15 of 120 (worst +1.10 %). What remains comes from decisions above
one layer (the memory plan, fusion): docs/model.md, "Schedules".
"""

from __future__ import annotations

import argparse
import random
from pathlib import Path

from rich.console import Console
from rich.table import Table

from accel_spec import load_accelerator, with_overrides
from compiler.lowering import lower
from compiler.models import load_model
from compiler.pipeline import CompileOptions
from tessera.api import simulate_workloads

EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "accelerators"
CHIPS = ("edge", "gemmini", "eyeriss", "tiny")
MODELS = ("mobilenetv2:width=0.5,resolution=128", "resnet18:resolution=128", "bert:layers=2,hidden=256,heads=4,seq=128")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pairs", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--chips", default=",".join(CHIPS), help="example chips, comma-separated")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    table = Table(title="more buffer capacity, more cycles? (pairs C ≤ C')")
    for column in ("chip", "network", "pairs", "slower", "worst"):
        table.add_column(column, justify="right")
    for chip_name in args.chips.split(","):
        base = load_accelerator(EXAMPLES / f"{chip_name}.yaml")
        for model in MODELS:
            workloads = lower(load_model(model))
            slower, worst = 0, 0.0
            for _ in range(args.pairs):
                small = {name: base.buffers[name].capacity * rng.uniform(0.25, 2) for name in base.buffers}
                large = {name: size * rng.choice([1, 1, rng.uniform(1, 4)]) for name, size in small.items()}
                cycles = [
                    simulate_workloads(
                        with_overrides(base, {f"buffers.{name}.capacity": int(size) for name, size in sizes.items()}),
                        workloads, model, CompileOptions(),
                    ).result.total_cycles
                    for sizes in (small, large)
                ]  # fmt: skip
                if cycles[1] > cycles[0]:
                    slower += 1
                    worst = max(worst, cycles[1] / cycles[0] - 1)
            table.add_row(chip_name, model, str(args.pairs), str(slower), f"{100 * worst:+.2f} %")
    Console(width=120).print(table)


if __name__ == "__main__":
    main()
