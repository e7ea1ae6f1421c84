"""`--scheduler learned`: a ranking model picks the finalists of each GEMM layer.

As in autotvm's XGBoost tuner, a `rank:pairwise` model trained on measured schedules
(`compiler.scheduling.ranker_training`, built by ``tessera train-scheduler``) ranks candidate
schedules (`schedule_features`), and only its `TOP_K` best are measured on the simulator
(`measure.best`), instead of the exhaustive search's dozens of finalists. The candidates
it ranks are the `PREFILTER` of the exhaustive space that fit the buffers with the lowest
closed-form estimate at the chip's bandwidth: a two-stage search, the estimate being cheap
and the model correcting what the estimate gets wrong (overlap, per-transfer rounding). Tile sizes, loop order, dataflow, buffering and groups per pass
are all chosen this way. Vector workloads keep the heuristic's search (a handful of chunk
counts, nothing to learn).

The model shipped with the package is `RANKER_PATH`. When it cannot be used — xgboost cannot
be imported, or the file is missing — the search falls back to the heuristic's finalists,
says so once on stderr, and `ranker_status()` reports why (for result metadata). Unlike the
heuristic and exhaustive searches, the finalists depend on the chip's DRAM bandwidth (it is a
feature), so more bandwidth is not guaranteed to never slow a layer down.
"""

from __future__ import annotations

import functools
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from compiler.scheduling.candidates import GemmCandidates, candidate_fits, gemm_candidates
from compiler.scheduling.estimate import CostTerms, gemm_terms
from compiler.scheduling.schedule import LayerSchedule, SchedulerKind
from compiler.scheduling.schedule_features import schedule_features
from compiler.target import Target
from compiler.workload import Workload, WorkloadKind

if TYPE_CHECKING:
    from explorer.cost_model import CostModel

RANKER_PATH = Path(__file__).resolve().parent / "data" / "schedule_ranker.json"
"""The trained ranker shipped with Tessera (rebuild: see `tessera train-scheduler --help`)."""

TOP_K = 2
"""Candidates measured per layer: the ranker's best two."""

PREFILTER = 64
"""Candidates the ranker scores per layer: the lowest estimates among those that fit."""


@dataclass(frozen=True)
class RankerStatus:
    """Whether the learned scheduler has a model, and if not, why it uses the heuristic."""

    available: bool
    reason: str
    path: str

    def describe(self) -> str:
        """One line for result metadata and warnings."""
        if self.available:
            return f"learned schedule ranker {self.path}"
        return f"learned scheduler fell back to the heuristic: {self.reason}"


@functools.lru_cache(maxsize=1)
def shipped_ranker() -> tuple["CostModel | None", RankerStatus]:
    """The shipped model (loaded once per process) and its status; warns once on stderr."""
    model = None
    try:
        from explorer.xgboost_cost_model import XGBoostModel
    except ImportError as error:
        status = RankerStatus(False, f"xgboost cannot be imported ({error})", str(RANKER_PATH))
    else:
        if RANKER_PATH.exists():
            model = XGBoostModel.load(RANKER_PATH)
            status = RankerStatus(True, "", str(RANKER_PATH))
        else:
            reason = f"no trained model at {RANKER_PATH} (build it with `tessera train-scheduler --out {RANKER_PATH}`)"
            status = RankerStatus(False, reason, str(RANKER_PATH))
    if not status.available:
        print(f"tessera: warning: {status.describe()}", file=sys.stderr)
    return model, status


def ranker_status() -> RankerStatus:
    """Whether `--scheduler learned` uses its model in this process (see `shipped_ranker`)."""
    return shipped_ranker()[1]


@dataclass(frozen=True)
class RankedSpace:
    """The fitting candidates of one GEMM layer, their estimate terms and features."""

    candidates: GemmCandidates
    terms: CostTerms
    features: np.ndarray


def ranked_space(workload: Workload, chip: Target) -> RankedSpace | None:
    """The `PREFILTER` fitting candidates of the exhaustive space with the lowest estimates, with
    their terms and features; None if no candidate fits."""
    assert workload.gemm is not None
    cands = gemm_candidates(workload.gemm, chip, SchedulerKind.EXHAUSTIVE)
    fits = candidate_fits(workload, chip, cands)
    if not fits.any():
        return None
    fitting = cands.take(fits)
    estimate = gemm_terms(workload, chip, fitting).cycles(chip.dram_bytes_per_cycle)
    kept = fitting.take(np.sort(np.argsort(estimate, kind="stable")[:PREFILTER]))
    terms = gemm_terms(workload, chip, kept)
    return RankedSpace(kept, terms, schedule_features(workload, chip, kept, terms))


def ranks(workload: Workload) -> bool:
    """Whether the LEARNED search ranks `workload`'s candidates with the shipped model; if
    not, it is the HEURISTIC search (`learned_finalists`)."""
    return workload.kind is WorkloadKind.GEMM and shipped_ranker()[0] is not None


def learned_finalists(
    workload: Workload, chip: Target, ranker: "CostModel | None" = None, top_k: int = TOP_K
) -> tuple[tuple[LayerSchedule, ...], np.ndarray, np.ndarray]:
    """(schedules, estimates, lower bounds) of the ranker's `top_k` candidates, best first.

    `ranker` None uses the shipped model; without one, and for vector workloads or layers
    that no candidate fits (so that the heuristic raises its `InfeasibleSchedule`), the
    heuristic's finalists.
    """
    from compiler.scheduling.strategies import finalists  # strategies dispatches here

    model = ranker if ranker is not None else shipped_ranker()[0]
    space = ranked_space(workload, chip) if model is not None and workload.kind is WorkloadKind.GEMM else None
    if space is None:
        return finalists(workload, chip, SchedulerKind.HEURISTIC)
    scores = model.predict(space.features)
    chosen = np.argsort(-scores, kind="stable")[:top_k]
    bpc = chip.dram_bytes_per_cycle
    schedules = tuple(space.candidates.schedule(int(i)) for i in chosen)
    return schedules, space.terms.cycles(bpc)[chosen], space.terms.lower_bound(bpc)[chosen]
