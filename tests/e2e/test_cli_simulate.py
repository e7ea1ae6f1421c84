"""`tessera simulate` through the real CLI: the JSON contract, the trace, and its error paths."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from accel_spec import load_accelerator

from cli_runner import EXAMPLES, REPO, assert_bad_input, tessera

LAYER_KEYS = {
    "name", "op", "macs", "cycles", "compute_cycles", "stall_cycles", "lower_bound_cycles",
    "dram_read_bytes", "dram_write_bytes", "utilization", "dataflow", "schedule",
}
TOP_KEYS = {
    "total_cycles", "latency_s", "energy_j", "area_mm2", "macs", "utilization",
    "dram_read_bytes", "dram_write_bytes", "layers",
}


@pytest.fixture(scope="module")
def mobilenet_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, dict, str]:
    out = tmp_path_factory.mktemp("simulate")
    result = tessera(
        "simulate", "--accel", str(EXAMPLES / "edge.yaml"), "--model", "mobilenetv2",
        "--json", str(out / "result.json"), "--trace", str(out / "trace.json"),
    )
    assert result.returncode == 0, result.stderr
    return json.loads((out / "result.json").read_text()), json.loads((out / "trace.json").read_text()), result.stdout


def test_json_contract(mobilenet_run: tuple[dict, dict, str]) -> None:
    document, _, _ = mobilenet_run
    assert TOP_KEYS <= set(document)
    assert document["macs"] == 300_774_272
    for layer in document["layers"]:
        assert LAYER_KEYS <= set(layer)
        assert layer["cycles"] >= layer["lower_bound_cycles"]
        assert layer["stall_cycles"] == layer["cycles"] - layer["compute_cycles"]
    assert sum(layer["cycles"] for layer in document["layers"]) == document["total_cycles"]
    assert sum(layer["macs"] for layer in document["layers"]) == document["macs"]
    assert sum(layer["dram_read_bytes"] for layer in document["layers"]) == document["dram_read_bytes"]
    clock = load_accelerator(EXAMPLES / "edge.yaml").clock
    assert document["latency_s"] == pytest.approx(document["total_cycles"] / clock, rel=1e-12)


def test_console_summary(mobilenet_run: tuple[dict, dict, str]) -> None:
    _, _, stdout = mobilenet_run
    for word in ("latency", "TOPS", "utilization", "energy per inference", "leakage", "area"):
        assert word in stdout


def test_trace_has_one_track_per_engine_and_layer_slices(mobilenet_run: tuple[dict, dict, str]) -> None:
    document, trace, _ = mobilenet_run
    events = trace["traceEvents"] if isinstance(trace, dict) else trace
    names = {e["args"]["name"] for e in events if e.get("ph") == "M" and e.get("name") == "thread_name"}
    assert {"LOAD", "MATRIX", "VECTOR", "STORE"} <= {n.split()[0].upper() for n in names}
    slices = [e for e in events if e.get("ph") == "X"]
    layer_names = {layer["name"] for layer in document["layers"]}
    assert layer_names <= {e["name"] for e in slices}


def test_infeasible_chip_model_pair_exits_2_naming_layer_and_buffer(tmp_path: Path) -> None:
    """16-byte input buffer: valid for the 4x4 array, too small for a 7x7 convolution window."""
    text = (EXAMPLES / "tiny.yaml").read_text()
    chip = tmp_path / "tiny16.yaml"
    chip.write_text(text.replace("capacity: 1 KiB", "capacity: 16 B"))
    result = tessera("simulate", "--accel", str(chip), "--model", "conv2d:h=16,w=16,c=8,k=8,r=7,s=7")
    assert_bad_input(result, str(chip), "layer conv", "buffer 'inputs'", "49 B")


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (["--accel", "nope.yaml", "--model", "gemm:m=8,k=8,n=8"], ["nope.yaml"]),
        (["--accel", str(EXAMPLES / "tiny.yaml"), "--model", "gemm:m=0,k=8,n=8"], ["m"]),
        (["--accel", str(EXAMPLES / "tiny.yaml"), "--model", "gemm:m=8,k=8,n=8", "--precision", "int7"], ["int7"]),
        (["--accel", str(EXAMPLES / "tiny.yaml"), "--model", "gemm:m=8,k=8,n=8", "--batch", "0"], ["--batch"]),
        (["--accel", str(EXAMPLES / "tiny.yaml"), "--model", "gemm:m=8,k=8,n=8", "--json", str(REPO)], [str(REPO)]),
    ],
    ids=["missing-chip", "bad-model-param", "bad-precision", "zero-batch", "json-to-directory"],
)
def test_bad_arguments_exit_2(args: list[str], fragments: list[str]) -> None:
    assert_bad_input(tessera("simulate", *args), *fragments)
