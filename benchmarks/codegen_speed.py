"""Instructions generated per second by `compiler.codegen` for a few big layers.

Prints one row per (layer, chip): instructions, median generation time over RUNS runs and
instructions per second. Not run by CI:  python benchmarks/codegen_speed.py
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path

from accel_spec.loader import load_accelerator
from compiler.codegen import generate_program
from compiler.lowering import lower
from compiler.models import load_model
from compiler.scheduling import schedule_workloads
from compiler.target import target_of

RUNS = 7
EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "accelerators"
CHIPS = ("tiny", "gemmini", "eyeriss")
MODEL = "resnet50"
LAYERS = ("conv1", "layer1.0.conv2", "layer3.0.conv2", "fc")


def _median_seconds(workloads, schedules, accel, precision) -> tuple[float, int]:
    timings = []
    for _ in range(RUNS):
        start = time.perf_counter()
        program = generate_program(workloads, schedules, target_of(accel, precision))
        timings.append(time.perf_counter() - start)
    return statistics.median(timings), len(program)


def main() -> None:
    network = lower(load_model(MODEL))
    print(f"{'layer':<18}{'chip':<10}{'instructions':>14}{'median ms':>12}{'instr/s':>14}")
    for chip_name in CHIPS:
        accel = load_accelerator(EXAMPLES / f"{chip_name}.yaml")
        precision = accel.matrix.input_precision
        schedules = schedule_workloads(network, target_of(accel, precision))
        by_name = {w.name: (w, s) for w, s in zip(network, schedules)}
        rows = [(name, *by_name[name]) for name in LAYERS if name in by_name]
        rows.append((f"{MODEL} (all)", network, schedules))
        for name, workload, schedule in rows:
            workloads = workload if isinstance(workload, tuple) else (workload,)
            chosen = schedule if isinstance(schedule, tuple) else (schedule,)
            seconds, count = _median_seconds(workloads, chosen, accel, precision)
            print(f"{name:<18}{chip_name:<10}{count:>14,}{seconds * 1e3:>12.2f}{count / seconds:>14,.0f}")


if __name__ == "__main__":
    main()
