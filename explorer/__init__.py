"""Design-space exploration: sweep specs, strategies, executors, results store, Pareto fronts.

`run_sweep(spec_or_path, out_dir=None, workers=..., executor=...) -> pandas.DataFrame` is the
Python API; `tessera sweep` is the command. See `explorer.spec_loader` for the sweep file.

The names below are imported on first use, so that a module of this package (the results
table, the manifest, a report reading them) can be imported without the whole sweep stack.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_EXPORTS = {
    "Constraint": "explorer.objectives",
    "Direction": "explorer.objectives",
    "Evaluator": "explorer.evaluator",
    "ExecutorKind": "explorer.executor_kind",
    "Objective": "explorer.objectives",
    "Outcome": "explorer.evaluator",
    "Status": "explorer.evaluator",
    "StrategyKind": "explorer.spec",
    "SweepResult": "explorer.api",
    "SweepSpec": "explorer.spec",
    "execute_sweep": "explorer.api",
    "load_sweep": "explorer.spec_loader",
    "run_sweep": "explorer.api",
}

__all__ = [
    "Constraint",
    "Direction",
    "Evaluator",
    "ExecutorKind",
    "Objective",
    "Outcome",
    "Status",
    "StrategyKind",
    "SweepResult",
    "SweepSpec",
    "execute_sweep",
    "load_sweep",
    "run_sweep",
]

if TYPE_CHECKING:
    from explorer.api import SweepResult, execute_sweep, run_sweep
    from explorer.evaluator import Evaluator, Outcome, Status
    from explorer.executor_kind import ExecutorKind
    from explorer.objectives import Constraint, Direction, Objective
    from explorer.spec import StrategyKind, SweepSpec
    from explorer.spec_loader import load_sweep


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'explorer' has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name]), name)
