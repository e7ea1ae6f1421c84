"""The `serving:` block of a sweep file: what it reads, and what a sweep without one keeps."""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path

from explorer.api import default_evaluator
from explorer.evaluator import Status
from explorer.objectives import METRIC_COLUMNS, Constraint, Direction, Objective
from explorer.space import DesignSpace
from explorer.spec import SweepSpec
from explorer.spec_loader import load_sweep
from explorer.spec_serving import resolve_serving, served_model

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "sweeps"


def test_the_example_reads_its_serving_block() -> None:
    spec = load_sweep(EXAMPLES / "llm_serving.yaml")
    assert spec.serving is not None
    assert spec.serving.slo().ttft_s == 0.1 and math.isclose(spec.serving.slo().tpot_s, 0.05)
    assert len(spec.serving.request_list()) == spec.serving.requests


def test_the_llama_8b_example_serves_at_three_weight_formats() -> None:
    spec = load_sweep(EXAMPLES / "llm_serving_llama8b.yaml")
    assert spec.serving is not None and spec.serving.slo().ttft_s == 0.5
    assert spec.precisions == ("bf16", "w8a16kv16", "w4a16kv16")  # labels: the cache at the activations' format
    assert spec.budget == 27


def test_a_sweep_without_serving_keeps_its_hash_and_columns() -> None:
    spec = load_sweep(EXAMPLES / "quickstart.yaml")
    assert spec.serving is None
    # the hash of a sweep from before serving sweeps existed (no `serving` field at all)
    assert spec.content_hash() == _hash_without_serving(spec)
    assert "goodput_rps" not in METRIC_COLUMNS


def test_served_model_drops_what_serve_sets_per_step() -> None:
    canonical = "llama:batch=1,ffn=1536,heads=8,hidden=512,kv_heads=2,kv_len=512,layers=2,phase=prefill,seq=512,vocab=32000"
    assert served_model(canonical) == "llama:ffn=1536,heads=8,hidden=512,kv_heads=2,layers=2,vocab=32000"


def test_serving_objectives_and_where_they_apply() -> None:
    assert Objective.GOODPUT.direction is Direction.MAXIMIZE and Objective.TTFT_P99.direction is Direction.MINIMIZE
    assert Objective.GOODPUT_PER_MM2.values({"goodput_rps": 6.0, "area_mm2": 3.0}) == 2.0
    assert Objective.AREA.available(True) and Objective.AREA.available(False)
    assert not Objective.GOODPUT.available(False) and not Objective.LATENCY.available(True)
    assert Constraint.parse("ttft_p99_s <= 0.5").available(True)


def test_bad_fields_are_named() -> None:
    _, problems = resolve_serving({"requests": 0, "prompt_len": "9-3", "output_len": 4, "slo_tpot": 0.5, "rated": 1})
    assert {loc for loc, _ in problems} == {("requests",), ("prompt_len",), ("slo_tpot",), ("rated",)}
    _, problems = resolve_serving({"requests": 4, "prompt_len": 8, "output_len": 4, "rate": True, "slo_ttft": "2 KiB"})
    assert {loc for loc, _ in problems} == {("rate",), ("slo_ttft",)}


def _hash_without_serving(spec: SweepSpec) -> str:
    document = spec.model_dump(mode="json", exclude={"source", "base", "model_root", "serving"})
    return hashlib.sha256(json.dumps(document, sort_keys=True, separators=(",", ":")).encode("utf-8")).hexdigest()


def test_a_chip_whose_kv_cache_cannot_hold_a_request_is_an_infeasible_point(tmp_path: Path) -> None:
    sweep = tmp_path / "small_dram.yaml"
    sweep.write_text(
        f"base: {EXAMPLES.parent / 'accelerators' / 'edge.yaml'}\n"
        "hardware: {dram.capacity: [1 MiB]}\n"
        'models: ["llama:layers=2,hidden=256,heads=4,kv_heads=2,vocab=1000"]\n'
        "serving: {requests: 2, prompt_len: 8, output_len: 4}\n"
        "objectives: [area, goodput]\n",
        encoding="utf-8",
    )
    spec = load_sweep(sweep)
    space = DesignSpace(spec)
    outcome = default_evaluator(spec).evaluate(space.point((0,) * len(space.axes)))
    assert outcome.status is Status.INFEASIBLE and "dram.capacity" in outcome.reason
