"""`tessera check-spec --schema` as an editor uses it: every valid chip file passes, names not
integers for dataflows and operands, and realistic examples that the loader accepts."""

from __future__ import annotations

from pathlib import Path

import jsonschema
import pytest
import yaml

from accel_spec import Accelerator, load_accelerator, load_accelerator_text, resolve, with_overrides
from accel_spec.json_schema import FIELD_EXAMPLES, accelerator_json_schema
from accel_spec.schema import Buffer, Dram, TechnologyOverrides
from accel_spec.types import Dataflow, Operand
from tessera.errors import InputError

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "accelerators"
CHIPS = sorted(EXAMPLES.glob("*.yaml"))
SCHEMA = accelerator_json_schema()
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)


def test_the_schema_is_a_valid_draft_2020_12_schema() -> None:
    jsonschema.Draft202012Validator.check_schema(SCHEMA)


@pytest.mark.parametrize("chip", CHIPS, ids=lambda p: p.stem)
def test_every_example_chip_file_validates(chip: Path) -> None:
    errors = [error.message for error in VALIDATOR.iter_errors(yaml.safe_load(chip.read_text()))]
    assert errors == []


def test_one_name_or_a_list_of_names_as_the_loader_reads_them() -> None:
    chip = yaml.safe_load((EXAMPLES / "tiny.yaml").read_text())
    chip["matrix"]["dataflows"] = "ws"
    chip["buffers"]["inputs"]["holds"] = "input"
    load_accelerator_text(yaml.safe_dump(chip), "one-name.yaml")
    assert list(VALIDATOR.iter_errors(chip)) == []
    chip["matrix"]["dataflows"] = ["weight-stationary", "diagonal"]
    assert [e.validator for e in VALIDATOR.iter_errors(chip)] == ["anyOf"]


def test_named_enums_list_exactly_what_the_loader_accepts() -> None:
    definitions = SCHEMA["$defs"]
    assert definitions["Dataflow"]["type"] == definitions["Operand"]["type"] == "string"
    assert {Dataflow.parse(name) for name in definitions["Dataflow"]["enum"]} == set(Dataflow)
    base = load_accelerator(EXAMPLES / "tiny.yaml")
    accepted = set()
    for operand in Operand:
        holder = base.buffer_for(operand)
        others = [o.label for o in base.buffers[holder].holds if o is not operand]
        for name in definitions["Operand"]["enum"]:
            try:
                chip = with_overrides(base, {f"buffers.{holder}.holds": [name, *others]})
            except InputError:
                continue
            accepted |= {name} if operand in chip.buffers[holder].holds else set()
    assert accepted == set(definitions["Operand"]["enum"])


def _path(model: type, field: str, chip: Accelerator) -> str:
    prefix = {Accelerator: "", Buffer: f"buffers.{next(iter(chip.buffers))}.", Dram: "dram.",
              TechnologyOverrides: "overrides."}[model]
    return prefix + field


@pytest.mark.parametrize(("model", "field"), [(m, f) for m, fields in FIELD_EXAMPLES.items() for f in fields],
                         ids=lambda x: getattr(x, "__name__", x))
def test_every_example_is_in_the_schema_and_loads(model: type, field: str) -> None:
    assert field in model.model_fields
    base = load_accelerator(EXAMPLES / "edge.yaml")
    for example in FIELD_EXAMPLES[model][field]:
        with_overrides(base, {_path(model, field, base): example})


def _defaults(chip: Accelerator) -> dict[str, list[float]]:
    """Each technology override's cited default on `chip`, in SI units."""
    tech = resolve(chip)
    area_mm2 = tech.total_area * 1e6
    return {
        "mac_energy": [tech.mac_energy],
        "sram_energy_per_byte": list(tech.sram_energy_per_byte.values()),
        "dram_energy_per_bit": [tech.dram_read_energy_per_byte / 8, tech.dram_write_energy_per_byte / 8],
        "vector_op_energy": [tech.vector_op_energy],
        "leakage_power_per_mm2": [tech.leakage_power / area_mm2],
        "mac_area": [tech.area["matrix"] / chip.matrix.pes],
        "sram_area_per_kib": [tech.area[name] / (buffer.capacity / 1024) for name, buffer in chip.buffers.items()],
        "vector_lane_area": [tech.area["vector"] / chip.vector.lanes],
    }


@pytest.mark.parametrize("field", list(FIELD_EXAMPLES[TechnologyOverrides]))
def test_technology_examples_are_within_3x_of_the_cited_defaults_of_the_example_chips(field: str) -> None:
    defaults = [value for chip in CHIPS for value in _defaults(load_accelerator(chip))[field]]
    base = load_accelerator(EXAMPLES / "edge.yaml")
    for example in FIELD_EXAMPLES[TechnologyOverrides][field]:
        value = getattr(with_overrides(base, {f"overrides.{field}": example}).overrides, field)
        assert min(defaults) / 3 <= value <= max(defaults) * 3, (example, min(defaults), max(defaults))
