"""Code generation: schedules -> one `Program` for the whole model (see gemm, vector, program)."""

from __future__ import annotations

from compiler.codegen.layer import layer_code
from compiler.codegen.memo import cached_layer_codes
from compiler.codegen.program import assemble
from compiler.scheduling.schedule import LayerSchedule
from compiler.target import Target
from compiler.target.isa import Program
from compiler.workload import Workload


def generate_program(
    workloads: tuple[Workload, ...],
    schedules: tuple[LayerSchedule, ...],
    chip: Target,
) -> Program:
    """The instruction stream of `workloads` under `schedules`, one layer per workload."""
    if len(workloads) != len(schedules):
        raise ValueError(f"{len(workloads)} workloads but {len(schedules)} schedules")
    return assemble(cached_layer_codes(workloads, schedules, chip), tuple(w.name for w in workloads))


__all__ = ["generate_program", "layer_code"]
