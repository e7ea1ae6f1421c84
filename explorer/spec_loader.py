"""Sweep YAML file → `SweepSpec`, or one InputError listing every problem with its line.

A sweep file::

    base: ../accelerators/edge.yaml            # chip file, relative to this file
    hardware:                                  # chip fields by dotted path (see explorer.axes)
      matrix.rows: [16, 32, 64]
      matrix.cols: =matrix.rows
      buffers.global.capacity: {log_range: [256 KiB, 2 MiB], points: 4}
    models:                                    # see explorer.spec_models
      - mobilenetv2:width: [0.5, 1.0]
        mobilenetv2:resolution: [160, 224]
    schedule: {scheduler: heuristic, precision: int8, batch: [1]}
    objectives: [latency, energy, area]        # explorer.objectives.Objective
    constraints: ["area_mm2 <= 50"]
    strategy: grid                             # grid | random | lhs | nsga2 | surrogate
    population: 16                             # nsga2 generation size; surrogate batch size
    budget: 200                                # distinct points (default for grid: all)
    seed: 0
    reference: {latency: 0.1, energy: 0.01, area: 60}   # optional hypervolume reference
    serving: {requests: 32, prompt_len: 64-128, output_len: 16-32}  # optional: see explorer.spec_serving

Everything is checked before any point runs: the structure, every axis path against the base
chip, every value's unit, every model, and finally the chip of the first point is built with
`accel_spec.with_overrides`, so whole-chip checks apply too.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictInt, ValidationError

from accel_spec import load_accelerator, spec_hash, with_overrides
from accel_spec.schema import Accelerator
from explorer.accuracy import accuracy_top1
from explorer.objectives import Constraint, Objective
from explorer.spec import HardwareAxis, StrategyKind, SweepSpec
from explorer.spec_hardware import override_value, resolve_hardware
from explorer.spec_models import resolve_models, resolve_schedule
from explorer.spec_serving import resolve_serving, serving_model_problems
from accel_spec.yaml_lines import Loc, dotted, line_of
from explorer.yaml_source import read_yaml
from tessera.errors import InputError, Problem


MAX_BUDGET = 1_000_000
"""Most points one sweep evaluates: every row is held in memory and journaled (about 1 KiB
each), and a million points is days of simulation on one machine."""

MAX_SURROGATE_SPACE = 2**63 - 1
"""Most points a space searched by the surrogate may have: it numbers them with int64 indices."""

MAX_SEED = 2**32 - 1
"""Largest seed: NumPy's and Optuna's NSGA-II seeding take 32-bit seeds."""


def _constraint(value: Any) -> Any:
    return Constraint.parse(value) if isinstance(value, str) else value


class _SweepFile(BaseModel):
    """The top level of a sweep file as written (sections checked further by their modules)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    base: str
    hardware: dict[str, Any] = Field(default_factory=dict)
    models: Any
    schedule: dict[str, Any] = Field(default_factory=dict)
    objectives: list[Objective] = Field(min_length=1)
    constraints: list[Annotated[Constraint, BeforeValidator(_constraint)]] = Field(default_factory=list)
    strategy: StrategyKind = StrategyKind.GRID
    population: StrictInt = Field(default=16, ge=2, le=MAX_BUDGET)
    budget: StrictInt | None = Field(default=None, ge=1, le=MAX_BUDGET)
    seed: StrictInt = Field(default=0, ge=0, le=MAX_SEED)
    reference: dict[Objective, float] | None = None
    serving: Any = None


