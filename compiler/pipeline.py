"""The compile pipeline in one readable function: graph → workloads → schedules → program.

Each step is a named pure pass in its own module; this function only wires them together,
so the whole path from a network to an instruction stream reads top to bottom. The target
machine is derived from the chip once, here, and every later pass (and the simulator) reads
that one object.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, replace

from accel_spec.precision import PrecisionAssignment, unsupported
from accel_spec.schema import Accelerator
from accel_spec.technology import resolve
from accel_spec.types import Precision
from compiler.codegen.layout import LayerCode
from compiler.codegen.gemm import LAYER_INPUTS
from compiler.codegen.memo import CODE, MeasuredCodes
from compiler.codegen.program import assemble
from compiler.graph import Graph
from compiler.lowering import lower
from compiler.memory.chains import ATTENTION_CHAINS, Decisions, Fusion, fuse_attention
from compiler.memory.conv_chains import CHAIN_RUNS, fuse_convolutions
from compiler.memory.crowding import uncrowd
from compiler.memory.mlp_chains import MLP_CHAINS, fuse_mlps
from compiler.memory.planner import NETWORK_WORKING_SETS, PLACED, WORKING_SETS, MemoryPlan, WeightResidency, needs_room, plan_memory
from compiler.scheduling import LayerSchedule, SchedulerKind, schedule_workloads
from compiler.scheduling.batched import JOINS, SPACES
from compiler.scheduling.conv_chain import clear_chain_caches
from compiler.scheduling.memo import SCHEDULES
from compiler.scheduling.objective import Goal, Objective
from compiler.scheduling.roles import ROLES
from compiler.scheduling.simulated import LAYER_COUNTS
from compiler.scheduling.strategies import VECTOR_TERMS, VECTOR_TILES
from compiler.target import Target, TimingMode, target_of
from compiler.target.isa import Program
from compiler.verify import verify_program
from compiler.workload import Workload
from tessera.errors import InputError, Problem


@dataclass(frozen=True)
class CompileOptions:
    """Everything besides the network and the chip that changes the compiled program.

    Attributes:
        precision: the format of weights, activations and KV cache (a `Precision` means one
            for all); None means the matrix engine's input precision for all.
        scheduler: how tiles, loop order and dataflow are chosen.
        timing: how the array is timed (`TimingMode`): the chip's own pipeline, or
            SCALE-Sim's fold model.
        weights: GEMM weights streamed from DRAM every inference, or kept on chip where
            they fit (`compiler.memory.planner`).
        objective: what each layer's schedule is chosen for: latency, energy or EDP.
        fusion: `Fusion.AUTO` lets the search run an attention chain (QKᵀ → softmax → PV)
            fused, block by block, where that scores better on the objective than its three
            layers (`compiler.memory.chains`), and a chain of two or three convolutions depth
            first, band by band, where that scores better than its layers
            (`compiler.memory.conv_chains`), and an MLP block (up-projection → activation →
            down-projection) band by band of tokens, where that scores better than its
            layers (`compiler.memory.mlp_chains`); `Fusion.NONE` never fuses across layers.
        verify: run `compiler.verify` on the program (always on in tests).
    """

    precision: PrecisionAssignment | Precision | None = None
    scheduler: SchedulerKind = SchedulerKind.HEURISTIC
    timing: TimingMode = TimingMode.TESSERA
    weights: WeightResidency = WeightResidency.STREAMED
    objective: Objective = Objective.LATENCY
    fusion: Fusion = Fusion.AUTO
    verify: bool = False


@dataclass(frozen=True)
class CompiledModel:
    """A network compiled for one chip: the inputs of the simulator plus what produced them.

    `plan.workloads` are the network's workloads as placed on this chip; `schedules` and
    the program's layers follow them one to one.
    """

    source: str
    target: Target
    plan: MemoryPlan
    schedules: tuple[LayerSchedule, ...]
    codes: tuple[LayerCode, ...]
    options: CompileOptions

    @functools.cached_property
    def program(self) -> Program:
        """The layers' code assembled into one program (`codegen.program`), made when first
        read: a result needs only the layers' counts (`scheduling.simulated`), a trace or a
        timeline the whole program."""
        return assemble(list(self.codes), tuple(w.name for w in self.workloads))

    @property
    def workloads(self) -> tuple[Workload, ...]:
        """The planned workloads, one per layer of the program."""
        return self.plan.workloads

    @property
    def precision(self) -> Precision:
        """The format the array multiplied in (`PrecisionAssignment.compute`)."""
        return self.target.operand_precision

    @property
    def formats(self) -> PrecisionAssignment:
        """The format of each operand class the program was compiled for."""
        return self.target.formats


def compile_graph(graph: Graph, accel: Accelerator, options: CompileOptions = CompileOptions()) -> CompiledModel:
    """Lower, schedule and generate code for a whole network."""
    return compile_workloads(lower(graph), graph.source, accel, options)


def compile_workloads(
    workloads: tuple[Workload, ...],
    source: str,
    accel: Accelerator,
    options: CompileOptions = CompileOptions(),
) -> CompiledModel:
    """Schedule and generate code for already-lowered workloads.

    Lowering does not depend on the chip, so a sweep lowers each model variant once and calls
    this for every hardware point. Where kept tensors share a buffer with tiles
    (`memory.planner.needs_room`) the network is scheduled twice: by the estimate alone with
    every tensor in DRAM and unlimited DRAM bandwidth, so the memory planner knows the room
    each layer's tiles want to compute at full speed (whatever the chip's bandwidth, so the
    plan never depends on it and more bandwidth never slows a layer), then as planned.
    """
    target = target_of(accel, options.precision, options.timing)
    problem = unsupported(accel, target.formats)
    if problem is not None:
        raise InputError(f"accelerator {accel.name!r}", Problem("matrix.precisions", problem))
    room = None
    if needs_room(target, options.weights):
        unbounded = replace(target, dram_bytes_per_cycle=math.inf)
        room = schedule_workloads(workloads, unbounded, options.scheduler, goal=None)
    plan = plan_memory(workloads, target, options.weights, room)
    goal = Goal(options.objective, None if options.objective is Objective.LATENCY else resolve(accel, target.operand_precision))

    measured = MeasuredCodes()

    def schedule(planned: tuple[Workload, ...]) -> tuple[LayerSchedule, ...]:
        return schedule_workloads(planned, target, options.scheduler, goal, measured)

    decisions = Decisions(measured)

    def fuse(plan: MemoryPlan, schedules: tuple[LayerSchedule, ...]) -> tuple[MemoryPlan, tuple[LayerSchedule, ...]]:
        """The search's fusion decisions on a planned and scheduled network (`options.fusion`),
        those of the plans weighed before it reused (`chains.Decisions`)."""
        if options.fusion is Fusion.AUTO:
            plan, schedules = fuse_attention(plan, schedules, target, goal, decisions)
            plan, schedules = fuse_convolutions(plan, schedules, target, goal, decisions)
            plan, schedules = fuse_mlps(plan, schedules, target, goal, decisions)
        return plan, schedules

    plan, schedules = uncrowd(
        plan,
        target,
        goal,
        replan=lambda reserve: plan_memory(workloads, target, options.weights, room, reserve),
        schedule=schedule,
        finish=fuse,
        technology=functools.cache(lambda: goal.technology or resolve(accel, target.operand_precision)),
        measured=measured,
    )
    compiled = CompiledModel(source, target, plan, schedules, tuple(measured.codes(plan.workloads, schedules, target)), options)
    if options.verify:
        verify_program(compiled.program, plan.workloads, target)
    return compiled


def clear_compile_caches() -> None:
    """Forget every compile cache of this process (schedules, layer code and its inputs, candidate grids,
    per-tiling terms and their joins and tiling bytes, vector layers' tiles and terms, fused
    chains' bands and footprints and runs, attention chains, MLP blocks, working sets, placed
    layers, layers' counts and roles), so the next compile is cold: for benchmarks and tests
    that measure or check the uncached path. Results never depend on the caches."""
    for cache in (SCHEDULES, CODE, LAYER_INPUTS, SPACES, JOINS, VECTOR_TILES, VECTOR_TERMS, LAYER_COUNTS, WORKING_SETS,
                  NETWORK_WORKING_SETS, PLACED, ROLES, CHAIN_RUNS, ATTENTION_CHAINS, MLP_CHAINS):
        cache.clear()
    clear_chain_caches()
