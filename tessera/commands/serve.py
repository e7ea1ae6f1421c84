"""`tessera serve --accel FILE --model llama:...`: continuous-batching LLM serving on a chip."""

from __future__ import annotations

import argparse
import math
from typing import TYPE_CHECKING

from tessera.commands._common import check_destination, console, positive_int, precision, write_json
from tessera.errors import InputError, Problem

if TYPE_CHECKING:
    from serving.workload import Request

# The defaults of vLLM's serving benchmark (benchmarks/benchmark_serving.py: --num-prompts
# 1000, --request-rate inf, random dataset --random-input-len 1024, --random-output-len 128),
# so that a run without options is the workload vLLM's own benchmark replays.
_DEFAULT_REQUESTS = 1000
_DEFAULT_PROMPT_LEN = "1024"
_DEFAULT_OUTPUT_LEN = "128"


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "serve",
        help="serve a decoder with continuous batching on a chip; request-level latencies",
        description="Replay requests (Poisson arrivals or a JSONL trace) through a vLLM-style "
        "iteration-level scheduler whose prefill and decode steps are compiled and simulated on "
        "the chip in --accel; print TTFT, TPOT, end-to-end latency, throughput and goodput.",
    )
    parser.add_argument("--accel", required=True, metavar="FILE", help="accelerator YAML file")
    parser.add_argument("--model", required=True, help="a decoder zoo spec: llama:layers=..,hidden=..,...")
    parser.add_argument(
        "--precision", type=precision, metavar="P",
        help="one format (int8, bf16, ...) or one per operand class (w4a16, w8a8kv8); default: the chip's",
    )
    parser.add_argument(
        "--requests", type=positive_int, metavar="N",
        help=f"requests to generate (default {_DEFAULT_REQUESTS}); with --trace, the first N of the trace",
    )
    arrivals = parser.add_mutually_exclusive_group()
    arrivals.add_argument(
        "--rate", type=_rate, metavar="REQ_PER_S",
        help="Poisson arrival rate in requests/s (default inf: every request at t = 0)",
    )
    arrivals.add_argument(
        "--trace", metavar="FILE.jsonl", help="requests from a JSONL file: arrival_s, prompt_len, output_len per line"
    )
    parser.add_argument("--prompt-len", metavar="N|LO-HI", help=f"prompt tokens (default {_DEFAULT_PROMPT_LEN})")
    parser.add_argument("--output-len", metavar="N|LO-HI", help=f"output tokens (default {_DEFAULT_OUTPUT_LEN})")
    parser.add_argument(
        "--max-batch", type=positive_int, metavar="B", help="requests running at once (default 128, vLLM's max_num_seqs)"
    )
    parser.add_argument(
        "--max-batched-tokens", type=positive_int, metavar="T",
        help="tokens per iteration (default 2048, vLLM's max_num_batched_tokens)",
    )
    parser.add_argument(
        "--kv-block-tokens", type=positive_int, metavar="N",
        help="tokens per block of the paged KV cache (default 16, vLLM's block_size; 1: token by token)",
    )
    parser.add_argument("--slo-ttft", type=_seconds, metavar="S", help="time-to-first-token objective in s (default none)")
    parser.add_argument("--slo-tpot", type=_seconds, metavar="S", help="time-per-output-token objective in s (default none)")
    parser.add_argument("--seed", type=int, help="seed of generated arrivals and lengths (default 0; not with --trace)")
    parser.add_argument("--json", metavar="FILE", help="write the result as JSON")
    parser.set_defaults(run=run)


def _rate(text: str) -> float:
    """argparse type: requests per second, > 0 (inf allowed)."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not value > 0:
        raise argparse.ArgumentTypeError(f"expected requests per second > 0, got {text!r}")
    return value


def _seconds(text: str) -> float:
    """argparse type: a finite number of seconds > 0."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (value > 0 and math.isfinite(value)):
        raise argparse.ArgumentTypeError(f"expected seconds > 0, got {text!r}")
    return value


def run(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.progress import Progress

    from serving import serve
    from serving.metrics import Slo
    from serving.scheduler import SchedulerConfig
    from tessera.commands._serve_tables import capacity_table, latency_table

    if args.json is not None:
        check_destination(args.json, "--json")
    requests = _requests(args)
    defaults = SchedulerConfig()
    config = SchedulerConfig(
        max_batch=args.max_batch or defaults.max_batch,
        max_batched_tokens=args.max_batched_tokens or defaults.max_batched_tokens,
        kv_block_tokens=args.kv_block_tokens or defaults.kv_block_tokens,
    )
    slo = Slo(args.slo_ttft or math.inf, args.slo_tpot or math.inf)
    with Progress(console=Console(stderr=True), transient=True) as progress:
        task = progress.add_task("simulating prefill and decode steps", total=None)
        report = serve(
            args.accel, args.model, requests, config, slo,
            progress=lambda done, total: progress.update(task, completed=done, total=total),
            precision=args.precision,
        )
    document = report.to_json()
    if args.json:
        write_json(args.json, document)
    console.print(latency_table(document))
    console.print(capacity_table(document))
    return 0


def _requests(args: argparse.Namespace) -> tuple[Request, ...]:
    """The requests of the run: the trace's (first --requests of them), or generated ones."""
    from serving.workload import LengthDistribution, poisson_requests, read_trace

    if args.trace is not None:
        for option, value in (("--prompt-len", args.prompt_len), ("--output-len", args.output_len), ("--seed", args.seed)):
            if value is not None:
                raise InputError(option, Problem("", "applies to generated requests, not to the requests of a --trace"))
        requests = read_trace(args.trace)
        return requests[: args.requests] if args.requests else requests
    prompt = LengthDistribution.parse(args.prompt_len or _DEFAULT_PROMPT_LEN, "--prompt-len")
    output = LengthDistribution.parse(args.output_len or _DEFAULT_OUTPUT_LEN, "--output-len")
    rate = math.inf if args.rate is None else args.rate
    seed = 0 if args.seed is None else args.seed
    return poisson_requests(args.requests or _DEFAULT_REQUESTS, rate, prompt, output, seed)
