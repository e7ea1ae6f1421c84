"""`tessera serve` through the real command line: a small run's JSON, and bad input exits 2."""

from __future__ import annotations

import json
from pathlib import Path

from cli_runner import EXAMPLES, assert_bad_input, tessera

EDGE = str(EXAMPLES / "edge.yaml")
MODEL = "llama:layers=2,hidden=256,heads=4,kv_heads=2,vocab=1000"
SMALL = ("--requests", "20", "--max-batch", "4", "--max-batched-tokens", "64", "--prompt-len", "8-32", "--output-len", "2-8")


def test_a_small_run_writes_every_documented_field(tmp_path: Path) -> None:
    out = tmp_path / "serve.json"
    result = tessera("serve", "--accel", EDGE, "--model", MODEL, "--rate", "2000", *SMALL,
                     "--slo-ttft", "0.001", "--slo-tpot", "0.001", "--json", str(out))
    assert result.returncode == 0, result.stderr
    assert "time to first token" in result.stdout
    document = json.loads(out.read_text())
    for key in ("ttft_s", "tpot_s", "e2e_s"):
        assert set(document[key]) == {"p50", "p90", "p99", "mean"}
        assert document[key]["p50"] <= document[key]["p90"] <= document[key]["p99"]
    assert document["kv_capacity_tokens"] >= document["peak_kv_tokens"] > 0
    assert document["kv_block_tokens"] == 16  # vLLM's block size, the default
    assert document["kv_capacity_tokens"] % 16 == 0 and document["peak_kv_tokens"] % 16 == 0
    assert document["throughput_tokens_s"] > 0 and document["goodput_rps"] > 0
    requests = document["requests"]
    assert len(requests) == 20
    for request in requests:
        assert request["arrival_s"] <= request["first_token_s"] <= request["finish_s"]
        assert 8 <= request["prompt_len"] <= 32 and 2 <= request["output_len"] <= 8


def test_a_model_other_than_a_decoder_is_bad_input() -> None:
    assert_bad_input(tessera("serve", "--accel", EDGE, "--model", "bert:layers=2"), "--model", "decoder")


def test_a_per_step_parameter_in_the_model_is_bad_input() -> None:
    result = tessera("serve", "--accel", EDGE, "--model", f"{MODEL},phase=decode")
    assert_bad_input(result, "--model", "phase are set for each prefill and decode step")


def test_rate_and_trace_together_are_bad_input(tmp_path: Path) -> None:
    trace = tmp_path / "t.jsonl"
    trace.write_text('{"arrival_s": 0, "prompt_len": 4, "output_len": 2}\n')
    result = tessera("serve", "--accel", EDGE, "--model", MODEL, "--rate", "5", "--trace", str(trace))
    assert_bad_input(result, "--trace", "--rate")


def test_a_malformed_trace_line_names_file_line_and_field(tmp_path: Path) -> None:
    trace = tmp_path / "t.jsonl"
    trace.write_text('{"arrival_s": 0, "prompt_len": 4, "output_len": 2}\n{"arrival_s": -1, "prompt_len": 4, "output_len": 2}\n')
    result = tessera("serve", "--accel", EDGE, "--model", MODEL, "--trace", str(trace))
    assert_bad_input(result, str(trace), "arrival_s (line 2)")


def test_a_trace_field_the_tool_would_ignore_is_named(tmp_path: Path) -> None:
    trace = tmp_path / "t.jsonl"
    trace.write_text('{"arrival_s": 0, "prompt_len": 4, "output_len": 2, "priority": 1}\n')
    result = tessera("serve", "--accel", EDGE, "--model", MODEL, "--trace", str(trace))
    assert_bad_input(result, str(trace), "priority (line 1)", "unknown field")


def test_a_seed_with_a_trace_is_bad_input(tmp_path: Path) -> None:
    trace = tmp_path / "t.jsonl"
    trace.write_text('{"arrival_s": 0, "prompt_len": 4, "output_len": 2}\n')
    result = tessera("serve", "--accel", EDGE, "--model", MODEL, "--trace", str(trace), "--seed", "3")
    assert_bad_input(result, "--seed", "not to the requests of a --trace")


def test_a_kv_cache_too_small_for_one_request_is_bad_input() -> None:
    result = tessera("serve", "--accel", EDGE, "--model", MODEL, "--requests", "1", "--prompt-len", "9000000")
    assert_bad_input(result, "edge.yaml", "dram.capacity", "9000000")


def test_negative_and_zero_lengths_are_bad_input() -> None:
    assert_bad_input(tessera("serve", "--accel", EDGE, "--model", MODEL, "--prompt-len", "-5"), "--prompt-len")
    assert_bad_input(tessera("serve", "--accel", EDGE, "--model", MODEL, "--output-len", "0"), "--output-len")
    assert_bad_input(tessera("serve", "--accel", EDGE, "--model", MODEL, "--kv-block-tokens", "0"), "--kv-block-tokens")


def test_a_mixed_precision_run_labels_it_and_holds_twice_the_kv_tokens(tmp_path: Path) -> None:
    """From fp16 to int4 weights with an int8 cache each cached token takes half the bytes and
    the weights a quarter, so the DRAM the weights leave holds more than twice the tokens."""
    runs = {}
    for precision in ("fp16", "w4afp16kv8"):
        out = tmp_path / f"{precision}.json"
        result = tessera("serve", "--accel", EDGE, "--model", MODEL, "--rate", "2000", *SMALL,
                         "--precision", precision, "--json", str(out))
        assert result.returncode == 0, result.stderr
        runs[precision] = json.loads(out.read_text())
    assert runs["fp16"]["precision"] == "fp16"
    assert runs["w4afp16kv8"]["precision"] == "w4afp16kv8"
    assert runs["w4afp16kv8"]["kv_capacity_tokens"] > 2 * runs["fp16"]["kv_capacity_tokens"]


def test_a_bad_precision_is_bad_input() -> None:
    assert_bad_input(tessera("serve", "--accel", EDGE, "--model", MODEL, "--precision", "w4"), "--precision", "w<W>a<A>")
