"""The time of one prefill or decode step on the chip, simulated on a grid and interpolated.

Simulating every iteration of a serving run would take hours, so each phase is compiled and
simulated once per grid point (`llama:...,phase=prefill,seq=S,batch=B` or
`llama:...,phase=decode,kv_len=L,batch=B`), and a step between grid points is interpolated:
linearly in context within a batch, then linearly between the two neighbouring batches. On a
grid point the time is exactly the simulator's. docs/serving.md states the measured error off
the grid.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from accel_spec.precision import PrecisionAssignment
from accel_spec.schema import Accelerator
from compiler.zoo.params import ModelSpec, Phase


def grid_points(largest: int) -> tuple[int, ...]:
    """1, 2, 4, ... below `largest`, then `largest` itself: a grid that ends on the bound."""
    points = [1]
    while points[-1] * 2 < largest:
        points.append(points[-1] * 2)
    if points[-1] != largest:
        points.append(largest)
    return tuple(points)


def step_spec(spec: ModelSpec, phase: Phase, batch: int, context: int) -> ModelSpec:
    """The zoo spec of one step: a prefill of `context` prompt tokens per sequence, or one decode
    token per sequence attending to `context` cached tokens, for `batch` sequences."""
    if phase is Phase.PREFILL:
        return spec.with_params(phase=phase, seq=context, kv_len=context, batch=batch)
    return spec.with_params(phase=phase, kv_len=context, batch=batch)


def simulate_step(
    accel: Accelerator,
    spec: ModelSpec,
    phase: Phase,
    batch: int,
    context: int,
    precision: PrecisionAssignment | None = None,
) -> float:
    """Seconds the chip takes for one step at `precision` (None: the chip's), compiled and
    simulated (no interpolation)."""
    from tessera.api import simulate

    model = step_spec(spec, phase, batch, context).canonical()
    return simulate(accel, model, precision=precision).result.latency_s


@dataclass(frozen=True)
class StepGrid:
    """Simulated step times of one phase: `seconds[i][j]` at `batches[i]`, `contexts[j]`."""

    phase: Phase
    batches: tuple[int, ...]
    contexts: tuple[int, ...]
    seconds: tuple[tuple[float, ...], ...]

    @classmethod
    def simulate(
        cls,
        accel: Accelerator,
        spec: ModelSpec,
        phase: Phase,
        batches: Sequence[int],
        contexts: Sequence[int],
        progress: Callable[[int, int], None] | None = None,
        precision: PrecisionAssignment | None = None,
    ) -> StepGrid:
        """Simulate every (batch, context) point at `precision` (None: the chip's);
        `progress(done, total)` after each one."""
        total = len(batches) * len(contexts)
        rows = []
        for i, batch in enumerate(batches):
            row = []
            for j, context in enumerate(contexts):
                row.append(simulate_step(accel, spec, phase, batch, context, precision))
                if progress is not None:
                    progress(i * len(contexts) + j + 1, total)
            rows.append(tuple(row))
        return cls(phase, tuple(batches), tuple(contexts), tuple(rows))

    def time(self, batch: float, context: float) -> float:
        """Seconds of a step of `batch` sequences at `context` tokens each, interpolated."""
        if len(self.batches) == 1:
            return self._along_context(0, context)
        i = _bracket(self.batches, batch)
        low, high = self.batches[i - 1], self.batches[i]
        t_low = self._along_context(i - 1, context)
        t_high = self._along_context(i, context)
        return t_low + (t_high - t_low) * (batch - low) / (high - low)

    def _along_context(self, row: int, context: float) -> float:
        contexts, seconds = self.contexts, self.seconds[row]
        if len(contexts) == 1:
            return seconds[0]
        j = _bracket(contexts, context)
        low, high = contexts[j - 1], contexts[j]
        return seconds[j - 1] + (seconds[j] - seconds[j - 1]) * (context - low) / (high - low)


def _bracket(points: tuple[int, ...], value: float) -> int:
    """Index j ≥ 1 with points[j-1] ≤ value ≤ points[j] (the end pair outside the range)."""
    return min(max(bisect_left(points, value), 1), len(points) - 1)


@dataclass(frozen=True)
class IterationTimer:
    """The time of one scheduler iteration from the two phases' grids.

    Assumptions (docs/serving.md): the prefill chunks of an iteration run as one packed
    sequence of all their tokens (vLLM flattens an iteration's tokens into one batch), attending
    to no earlier chunk; the decodes run as one batch at their mean context, since attention
    work grows linearly in context; and a mixed iteration takes the sum of the two parts.
    """

    prefill: StepGrid
    decode: StepGrid

    def seconds(self, prefill_tokens: int, decodes: int, decode_context_sum: int) -> float:
        """Seconds of an iteration with `prefill_tokens` prompt tokens and `decodes` decode
        sequences whose cached contexts sum to `decode_context_sum` tokens."""
        total = 0.0
        if prefill_tokens:
            total += self.prefill.time(1, prefill_tokens)
        if decodes:
            total += self.decode.time(decodes, decode_context_sum / decodes)
        return total
