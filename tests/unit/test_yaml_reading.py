"""Reading chip and sweep YAML: merge keys, YAML 1.1 numbers, big documents, what a file may be."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from accel_spec import load_accelerator, load_accelerator_text
from accel_spec.yaml_aliases import MAX_EXPANDED_NODES
from accel_spec.yaml_lines import MAX_YAML_BYTES, compose
from tessera.errors import InputError
from tessera.input_files import read_input

TINY = Path(__file__).resolve().parents[2] / "examples" / "accelerators" / "tiny.yaml"

MERGED = """\
name: merged
clock: 100 MHz
technology: 45 nm
matrix: {rows: 4, cols: 4, dataflows: [output-stationary], input_precision: int8, accumulator_precision: int32}
buffers:
  inputs: &buffer
    capacity: 1 KiB
    holds: [input]
  weights:
    <<: *buffer
    capacity: 2 KiB
    holds: [weight]
  accumulators:
    <<: *buffer
    holds: [output]
vector: {lanes: 4}
dram: {type: DDR4, bandwidth: 1 GB/s, latency: 100 ns}
"""


def test_merge_keys_with_overrides_load_and_the_override_wins() -> None:
    accel = load_accelerator_text(MERGED, "merged.yaml")
    assert accel.buffers["weights"].capacity == 2048
    assert accel.buffers["accumulators"].capacity == 1024
    assert [op.label for op in accel.buffers["weights"].holds] == ["weight"]


def test_a_key_written_twice_beside_a_merge_is_still_a_duplicate() -> None:
    text = MERGED.replace("    capacity: 2 KiB\n", "    capacity: 2 KiB\n    capacity: 4 KiB\n")
    with pytest.raises(InputError, match=r"buffers\.weights\.capacity \(line 12\): duplicate key 'capacity'"):
        load_accelerator_text(text, "merged.yaml")


@pytest.mark.parametrize(
    ("written", "fragment"),
    [("01000", "octal, 512; write 1000"), ("-0755", "octal, -493"), ("1:20", "base 60, 80"), ("1:30.5", "base 60, 90.5")],
)
def test_numbers_yaml_1_1_reads_differently_are_refused_with_their_line(written: str, fragment: str) -> None:
    with pytest.raises(InputError) as error:
        compose(f"a:\n  b: {written}\n", "x.yaml")
    (problem,) = error.value.problems
    assert (problem.location, problem.line) == ("a.b", 2) and fragment in problem.message


@pytest.mark.parametrize("written", ["0", "00", "07", "1000", "0x10", "1_000", "'01000'", "\"1:20\""])
def test_numbers_every_yaml_reads_alike_are_accepted(written: str) -> None:
    compose(f"a: {written}\n", "x.yaml")


def test_a_big_document_without_aliases_is_not_blamed_on_aliases() -> None:
    text = "name: [" + ",".join("1" for _ in range(MAX_EXPANDED_NODES + 1)) + "]\n"
    with pytest.raises(InputError) as error:
        load_accelerator_text(text, "big.yaml")
    message = error.value.problems[0].message
    assert "holds more than 100,000 values" in message and "alias" not in message


def test_inputs_must_be_regular_files_of_bounded_size(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "fifo.yaml")
    with pytest.raises(InputError, match="is not a regular file"):
        load_accelerator(tmp_path / "fifo.yaml")  # would wait forever for a writer
    with pytest.raises(InputError, match="is not a regular file"):
        read_input("/dev/zero", limit=10, what="a test file")
    (tmp_path / "big.yaml").write_bytes(TINY.read_bytes() + b"#" * MAX_YAML_BYTES)
    with pytest.raises(InputError, match=f"more than the {MAX_YAML_BYTES:,} "):
        load_accelerator(tmp_path / "big.yaml")
    (tmp_path / "link.yaml").symlink_to(TINY)
    assert load_accelerator(tmp_path / "link.yaml").name == "tiny"
