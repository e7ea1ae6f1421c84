"""A sweep with a `serving:` block through the real command line: each row is `tessera serve`
run alone on that point's chip with the same options, exactly."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from accel_spec import load_accelerator, with_overrides
from accel_spec.precision import PrecisionAssignment
from accel_spec.units import Dimension
from cli_runner import EXAMPLES, tessera
from explorer.objectives import SERVING_METRIC_COLUMNS
from explorer.serving_evaluator import serving_metrics
from explorer.spec import SweepSpec
from explorer.spec_hardware import override_value
from serving import serve
from serving.metrics import Slo
from serving.scheduler import SchedulerConfig
from serving.workload import LengthDistribution, poisson_requests

EDGE = EXAMPLES / "edge.yaml"
MODEL = "llama:layers=2,hidden=256,heads=4,kv_heads=2,vocab=1000"
EDGE_BANDWIDTH = 17.064e9
SWEEP = f"""
base: {EDGE}
hardware:
  dram.bandwidth: [8.532 GB/s, 17.064 GB/s]
models: ["{MODEL}"]
schedule:
  precision: [int8, w4a8kv8]
serving:
  requests: 12
  rate: 400
  prompt_len: 8-32
  output_len: 2-8
  max_batch: 4
  max_batched_tokens: 64
  slo_ttft: 20 ms
  slo_tpot: 2 ms
  seed: 3
objectives: [area, goodput, ttft_p99]
constraints: ["tpot_p50 <= 1"]
"""
SERVE_OPTIONS = ("--requests", "12", "--rate", "400", "--prompt-len", "8-32", "--output-len", "2-8",
                 "--max-batch", "4", "--max-batched-tokens", "64", "--slo-ttft", "0.02", "--slo-tpot", "0.002",
                 "--seed", "3")


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> tuple[pd.DataFrame, dict, Path]:
    folder = tmp_path_factory.mktemp("serving")
    (folder / "sweep.yaml").write_text(SWEEP, encoding="utf-8")
    result = tessera("sweep", str(folder / "sweep.yaml"), "--out", str(folder / "out"), "--executor", "serial",
                     "--quiet", timeout=600)
    assert result.returncode == 0, result.stderr
    manifest = json.loads((folder / "out" / "manifest.json").read_text(encoding="utf-8"))
    return pd.read_parquet(folder / "out" / "results.parquet"), manifest, folder / "out"


def test_the_table_has_the_serving_columns_with_units(results) -> None:
    table, manifest, _ = results
    assert (table["status"] == "ok").all()
    assert set(SERVING_METRIC_COLUMNS) <= set(table.columns)
    assert "latency_s" not in table.columns and "energy_j" not in table.columns
    assert manifest["units"]["ttft_p99_s"] == "s" and manifest["units"]["goodput_rps"] == "req/s"
    assert (table["model"] == "llama:ffn=768,heads=4,hidden=256,kv_heads=2,layers=2,vocab=1000").all()
    assert table["batch"].isna().all()


def test_every_row_equals_serve_alone_on_its_chip(results) -> None:
    table, _, _ = results
    requests = poisson_requests(12, 400.0, LengthDistribution.parse("8-32", ""), LengthDistribution.parse("2-8", ""), 3)
    base = load_accelerator(EDGE)
    for _, row in table.iterrows():
        bandwidth = override_value(row["dram.bandwidth"], Dimension.BANDWIDTH)
        chip = with_overrides(base, {"dram.bandwidth": bandwidth})
        precision = PrecisionAssignment.parse(row["precision"])
        report = serve(chip, MODEL, requests, SchedulerConfig(4, 64), Slo(0.02, 0.002), precision=precision)
        for column, value in serving_metrics(report).items():
            assert row[column] == value, column


def test_a_weight_format_axis_is_served_at_its_format(results) -> None:
    """int4 weights leave more DRAM to the cache than int8 ones (same int8 cache): more tokens."""
    table, _, _ = results
    capacity = table.groupby("precision")["kv_capacity_tokens"].first()
    assert capacity["w4a8kv8"] > capacity["int8"]


def test_the_edge_chips_row_equals_tessera_serve_json(results, tmp_path: Path) -> None:
    table, _, _ = results
    row = table[(table["dram.bandwidth"] == EDGE_BANDWIDTH) & (table["precision"] == "int8")].iloc[0]
    out = tmp_path / "serve.json"
    result = tessera("serve", "--accel", str(EDGE), "--model", MODEL, *SERVE_OPTIONS, "--json", str(out))
    assert result.returncode == 0, result.stderr
    document = json.loads(out.read_text(encoding="utf-8"))
    assert row["ttft_p50_s"] == document["ttft_s"]["p50"] and row["ttft_p99_s"] == document["ttft_s"]["p99"]
    assert row["tpot_p50_s"] == document["tpot_s"]["p50"] and row["tpot_p99_s"] == document["tpot_s"]["p99"]
    assert row["e2e_p99_s"] == document["e2e_s"]["p99"]
    assert row["throughput_tokens_s"] == document["throughput_tokens_s"]
    assert row["goodput_rps"] == document["goodput_rps"]
    assert row["kv_capacity_tokens"] == document["kv_capacity_tokens"]


def test_the_manifest_reads_back_and_tessera_report_draws_the_folder(results, tmp_path: Path) -> None:
    _, manifest, folder = results
    serving = SweepSpec.model_validate(manifest["spec"]).serving
    assert serving is not None and serving.slo() == Slo(0.02, 0.002)
    result = tessera("report", str(folder), "--out", str(tmp_path / "report"), "--format", "png", timeout=300)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "report" / "pareto_area_goodput.png").exists()
