"""How far the serving step grid's interpolation is from direct simulation, off the grid.

For each phase, simulates the step at points between grid points (the midpoints, where linear
interpolation is worst, and a third of the way) and prints grid time, simulated time and the
relative error, then the mean and largest |error| per phase. Then serves one small Poisson run
twice, timing every iteration from the grids and by simulating each distinct step directly,
and prints how far the request-level figures move. Not run by CI:
    python benchmarks/serve_interpolation.py [MODEL] [CHIP]
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path

from accel_spec.schema import Accelerator
from compiler.zoo.params import ModelSpec

from accel_spec import load_accelerator
from compiler.zoo import parse_model_spec
from compiler.zoo.params import Phase
from serving import serve
from serving.run import GridBounds, iteration_timer
from serving.scheduler import SchedulerConfig
from serving.step_grid import IterationTimer, StepGrid, simulate_step
from serving.workload import LengthDistribution, LengthKind, poisson_requests

EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "accelerators"
MODEL = "llama:layers=2,hidden=256,heads=4,kv_heads=2,vocab=1000"
CHIP = "edge"
BOUNDS = GridBounds(prefill_tokens=512, decode_batch=16, decode_context=512)
RUN = SchedulerConfig(max_batch=16, max_batched_tokens=512)
"""The end-to-end comparison: 80 requests at 3,000/s, prompts 16..300, outputs 8..200 tokens."""
RUN_REQUESTS = (80, 3_000.0, LengthDistribution(LengthKind.UNIFORM, 16, 300), LengthDistribution(LengthKind.UNIFORM, 8, 200))


@dataclass(frozen=True)
class DirectTimer(IterationTimer):
    """Every iteration timed by simulating its steps (decode at its mean context, rounded)."""

    accel: Accelerator | None = None
    spec: ModelSpec | None = None
    simulated: dict[tuple[Phase, int, int], float] = field(default_factory=dict)

    def seconds(self, prefill_tokens: int, decodes: int, decode_context_sum: int) -> float:
        total = 0.0
        if prefill_tokens:
            total += self._step(Phase.PREFILL, 1, prefill_tokens)
        if decodes:
            total += self._step(Phase.DECODE, decodes, round(decode_context_sum / decodes))
        return total

    def _step(self, phase: Phase, batch: int, context: int) -> float:
        key = (phase, batch, context)
        if key not in self.simulated:
            self.simulated[key] = simulate_step(self.accel, self.spec, phase, batch, context)
        return self.simulated[key]


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
    requests = poisson_requests(*RUN_REQUESTS, seed=0)
    gridded = serve(accel, model, requests, RUN, timer=timer).to_json()
    direct_timer = DirectTimer(timer.prefill, timer.decode, accel, spec)
    direct = serve(accel, model, requests, RUN, timer=direct_timer).to_json()
    print(f"serving {len(requests)} requests: grid vs {len(direct_timer.simulated)} steps simulated directly")
    print(f"{'figure':<22}{'grid':>12}{'direct':>12}{'error':>9}")
    for key in ("ttft_s", "tpot_s", "e2e_s"):
        for stat in ("p50", "p99", "mean"):
            _compare(f"{key} {stat}", gridded[key][stat], direct[key][stat])
    _compare("throughput_tokens_s", gridded["throughput_tokens_s"], direct["throughput_tokens_s"])


def _compare(name: str, gridded: float, direct: float) -> None:
    print(f"{name:<22}{gridded:>12.5g}{direct:>12.5g}{gridded / direct - 1:>9.2%}")


def _row(accel, spec, grid: StepGrid, batch: int, context: int) -> float:
    direct = simulate_step(accel, spec, grid.phase, batch, context)
    interpolated = grid.time(batch, context)
    error = interpolated / direct - 1
    print(f"{grid.phase.value:<9}{batch:>6}{context:>9}{interpolated * 1e6:>11.2f}{direct * 1e6:>14.2f}{error:>9.2%}")
    return error


if __name__ == "__main__":
    main()
