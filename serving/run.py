"""`serve`: the stages of a serving run joined — decoder, KV budget, step grid, scheduler."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from accel_spec import load_accelerator
from accel_spec.precision import PrecisionAssignment, unsupported
from accel_spec.schema import Accelerator
from compiler.zoo.params import ModelSpec, Phase
from serving.kv_cache import DecoderShape, KvBudget, kv_budget
from serving.metrics import ServeReport, Slo
from serving.scheduler import SchedulerConfig, schedule
from serving.step_grid import IterationTimer, StepGrid, grid_points
from serving.workload import Request
from tessera.errors import InputError, Problem

DECODERS = ("llama",)
"""Zoo families `serve` can run: decoders with a prefill and a decode phase."""

PER_STEP = ("phase", "seq", "kv_len", "batch")
"""Decoder parameters the step grid sets for each step, so a --model must leave them out."""


def decoder_spec(model: str) -> ModelSpec:
    """The resolved zoo spec of a decoder; InputError naming --model for anything else."""
    from compiler.zoo import parse_model_spec

    family = model.strip().partition(":")[0].strip().lower()
    if family not in DECODERS:
        message = f"serve needs a decoder zoo spec ({', '.join(f'{d}:...' for d in DECODERS)}), got {model!r}"
        raise InputError(model, Problem("--model", message))
    given = {item.partition("=")[0].strip() for item in model.partition(":")[2].split(",")}
    fixed = [name for name in PER_STEP if name in given]
    if fixed:
        message = f"{', '.join(fixed)} are set for each prefill and decode step by serve; leave them out"
        raise InputError(model, Problem("--model", message))
    return parse_model_spec(model)


def check_fits(budget: KvBudget, requests: tuple[Request, ...], accel_source: str) -> None:
    """Refuse a run whose longest request cannot fit the KV cache even alone."""
    largest = max(requests, key=lambda r: r.max_tokens)
    if largest.max_tokens <= budget.capacity_tokens:
        return
    message = (
        f"{budget.dram_bytes:,} B of DRAM less {budget.weight_bytes:,} B of weights leaves a KV cache of "
        f"{budget.capacity_tokens:,} tokens ({budget.bytes_per_token:g} B each, in blocks of {budget.block_tokens}), "
        "fewer than one request's "
        f"prompt + output of {largest.prompt_len} + {largest.output_len} tokens; use a chip with more DRAM, "
        "a smaller model or shorter --prompt-len/--output-len"
    )
    raise InputError(accel_source, Problem("dram.capacity", message))


@dataclass(frozen=True)
class GridBounds:
    """The largest step a run can take: what the step grids must cover."""

    prefill_tokens: int
    decode_batch: int
    decode_context: int

    @classmethod
    def of(cls, requests: tuple[Request, ...], config: SchedulerConfig) -> GridBounds:
        """An iteration packs at most the token budget of prompt tokens, runs at most max_batch
        decodes, and a decode attends to at most prompt + output − 1 cached tokens."""
        total = sum(r.max_tokens for r in requests)
        return cls(
            min(config.max_batched_tokens, total),
            min(config.max_batch, len(requests)),
            max(r.max_tokens for r in requests) - 1,
        )

    def covered_by(self, timer: IterationTimer) -> bool:
        """True when every step of the run lies inside the timer's grids."""
        return (
            timer.prefill.contexts[-1] >= self.prefill_tokens
            and timer.decode.batches[-1] >= self.decode_batch
            and timer.decode.contexts[-1] >= self.decode_context
        )


def iteration_timer(
    accel: Accelerator,
    spec: ModelSpec,
    bounds: GridBounds,
    progress: Callable[[int, int], None] | None = None,
    precision: PrecisionAssignment | None = None,
) -> IterationTimer:
    """Simulate the prefill grid (one packed sequence of 1, 2, 4, ... tokens) and the decode
    grid (batches 1, 2, 4, ... × contexts 1, 2, 4, ...) of one decoder on one chip at
    `precision` (None: the chip's), each up to `bounds`; `progress(done, total)` after each
    point."""
    prefill_contexts = grid_points(bounds.prefill_tokens)
    batches = grid_points(bounds.decode_batch)
    decode_contexts = grid_points(bounds.decode_context)
    total = len(prefill_contexts) + len(batches) * len(decode_contexts)

    def shifted(offset: int) -> Callable[[int, int], None] | None:
        if progress is None:
            return None
        return lambda done, _: progress(offset + done, total)

    prefill = StepGrid.simulate(accel, spec, Phase.PREFILL, (1,), prefill_contexts, shifted(0), precision)
    decode = StepGrid.simulate(
        accel, spec, Phase.DECODE, batches, decode_contexts, shifted(len(prefill_contexts)), precision
    )
    return IterationTimer(prefill, decode)


def serve(
    accel: Accelerator | str | Path,
    model: str,
    requests: tuple[Request, ...],
    config: SchedulerConfig = SchedulerConfig(),
    slo: Slo = Slo(),
    timer: IterationTimer | None = None,
    progress: Callable[[int, int], None] | None = None,
    precision: PrecisionAssignment | None = None,
) -> ServeReport:
    """Serve `requests` (sorted by arrival) with a `model` decoder on a chip, with weights,
    activations and KV cache at `precision` (None: the chip's input precision for all).

    `timer` reuses step grids simulated before for this chip, model and precision (they must
    cover the run's batch and contexts); without it the grids are simulated here. Bad input
    raises `tessera.errors.InputError`.
    """
    source = f"accelerator {accel.name!r}" if isinstance(accel, Accelerator) else str(accel)
    if not isinstance(accel, Accelerator):
        accel = load_accelerator(accel)
    spec = decoder_spec(model)
    formats = precision or PrecisionAssignment.uniform(accel.matrix.input_precision)
    problem = unsupported(accel, formats)
    if problem is not None:
        raise InputError(source, Problem("matrix.precisions", problem))
    budget = kv_budget(accel, DecoderShape.of(spec), formats, config.kv_block_tokens)
    check_fits(budget, requests, source)
    bounds = GridBounds.of(requests, config)
    if timer is None:
        timer = iteration_timer(accel, spec, bounds, progress, precision)
    elif not bounds.covered_by(timer):
        raise ValueError(f"the step grids do not cover this run's steps ({bounds})")
    result = schedule(requests, config, budget.capacity_tokens, timer)
    points = sum(len(g.batches) * len(g.contexts) for g in (timer.prefill, timer.decode))
    return ServeReport(model, accel.name, formats.label, config, slo, budget, result, points)
