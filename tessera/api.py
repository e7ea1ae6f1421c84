"""The Python API: `simulate(accel, model) -> Simulation`, what `tessera simulate` prints.

A Simulation joins the compiled model (workloads, schedules, program) with the simulator's
result and each layer's roofline lower bound, and renders the JSON document of docs/results.md.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from accel_spec import load_accelerator
from accel_spec.schema import Accelerator
from accel_spec.precision import PrecisionAssignment, unsupported
from accel_spec.technology import resolve
from accel_spec.types import Precision
from compiler.graph import Graph
from compiler.models import load_model
from accel_spec.units import Dimension, format_quantity
from compiler.lowering import lower
from compiler.pipeline import CompiledModel, CompileOptions, compile_workloads
from compiler.program_bound import BYTES_PER_INSTRUCTION, instruction_ceiling, layer_bounds, physical_memory_bytes
from compiler.roofline import lower_bound_cycles
from compiler.memory.chains import Fusion
from compiler.memory.planner import WeightResidency
from compiler.scheduling import SchedulerKind
from compiler.scheduling.objective import Objective
from compiler.scheduling.simulated import network_result
from compiler.target import LEVEL_DRAM, Target, TimingMode
from compiler.workload import Workload
from simulator import SimResult, run
from tessera.errors import InputError, Problem, parse_enum


@dataclass(frozen=True)
class Simulation:
    """One network simulated on one chip, with the fraction of its input activations that are
    zero (`activation_zeros`: what a chip gating zero inputs saves energy on)."""

    accel: Accelerator
    compiled: CompiledModel
    result: SimResult
    activation_zeros: float = 0.0

    @cached_property
    def lower_bounds(self) -> tuple[int, ...]:
        """Each layer's physical lower bound in cycles (`compiler.roofline`), found on first
        read: a sweep point reads only the `summary`."""
        return tuple(lower_bound_cycles(w, self.compiled.target) for w in self.compiled.workloads)

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
        """The `tessera simulate --json` document (docs/results.md)."""
        options = self.compiled.options
        document: dict[str, Any] = {
            "model": self.compiled.source,
            "accelerator": self.accel.name,
            "precision": self.compiled.formats.label,
            **self.summary(),
            "sram_read_bytes": dict(self.result.total.sram_read_bytes),
            "sram_write_bytes": dict(self.result.total.sram_write_bytes),
            "energy_breakdown_j": dict(self.result.energy_breakdown),
            "area_breakdown_mm2": dict(self.result.area_breakdown_mm2),
            "technology_sources": dict(self.result.technology_sources),
            "scheduler": options.scheduler.value,
            "timing": options.timing.value,
            "objective": options.objective.value,
            "weights": options.weights.value,
            "fusion": options.fusion.value,
            "activation_zeros": self.activation_zeros,
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
        "dataflow": schedule.dataflow.label if schedule.dataflow is not None else None,
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
    precision: PrecisionAssignment | Precision | str | None = None,
    scheduler: SchedulerKind | str = SchedulerKind.HEURISTIC,
    timing: TimingMode | str = TimingMode.TESSERA,
    objective: Objective | str = Objective.LATENCY,
    weights: WeightResidency | str = WeightResidency.STREAMED,
    fusion: Fusion | str = Fusion.AUTO,
    trace: bool = False,
    verify: bool = False,
    activation_zeros: float = 0.0,
) -> Simulation:
    """Compile a network for a chip and simulate it.

    `accel` is an Accelerator or the path of a chip YAML; `model` a Graph, an `.onnx` path or a
    zoo spec; `precision` a `PrecisionAssignment`, a `Precision` or their spelling (``"int8"``,
    ``"w4a16kv8"``: `accel_spec.precision`); `scheduler`, `timing`, `objective`, `weights` and
    `fusion` their enum or its name (``"exhaustive"``, ``"scalesim"``, ``"energy"``,
    ``"resident"``, ``"none"``).
    `activation_zeros` is the fraction of input activations that are zero, in [0, 1) (0: dense);
    it is data, not chip, and saves energy only on a chip whose `matrix.gates_zero_inputs` is
    set (`simulator.energy`). Bad input raises `tessera.errors.InputError`.
    """
    options = CompileOptions(
        precision=None if precision is None else parse_precision(precision, "precision"),
        scheduler=parse_enum(SchedulerKind, scheduler, "scheduler"),
        timing=parse_enum(TimingMode, timing, "timing"),
        objective=parse_enum(Objective, objective, "objective"),
        weights=parse_enum(WeightResidency, weights, "weights"),
        fusion=parse_enum(Fusion, fusion, "fusion"),
        verify=_flag(verify, "verify"),
    )
    trace = _flag(trace, "trace")
    zeros = zero_fraction(activation_zeros, "activation_zeros")
    if batch is not None and (isinstance(batch, bool) or not isinstance(batch, int) or batch < 1):
        raise InputError("batch", Problem("", f"expected a whole number ≥ 1, got {batch!r}"))
    source = f"accelerator {accel.name!r}" if isinstance(accel, Accelerator) else str(accel)
    if not isinstance(accel, Accelerator):
        accel = load_accelerator(accel)
    problem = unsupported(accel, PrecisionAssignment.of(options.precision or accel.matrix.input_precision))
    if problem is not None:
        raise InputError(source, Problem("matrix.precisions", problem))
    if isinstance(model, Graph):
        if batch is not None or input_shapes:
            raise InputError("batch", Problem("", "batch and input_shapes apply to a model name or file, not to a Graph"))
        graph = model
    else:
        graph = load_model(model, batch=batch, input_shapes=input_shapes)
    workloads = lower(graph)
    check_program_fits(workloads, accel, options, graph.source)
    compiled = compile_workloads(workloads, graph.source, accel, options)
    return _simulate_compiled(accel, compiled, trace, source, zeros)


def parse_precision(value: object, keyword: str) -> PrecisionAssignment:
    """`PrecisionAssignment.of(value)`, or an InputError naming `keyword` and the allowed forms."""
    try:
        return PrecisionAssignment.of(value)  # type: ignore[arg-type]
    except (ValueError, TypeError) as error:
        raise InputError(keyword, Problem("", str(error))) from None


def _flag(value: object, keyword: str) -> bool:
    if not isinstance(value, bool):
        raise InputError(keyword, Problem("", f"expected True or False, got {value!r}"))
    return value


def zero_fraction(value: object, source: str, field: str = "") -> float:
    """`value` as a fraction of zero activations, a real number in [0, 1); InputError naming
    `source` (and `field` in it) otherwise. 1 is refused: all-zero inputs need no simulation."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < 1:
        raise InputError(source, Problem(field, f"expected a fraction of zero activations in [0, 1), got {value!r}"))
    return float(value)


