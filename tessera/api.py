"""The Python API: `simulate(accel, model) -> Simulation`, what `tessera simulate` prints.

A Simulation joins the compiled model (workloads, schedules, program) with the simulator's
result and each layer's roofline lower bound, and renders the JSON contract of DESIGN.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from accel_spec import load_accelerator
from accel_spec.schema import Accelerator
from accel_spec.technology import resolve
from accel_spec.types import Precision
from compiler.graph import Graph
from compiler.models import load_model
from compiler.pipeline import CompiledModel, CompileOptions, compile_graph, compile_workloads
from compiler.roofline import lower_bound_cycles
from compiler.scheduling import SchedulerKind
from compiler.memory.planner import WeightResidency
from compiler.scheduling.objective import Objective
from compiler.target import LEVEL_DRAM, Target, TimingMode
from compiler.workload import Workload
from simulator import SimResult, run


@dataclass(frozen=True)
class Simulation:
    """One network simulated on one chip."""

    accel: Accelerator
    compiled: CompiledModel
    result: SimResult
    lower_bounds: tuple[int, ...]

    def summary(self) -> dict[str, float]:
        """Scalar metrics of the whole network (the columns of a sweep's results table)."""
        result = self.result
        latency = result.latency_s
        energy = result.energy_j
        ops = 2 * result.macs
        return {
            "total_cycles": int(result.total_cycles),
            "latency_s": latency,
            "energy_j": energy,
            "area_mm2": result.area_mm2,
            "macs": int(result.macs),
            "utilization": result.utilization,
            "dram_read_bytes": int(result.dram_read_bytes),
            "dram_write_bytes": int(result.dram_write_bytes),
            "dram_compulsory_bytes": sum(self.compiled.plan.compulsory_bytes),
            "dram_spill_bytes": sum(self.compiled.plan.spill_bytes),
            "power_w": energy / latency if latency > 0 else 0.0,
            "edp_js": energy * latency,
            "throughput_ops_s": ops / latency if latency > 0 else 0.0,
            "tops_per_w": ops / energy / 1e12 if energy > 0 else 0.0,
        }

    def to_json(self) -> dict[str, Any]:
        """The `tessera simulate --json` document (DESIGN.md contract, plus breakdowns)."""
        options = self.compiled.options
        document: dict[str, Any] = {
            "model": self.compiled.source,
            "accelerator": self.accel.name,
            "precision": self.compiled.precision.value,
            **self.summary(),
            "energy_breakdown_j": dict(self.result.energy_breakdown),
            "area_breakdown_mm2": dict(self.result.area_breakdown_mm2),
            "technology_sources": dict(self.result.technology_sources),
            "scheduler": options.scheduler.value,
            "timing": options.timing.value,
            "objective": options.objective.value,
            "weights": options.weights.value,
        }
        if options.scheduler is SchedulerKind.LEARNED:
            from compiler.scheduling.learned import ranker_status

            # Say whether the trained ranker chose the schedules or the heuristic stood in for it.
            document["scheduler_note"] = ranker_status().describe()
        plan = self.compiled.plan
        document["layers"] = [
            _layer_json(workload, schedule, layer, bound, self.compiled.target, compulsory, spill)
            for workload, schedule, layer, bound, compulsory, spill in zip(
                plan.workloads,
                self.compiled.schedules,
                self.result.layers,
                self.lower_bounds,
                plan.compulsory_bytes,
                plan.spill_bytes,
            )
        ]
        return document


def _layer_json(
    workload: Workload, schedule, layer, bound: int, target: Target, compulsory: int, spill: int
) -> dict[str, Any]:
    compute = layer.compute_cycles
    placement = workload.placement
    return {
        "name": workload.name,
        "op": workload.op,
        "kind": workload.kind.value,
        "macs": int(layer.macs),
        "cycles": int(layer.cycles),
        "compute_cycles": int(compute),
        "stall_cycles": int(layer.cycles - compute),
        "stall_breakdown": {cause: int(v) for cause, v in layer.stall_by_cause.items()},
        "lower_bound_cycles": int(bound),
        "dram_read_bytes": int(layer.dram_read_bytes),
        "dram_write_bytes": int(layer.dram_write_bytes),
        "dram_compulsory_bytes": int(compulsory),
        "dram_spill_bytes": int(spill),
        "input_from": _level_name(placement.input, target),
        "output_to": _level_name(placement.output, target),
        "utilization": layer.macs / (layer.cycles * target.pes) if layer.cycles else 0.0,
        "energy_j": layer.energy_j,
        "dataflow": schedule.dataflow.label if workload.gemm is not None else None,
        "schedule": schedule.describe(),
    }


def _level_name(level: int, target: Target) -> str:
    """``dram`` or the name of the on-chip buffer at a memory level."""
    return "dram" if level == LEVEL_DRAM else target.buffer_names[level - 1]


def simulate(
    accel: Accelerator | str | Path,
    model: str | Graph,
    *,
    batch: int | None = None,
    input_shapes: Mapping[str, tuple[int, ...]] | None = None,
    precision: Precision | None = None,
    scheduler: SchedulerKind = SchedulerKind.HEURISTIC,
    timing: TimingMode = TimingMode.TESSERA,
    objective: Objective = Objective.LATENCY,
    weights: WeightResidency = WeightResidency.STREAMED,
    trace: bool = False,
    verify: bool = False,
) -> Simulation:
    """Compile a network for a chip and simulate it.

    `accel` is an Accelerator or the path of a chip YAML; `model` a Graph, an `.onnx` path or a
    zoo spec. Bad input raises `tessera.errors.InputError`.
    """
    if not isinstance(accel, Accelerator):
        accel = load_accelerator(accel)
    graph = model if isinstance(model, Graph) else load_model(model, batch=batch, input_shapes=input_shapes)
    options = CompileOptions(
        precision=precision, scheduler=scheduler, timing=timing, weights=weights, objective=objective, verify=verify
    )
    return _simulate_compiled(accel, compile_graph(graph, accel, options), trace)


def simulate_workloads(
    accel: Accelerator,
    workloads: tuple[Workload, ...],
    source: str,
    options: CompileOptions = CompileOptions(),
    *,
    trace: bool = False,
) -> Simulation:
    """Like `simulate`, for workloads that were lowered once and are reused across chips."""
    return _simulate_compiled(accel, compile_workloads(workloads, source, accel, options), trace)


def _simulate_compiled(accel: Accelerator, compiled: CompiledModel, trace: bool) -> Simulation:
    result = run(compiled.program, compiled.target, resolve(accel, compiled.precision), trace=trace)
    bounds = tuple(lower_bound_cycles(w, compiled.target) for w in compiled.workloads)
    return Simulation(accel, compiled, result, bounds)
