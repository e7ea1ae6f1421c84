"""Whole sweeps with the fake evaluator: failures recorded, executors agree, strategies run."""

from __future__ import annotations

import gc
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from explorer import run_sweep
from explorer.dask_executor import DaskExecutor
from explorer.evaluator import FULL_COLLECTION_EVERY, YOUNG_COLLECTION_EVERY, Status, evaluate_chunk
from explorer.fake_evaluator import FakeEvaluator
from explorer.objectives import Objective, minimization_matrix
from explorer.pareto import pareto_mask
from explorer.space import DesignSpace
from explorer.spec_loader import load_sweep

TINY = Path(__file__).resolve().parents[2] / "examples" / "accelerators" / "tiny.yaml"
SWEEP = """\
hardware:
  matrix.rows: [2, 4, 8]
  matrix.cols: =matrix.rows
  buffers.inputs.capacity: {log_range: [1 KiB, 8 KiB], points: 4}
  clock: [100 MHz, 200 MHz, 300 MHz]
models: ["gemm:m=16,k=16,n=16", "gemm:m=32,k=32,n=32"]
constraints: ["area_mm2 <= 0.8"]
"""


def spec(tmp_path: Path, extra: str = "", objectives: str = "[latency, energy, area]"):
    path = tmp_path / "sweep.yaml"
    path.write_text(f"base: {TINY}\nobjectives: {objectives}\n" + SWEEP + extra)
    return load_sweep(path)


def test_errors_and_infeasible_points_are_recorded_and_the_sweep_finishes(tmp_path: Path) -> None:
    evaluator = FakeEvaluator(error_when={"matrix.rows": [2]}, infeasible_when={"clock": [3e8]})
    table = run_sweep(spec(tmp_path), evaluator=evaluator, executor="serial")
    assert len(table) == 72 and table["point_id"].is_unique
    errors, infeasible = table[table["status"] == "error"], table[table["status"] == "infeasible"]
    assert len(errors) == 24 and errors["reason"].str.startswith("FakeFailure: told to fail on point").all()
    assert len(infeasible) == 16 and (infeasible["reason"] == "fake: no schedule fits the buffers").all()
    failed = table[table["status"] != "ok"]
    assert failed["latency_s"].isna().all() and not failed["constraints_ok"].any()
    ok = table[table["status"] == "ok"]
    assert (ok["reason"] == "").all() and (ok["constraints_ok"] == (ok["area_mm2"] <= 0.8)).all()
    assert (table["matrix.rows"] == table["matrix.cols"]).all()
    assert table["trial"].tolist() == list(range(72))


def test_front_is_the_nondominated_feasible_rows(tmp_path: Path) -> None:
    from explorer.front import pareto_front

    sweep = spec(tmp_path)
    table = run_sweep(sweep, evaluator=FakeEvaluator(infeasible_when={"clock": [2e8]}), executor="serial")
    front = pareto_front(table, sweep.objectives)
    eligible = table[(table["status"] == "ok") & table["constraints_ok"]]
    expected = eligible[pareto_mask(minimization_matrix(eligible, sweep.objectives))]
    assert set(front.table["point_id"]) == set(expected["point_id"]) and len(front.table) > 1
    assert front.hypervolume > 0 and len(front.reference) == 3


def test_local_processes_give_the_serial_table(tmp_path: Path) -> None:
    sweep = spec(tmp_path)
    serial = run_sweep(sweep, evaluator=FakeEvaluator(), executor="serial")
    local = run_sweep(sweep, workers=2, evaluator=FakeEvaluator(), executor="local")
    pd.testing.assert_frame_equal(serial, local)


def test_dask_local_cluster_gives_the_local_table(tmp_path: Path) -> None:
    sweep = spec(tmp_path)
    local = run_sweep(sweep, workers=2, evaluator=FakeEvaluator(), executor="local")
    dask = run_sweep(sweep, workers=2, evaluator=FakeEvaluator(), executor="dask")
    pd.testing.assert_frame_equal(local, dask)


def test_local_dask_workers_keep_the_allocators_dynamic_thresholds() -> None:
    """The local cluster's workers start without Dask's MALLOC_TRIM_THRESHOLD_, which would pin
    glibc's mmap threshold and slow every compile by about half (`dask_executor`), and with
    the nanny's other settings (one BLAS/OpenMP thread)."""
    with DaskExecutor(1) as executor:
        environ = executor._client.run(lambda: dict(os.environ))
    (worker,) = environ.values()
    assert "MALLOC_TRIM_THRESHOLD_" not in worker and worker["OMP_NUM_THREADS"] == "1"


