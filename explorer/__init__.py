"""Design-space exploration: sweep specs, strategies, executors, results store, Pareto fronts.

`run_sweep(spec_or_path, out_dir=None, workers=..., executor=...) -> pandas.DataFrame` is the
Python API; `tessera sweep` is the command. See `explorer.spec_loader` for the sweep file.
"""

from explorer.api import SweepResult, execute_sweep, run_sweep
from explorer.evaluator import Evaluator, Outcome, Status
from explorer.executors import ExecutorKind
from explorer.objectives import Constraint, Direction, Objective
from explorer.spec import StrategyKind, SweepSpec
from explorer.spec_loader import load_sweep

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