def load_sweep(path: str | Path) -> SweepSpec:
    """Read and validate a sweep file (see the module docstring for its format)."""
    path = Path(path)
    data, lines = read_yaml(path)
    problems: list[Problem] = []

    def add(loc: Loc, message: str) -> None:
        problems.append(Problem(dotted(loc), message, line_of(loc, lines)))

    header = _header(data, add)
    base = _base_chip(data.get("base"), path, add)
    hardware: tuple[HardwareAxis, ...] = ()
    if base is not None and isinstance(data.get("hardware", {}), dict):
        hardware, found = resolve_hardware(data.get("hardware") or {}, base)
        for loc, message in found:
            add(("hardware", *loc), message)
    models, model_axes, found = resolve_models(data.get("models"), path.parent)
    for loc, message in found:
        add(("models", *loc), message)
    schedule, found = resolve_schedule(data.get("schedule"))
    for loc, message in found:
        add(("schedule", *loc), message)
    serving, found = resolve_serving(data.get("serving"))
    for loc, message in found:
        add(("serving", *loc), message)
    if serving is not None:
        for loc, message in serving_model_problems(data.get("models"), tuple(v.spec for v in models)):
            add(("models", *loc), message)
        schedule_keys = data.get("schedule") if isinstance(data.get("schedule"), dict) else {}
        for key in sorted(set(schedule_keys) - {"precision"}):
            add(("schedule", key), "a serving sweep compiles every prefill and decode step with the compiler's "
                "defaults, as `tessera serve` does; only a precision axis applies (`tessera serve --precision`)")
    if header is not None:
        _check_header(header, add)
        _check_serving_metrics(header, "serving" in data, add)
    if problems or header is None or base is None:
        raise InputError(str(path), problems)
    _check_first_point(base, hardware, path, lines)
    _check_accuracy_known(header.objectives, models, path, lines)
    _check_onnx_batches(models, schedule["batch"], path, lines)
    size = math.prod(len(a.values) for a in hardware if a.tied_to is None) * len(models) * math.prod(
        len(v) for v in schedule.values()
    )
    if header.strategy is StrategyKind.SURROGATE and size > MAX_SURROGATE_SPACE:
        message = (f"the space has {size:,} points; the surrogate strategy numbers points with signed 64-bit "
                   "integers (at most 2^63 - 1): use strategy random, lhs or nsga2, or fewer values per axis")
        raise InputError(str(path), Problem("strategy", message, line_of(("strategy",), lines)))
    if header.budget is None and size > MAX_BUDGET:
        message = (f"the grid has {size:,} points, more than the {MAX_BUDGET:,} a sweep evaluates; give a "
                   "budget, or sample the space with strategy random, lhs, nsga2 or surrogate")
        raise InputError(str(path), Problem("budget", message, line_of(("strategy",), lines)))
    reference = tuple(header.reference[o] for o in header.objectives) if header.reference else None
    return SweepSpec(
        source=str(path),
        base=str(Path(path.parent, header.base).resolve()),
        base_hash=spec_hash(base),
        model_root=str(path.parent.resolve()),
        hardware=hardware,
        models=models,
        model_axes=model_axes,
        schedulers=schedule["scheduler"],
        precisions=schedule["precision"],
        batches=schedule["batch"],
        timings=schedule["timing"],
        weight_modes=schedule["weights"],
        schedule_objectives=schedule["objective"],
        objectives=tuple(header.objectives),
        constraints=tuple(header.constraints),
        strategy=header.strategy,
        population=header.population,
        budget=min(header.budget or size, size),
        seed=header.seed,
        reference=reference,
        serving=serving,
    )


def _header(data: dict[str, Any], add) -> _SweepFile | None:
    try:
        return _SweepFile.model_validate(data)
    except ValidationError as error:
        for err in error.errors():
            loc = tuple(err["loc"])
            if err["type"] == "extra_forbidden":
                add(loc, f"unknown key; allowed: {', '.join(_SweepFile.model_fields)}")
            elif err["type"] == "missing":
                add(loc, "missing required key")
            elif loc[:1] != ("schedule",):  # the schedule section reports its own shape
                got = "" if err["type"] == "value_error" else f" (got {err.get('input')!r})"
                add(loc, str(err["msg"]).removeprefix("Value error, ") + got)
        return None