def simulate_workloads(
    accel: Accelerator,
    workloads: tuple[Workload, ...],
    source: str,
    options: CompileOptions = CompileOptions(),
    *,
    trace: bool = False,
) -> Simulation:
    """Like `simulate`, for workloads that were lowered once and are reused across chips."""
    check_program_fits(workloads, accel, options, source)
    compiled = compile_workloads(workloads, source, accel, options)
    return _simulate_compiled(accel, compiled, trace, f"accelerator {accel.name!r}")


def check_program_fits(workloads: tuple[Workload, ...], accel: Accelerator, options: CompileOptions, model: str) -> None:
    """Refuse a model whose program cannot fit in this machine's memory (`compiler.program_bound`)."""
    memory = physical_memory_bytes()
    if memory is None:
        return
    precision = PrecisionAssignment.of(options.precision or accel.matrix.input_precision)
    if instruction_ceiling(workloads, accel, precision) * BYTES_PER_INSTRUCTION <= memory:
        return  # every layer's bound together is no more
    bounds = layer_bounds(workloads, accel, precision)
    total = sum(bound.instructions for bound in bounds)
    if total * BYTES_PER_INSTRUCTION <= memory:
        return
    worst = max(bounds, key=lambda bound: bound.instructions)
    message = (
        f"compiles to at least {total:,} instructions ({worst.workload}: {worst.reason}), "
        f"{format_quantity(total * BYTES_PER_INSTRUCTION, Dimension.BYTES)} of program, more than this machine's "
        f"{format_quantity(memory, Dimension.BYTES)} of memory; use smaller layers or larger buffers"
    )
    raise InputError(model, Problem(f"layer {worst.workload!r}", message))


def _simulate_compiled(
    accel: Accelerator, compiled: CompiledModel, trace: bool, source: str, activation_zeros: float = 0.0
) -> Simulation:
    technology = resolve(accel, compiled.precision)
    if trace:
        result = run(compiled.program, compiled.target, technology, trace=True, activation_zeros=activation_zeros)
    else:  # the layers' counts, most of them kept from the search
        names = tuple(w.name for w in compiled.workloads)
        result = network_result(compiled.codes, names, compiled.target, technology, activation_zeros=activation_zeros)
    simulation = Simulation(accel, compiled, result, activation_zeros)
    _check_finite(simulation, source)
    return simulation


_AREA_CONSTANT = {"matrix": "mac_area", "vector": "vector_lane_area"}
_ENERGY_CONSTANT = {"mac": "mac_energy", "dram": "dram_energy_per_bit", "dram_phy": "dram_phy_energy_per_bit",
                    "vector": "vector_op_energy", "leakage": "leakage_power_per_mm2"}


def _check_finite(simulation: Simulation, source: str) -> None:
    """Every figure must be a finite number; one overflows only when a technology override is
    out of range (``mac_energy: 1e300 J``), which is named."""
    result = simulation.result
    for breakdown, culprit in ((result.area_breakdown_mm2, _area_culprit), (result.energy_breakdown, _energy_culprit)):
        for component, value in breakdown.items():
            if not math.isfinite(value):
                raise InputError(source, Problem(culprit(result, component), f"makes the {component} figure {value}: out of range"))
    overflowed = [(name, value) for name, value in simulation.summary().items() if not math.isfinite(value)]
    if overflowed:
        name, value = overflowed[0]
        component = max(result.energy_breakdown, key=lambda c: result.energy_breakdown[c])
        energy = result.energy_breakdown[component]
        message = f"makes {name} {value}: the {component} energy, {energy:.3g} J per run, is out of range"
        raise InputError(source, Problem(_energy_culprit(result, component), message))


def _area_culprit(result: SimResult, component: str) -> str:
    return _location(result, _AREA_CONSTANT.get(component, "sram_area_per_kib"))


def _energy_culprit(result: SimResult, component: str) -> str:
    """The constant behind an energy component; leakage grows with area, so when its density is
    the cited default, the constant behind the largest area component."""
    constant = _ENERGY_CONSTANT.get(component, "sram_energy_per_byte")
    if component == "leakage" and _location(result, constant) == "technology":
        largest = max(result.area_breakdown_mm2, key=lambda c: result.area_breakdown_mm2[c])
        return _area_culprit(result, largest)
    return _location(result, constant)


def _location(result: SimResult, constant: str) -> str:
    """``overrides.<constant>`` when the chip overrides it, else ``technology`` (a cited default)."""
    return f"overrides.{constant}" if result.technology_sources.get(constant, "").startswith("override") else "technology"
