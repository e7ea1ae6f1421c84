"""SCALE-Sim config -> chip YAML: every shipped config round-trips; bad configs name the line."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from accel_spec import load_accelerator_text
from accel_spec.scalesim_import import (
    ASSUMED_CLOCK_HZ,
    BandwidthMode,
    chip_yaml,
    parse_scalesim_config,
    read_scalesim_config,
    scalesim_config_text,
)
from accel_spec.types import Dataflow, Operand
from tessera.errors import InputError

CONFIGS = sorted((Path(__file__).resolve().parents[1] / "data" / "scalesim" / "configs").glob("*.cfg"))

MINIMAL = """[general]
run_name = tiny

[architecture_presets]
ArrayHeight: 8
ArrayWidth: 4
IfmapSramSzkB: 16
FilterSramSzkB: 32
OfmapSramSzkB: 8
Bandwidth: 10
Dataflow: is

[run_presets]
InterfaceBandwidth: USER
"""


def test_every_shipped_config_is_present():
    assert len(CONFIGS) == 20


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.name)
def test_shipped_config_round_trips_to_the_same_numbers(path):
    config = read_scalesim_config(path)
    chip = load_accelerator_text(chip_yaml(config, str(path)), str(path))
    assert (chip.matrix.rows, chip.matrix.cols) == (config.rows, config.cols)
    assert chip.matrix.dataflows == (config.dataflow,)
    capacities = {operand: chip.buffers[chip.buffer_for(operand)].capacity for operand in Operand}
    assert capacities == {
        Operand.INPUT: config.ifmap_kb * 1024,
        Operand.WEIGHT: config.filter_kb * 1024,
        Operand.OUTPUT: config.ofmap_kb * 1024,
    }
    assert chip.dram.bandwidth == pytest.approx(config.bandwidth_words[0] * ASSUMED_CLOCK_HZ)


def test_parsed_values_of_a_known_config():
    config = read_scalesim_config(next(p for p in CONFIGS if p.name == "google.cfg"))
    assert (config.rows, config.cols, config.ifmap_kb, config.filter_kb, config.ofmap_kb) == (256, 256, 6144, 6144, 2048)
    assert config.dataflow is Dataflow.WEIGHT_STATIONARY
    assert config.bandwidth_mode is BandwidthMode.CALC


def test_yaml_comments_say_what_scalesim_does_not_describe():
    text = chip_yaml(parse_scalesim_config(MINIMAL, "tiny.cfg"), "tiny.cfg")
    for phrase in ("clock 1 GHz", "28 nm", "word_size = 1", "vector unit", "USER"):
        assert phrase in text


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.name)
def test_scalesim_config_text_is_the_inverse_of_parsing(path):
    config = read_scalesim_config(path)
    again = parse_scalesim_config(scalesim_config_text(config), "again.cfg")
    fill = config.bandwidth_words[0]
    expected = dataclasses.replace(
        config,
        ifmap_bank_bandwidth=config.ifmap_bank_bandwidth or fill,
        filter_bank_bandwidth=config.filter_bank_bandwidth or fill,
    )
    assert again == dataclasses.replace(expected, run_name=config.run_name)


@pytest.mark.parametrize(
    "old, new, line, message",
    [
        ("ArrayWidth: 4", "ArrayWidth: four", 6, "expected a whole number, got 'four'"),
        ("ArrayWidth: 4", "ArrayWidht: 4", 6, "unknown key"),
        ("ArrayWidth: 4", "ArrayWidth: 0", 6, "must be at least 1"),
        ("Dataflow: is", "Dataflow: rs", 11, "expected os, ws or is"),
        ("InterfaceBandwidth: USER", "InterfaceBandwidth: FAST", 14, "expected USER or CALC"),
        ("[general]", "[generals]", 1, "unknown section"),
        ("Bandwidth: 10", "Bandwidth 10", 10, "expected 'key: value'"),
        ("Dataflow: is", "Dataflow: is\nDataflow: os", 12, "duplicate key (first at line 11)"),
    ],
)
def test_bad_config_names_the_line(old, new, line, message):
    with pytest.raises(InputError) as error:
        parse_scalesim_config(MINIMAL.replace(old, new), "bad.cfg")
    text = error.value.render()
    assert text.startswith("bad.cfg") and f"line {line}" in text and message in text


def test_missing_section_and_key_are_reported_together():
    text = MINIMAL.replace("Dataflow: is\n", "").split("[run_presets]")[0]
    with pytest.raises(InputError) as error:
        parse_scalesim_config(text, "missing.cfg")
    rendered = error.value.render()
    assert "[run_presets]: missing section" in rendered
    assert "[architecture_presets] dataflow (line 4): missing required key" in rendered


def test_missing_file():
    with pytest.raises(InputError, match="file not found"):
        read_scalesim_config("/nonexistent/x.cfg")


def test_a_key_with_a_bad_value_is_not_also_called_missing():
    with pytest.raises(InputError) as error:
        parse_scalesim_config(MINIMAL.replace("ArrayWidth: 4", "ArrayWidth: four"), "bad.cfg")
    assert [p.message for p in error.value.problems] == ["expected a whole number, got 'four'"]


@pytest.mark.parametrize(
    "source",
    ["evil\noverrides: {mac_energy: 1 J}\n#.cfg", "a: b.cfg", "'quoted\".cfg", "# comment.cfg", "name: x\nclock: 1 Hz.cfg"],
)
def test_nothing_from_the_config_or_its_name_changes_the_chip_file_structure(source):
    config = parse_scalesim_config(MINIMAL.replace("run_name = ", "run_name = x: y # "), source)
    text = chip_yaml(config, source)
    reference = load_accelerator_text(chip_yaml(dataclasses.replace(config, run_name="x"), "tiny.cfg"), "tiny.cfg")
    chip = load_accelerator_text(text, source)
    assert chip.overrides == reference.overrides and chip.clock == reference.clock
    assert chip.name == config.run_name and source in chip.description
    assert [line for line in text.splitlines() if line.startswith("#")] == [
        line for line in chip_yaml(config, "tiny.cfg").splitlines() if line.startswith("#")
    ]
