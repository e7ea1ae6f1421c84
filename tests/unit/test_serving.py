"""`serving`: the scheduler's closed forms and invariants on a real (tiny) decoder and chip.

The step grids of one small Llama on the edge chip are simulated once for the module; every
run reuses them. A decoder this small keeps the grid to ~50 programs of a few hundred
instructions each, so the module runs in seconds.
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import numpy as np
import pytest

from accel_spec import load_accelerator
from accel_spec.schema import Accelerator
from compiler.models import load_model
from compiler.zoo import parse_model_spec
from compiler.zoo.params import Phase
from serving import serve
from serving.kv_cache import DecoderShape, kv_budget
from serving.metrics import ServeReport, Slo
from serving.run import GridBounds, iteration_timer
from serving.scheduler import SchedulerConfig, schedule
from serving.step_grid import IterationTimer, StepGrid, simulate_step
from serving.workload import LengthDistribution, LengthKind, Request, poisson_requests, read_trace
from tessera.api import simulate
from tessera.errors import InputError

EDGE = Path(__file__).resolve().parents[2] / "examples" / "accelerators" / "edge.yaml"
MODEL = "llama:layers=2,hidden=256,heads=4,kv_heads=2,vocab=1000"
CONFIG = SchedulerConfig(max_batch=8, max_batched_tokens=256)
MAX_CONTEXT = 256
"""Every run below keeps prompt + output ≤ MAX_CONTEXT, inside the module's grid."""


def fixed(n: int) -> LengthDistribution:
    return LengthDistribution(LengthKind.FIXED, n, n)


@pytest.fixture(scope="module")
def accel() -> Accelerator:
    return load_accelerator(EDGE)


@pytest.fixture(scope="module")
def timer(accel: Accelerator) -> IterationTimer:
    bounds = GridBounds(CONFIG.max_batched_tokens, CONFIG.max_batch, MAX_CONTEXT)
    return iteration_timer(accel, parse_model_spec(MODEL), bounds)


def run(accel: Accelerator, timer: IterationTimer, requests: tuple[Request, ...], slo: Slo = Slo()) -> ServeReport:
    return serve(accel, MODEL, requests, CONFIG, slo, timer=timer)


def test_one_request_alone_takes_one_prefill_then_one_decode_step_of_tessera_simulate(accel, timer) -> None:
    """Prompt 64 and output 2: TTFT is a 64-token prefill, TPOT the one decode over 64 cached
    tokens, each exactly what `tessera simulate` prints (64 is a grid point)."""
    report = run(accel, timer, (Request(0.0, 64, 2),))
    prefill = simulate(accel, f"{MODEL},phase=prefill,seq=64,batch=1").result.latency_s
    decode = simulate(accel, f"{MODEL},phase=decode,kv_len=64,batch=1").result.latency_s
    assert report.ttft[0] == pytest.approx(prefill, rel=1e-12)
    assert report.tpot[0] == pytest.approx(decode, rel=1e-12)
    assert report.e2e[0] == pytest.approx(prefill + decode, rel=1e-12)
    assert report.schedule.iterations == 2


def test_a_prompt_over_the_token_budget_is_prefilled_in_chunks(accel, timer) -> None:
    """A 200-token prompt with a 128-token budget: chunks of 128 and 72, then the first token."""
    config = SchedulerConfig(max_batch=8, max_batched_tokens=128)
    report = serve(accel, MODEL, (Request(0.0, 200, 1),), config, timer=timer)
    assert report.schedule.iterations == 2
    assert report.ttft[0] == pytest.approx(timer.prefill.time(1, 128) + timer.prefill.time(1, 72), rel=1e-12)


def test_littles_law_on_a_steady_run(accel, timer) -> None:
    """Time-average requests in the system = arrival rate × mean time in system.

    Measured over the middle 80% of arrivals, with the nominal rate: the arrivals in a window
    expecting A of them are Poisson, off their mean by 1/√A relatively (one sigma); allow three
    sigma, plus W/T for requests that straddle the window's ends (W mean time in system, T window).
    """
    rate, count = 2000.0, 2000
    requests = poisson_requests(count, rate, fixed(32), fixed(16), seed=7)
    report = run(accel, timer, requests)
    arrivals = np.array([r.arrival_s for r in requests])
    finishes = np.array([o.finish_s for o in report.schedule.outcomes])
    start, end = np.quantile(arrivals, (0.1, 0.9))
    grid = np.linspace(start, end, 20_000)
    in_system = (np.searchsorted(np.sort(arrivals), grid, side="right") - np.searchsorted(np.sort(finishes), grid, side="right"))
    window = (arrivals >= start) & (arrivals <= end)
    wait = report.e2e[window].mean()
    expected_arrivals = rate * (end - start)
    tolerance = 3 / math.sqrt(expected_arrivals) + wait / (end - start)
    assert in_system.mean() == pytest.approx(rate * wait, rel=tolerance)
    assert in_system.mean() > 1.0  # requests overlap: the scheduler batches, the check is not vacuous


