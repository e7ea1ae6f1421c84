"""The iteration-level (continuous-batching) scheduler, after vLLM's v1 scheduler.

Every request carries `tokens` (prompt plus tokens generated so far) and `computed` (tokens
whose keys and values are in the KV cache). Each iteration spends a token budget: first on the
running requests in admission order (a decode needs one token; an unfinished prompt the rest
of it, chunked to what the budget leaves), then on admitting waiting requests in arrival order
while the batch, the budget and the KV cache allow. When a running request needs KV slots the
cache does not have, the most recently admitted request is preempted: its cache is freed and it
goes back to the head of the queue, to be recomputed (prompt and generated tokens as one
prefill) when readmitted. A request whose `computed` catches up with `tokens` samples a token;
it finishes when it has sampled `output_len` tokens.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass

from serving.step_grid import IterationTimer
from serving.workload import Request


@dataclass(frozen=True)
class SchedulerConfig:
    """Limits of one iteration, vLLM's defaults unless given."""

    # vLLM SchedulerConfig.DEFAULT_MAX_NUM_SEQS (vllm/config/scheduler.py, docs.vllm.ai
    # "vllm.config.scheduler"): at most this many requests run at once.
    max_batch: int = 128
    # vLLM SchedulerConfig.DEFAULT_MAX_NUM_BATCHED_TOKENS (same source): tokens per iteration.
    max_batched_tokens: int = 2048


@dataclass(frozen=True)
class RequestOutcome:
    """When a request produced its first and last tokens (s from the start of the run)."""

    request: Request
    first_token_s: float
    finish_s: float
    preemptions: int


@dataclass(frozen=True)
class Schedule:
    """Every request's outcome, in arrival order, and what the run cost the scheduler."""

    outcomes: tuple[RequestOutcome, ...]
    iterations: int
    preemptions: int
    peak_kv_tokens: int


class _Live:
    """A request's mutable state while the scheduler holds it."""

    __slots__ = ("request", "tokens", "computed", "generated", "first_token_s", "finish_s", "preemptions")

    def __init__(self, request: Request) -> None:
        self.request = request
        self.tokens = request.prompt_len
        self.computed = 0
        self.generated = 0
        self.first_token_s = math.nan
        self.finish_s = math.nan
        self.preemptions = 0


def schedule(
    requests: tuple[Request, ...], config: SchedulerConfig, kv_capacity_tokens: int, timer: IterationTimer
) -> Schedule:
    """Run every request to completion; `requests` sorted by arrival, each fitting the cache alone.

    Python work is O(running requests) per iteration, so O(generated tokens) for the run.
    """
    if any(r.max_tokens > kv_capacity_tokens for r in requests):
        raise ValueError("a request does not fit the KV cache alone; check with kv_budget first")
    lives: list[_Live] = []
    waiting: deque[_Live] = deque()
    running: list[_Live] = []
    arrived = done = iterations = preemptions = kv_used = peak = 0
    now = 0.0
    while done < len(requests):
        while arrived < len(requests) and requests[arrived].arrival_s <= now:
            lives.append(_Live(requests[arrived]))
            waiting.append(lives[-1])
            arrived += 1
        if not running and not waiting:
            now = requests[arrived].arrival_s
            continue
        budget = config.max_batched_tokens
        batch: list[tuple[_Live, int]] = []
        preempted_now = 0
        index = 0
        while index < len(running) and budget > 0:
            live = running[index]
            new = min(live.tokens - live.computed, budget)
            while kv_used + new > kv_capacity_tokens and len(running) - 1 > index:
                kv_used -= _preempt(running.pop(), waiting)
                preempted_now += 1
            if kv_used + new > kv_capacity_tokens:
                # Nothing admitted after it is left to preempt: the request gives way itself.
                kv_used -= _preempt(running.pop(), waiting)
                preempted_now += 1
                break
            kv_used += new
            budget -= new
            batch.append((live, new))
            index += 1
        while not preempted_now and waiting and len(running) < config.max_batch and budget > 0:
            live = waiting[0]
            new = min(live.tokens - live.computed, budget)
            if kv_used + new > kv_capacity_tokens:
                break
            running.append(waiting.popleft())
            kv_used += new
            budget -= new
            batch.append((live, new))
        preemptions += preempted_now
        peak = max(peak, kv_used)
        now += _iteration_seconds(batch, timer)
        iterations += 1
        for live, new in batch:
            live.computed += new
            if live.computed < live.tokens:
                continue
            live.generated += 1
            live.tokens += 1
            if live.generated == 1:
                live.first_token_s = now
            if live.generated == live.request.output_len:
                live.finish_s = now
                kv_used -= live.computed
                done += 1
        running = [live for live in running if live.generated < live.request.output_len]
    outcomes = tuple(
        RequestOutcome(live.request, live.first_token_s, live.finish_s, live.preemptions) for live in lives
    )
    return Schedule(outcomes, iterations, preemptions, peak)


def _preempt(live: _Live, waiting: deque[_Live]) -> int:
    """Free a request's cache and queue it first for recomputation; the slots freed."""
    freed = live.computed
    live.computed = 0
    live.preemptions += 1
    waiting.appendleft(live)
    return freed


def _iteration_seconds(batch: list[tuple[_Live, int]], timer: IterationTimer) -> float:
    """Time of an iteration: chunks of unfinished prompts are prefill, a single token over a
    cache is a decode at that context."""
    prefill_tokens = decodes = context_sum = 0
    for live, new in batch:
        if new == 1 and live.computed:
            decodes += 1
            context_sum += live.computed
        else:
            prefill_tokens += new
    return timer.seconds(prefill_tokens, decodes, context_sum)
