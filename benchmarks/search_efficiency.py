"""Search efficiency: hypervolume reached vs simulations for grid, random, NSGA-II and surrogate.

On each co-design space of `benchmarks/search_spaces/` (≥ 10,000 points), every point is
simulated once (a grid sweep cached in `benchmarks/.cache/<space>/`, resumable, reused by
later runs) to know the true Pareto front. Each strategy then runs through the real sweep
loop (`explorer.execute_sweep`) with an evaluator that looks results up in that table, so a
"simulation" costs nothing and runs are compared by how many they need.

Hypervolume is measured in log objective space, normalised per objective between the best
value of the space (0) and the worst value on the true front (1), against the reference point
1.1 in every objective (10 % beyond the true front's nadir): the volume near the front, where
search strategies differ, rather than the huge region every sample dominates in natural units.
A strategy "reaches 95 %" at the first evaluation count whose points dominate 95 % of the true
front's hypervolume. Medians over --seeds seeds (grid is deterministic: one run).

Also printed: the surrogate's held-out prediction quality, fitting its models on the points one
surrogate run evaluated and predicting every other point of the space (true held-out data).

    python benchmarks/search_efficiency.py [--seeds 5] [--surrogate-budget 400] [--nsga2-budget 1000] [--spaces NAME ...]
"""

from __future__ import annotations

import argparse
import statistics
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from rich.console import Console
from rich.table import Table

from explorer import execute_sweep, load_sweep
from explorer.evaluator import Evaluator, Outcome, Status
from explorer.model_quality import quality
from explorer.objectives import METRIC_COLUMNS, minimization_matrix
from explorer.pareto import hypervolume, pareto_mask
from explorer.space import DesignSpace, Point
from explorer.spec import StrategyKind, SweepSpec
from explorer.surrogate import sweep_features, xgboost_factory

ROOT = Path(__file__).resolve().parent
SPACES = (ROOT / "search_spaces" / "edge_mobilenet.yaml", ROOT / "search_spaces" / "gemmini_bert.yaml")
CACHE = ROOT / ".cache"
TARGET = 0.95
CHECKPOINTS = (50, 100, 200, 400, 800, 1600, 3200, 6400)


@dataclass(frozen=True)
class TableEvaluator(Evaluator):
    """Results of the exhaustive table, by point id: a simulation that costs a dictionary look-up."""

    outcomes: dict[str, Outcome]
    name: str = "exhaustive-table"

    def run(self, point: Point) -> Outcome:
        return self.outcomes[point.point_id]


def exhaustive_table(path: Path, console: Console) -> tuple[SweepSpec, pd.DataFrame]:
    """Every point of the space, simulated (or read back from the cache)."""
    spec = load_sweep(path)
    folder = CACHE / path.stem
    started = time.perf_counter()
    result = execute_sweep(spec, folder, workers=2, console=console)
    console.print(f"{path.stem}: {len(result.table)} points simulated or read from {folder} in {time.perf_counter() - started:.0f} s")
    return spec, result.table


def outcomes_of(table: pd.DataFrame) -> dict[str, Outcome]:
    metrics = list(METRIC_COLUMNS)
    outcomes = {}
    for row in table.to_dict("records"):
        values = {m: row[m] for m in metrics if m in row} if row["status"] == "ok" else {}
        outcomes[row["point_id"]] = Outcome(Status(row["status"]), row["reason"] or "", values, row["spec_hash"])
    return outcomes


@dataclass(frozen=True)
class Scale:
    """The normalisation of the module docstring: log objectives, 0 = best, 1 = true front's worst."""

    low: np.ndarray
    high: np.ndarray
    true_volume: float

    def volume(self, minimised: np.ndarray) -> float:
        points = (np.log(minimised) - self.low) / (self.high - self.low)
        return hypervolume(points, np.full(len(self.low), 1.1)) if len(points) else 0.0


def scale_of(spec: SweepSpec, table: pd.DataFrame) -> Scale:
    matrix = _feasible(spec, table)
    logged = np.log(matrix)
    front = logged[pareto_mask(logged)]
    low, high = logged.min(axis=0), front.max(axis=0)
    partial = Scale(low, high, 1.0)
    return Scale(low, high, partial.volume(matrix[pareto_mask(matrix)]))


def _feasible(spec: SweepSpec, table: pd.DataFrame) -> np.ndarray:
    ok = table[(table["status"] == "ok") & table["constraints_ok"].astype(bool)]
    return minimization_matrix(ok, spec.objectives)


def evaluations_to_target(spec: SweepSpec, rows: pd.DataFrame, scale: Scale) -> int | None:
    """Fewest leading rows (trial order) whose front reaches TARGET of the true hypervolume."""
    rows = rows.sort_values("trial", kind="stable")

    def reached(n: int) -> bool:
        return scale.volume(_feasible(spec, rows.iloc[:n])) >= TARGET * scale.true_volume

    if not reached(len(rows)):
        return None
    low, high = 1, len(rows)
    while low < high:  # hypervolume grows with n: binary search
        middle = (low + high) // 2
        low, high = (low, middle) if reached(middle) else (middle + 1, high)
    return low


