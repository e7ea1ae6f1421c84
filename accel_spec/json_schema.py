"""The JSON Schema of chip files, as an editor uses it to complete and check YAML.

Pydantic's schema of `Accelerator` describes the validated objects; two things differ in
the YAML a person writes, and are put right here:

* `Dataflow` and `Operand` are integer enums (their values index instruction arrays), but a
  chip file names them (``weight-stationary``, ``ws``, ``input``), one name or a list;
* every quantity field gets an example of a realistic value for that field (a MAC is about
  100 µm², not 0.5 mm²), rather than one example per unit type.

The examples of the technology overrides lie within a factor of three of the cited defaults
of the example chips (checked by tests/unit/test_json_schema.py).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from accel_spec.schema import Accelerator, Buffer, Dram, MatrixEngine, TechnologyOverrides
from accel_spec.types import Dataflow, Operand

NAMED_ENUMS: dict[type[Dataflow] | type[Operand], str] = {
    Dataflow: "Dataflow name: output-stationary, weight-stationary, input-stationary (or os, ws, is).",
    Operand: "GEMM operand: input, weight, or output (partial sums and accumulators).",
}
"""Integer enums that chip files spell by name, and the description of those names."""

NAME_OR_LIST_FIELDS: tuple[tuple[type[BaseModel], str], ...] = ((MatrixEngine, "dataflows"), (Buffer, "holds"))
"""Fields that take one name or a list of names."""

FIELD_EXAMPLES: dict[type[BaseModel], dict[str, tuple[Any, ...]]] = {
    Accelerator: {"clock": ("700 MHz", "1 GHz"), "technology": ("28 nm", "7 nm")},
    Buffer: {
        "capacity": ("256 KiB", "4 MiB"),
        "read_bytes_per_cycle": ("64 B", 64),
        "write_bytes_per_cycle": ("64 B", 64),
    },
    Dram: {
        "bandwidth": ("34 GB/s", "900 GB/s"),
        "latency": ("100 ns",),
        "capacity": ("8 GiB", "32 GiB"),
        "burst": ("64 B", 64),
    },
    TechnologyOverrides: {
        "mac_energy": ("0.1 pJ",),
        "sram_energy_per_byte": ("2 pJ",),
        "dram_energy_per_bit": ("5 pJ",),
        "vector_op_energy": ("0.5 pJ",),
        "leakage_power_per_mm2": ("5 mW",),
        "mac_area": ("1000 um2",),
        "sram_area_per_kib": ("0.001 mm2",),
        "vector_lane_area": ("3000 um2",),
    },
}
"""Realistic values per field, in the units a person writes (see the module docstring)."""


def accelerator_json_schema() -> dict[str, Any]:
    """JSON Schema of chip files, for editors and ``tessera check-spec --schema``."""
    schema = Accelerator.model_json_schema()
    definitions = schema["$defs"]
    for kind, description in NAMED_ENUMS.items():
        definitions[kind.__name__] = {
            "title": kind.__name__,
            "description": description,
            "type": "string",
            "enum": list(kind.spellings()),
        }
    for model, name in NAME_OR_LIST_FIELDS:
        field = definitions[model.__name__]["properties"][name]
        items = field.pop("items")
        del field["type"]
        field["anyOf"] = [items, {"type": "array", "items": items, "minItems": 1, "uniqueItems": True}]
    for model, examples in FIELD_EXAMPLES.items():
        properties = (schema if model is Accelerator else definitions[model.__name__])["properties"]
        for name, values in examples.items():
            properties[name]["examples"] = list(values)
    return schema
