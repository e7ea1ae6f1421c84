"""`tessera simulate` through the real CLI: the JSON contract, the trace, and its error paths."""

from __future__ import annotations

import json
import re
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


def test_buffer_traffic_is_named_per_buffer_and_carries_every_dram_byte(mobilenet_run: tuple[dict, dict, str]) -> None:
    """Every byte loaded from DRAM is written into an on-chip buffer and every byte stored to
    DRAM is read out of one, so each direction's buffer traffic covers the DRAM traffic."""
    document, _, _ = mobilenet_run
    buffers = set(load_accelerator(EXAMPLES / "edge.yaml").buffers)
    assert set(document["sram_read_bytes"]) == set(document["sram_write_bytes"]) == buffers
    assert sum(document["sram_write_bytes"].values()) >= document["dram_read_bytes"] > 0
    assert sum(document["sram_read_bytes"].values()) >= document["dram_write_bytes"] > 0


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
        (["--accel", str(EXAMPLES / "tiny.yaml"), "--model", "gemm:m=8,k=8,n=8", "--precision", "w4a8kv"],
         ["--precision", "w4a8kv", "w<W>a<A>[kv<KV>]"]),
        (["--accel", str(EXAMPLES / "tiny.yaml"), "--model", "gemm:m=8,k=8,n=8", "--batch", "0"], ["--batch"]),
        (["--accel", str(EXAMPLES / "tiny.yaml"), "--model", "gemm:m=8,k=8,n=8", "--json", str(REPO)], [str(REPO)]),
    ],
    ids=["missing-chip", "bad-model-param", "bad-precision", "bad-mixed-precision", "zero-batch", "json-to-directory"],
)
def test_bad_arguments_exit_2(args: list[str], fragments: list[str]) -> None:
    assert_bad_input(tessera("simulate", *args), *fragments)


def test_a_format_the_array_does_not_execute_exits_2(tmp_path: Path) -> None:
    """fp32 on an array that lists int8 only: the chip file and `matrix.precisions` are named;
    int4 weights with int8 activations multiply in int8 and run."""
    chip = tmp_path / "int8_only.yaml"
    chip.write_text((EXAMPLES / "tiny.yaml").read_text().replace("input_precision: int8", "input_precision: int8\n  precisions: [int8]"))
    args = ("simulate", "--accel", str(chip), "--model", "gemm:m=8,k=8,n=8")
    assert_bad_input(tessera(*args, "--precision", "fp32"), str(chip), "matrix.precisions", "fp32", "int8")
    assert_bad_input(tessera(*args, "--precision", "w8a16"), str(chip), "matrix.precisions", "bf16")
    assert tessera(*args, "--precision", "w4a8kv8").returncode == 0


def test_console_reads_in_engineering_units(mobilenet_run: tuple[dict, dict, str]) -> None:
    """2.348e+05 µJ once; every figure now carries the SI prefix that puts it in [1, 1000)."""
    from reports.units import format_si

    document, _, stdout = mobilenet_run
    assert format_si(document["energy_j"], "J") in stdout
    assert format_si(document["latency_s"], "s") in stdout
    assert format_si(document["power_w"], "W") in stdout
    for joules in document["energy_breakdown_j"].values():
        assert format_si(joules, "J") in stdout
    assert re.search(r"\de[+-]\d", stdout) is None, "a number in scientific notation"


def test_trace_and_report_into_a_folder_that_does_not_exist_yet(tmp_path: Path) -> None:
    folder = tmp_path / "new" / "run"
    result = tessera("simulate", "--accel", str(EXAMPLES / "tiny.yaml"), "--model", "gemm:m=32,k=16,n=16",
                     "--trace", str(folder / "trace.json"), "--report", str(folder), "--json", str(folder / "r.json"))
    assert result.returncode == 0, result.stderr
    assert json.loads((folder / "trace.json").read_text())
    assert json.loads((folder / "r.json").read_text())["macs"] == 32 * 16 * 16
    assert (folder / "report.html").exists()


@pytest.mark.parametrize("option", ["--json", "--trace", "--report"])
def test_an_unwritable_output_is_refused_before_any_work(option: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    import tessera.api
    from tessera import cli

    def no_work(*args, **kwargs):
        raise AssertionError("simulated although the output cannot be written")

    monkeypatch.setattr(tessera.api, "simulate", no_work)
    (tmp_path / "a_file").write_text("x")
    target = str(tmp_path / "a_file" / "out")
    assert cli.main(["simulate", "--accel", str(EXAMPLES / "tiny.yaml"), "--model", "gemm:m=8,k=8,n=8", option, target]) == 2
    err = capsys.readouterr().err
    assert option in err and target in err and "is a file, not a folder" in err
    assert not (tmp_path / "a_file").is_dir()


def test_a_static_batch_onnx_runs_at_its_own_batch_and_refuses_another() -> None:
    static = REPO / "tests/data/onnx/resnet18.ts17.onnx"
    assert tessera("inspect", "--model", str(static), "--batch", "1").returncode == 0
    assert_bad_input(tessera("inspect", "--model", str(static), "--batch", "4"), str(static), "input 'x' dim 0",
                     "the batch is static (1) in this model, so batch 4 cannot apply")


def test_a_dynamic_batch_onnx_is_rebatched(tmp_path: Path) -> None:
    dynamic = REPO / "tests/data/onnx/resnet18.dynbatch.ts17.onnx"
    macs = {}
    for batch in (1, 4):
        result = tessera("inspect", "--model", str(dynamic), "--batch", str(batch), "--json", str(tmp_path / f"{batch}.json"))
        assert result.returncode == 0, result.stderr
        macs[batch] = json.loads((tmp_path / f"{batch}.json").read_text())["macs"]
    assert macs[4] == 4 * macs[1] == 4 * 1_814_073_344


@pytest.mark.parametrize(
    ("override", "field"),
    [("mac_energy: 1e300 J", "overrides.mac_energy"), ("mac_area: 1e305 m2", "overrides.mac_area"),
     ("dram_energy_per_bit: 1e305 J", "overrides.dram_energy_per_bit")],
)
def test_an_override_that_overflows_a_figure_is_named(override: str, field: str, tmp_path: Path) -> None:
    chip = tmp_path / "chip.yaml"
    chip.write_text((EXAMPLES / "tiny.yaml").read_text() + f"overrides:\n  {override}\n")
    result = tessera("simulate", "--accel", str(chip), "--model", "gemm:m=64,k=64,n=64", "--json", str(tmp_path / "r.json"))
    assert_bad_input(result, str(chip), field, "is beyond any real device")
    assert not (tmp_path / "r.json").exists()
