"""`program_bound`: the per-network instruction ceiling that lets a sweep point skip the
per-layer bounds is never below them, and never more than two instructions a layer above."""

from __future__ import annotations

import pytest

from accel_spec import with_overrides
from accel_spec.precision import PrecisionAssignment
from compiler.lowering import lower
from compiler.models import load_model
from compiler.program_bound import instruction_ceiling, layer_bounds
from codegen_cases import example_chip


@pytest.mark.parametrize("model", ["mobilenetv2", "bert:layers=1", "gemm:m=100000,k=3000,n=70"])
@pytest.mark.parametrize("capacity", ["24 KiB", "64 KiB", "8 MiB"])
def test_the_ceiling_bounds_the_layers_bounds_from_above_within_two_a_layer(model: str, capacity: str) -> None:
    chip = example_chip("edge")
    chip = with_overrides(chip, {f"buffers.{name}.capacity": capacity for name in chip.buffers})
    workloads = lower(load_model(model))
    for precision in (chip.matrix.input_precision, "int4"):
        formats = PrecisionAssignment.of(precision)
        bounds = layer_bounds(workloads, chip, formats)
        total = sum(bound.instructions for bound in bounds)
        ceiling = instruction_ceiling(workloads, chip, formats)
        assert total <= ceiling <= total + 2 * len(bounds)
        assert instruction_ceiling(workloads, chip, formats) == ceiling  # the kept totals give the same