@pytest.mark.parametrize("strategy", ["random", "lhs", "nsga2"])
def test_sampling_strategies_respect_budget_and_seed(tmp_path: Path, strategy: str) -> None:
    sweep = spec(tmp_path, f"strategy: {strategy}\nbudget: 30\npopulation: 8\nseed: 11\n")
    first = run_sweep(sweep, evaluator=FakeEvaluator(), executor="serial")
    again = run_sweep(sweep, evaluator=FakeEvaluator(), executor="serial")
    assert len(first) == 30 and first["point_id"].is_unique
    pd.testing.assert_frame_equal(first, again)


def test_nsga2_improves_on_its_first_generation(tmp_path: Path) -> None:
    sweep = spec(tmp_path, objectives="[latency, area]", extra="strategy: nsga2\nbudget: 64\npopulation: 8\nseed: 2\n")
    table = run_sweep(sweep, evaluator=FakeEvaluator(), executor="serial")
    values = minimization_matrix(table, (Objective.LATENCY, Objective.AREA))
    first, later = values[:8], values[8:]
    # later generations reach the front of everything seen (not only the random first generation)
    combined = np.vstack([first, later])
    mask = pareto_mask(combined)
    assert mask[8:].any()


def test_a_strategy_that_proposes_ahead_is_asked_for_the_next_batch_before_it_is_told(tmp_path: Path) -> None:
    """`Strategy.lookahead` = 1: batch k + 1 is proposed while batch k is evaluated, and batch k
    is told after that, in order, except after the batch that spends the budget; a strategy
    with lookahead 0 is told before each proposal."""
    import tessera
    from explorer.executors import SerialExecutor
    from explorer.loop import sweep_loop
    from explorer.progress import NullProgress
    from explorer.space import DesignSpace
    from explorer.strategies import Strategy
    from explorer.table import make_row

    sweep = spec(tmp_path).model_copy(update={"budget": 8})
    space = DesignSpace(sweep)

    class Recording(Strategy):
        def __init__(self, ahead: int) -> None:
            self.ahead, self.calls, self.next = ahead, [], 0

        @property
        def lookahead(self) -> int:
            return self.ahead

        def propose(self):
            self.next += 1
            self.calls.append(("propose", self.next))
            rest = (0,) * (len(space.axes) - 2)
            return [(first, self.next - 1, *rest) for first in (0, 1)]  # batch k: two points, axis 1 at k - 1

        def tell(self, batch, feedback) -> None:
            self.calls.append(("tell", batch[0][1] + 1))

    def run(strategy: Strategy) -> list:
        resolved: list = []

        class Sink:
            def append(self, rows: list) -> None:
                pass

            def resolved(self, rows: list) -> None:
                resolved.extend(rows)

        count = sweep_loop(space, strategy, FakeEvaluator(), SerialExecutor(), {}, Sink(), NullProgress(),
                           lambda point, outcome, trial: make_row(point, outcome, trial, sweep, tessera.__version__))
        assert count == len(resolved)
        return resolved

    ahead, behind = Recording(1), Recording(0)
    assert [row["point_id"] for row in run(ahead)] == [row["point_id"] for row in run(behind)]
    assert behind.calls == [(kind, k) for k in range(1, 5) for kind in ("propose", "tell")]
    assert ahead.calls == [("propose", 1), *(call for k in range(1, 4) for call in (("propose", k + 1), ("tell", k))), ("tell", 4)]



def test_points_are_evaluated_with_collections_spaced_and_the_thresholds_restored(tmp_path: Path) -> None:
    """Every executor evaluates through `evaluate_chunk`: young collections are
    `YOUNG_COLLECTION_EVERY` allocations apart and full ones `FULL_COLLECTION_EVERY` young
    ones apart while the points run, the middle generation's threshold as it was, and the
    process's own thresholds come back after."""
    seen: list[tuple[int, int, int]] = []

    class Probe(FakeEvaluator):
        def run(self, point):
            seen.append(gc.get_threshold())
            return super().run(point)

    before = gc.get_threshold()
    try:
        gc.set_threshold(500, 7, 10)
        space = DesignSpace(spec(tmp_path))
        results = evaluate_chunk(Probe(), [space.point((0,) * len(space.axes))])
        assert results[0][1].status is Status.OK
        assert seen == [(YOUNG_COLLECTION_EVERY, 7, FULL_COLLECTION_EVERY)]
        assert gc.get_threshold() == (500, 7, 10)
    finally:
        gc.set_threshold(*before)