def test_throughput_saturates_at_the_chips_bound(accel, timer) -> None:
    """Throughput grows with the rate, then stops at the bound of the step grids: by the mediant
    inequality no mix of prefill and decode beats the best of decode-only (b tokens per decode
    step at the smallest context) and prefill-only iterations (one first token per prompt)."""
    prompt, output = 32, 32
    throughputs = []
    for rate in (100.0, 1_000.0, 10_000.0, 100_000.0, 1_000_000.0):
        requests = poisson_requests(200, rate, fixed(prompt), fixed(output), seed=1)
        throughputs.append(run(accel, timer, requests).throughput_tokens_s)
    decode_best = max(b / timer.decode.time(b, prompt) for b in range(1, CONFIG.max_batch + 1))
    prefill_best = max(k / timer.prefill.time(1, k * prompt) for k in range(1, CONFIG.max_batched_tokens // prompt + 1))
    bound = max(decode_best, prefill_best)
    assert throughputs[1] > 2 * throughputs[0]
    assert max(throughputs) <= bound
    assert throughputs[-1] == pytest.approx(throughputs[-2], rel=0.05)


def test_the_kv_cache_is_never_exceeded_and_preemption_recomputes(accel, timer) -> None:
    """A chip with DRAM for the weights and 300 tokens of cache, which holds 18 whole blocks of
    16 (288 tokens): requests are preempted and recomputed, the cache is never over capacity,
    and every request still finishes."""
    budget = kv_budget(accel, DecoderShape.of(parse_model_spec(MODEL)), accel.matrix.input_precision)
    capacity = 300
    dram = budget.weight_bytes + int(capacity * budget.bytes_per_token)
    small = accel.model_copy(update={"dram": accel.dram.model_copy(update={"capacity": dram})})
    requests = poisson_requests(60, math.inf, LengthDistribution(LengthKind.UNIFORM, 20, 120), fixed(60), seed=3)
    report = run(small, timer, requests)
    assert report.kv.capacity_tokens == 288
    assert report.schedule.preemptions > 0
    assert report.schedule.peak_kv_tokens <= 288
    first = np.array([o.first_token_s for o in report.schedule.outcomes])
    finish = np.array([o.finish_s for o in report.schedule.outcomes])
    assert np.all(np.isfinite(finish)) and np.all(first <= finish)


def test_the_paged_cache_holds_whole_blocks(accel, timer) -> None:
    """Four requests of a 17-token prompt and one output token arrive together at a cache of 96
    tokens. Token by token they hold 4 × 17 = 68 slots and all take their first token in the
    first iteration. In blocks of 16 each holds two blocks (32 slots): six blocks take three of
    them, and the fourth is admitted once they finish, one iteration later."""
    budget = kv_budget(accel, DecoderShape.of(parse_model_spec(MODEL)), accel.matrix.input_precision)
    dram = budget.weight_bytes + int(96 * budget.bytes_per_token)
    small = accel.model_copy(update={"dram": accel.dram.model_copy(update={"capacity": dram})})
    requests = tuple(Request(0.0, 17, 1) for _ in range(4))
    tokens = serve(small, MODEL, requests, dataclasses.replace(CONFIG, kv_block_tokens=1), timer=timer)
    paged = serve(small, MODEL, requests, dataclasses.replace(CONFIG, kv_block_tokens=16), timer=timer)
    assert tokens.kv.capacity_tokens == paged.kv.capacity_tokens == 96
    assert (tokens.schedule.iterations, tokens.schedule.peak_kv_tokens) == (1, 68)
    assert (paged.schedule.iterations, paged.schedule.peak_kv_tokens) == (2, 96)
    assert len({o.first_token_s for o in tokens.schedule.outcomes}) == 1
    first = [o.first_token_s for o in paged.schedule.outcomes]
    assert first[0] == first[1] == first[2] < first[3]
    assert paged.to_json()["kv_block_tokens"] == 16


def test_a_kv_cache_smaller_than_one_request_is_bad_input(accel, timer) -> None:
    budget = kv_budget(accel, DecoderShape.of(parse_model_spec(MODEL)), accel.matrix.input_precision)
    with pytest.raises(InputError, match="dram.capacity"):
        run(accel, timer, (Request(0.0, budget.capacity_tokens, 1),))


def test_a_seed_fixes_the_run(accel, timer) -> None:
    def document(seed: int) -> dict:
        requests = poisson_requests(100, 5_000.0, LengthDistribution(LengthKind.UNIFORM, 8, 100), fixed(20), seed)
        return run(accel, timer, requests, Slo(1e-3, 2e-4)).to_json()

    assert document(5) == document(5)
    assert document(5) != document(6)


def test_interpolation_error_off_the_grid(accel, timer) -> None:
    """Off-grid steps against direct simulation, within the largest errors docs/serving.md
    measured (benchmarks/serve_interpolation.py): prefill 15.2%, just past a multiple of the
    64-wide array where the simulated time jumps by one fold; decode 6.2%."""
    spec = parse_model_spec(MODEL)
    points = [(Phase.PREFILL, 1, 48, 0.16), (Phase.PREFILL, 1, 85, 0.16), (Phase.PREFILL, 1, 200, 0.16),
              (Phase.DECODE, 1, 100, 0.07), (Phase.DECODE, 3, 48, 0.07), (Phase.DECODE, 6, 100, 0.07),
              (Phase.DECODE, 5, 200, 0.07)]
    for phase, batch, context, tolerance in points:
        grid = timer.prefill if phase is Phase.PREFILL else timer.decode
        direct = simulate_step(accel, spec, phase, batch, context)
        assert grid.time(batch, context) == pytest.approx(direct, rel=tolerance), (phase, batch, context)


def test_grid_points_are_the_simulators_times(accel, timer) -> None:
    spec = parse_model_spec(MODEL)
    assert timer.decode.time(4, 128) == simulate_step(accel, spec, Phase.DECODE, 4, 128)
    assert timer.prefill.time(1, 32) == simulate_step(accel, spec, Phase.PREFILL, 1, 32)


def test_the_most_recently_admitted_request_is_preempted_and_recomputed() -> None:
    """Two 4 + 4-token requests and a 10-token cache allocated token by token, every step 1 s
    (hand-made grids).

    Iteration 1 prefills both (8 slots) and 2 decodes both (10); in 3 the first needs an eleventh
    slot, so the second is preempted (its 5 freed). The first finishes in 4; in 5 the second is
    recomputed as one 6-token prefill (prompt and both generated tokens) that samples its third
    token, and in 6 it decodes its fourth."""
    second = StepGrid(Phase.PREFILL, (1,), (1, 16), ((1.0, 1.0),))
    one_second = IterationTimer(second, StepGrid(Phase.DECODE, (1, 2), (1, 16), ((1.0, 1.0), (1.0, 1.0))))
    requests = (Request(0.0, 4, 4), Request(0.0, 4, 4))
    result = schedule(requests, SchedulerConfig(kv_block_tokens=1), 10, one_second)
    first, late = result.outcomes
    assert (first.preemptions, late.preemptions) == (0, 1)
    assert (first.first_token_s, first.finish_s) == (1.0, 4.0)
    assert (late.first_token_s, late.finish_s) == (1.0, 6.0)
    assert result.iterations == 6 and result.peak_kv_tokens == 10


def test_ten_thousand_requests_take_work_linear_in_their_tokens() -> None:
    """The loop alone, on hand-made grids: about one iteration per generated token of the
    longest-running batch, not per request pair (benchmarks/serve_speed.py times it)."""
    prefill = StepGrid(Phase.PREFILL, (1,), (1, 2048), ((1e-4, 5e-3),))
    decode = StepGrid(Phase.DECODE, (1, 128), (1, 2048), ((1e-4, 2e-4), (5e-4, 2e-3)))
    requests = poisson_requests(10_000, math.inf, fixed(1024), fixed(128), seed=0)
    result = schedule(requests, SchedulerConfig(), 10**9, IterationTimer(prefill, decode))
    assert result.iterations < 11_000 and all(o.finish_s > o.first_token_s for o in result.outcomes)


def test_kv_bytes_of_llama2_7b() -> None:
    """Llama-2-7B in fp16 caches 2 × 32 layers × 32 heads × 128 × 2 B = 512 KiB per token."""
    shape = DecoderShape.of(parse_model_spec("llama"))
    assert shape.kv_elements_per_token * 2 == 512 * 1024


def test_weight_count_is_the_graphs_weights_plus_the_embedding_table() -> None:
    spec = parse_model_spec(f"{MODEL},phase=decode,kv_len=4")
    graph = load_model(spec.canonical())
    counted = sum(graph.tensors[name].elements for name in graph.initializers if name.endswith(".weight"))
    shape = DecoderShape.of(spec)
    assert shape.weight_elements == counted + shape.vocab * shape.hidden


def test_trace_problems_name_the_line_and_field(tmp_path: Path) -> None:
    trace = tmp_path / "trace.jsonl"
    trace.write_text('{"arrival_s": 0, "prompt_len": 4, "output_len": 2}\n{"arrival_s": 1, "prompt_len": -3}\nnot json\n')
    with pytest.raises(InputError) as error:
        read_trace(trace)
    message = error.value.render()
    assert "prompt_len (line 2)" in message and "output_len (line 2): missing" in message
    assert "line 3: not JSON" in message


def test_lengths_parse_and_refuse() -> None:
    assert LengthDistribution.parse("64", "--prompt-len") == fixed(64)
    assert LengthDistribution.parse("8-32", "--prompt-len") == LengthDistribution(LengthKind.UNIFORM, 8, 32)
    for bad in ("-5", "0", "9-3", "x"):
        with pytest.raises(InputError, match="--prompt-len"):
            LengthDistribution.parse(bad, "--prompt-len")
