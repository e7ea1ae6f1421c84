"""The real evaluator: build the point's chip, compile the model for it, simulate.

Lowering a model does not depend on the chip, so each worker process lowers every
(model, batch) once and keeps it in an LRU cache; a point then costs only chip validation,
scheduling, code generation and simulation. The cache lives as long as the worker process,
so its key (model spec, batch, model folder) is everything lowering depends on. Before the
first point, `check` loads, lowers and compiles every model variant once, so a model that
cannot work stops the sweep with exit 2 instead of filling it with error rows. A local sweep
runs it in every worker at once (`explorer.executors.LocalExecutor.check`), where it also
lowers the models that worker's points need; other executors run it in the main process.

The compile stack is imported where a point or the check first needs it, not with this module:
a local sweep's main process makes the evaluator and sends it to its workers (whose fork server
has imported the stack, `explorer.kernel_warmup`), and importing the stack there cost some 37 ms
before the first worker could start.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from accel_spec import resolve, spec_hash, with_overrides
from accel_spec.schema import Accelerator
from accel_spec.precision import PrecisionAssignment, unsupported
from compiler.models import load_model, looks_like_file
from explorer.accuracy import ACCURACY_COLUMN, accuracy_top1
from explorer.evaluator import Evaluator, Outcome, Status
from explorer.space import DesignSpace, Point
from explorer.spec import SweepSpec
from tessera.errors import InputError, Problem

if TYPE_CHECKING:
    from compiler.pipeline import CompileOptions
    from compiler.workload import Workload

LOWERED_CACHE_SIZE = 16


@functools.lru_cache(maxsize=LOWERED_CACHE_SIZE)
def lowered_model(model: str, batch: int | None, model_root: str) -> tuple[tuple[Workload, ...], str]:
    """Workloads and source name of a model variant (ONNX paths relative to `model_root`)."""
    from compiler.lowering import lower

    target = str(Path(model_root, model)) if looks_like_file(model) else model
    graph = load_model(target, batch=batch)
    return lower(graph), graph.source


def point_chip(base: Accelerator, point: Point) -> Accelerator:
    """The base chip with a point's overrides; InputError naming the point when they make it invalid."""
    return with_overrides(base, dict(point.overrides), source=f"point {point.point_id}")


def compile_options(point: Point) -> CompileOptions:
    """The compiler options a point's schedule columns name."""
    from compiler.memory.planner import WeightResidency
    from compiler.pipeline import CompileOptions
    from compiler.scheduling import SchedulerKind
    from compiler.scheduling.objective import Objective
    from compiler.target import TimingMode

    return CompileOptions(
        precision=PrecisionAssignment.parse(point.precision) if point.precision else None,
        scheduler=SchedulerKind(point.scheduler),
        timing=TimingMode(point.timing),
        weights=WeightResidency(point.weights),
        objective=Objective(point.objective),
    )


def unsupported_precision(accel: Accelerator, options: CompileOptions) -> str | None:
    """Why the chip's array cannot run the point's precision (`accel_spec.precision.unsupported`)."""
    return unsupported(accel, PrecisionAssignment.of(options.precision or accel.matrix.input_precision))


def chip_area_mm2(accel: Accelerator, precision: str | None) -> float:
    """Chip area from the technology tables, as the simulator reports it (`area_mm2`), at the
    format the array multiplies in for a point's `precision` label (None: the chip's)."""
    compute = PrecisionAssignment.parse(precision).compute if precision else None
    return sum(square_metres * 1e6 for square_metres in resolve(accel, compute).area.values())


@dataclass(frozen=True)
class SimulatorEvaluator(Evaluator):
    """Compile + simulate on the base chip with the point's overrides."""

    base: Accelerator
    model_root: str
    name: str = "simulator"

    @classmethod
    def for_spec(cls, spec: SweepSpec, base: Accelerator) -> "SimulatorEvaluator":
        """The evaluator of a sweep whose base chip is `base`."""
        return cls(base=base, model_root=spec.model_root)

    def check(self, space: DesignSpace) -> None:
        """Load and lower every model variant at every batch once, and compile each for the
        first point's chip: a model that cannot be read, or whose program for that chip would
        not fit this machine's memory (`tessera.api.check_program_fits`) or cannot be built,
        is exit 2 before the first point instead of a sweep of error rows."""
        from compiler.pipeline import compile_workloads
        from compiler.scheduling import InfeasibleSchedule
        from tessera.api import check_program_fits

        spec = space.spec
        first = space.point((0,) * len(space.axes))
        chip = with_overrides(self.base, dict(first.overrides), source=spec.source)
        options = compile_options(first)
        if unsupported_precision(chip, options) is not None:
            return  # that point is infeasible (`run`); the models are read and checked there
        for variant in spec.models:
            for batch in spec.batches:
                label = variant.spec if batch is None else f"{variant.spec} at batch {batch}"
                try:
                    workloads, source = lowered_model(variant.spec, batch, self.model_root)
                    check_program_fits(workloads, chip, options, source)
                    compile_workloads(workloads, source, chip, options)
                except InfeasibleSchedule:
                    continue  # this chip is too small for it; others may not be
                except InputError as error:
                    raise InputError(spec.source, Problem("models", f"{label}: {error.render()}")) from None
                except (MemoryError, OverflowError) as error:
                    message = (f"{label} is too big to compile even for the first point's chip "
                               f"({type(error).__name__}: {error})")
                    raise InputError(spec.source, Problem("models", message)) from None

    def run(self, point: Point) -> Outcome:
        from compiler.scheduling import InfeasibleSchedule
        from tessera.api import simulate_workloads

        try:
            accel = point_chip(self.base, point)
        except InputError as error:
            return Outcome(Status.INFEASIBLE, f"invalid chip: {error.render()}")
        chip = spec_hash(accel)
        workloads, source = lowered_model(point.model, point.batch, self.model_root)
        options = compile_options(point)
        problem = unsupported_precision(accel, options)
        if problem is not None:
            return Outcome(Status.INFEASIBLE, f"matrix.precisions: {problem}", spec_hash=chip)
        try:
            simulation = simulate_workloads(accel, workloads, source, options)
        except InfeasibleSchedule as error:
            return Outcome(Status.INFEASIBLE, str(error), spec_hash=chip)
        metrics = {**simulation.summary(), ACCURACY_COLUMN: accuracy_top1(point.model)}
        return Outcome(Status.OK, metrics=metrics, spec_hash=chip)

    def analytic(self, point: Point) -> dict[str, float]:
        """Chip area from the technology tables (what the simulator reports) and the published
        accuracy; an invalid chip gives NaN area (the point will be infeasible)."""
        try:
            accel = point_chip(self.base, point)
        except InputError:
            area = math.nan
        else:
            area = chip_area_mm2(accel, point.precision)
        return {"area_mm2": area, ACCURACY_COLUMN: accuracy_top1(point.model)}
