"""Chip-file loading: every error path gives an InputError with YAML path, line and reason."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from accel_spec import (
    accelerator_json_schema,
    load_accelerator,
    load_accelerator_text,
    spec_hash,
    with_overrides,
)
from accel_spec.types import Dataflow, Operand
from tessera.errors import InputError

# Line numbers below refer to this text (line 1 is "name: t").
SPEC = """\
name: t
clock: 100 MHz
technology: 45 nm
matrix:
  rows: 4
  cols: 4
  dataflows: [os, weight-stationary]
buffers:
  inputs:
    capacity: 1 KiB
    holds: input
  weights:
    capacity: 1 KiB
    holds: [weight]
  acc:
    capacity: 256 B
    holds: [output]
vector:
  lanes: 4
dram:
  type: DDR4
  bandwidth: 1 GB/s
"""


def _errors(text: str) -> InputError:
    with pytest.raises(InputError) as info:
        load_accelerator_text(text, "chip.yaml")
    assert info.value.source == "chip.yaml"
    return info.value


def _only(error: InputError):
    assert len(error.problems) == 1, error.render()
    return error.problems[0]


def test_valid_spec_loads_with_si_values() -> None:
    accel = load_accelerator_text(SPEC, "chip.yaml")
    assert accel.clock == 100e6
    assert accel.technology == pytest.approx(45e-9)
    assert accel.matrix.dataflows == (Dataflow.OUTPUT_STATIONARY, Dataflow.WEIGHT_STATIONARY)
    assert accel.buffers["inputs"].capacity == 1024
    assert accel.buffers["inputs"].holds == (Operand.INPUT,)
    assert accel.dram.bandwidth == 1e9
    assert accel.buffer_for(Operand.OUTPUT) == "acc"


def test_unknown_key_has_did_you_mean_allowed_keys_and_line() -> None:
    problem = _only(_errors(SPEC.replace("  cols: 4", "  colls: 4")))
    assert problem.location == "matrix.colls"
    assert problem.line == 6
    assert "did you mean 'cols'?" in problem.message
    assert "Allowed keys: rows, cols, units, dataflows, input_precision, accumulator_precision" in problem.message


def test_wrong_unit_names_expected_dimension() -> None:
    problem = _only(_errors(SPEC.replace("clock: 100 MHz", "clock: 34 GB/s")))
    assert (problem.location, problem.line) == ("clock", 2)
    assert "a frequency is expected" in problem.message


def test_bare_number_for_a_frequency_is_rejected() -> None:
    problem = _only(_errors(SPEC.replace("clock: 100 MHz", "clock: 100000000")))
    assert "no unit" in problem.message and "700 MHz" in problem.message


@pytest.mark.parametrize(
    ("old", "new", "location", "line"),
    [
        ("capacity: 1 KiB\n    holds: input", "capacity: 0 B\n    holds: input", "buffers.inputs.capacity", 10),
        ("rows: 4", "rows: -4", "matrix.rows", 5),
        ("lanes: 4", "lanes: 0", "vector.lanes", 19),
    ],
)
def test_zero_or_negative_sizes(old: str, new: str, location: str, line: int) -> None:
    problem = _only(_errors(SPEC.replace(old, new)))
    assert (problem.location, problem.line) == (location, line)
    assert "greater than 0" in problem.message or "positive" in problem.message


def test_unsupported_dataflow() -> None:
    problem = _only(_errors(SPEC.replace("[os, weight-stationary]", "[os, diagonal]")))
    assert (problem.location, problem.line) == ("matrix.dataflows", 7)
    assert "unknown dataflow 'diagonal'" in problem.message
    assert "output-stationary, weight-stationary, input-stationary" in problem.message


def test_unknown_enum_value_shows_what_was_given() -> None:
    problem = _only(_errors(SPEC.replace("type: DDR4", "type: DDR9")))
    assert (problem.location, problem.line) == ("dram.type", 21)
    assert "'DDR9'" in problem.message and "HBM2E" in problem.message


def test_buffer_too_small_for_one_tile_explains_the_sum() -> None:
    problem = _only(_errors(SPEC.replace("capacity: 256 B", "capacity: 32 B")))
    assert (problem.location, problem.line) == ("buffers.acc.capacity", 16)
    assert "output 4×4×4 B (int32) = 64 B" in problem.message
    assert "needs at least 64 B" in problem.message


def test_shared_buffer_must_hold_a_tile_of_each_operand() -> None:
    text = SPEC.replace(
        "  inputs:\n    capacity: 1 KiB\n    holds: input\n  weights:\n    capacity: 1 KiB\n    holds: [weight]\n",
        "  scratch:\n    capacity: 31 B\n    holds: [input, weight]\n",
    )
    problem = _only(_errors(text))
    assert "input 4×4×1 B (int8) = 16 B + weight 4×4×1 B (int8) = 16 B" in problem.message
    assert "needs at least 32 B" in problem.message


def test_missing_required_key_and_operand_without_buffer() -> None:
    problem = _only(_errors(SPEC.replace("clock: 100 MHz\n", "")))
    assert problem.location == "clock"
    assert "missing required key" in problem.message and "700 MHz" in problem.message
    no_output = SPEC.replace("  acc:\n    capacity: 256 B\n    holds: [output]\n", "")
    assert "no buffer holds the output operand" in _only(_errors(no_output)).message


def test_all_problems_are_reported_at_once() -> None:
    text = (
        SPEC.replace("clock: 100 MHz", "clock: 34 GB/s")
        .replace("  cols: 4", "  colls: 4")
        .replace("bandwidth: 1 GB/s", "bandwidth: -1 GB/s")
    )
    error = _errors(text)
    found = {(p.location, p.line) for p in error.problems}
    assert found == {("clock", 2), ("matrix.colls", 6), ("dram.bandwidth", 22)}
    rendered = error.render()
    assert rendered.startswith("chip.yaml: 3 problems")
    assert "matrix.colls (line 6)" in rendered


def test_node_outside_technology_tables() -> None:
    problem = _only(_errors(SPEC.replace("technology: 45 nm", "technology: 3 nm")))
    assert (problem.location, problem.line) == ("technology", 3)
    assert "outside the technology tables" in problem.message


def test_yaml_syntax_error_has_line() -> None:
    problem = _only(_errors(SPEC.replace("  rows: 4", "  rows: [4")))
    assert problem.message.startswith("YAML syntax error")
    assert problem.line is not None and problem.line >= 5


def test_duplicate_key_reports_both_lines() -> None:
    problem = _only(_errors(SPEC.replace("  cols: 4\n", "  cols: 4\n  rows: 8\n")))
    assert (problem.location, problem.line) == ("matrix.rows", 7)
    assert "duplicate key 'rows' (first at line 5)" in problem.message


def test_tab_indentation_is_rejected_with_line() -> None:
    problem = _only(_errors(SPEC.replace("  rows: 4", "\trows: 4")))
    assert problem.line == 5 and "tab" in problem.message


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "empty"),
        ("# only a comment\n", "empty"),
        ("- a\n- b\n", "top level must be a mapping"),
        ("just text\n", "top level must be a mapping"),
    ],
)
def test_empty_or_non_mapping_files(text: str, fragment: str) -> None:
    assert fragment in _only(_errors(text)).message


def test_file_errors(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="file not found"):
        load_accelerator(tmp_path / "missing.yaml")
    with pytest.raises(InputError, match="is a directory"):
        load_accelerator(tmp_path)
    binary = tmp_path / "binary.yaml"
    binary.write_bytes(b"\xff\xfe\x00name")
    with pytest.raises(InputError, match="not UTF-8"):
        load_accelerator(binary)
    good = tmp_path / "chip.yaml"
    good.write_text(SPEC, encoding="utf-8")
    assert load_accelerator(good) == load_accelerator_text(SPEC, "x")
    with pytest.raises(InputError) as info:
        good.write_text(SPEC.replace("rows: 4", "rows: x"), encoding="utf-8")
        load_accelerator(good)
    assert info.value.source == str(good)


def test_with_overrides_replaces_fields_and_revalidates() -> None:
    accel = load_accelerator_text(SPEC, "chip.yaml")
    changed = with_overrides(
        accel,
        {"matrix.rows": 8, "buffers.inputs.capacity": "2 KiB", "dram.bandwidth": "2 GB/s", "overrides.mac_energy": "1 pJ"},
    )
    assert changed.matrix.rows == 8 and changed.matrix.cols == 4
    assert changed.buffers["inputs"].capacity == 2048
    assert changed.dram.bandwidth == 2e9
    assert changed.overrides.mac_energy == pytest.approx(1e-12)
    assert changed.dram.latency == accel.dram.latency
    assert accel.matrix.rows == 4  # the original is untouched
    assert with_overrides(accel, {}) == accel


@pytest.mark.parametrize(
    ("overrides", "location", "fragment"),
    [
        ({"matrix.colls": 8}, "matrix.colls", "did you mean 'cols'? Allowed keys: rows, cols"),
        ({"buffers.input.capacity": "1 MiB"}, "buffers.input.capacity", "did you mean 'inputs'?"),
        ({"clocks": "1 GHz"}, "clocks", "did you mean 'clock'?"),
        ({"clock.hz": 5}, "clock.hz", "clock has no sub-keys"),
        ({"zzz": 5}, "zzz", "unknown key 'zzz' under the top level. Allowed keys: name, description"),
        ({"clock": 1e9}, "clock", "no unit"),
        ({"dram.bandwidth": "5 MHz"}, "dram.bandwidth", "a bandwidth is expected"),
        ({"matrix.rows": 0}, "matrix.rows", "greater than 0"),
        ({"matrix.rows": 64}, "buffers.acc.capacity", "needs at least 1024 B"),
        ({"matrix.dataflows": ["diagonal"]}, "matrix.dataflows", "unknown dataflow"),
    ],
)
def test_with_overrides_errors(overrides: dict, location: str, fragment: str) -> None:
    accel = load_accelerator_text(SPEC, "chip.yaml")
    with pytest.raises(InputError) as info:
        with_overrides(accel, overrides, source="sweep.yaml")
    problem = info.value.problems[0]
    assert info.value.source == "sweep.yaml"
    assert problem.location == location
    assert fragment in problem.message


def test_spec_hash_is_stable_and_sensitive() -> None:
    first = load_accelerator_text(SPEC, "a.yaml")
    second = load_accelerator_text(SPEC.replace("100 MHz", "0.1 GHz"), "b.yaml")
    assert spec_hash(first) == spec_hash(second)  # same normalised spec
    assert len(spec_hash(first)) == 64
    assert spec_hash(with_overrides(first, {})) == spec_hash(first)
    assert spec_hash(with_overrides(first, {"matrix.rows": 8})) != spec_hash(first)


def test_json_schema_lists_fields_and_accepts_unit_strings() -> None:
    schema = accelerator_json_schema()
    json.dumps(schema)
    assert {"name", "clock", "technology", "matrix", "buffers", "vector", "dram"} <= set(schema["properties"])
    assert schema["properties"]["clock"]["type"] == "string"
    assert set(schema["required"]) >= {"name", "clock", "matrix", "buffers", "vector", "dram"}


@pytest.mark.parametrize(
    ("inputs", "accumulator", "fragment"),
    [
        ("int8", "int32", None),
        ("int16", "int16", None),  # Eyeriss: 16-bit partial sums of 16-bit operands
        ("int8", "fp32", None),
        ("bf16", "fp32", None),
        ("fp16", "fp16", None),
        ("int16", "int8", "int8 (8 bits) is narrower than the int16 inputs (16 bits)"),
        ("fp32", "bf16", "bf16 (16 bits) is narrower than the fp32 inputs (32 bits)"),
        ("fp16", "int32", "int32 accumulators cannot sum fp16 products"),
    ],
)
def test_an_accumulator_is_never_narrower_than_its_inputs(inputs: str, accumulator: str, fragment: str | None) -> None:
    base = load_accelerator_text(SPEC, "a.yaml")
    overrides = {"matrix.input_precision": inputs, "matrix.accumulator_precision": accumulator}
    if fragment is None:
        assert with_overrides(base, overrides).matrix.accumulator_precision.value == accumulator
        return
    with pytest.raises(InputError) as raised:
        with_overrides(base, overrides)
    (problem,) = raised.value.problems
    assert problem.location == "matrix.accumulator_precision" and fragment in problem.message
