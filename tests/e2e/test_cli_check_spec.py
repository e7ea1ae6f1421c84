"""`tessera check-spec` through the real CLI: valid chips, every spec error path, the schema."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cli_runner import EXAMPLES, assert_bad_input, tessera

VALID = """\
name: test-chip
clock: 500 MHz
technology: 28 nm
matrix:
  rows: 8
  cols: 8
  dataflows: [weight-stationary]
buffers:
  spad: {capacity: 64 KiB, holds: [input, weight]}
  acc: {capacity: 16 KiB, holds: [output]}
vector: {lanes: 8}
dram: {type: DDR4, bandwidth: 10 GB/s}
"""


def write_chip(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "chip.yaml"
    path.write_text(text)
    return path


@pytest.mark.parametrize("chip", sorted(p.name for p in EXAMPLES.glob("*.yaml")))
def test_every_example_chip_is_valid(chip: str) -> None:
    result = tessera("check-spec", str(EXAMPLES / chip))
    assert result.returncode == 0, result.stderr
    assert "peak" in result.stdout and "area total" in result.stdout


@pytest.mark.parametrize(
    ("replace", "by", "fragments"),
    [
        ("  cols: 8\n", "  cols: 8\n  colls: 8\n", ["matrix.colls", "did you mean 'cols'"]),
        ("bandwidth: 10 GB/s", "bandwidth: 10 MHz", ["dram.bandwidth", "frequency"]),
        ("rows: 8", "rows: 0", ["matrix.rows"]),
        ("rows: 8", "rows: -4", ["matrix.rows"]),
        ("capacity: 64 KiB", "capacity: -1 KiB", ["buffers.spad.capacity"]),
        ("[weight-stationary]", "[row-stationary]", ["matrix.dataflows", "row-stationary"]),
        ("capacity: 16 KiB", "capacity: 64 B", ["buffers.acc", "tile"]),
        ("clock: 500 MHz", "clock: fast", ["clock"]),
        ("matrix:\n", "matrix:\n  rows: [1\n", ["line"]),
    ],
    ids=["unknown-key", "wrong-unit", "zero", "negative", "negative-size", "dataflow", "tile", "not-a-number", "syntax"],
)
def test_spec_errors_exit_2_naming_file_and_field(tmp_path: Path, replace: str, by: str, fragments: list[str]) -> None:
    assert replace in VALID
    path = write_chip(tmp_path, VALID.replace(replace, by, 1))
    assert_bad_input(tessera("check-spec", str(path)), str(path), *fragments)


@pytest.mark.parametrize(
    ("storage", "expected", "width"),
    [
        ("{weight: 16 B, output: 8 B}", "16 weights a PE", "up to 2 output"),  # int8 weights, two int32 sums
        ("{weight: 16 B}\n  stationary_double_buffer: true", "8 weights a PE", None),  # half for the shadow copy
        ("{input: 16 B}", None, None),  # no weight storage: one weight a PE
        ("{input: 16 B, output: 16 B}", None, None),  # sums without weights: no depth, no width
    ],
)
def test_per_pe_storage_and_the_reduction_depth_are_printed(
    tmp_path: Path, storage: str, expected: str | None, width: str | None
) -> None:
    text = VALID.replace("  dataflows: [weight-stationary]\n", f"  dataflows: [weight-stationary]\n  pe_storage: {storage}\n")
    result = tessera("check-spec", str(write_chip(tmp_path, text)))
    assert result.returncode == 0, result.stderr
    assert "PE storage" in result.stdout
    assert ("reduction depth" in result.stdout) == (expected is not None)
    assert expected is None or expected in result.stdout
    assert ("channel width" in result.stdout) == (width is not None)
    assert width is None or width in result.stdout


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    text = VALID.replace("rows: 8", "rows: 0").replace("bandwidth: 10 GB/s", "bandwidth: 10")
    result = tessera("check-spec", str(write_chip(tmp_path, text)))
    assert_bad_input(result, "matrix.rows", "dram.bandwidth", "2 problems")


def test_missing_file_and_directory(tmp_path: Path) -> None:
    assert_bad_input(tessera("check-spec", str(tmp_path / "nope.yaml")), "nope.yaml")
    assert_bad_input(tessera("check-spec", str(tmp_path)), str(tmp_path))


def test_schema_is_json_describing_every_top_level_key() -> None:
    result = tessera("check-spec", "--schema")
    assert result.returncode == 0, result.stderr
    schema = json.loads(result.stdout)
    assert {"clock", "technology", "matrix", "buffers", "vector", "dram"} <= set(schema["properties"])
    # Chip files name dataflows and operands: integer enums made an editor refuse every valid file.
    assert schema["$defs"]["Dataflow"]["type"] == schema["$defs"]["Operand"]["type"] == "string"
    assert "weight-stationary" in schema["$defs"]["Dataflow"]["enum"]
