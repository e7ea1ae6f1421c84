"""How far the serving step grid's interpolation is from direct simulation, off the grid.

For each phase, simulates the step at points between grid points (the midpoints, where linear
interpolation is worst, and a third of the way) and prints grid time, simulated time and the
relative error, then the mean and largest |error| per phase. Not run by CI:
    python benchmarks/serve_interpolation.py [MODEL] [CHIP]
"""

from __future__ import annotations

import sys
from pathlib import Path

from accel_spec import load_accelerator
from compiler.zoo import parse_model_spec
from compiler.zoo.params import Phase
from serving.run import GridBounds, iteration_timer
from serving.step_grid import StepGrid, simulate_step

EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "accelerators"
MODEL = "llama:layers=2,hidden=256,heads=4,kv_heads=2,vocab=1000"
CHIP = "edge"
BOUNDS = GridBounds(prefill_tokens=512, decode_batch=16, decode_context=512)


def off_grid(points: tuple[int, ...]) -> list[int]:
    """A third of the way and half way between neighbouring grid points (whole, not on the grid)."""
    between = {low + (high - low) * num // den for low, high in zip(points, points[1:]) for num, den in ((1, 3), (1, 2))}
    return sorted(between - set(points))


def main() -> None:
    model = sys.argv[1] if len(sys.argv) > 1 else MODEL
    chip = sys.argv[2] if len(sys.argv) > 2 else CHIP
    accel = load_accelerator(EXAMPLES / f"{chip}.yaml")
    spec = parse_model_spec(model)
    timer = iteration_timer(accel, spec, BOUNDS)
    print(f"{model} on {chip}")
    print(f"{'phase':<9}{'batch':>6}{'context':>9}{'grid µs':>11}{'simulated µs':>14}{'error':>9}")
    for grid in (timer.prefill, timer.decode):
        batches = (1,) if grid.phase is Phase.PREFILL else (*grid.batches, *off_grid(grid.batches))
        errors = [_row(accel, spec, grid, b, c) for b in batches for c in off_grid(grid.contexts)]
        errors += [_row(accel, spec, grid, b, c) for b in off_grid(grid.batches) for c in grid.contexts]
        magnitudes = [abs(e) for e in errors]
        print(f"{grid.phase.value}: {len(errors)} points, mean |error| {sum(magnitudes) / len(magnitudes):.2%}, "
              f"max |error| {max(magnitudes):.2%}")


def _row(accel, spec, grid: StepGrid, batch: int, context: int) -> float:
    direct = simulate_step(accel, spec, grid.phase, batch, context)
    interpolated = grid.time(batch, context)
    error = interpolated / direct - 1
    print(f"{grid.phase.value:<9}{batch:>6}{context:>9}{interpolated * 1e6:>11.2f}{direct * 1e6:>14.2f}{error:>9.2%}")
    return error


if __name__ == "__main__":
    main()
