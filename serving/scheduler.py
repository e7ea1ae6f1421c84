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

The cache is paged, as vLLM's (PagedAttention: Kwon et al., SOSP 2023): a request holds
ceil(computed / block) blocks of `kv_block_tokens` slots, so its last block is partly empty, and
a request needs a new block only when its tokens cross a block boundary.
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
    # vLLM CacheConfig.DEFAULT_BLOCK_SIZE (vllm/config/cache.py, docs.vllm.ai "vllm.config.cache"):
    # tokens per KV-cache block; 1 allocates the cache token by token.
    kv_block_tokens: int = 16


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


class _KvCache:
    """Blocks of the paged KV cache: how many are held, and the most ever held."""

    __slots__ = ("block", "capacity", "used", "peak")

    def __init__(self, capacity_tokens: int, block_tokens: int) -> None:
        self.block = block_tokens
        self.capacity = capacity_tokens // block_tokens
        self.used = 0
        self.peak = 0

    def blocks(self, tokens: int) -> int:
        """Blocks that hold `tokens` cached tokens."""
        return -(-tokens // self.block)

    def _more(self, live: _Live, new: int) -> int:
        return self.blocks(live.computed + new) - self.blocks(live.computed)

    def fits(self, live: _Live, new: int) -> bool:
        """Whether the blocks `new` more tokens of a request need are free."""
        return self.used + self._more(live, new) <= self.capacity

    def take(self, live: _Live, new: int) -> None:
        """Hold the blocks `new` more tokens of a request need."""
        self.used += self._more(live, new)
        self.peak = max(self.peak, self.used)

    def release(self, live: _Live) -> None:
        """Free the blocks of a request's cached tokens."""
        self.used -= self.blocks(live.computed)

    def preempt(self, live: _Live, waiting: deque[_Live]) -> None:
        """Free a request's blocks and queue it first, to be recomputed when readmitted."""
        self.release(live)
        live.computed = 0
        live.preemptions += 1
        waiting.appendleft(live)


def schedule(
    requests: tuple[Request, ...], config: SchedulerConfig, kv_capacity_tokens: int, timer: IterationTimer
) -> Schedule:
    """Run every request to completion; `requests` sorted by arrival, each fitting the cache alone.

    Python work is O(running requests) per iteration, so O(generated tokens) for the run.
    """
    cache = _KvCache(kv_capacity_tokens, config.kv_block_tokens)
    if any(cache.blocks(r.max_tokens) > cache.capacity for r in requests):
        raise ValueError("a request does not fit the KV cache alone; check with kv_budget first")
    lives: list[_Live] = []
    waiting: deque[_Live] = deque()
    running: list[_Live] = []
    arrived = done = iterations = preemptions = 0
    now = 0.0
    while done < len(requests):
        while arrived < len(requests) and requests[arrived].arrival_s <= now:
            lives.append(_Live(requests[arrived]))
            waiting.append(lives[-1])
            arrived += 1
        if not running and not waiting:
            now = requests[arrived].arrival_s
            continue
        batch, budget, preempted = _schedule_running(running, waiting, cache, config.max_batched_tokens)
        if not preempted:
            _admit_waiting(running, waiting, cache, budget, config.max_batch, batch)
        preemptions += preempted
        now += _iteration_seconds(batch, timer)
        iterations += 1
        done += _advance(batch, cache, now)
        running = [live for live in running if live.generated < live.request.output_len]
    outcomes = tuple(
        RequestOutcome(live.request, live.first_token_s, live.finish_s, live.preemptions) for live in lives
    )
    return Schedule(outcomes, iterations, preemptions, cache.peak * cache.block)


def _schedule_running(
    running: list[_Live], waiting: deque[_Live], cache: _KvCache, budget: int
) -> tuple[list[tuple[_Live, int]], int, int]:
    """Give running requests, in admission order, the tokens they need (a prompt chunked to the
    budget left), preempting the most recently admitted while the cache is short.

    Returns the scheduled (request, new tokens) pairs, the budget left and the preemptions."""
    batch: list[tuple[_Live, int]] = []
    preempted = 0
    index = 0
    while index < len(running) and budget > 0:
        live = running[index]
        new = min(live.tokens - live.computed, budget)
        while not cache.fits(live, new) and len(running) - 1 > index:
            cache.preempt(running.pop(), waiting)
            preempted += 1
        if not cache.fits(live, new):
            # Nothing admitted after it is left to preempt: the request gives way itself.
            cache.preempt(running.pop(), waiting)
            return batch, budget, preempted + 1
        cache.take(live, new)
        budget -= new
        batch.append((live, new))
        index += 1
    return batch, budget, preempted


def _admit_waiting(
    running: list[_Live], waiting: deque[_Live], cache: _KvCache, budget: int, max_batch: int,
    batch: list[tuple[_Live, int]],
) -> None:
    """Admit waiting requests in arrival order while the batch, the budget and the cache allow,
    appending their first chunks to `batch`."""
    while waiting and len(running) < max_batch and budget > 0:
        live = waiting[0]
        new = min(live.tokens - live.computed, budget)
        if not cache.fits(live, new):
            return
        running.append(waiting.popleft())
        cache.take(live, new)
        budget -= new
        batch.append((live, new))


def _advance(batch: list[tuple[_Live, int]], cache: _KvCache, now: float) -> int:
    """Apply an iteration that ended at `now`: caches grow, caught-up requests sample a token,
    finished ones free their slots. Returns how many finished."""
    finished = 0
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
            cache.release(live)
            finished += 1
    return finished


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
