"""`simulator.run.program_columns` (the `kernels.columns` kernel) equals numpy's own copy of
every field, at the field's stored width, for a whole program and for a memoised (read-only)
layer's code."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from accel_spec import load_accelerator
from compiler.lowering import lower
from compiler.models import load_model
from compiler.pipeline import CompileOptions, compile_workloads
from simulator.run import program_columns

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "accelerators"
FIELDS = ("opcode", "operand", "buffer", "dataflow", "op_class", "accumulate", "continues", "active", "level", "layer",
          "m", "k", "n", "groups", "bytes", "elements")


@pytest.mark.parametrize("read_only", [False, True])
def test_every_column_is_the_field_copied(read_only: bool) -> None:
    model = "bert:layers=1,hidden=128,heads=2,seq=32"
    program = compile_workloads(lower(load_model(model)), model, load_accelerator(EXAMPLES / "edge.yaml"), CompileOptions()).program
    instructions = program.instructions
    if read_only:
        instructions = instructions.view()
        instructions.flags.writeable = False
    columns = program_columns(type(program)(instructions, program.dep_ptr, program.deps, program.layer_names))
    expected = [np.ascontiguousarray(instructions[name]) for name in FIELDS]
    assert set(instructions["opcode"].tolist()) == {0, 1, 2, 3}  # every engine: load, GEMM, vector, store
    for name, column, field in zip(FIELDS, columns, expected, strict=False):
        assert column.dtype == field.dtype and column.flags.c_contiguous, name
        assert np.array_equal(column, field), name
    assert np.array_equal(columns.dep_ptr, program.dep_ptr) and np.array_equal(columns.deps, program.deps)