def _check_header(header: _SweepFile, add) -> None:
    if len(set(header.objectives)) != len(header.objectives):
        add(("objectives",), "an objective is listed twice")
    if header.strategy is not StrategyKind.GRID and header.budget is None:
        add(("budget",), f"required for strategy {header.strategy.value}: the number of points to evaluate")
    if header.reference is not None:
        if set(header.reference) != set(header.objectives):
            add(("reference",), "give one value for each objective: " + ", ".join(o.value for o in header.objectives))
        for objective, value in header.reference.items():
            if not math.isfinite(value):
                add(("reference", objective.value), "must be a finite number")


def _check_serving_metrics(header: _SweepFile, serving: bool, add) -> None:
    """Every objective and constraint must read a column the sweep reports: serving metrics
    only with a `serving:` block, one-inference metrics (latency, energy, ...) only without."""
    why = ("is a serving metric: add a serving: block" if not serving
           else "is not measured by a serving sweep (its columns: area and the serving metrics)")
    for index, objective in enumerate(header.objectives):
        if not objective.available(serving):
            add(("objectives", index), f"{objective.value} {why}")
    for index, constraint in enumerate(header.constraints):
        if not constraint.available(serving):
            add(("constraints", index), f"{constraint.metric} {why}")


def _base_chip(written: Any, path: Path, add) -> Accelerator | None:
    if not isinstance(written, str):
        return None  # reported by the header check
    try:
        return load_accelerator(path.parent / written)
    except InputError as error:
        add(("base",), f"cannot use chip {written}: {error.render()}")
        return None


def _check_accuracy_known(objectives, models, path: Path, lines) -> None:
    """Optimising accuracy needs a published figure for every variant: refuse before any point runs."""
    if Objective.ACCURACY not in objectives:
        return
    unknown = [variant.spec for variant in models if math.isnan(accuracy_top1(variant.spec))]
    if unknown:
        message = (
            "objective accuracy needs a published top-1 accuracy for every model variant; there is "
            f"no published top-1 accuracy for: {', '.join(unknown)} (known: MobileNetV2 width x resolution of its checkpoint "
            "table, ResNet-18..152 at 224)"
        )
        raise InputError(str(path), Problem("objectives", message, line_of(("objectives",), lines)))


def _check_onnx_batches(models, batches, path: Path, lines) -> None:
    """Every ONNX variant must take every batch of the sweep: a static batch is refused here,
    before any point runs, rather than giving rows labelled with a batch that did not run."""
    from compiler.models import load_model, looks_like_file  # the ONNX frontend, only when needed

    wanted = [batch for batch in batches if batch is not None]
    problems = []
    for variant in models:
        if not wanted or not looks_like_file(variant.spec):
            continue
        for batch in wanted:
            try:
                load_model(str(path.parent / variant.spec), batch=batch)
            except InputError as error:
                reasons = "; ".join(problem.render() for problem in error.problems)
                problems.append(Problem("schedule.batch", f"model {variant.spec}: {reasons}", line_of(("schedule", "batch"), lines)))
                break
    if problems:
        raise InputError(str(path), problems)


def _check_first_point(base: Accelerator, hardware: tuple[HardwareAxis, ...], path: Path, lines) -> None:
    """Build the chip of the first point, so whole-chip checks run before any point does."""
    overrides = {axis.path: override_value(axis.values[0], axis.dimension) for axis in hardware}
    try:
        with_overrides(base, overrides, source=str(path))
    except InputError as error:
        problems = []
        for problem in error.problems:
            loc: Loc = ("hardware", problem.location) if problem.location in overrides else ("hardware",)
            message = problem.message if len(loc) == 2 else f"the first point's chip is invalid: {problem.render()}"
            problems.append(Problem(dotted(loc), message, line_of(loc, lines)))
        raise InputError(str(path), problems) from None
