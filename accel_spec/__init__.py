"""accel_spec: the accelerator description — schema, YAML loading, units, technology, derived numbers."""

from accel_spec.derived import DerivedQuantities, derive
from accel_spec.json_schema import accelerator_json_schema
from accel_spec.loader import (
    load_accelerator,
    load_accelerator_text,
    spec_hash,
    with_overrides,
)
from accel_spec.schema import Accelerator
from accel_spec.technology import Technology, resolve

__all__ = [
    "Accelerator",
    "DerivedQuantities",
    "Technology",
    "accelerator_json_schema",
    "derive",
    "load_accelerator",
    "load_accelerator_text",
    "resolve",
    "spec_hash",
    "with_overrides",
]
