"""Code generation: schedules -> one `Program` for the whole model (see gemm, vector, program)."""

from __future__ import annotations

from accel_spec.schema import Accelerator
from accel_spec.types import Precision
from compiler.codegen.gemm import gemm_table
from compiler.codegen.layout import compact
from compiler.codegen.program import assemble
from compiler.codegen.vector import vector_table
from compiler.isa import Program
from compiler.scheduling.chip import Chip
from compiler.scheduling.schedule import LayerSchedule, Schedule, VectorSchedule
from compiler.workload import Workload, WorkloadKind


def generate_program(
    workloads: tuple[Workload, ...],
    schedules: tuple[LayerSchedule, ...],
    accel: Accelerator,
    precision: Precision,
) -> Program:
    """The instruction stream of `workloads` under `schedules`, one layer per workload."""
    if len(workloads) != len(schedules):
        raise ValueError(f"{len(workloads)} workloads but {len(schedules)} schedules")
    chip = Chip.of(accel, precision)
    layers = []
    for layer, (workload, schedule) in enumerate(zip(workloads, schedules)):
        if workload.kind is WorkloadKind.GEMM:
            if not isinstance(schedule, Schedule):
                raise ValueError(f"layer {workload.name}: a GEMM workload needs a Schedule")
            table = gemm_table(workload, schedule, chip, layer)
        else:
            if not isinstance(schedule, VectorSchedule):
                raise ValueError(f"layer {workload.name}: a vector workload needs a VectorSchedule")
            table = vector_table(workload, schedule, chip, layer)
        layers.append(compact(table))
    return assemble(layers, tuple(w.name for w in workloads))


__all__ = ["generate_program"]