def curve(spec: SweepSpec, rows: pd.DataFrame, scale: Scale) -> dict[int, float]:
    rows = rows.sort_values("trial", kind="stable")
    return {n: scale.volume(_feasible(spec, rows.iloc[:n])) / scale.true_volume for n in CHECKPOINTS if n <= len(rows)}


def run_strategy(spec: SweepSpec, evaluator: Evaluator, kind: StrategyKind, budget: int, seed: int, population: int):
    variant = spec.model_copy(update={"strategy": kind, "budget": min(budget, DesignSpace(spec).size), "seed": seed,
                                      "population": population})
    started = time.perf_counter()
    result = execute_sweep(variant, evaluator=evaluator, executor="serial")
    return result, time.perf_counter() - started


def held_out_quality(spec: SweepSpec, table: pd.DataFrame, evaluated: pd.DataFrame) -> dict[str, float]:
    """Spearman of models fit on `evaluated` over every other feasible point of the space."""
    space = DesignSpace(spec)
    indices = np.stack(np.unravel_index(np.arange(space.size), [axis.size for axis in space.axes]), axis=1)
    ids = [space.point(tuple(int(v) for v in row)).point_id for row in indices]
    features = sweep_features(spec, space).features(indices)
    position = {pid: i for i, pid in enumerate(ids)}
    ok = table[table["status"] == "ok"]
    seen = set(evaluated["point_id"])
    train = ok[ok["point_id"].isin(seen)]
    test = ok[~ok["point_id"].isin(seen)]
    result = {}
    for objective in spec.objectives:
        model = xgboost_factory("regression", 0)
        model.fit(features[[position[p] for p in train["point_id"]]], np.log(objective.values(train)))
        predicted = np.exp(model.predict(features[[position[p] for p in test["point_id"]]]))
        result[objective.value] = quality(predicted, objective.values(test))
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--surrogate-budget", type=int, default=400)
    parser.add_argument("--nsga2-budget", type=int, default=1000)
    parser.add_argument("--batch", type=int, default=16, help="surrogate batch size (population)")
    parser.add_argument("--nsga2-population", type=int, default=32)
    parser.add_argument("--spaces", nargs="+", default=[p.stem for p in SPACES], help="space names to run")
    args = parser.parse_args()
    console = Console(highlight=False, width=160)
    for path in (p for p in SPACES if p.stem in args.spaces):
        spec, table = exhaustive_table(path, console)
        scale = scale_of(spec, table)
        evaluator = TableEvaluator(outcomes_of(table))
        size = DesignSpace(spec).size
        plans = [
            ("grid", StrategyKind.GRID, size, [0], args.batch),
            ("random", StrategyKind.RANDOM, size, range(args.seeds), args.batch),
            ("nsga2", StrategyKind.NSGA2, args.nsga2_budget, range(args.seeds), args.nsga2_population),
            ("surrogate", StrategyKind.SURROGATE, args.surrogate_budget, range(args.seeds), args.batch),
        ]
        summary = Table(title=f"{path.stem}: {size} points, objectives {', '.join(o.value for o in spec.objectives)}; "
                              f"hypervolume reached (fraction of the true front's) vs simulations, median over seeds")
        for column in ("strategy", "budget", *(str(n) for n in CHECKPOINTS), f"sims to {TARGET:.0%} (median)", "per seed", "s/run"):
            summary.add_column(column, justify="left" if column == "strategy" else "right")
        needed: dict[str, float] = {}
        surrogate_rows = None
        for name, kind, budget, seeds, population in plans:
            curves, reach, seconds = [], [], []
            for seed in seeds:
                result, elapsed = run_strategy(spec, evaluator, kind, budget, seed, population)
                curves.append(curve(spec, result.table, scale))
                reach.append(evaluations_to_target(spec, result.table, scale))
                seconds.append(elapsed)
                if kind is StrategyKind.SURROGATE and surrogate_rows is None:
                    surrogate_rows = result.table
            cells = []
            for n in CHECKPOINTS:
                values = [c[n] for c in curves if n in c]
                cells.append(f"{statistics.median(values):.3f}" if len(values) == len(curves) else "")
            median = statistics.median(r if r is not None else float("inf") for r in reach)
            needed[name] = median
            summary.add_row(name, str(min(budget, size)), *cells,
                            "not reached" if median == float("inf") else f"{median:.0f}",
                            " ".join(str(r) if r is not None else "-" for r in reach),
                            f"{statistics.median(seconds):.1f}")
        console.print(summary)
        surrogate = needed["surrogate"]
        console.print(f"{path.stem}: surrogate needs {surrogate:.0f} simulations for {TARGET:.0%}; random {needed['random']:.0f} "
                      f"(ratio {needed['random'] / surrogate:.1f}x, target ≥ 10x); NSGA-II {needed['nsga2']} "
                      f"(ratio {needed['nsga2'] / surrogate:.1f}x, target > 1x)")
        if surrogate_rows is not None:
            for objective, metrics in held_out_quality(spec, table, surrogate_rows).items():
                console.print(f"{path.stem}: surrogate trained on seed 0's {len(surrogate_rows)} points, "
                              f"{objective} on the other points: {metrics.describe()}")


if __name__ == "__main__":
    main()
