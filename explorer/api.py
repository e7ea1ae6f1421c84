"""The Python API of sweeps: `run_sweep(spec_or_path, out_dir=None, ...) -> pandas.DataFrame`.

`execute_sweep` does the work and also returns the Pareto front and the manifest (what the
`tessera sweep` command prints); `run_sweep` returns just the results table.
"""

from __future__ import annotations

import os
import warnings
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import pandas as pd
from rich.console import Console

import tessera
from accel_spec import load_accelerator
from explorer.evaluator import TEST_EVALUATOR_ENV, TEST_EVALUATOR_OPTIONS_ENV, Evaluator, Outcome
from explorer.executor_kind import ExecutorKind
from explorer.executors import make_executor
from explorer.front import ParetoFront, pareto_front
from explorer.loop import sweep_loop
from explorer.manifest import Manifest, command_line, now
from explorer.model_quality import write_records
from explorer.progress import NullProgress, SweepProgress
from explorer.space import DesignSpace, Point
from explorer.spec import SweepSpec
from explorer.spec_loader import load_sweep
from explorer.store import DirectoryStore, MemoryStore
from explorer.strategies import make_strategy
from explorer.table import Row, column_units, make_row, result_schema
from tessera.errors import InputError, Problem, parse_enum


@dataclass(frozen=True)
class SweepResult:
    """A finished sweep: its spec, every row (trial order), its front, its manifest and folder."""

    spec: SweepSpec
    table: pd.DataFrame
    front: ParetoFront
    manifest: Manifest
    out_dir: Path | None
    surrogate: pd.DataFrame | None = None


def default_evaluator(spec: SweepSpec) -> Evaluator:
    """The simulator (serving each point's decoder in a sweep with a `serving:` block), unless
    the test-only variable TESSERA_TEST_EVALUATOR=fake selects the fake.

    The fake is imported only when selected: no command pays for test-only code.
    """
    selected = os.environ.get(TEST_EVALUATOR_ENV, "")
    if selected == "fake":
        from explorer.fake_evaluator import FakeEvaluator

        return FakeEvaluator.from_json(os.environ.get(TEST_EVALUATOR_OPTIONS_ENV, ""))
    if selected:
        raise InputError(TEST_EVALUATOR_ENV, Problem("", f"unknown test evaluator {selected!r}; the only one is 'fake'"))
    if spec.serving is not None:
        from explorer.serving_evaluator import ServingEvaluator  # imports the whole compiler stack

        return ServingEvaluator(load_accelerator(spec.base), spec.serving)
    from explorer.simulator_evaluator import SimulatorEvaluator  # imports the whole compiler stack

    return SimulatorEvaluator.for_spec(spec, load_accelerator(spec.base))


def _warn(note: str) -> None:
    """The default `notify`: a Python warning, which a script sees and may filter."""
    warnings.warn(note, stacklevel=3)


def _kept(journaled: dict[str, Row], retry_errors: bool, notify: Callable[[str], None]) -> dict[str, Row]:
    """The journaled rows a resume reuses, by point id: all of them, or all but the failed ones."""
    failed = sum(row["status"] == "error" for row in journaled.values())
    if not failed:
        return journaled
    if retry_errors:
        notify(f"retrying the {failed} points that failed in an earlier run")
        return {pid: row for pid, row in journaled.items() if row["status"] != "error"}
    notify(f"keeping the {failed} failed points of an earlier run as they are; --retry-errors evaluates them again")
    return journaled


def execute_sweep(
    spec_or_path: SweepSpec | str | Path,
    out_dir: str | Path | None = None,
    *,
    workers: int | None = None,
    executor: ExecutorKind | str = ExecutorKind.LOCAL,
    scheduler_address: str | None = None,
    evaluator: Evaluator | None = None,
    force_new: bool = False,
    retry_errors: bool = False,
    console: Console | None = None,
    notify: Callable[[str], None] = _warn,
) -> SweepResult:
    """Run (or resume) a sweep; see `run_sweep`. `console` shows a progress bar when given;
    `notify` receives notes on what a resume kept, retried or recovered."""
    kind = parse_enum(ExecutorKind, executor, "executor")
    spec = spec_or_path if isinstance(spec_or_path, SweepSpec) else load_sweep(spec_or_path)
    evaluator = evaluator or default_evaluator(spec)
    space = DesignSpace(spec)
    schema = result_schema(space)
    version = tessera.__version__
    manifest = Manifest.start(spec, evaluator.name, version, command_line(), units=column_units(space))
    folder = Path(out_dir) if out_dir is not None else None
    store = DirectoryStore(folder, schema, manifest, force_new, notify) if folder is not None else MemoryStore(schema)

    def row(point: Point, outcome: Outcome, trial: int) -> dict:
        return make_row(point, outcome, trial, spec, version)

    # The executor first: a --scheduler-address where no scheduler answers, or a model the check
    # refuses, leaves no folder behind.
    with make_executor(kind, workers, scheduler_address) as pool:
        pool.check(evaluator, space)
        with store:
            journaled = _kept(store.existing(), retry_errors, notify)
            progress = SweepProgress(spec.budget, spec.objectives, console) if console else NullProgress()
            strategy = make_strategy(spec, space, evaluator)
            with progress:
                resolved = sweep_loop(space, strategy, evaluator, pool, journaled, store, progress, row)
            records = strategy.model_records()
            if records is not None and folder is not None:
                write_records(folder, records)
            rows = store.results()
            assert len(rows) == resolved, f"{len(rows)} rows stored for {resolved} points resolved"
            table = rows.to_pandas()
            del rows  # the Arrow copy: a long sweep's end holds the table once, not twice
            front = pareto_front(table, spec.objectives, spec.reference)
            started = store.manifest if isinstance(store, DirectoryStore) else manifest
            final = replace(
                started,
                finished=now(),
                points=len(table),
                status_counts=dict(Counter(table["status"])),
                pareto_points=len(front.table),
                hypervolume=front.hypervolume,
                hypervolume_reference=front.reference_by_objective(),
                units=column_units(space),
            )
            store.finish(front.table, final)
    return SweepResult(spec, table, front, final, folder, records)


def run_sweep(
    spec_or_path: SweepSpec | str | Path,
    out_dir: str | Path | None = None,
    *,
    workers: int | None = None,
    executor: ExecutorKind | str = ExecutorKind.LOCAL,
    scheduler_address: str | None = None,
    evaluator: Evaluator | None = None,
    force_new: bool = False,
    retry_errors: bool = False,
) -> pd.DataFrame:
    """Run a sweep and return its results table (one row per point, in trial order).

    `out_dir` None keeps everything in memory; a folder is created, or resumed if it holds an
    interrupted run of the same sweep. `workers` None uses every core; `executor` is local
    (processes), dask (a LocalCluster, or `scheduler_address`) or serial (in this process).
    `evaluator` replaces the simulator (tests use `FakeEvaluator`). `retry_errors` evaluates
    again the points an earlier run recorded as errors (kept otherwise, with a warning). Bad
    input raises `tessera.errors.InputError`.
    """
    return execute_sweep(
        spec_or_path,
        out_dir,
        workers=workers,
        executor=executor,
        scheduler_address=scheduler_address,
        evaluator=evaluator,
        force_new=force_new,
        retry_errors=retry_errors,
    ).table
