"""Training and judging the schedule ranker of `--scheduler learned` from simulated schedules.

Examples come from Tessera itself. For every distinct GEMM layer of every (network, chip)
pair, the candidates the ranker would score (`learned.ranked_space`) are featurised and a
sample of them — `per_layer` drawn uniformly, seeded — is measured on the simulator
(`measure.measure_cycles`). One layer on one chip is one query of the `rank:pairwise` model;
a candidate's label is −log2(cycles / best cycles of its query), so better is larger.

`judge` compares, on layers of held-out networks, the learned pick (the best of the ranker's
top k, measured) with the exhaustive search's pick: the share of layers within 5 % of the
exhaustive cycles, and the time each takes to choose. A `RandomModel` ranking the same
candidates is the baseline.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from accel_spec.schema import Accelerator
from compiler.scheduling.learned import learned_finalists, ranked_space
from compiler.scheduling.measure import best, measure_cycles
from compiler.scheduling.schedule import InfeasibleSchedule, LayerSchedule, SchedulerKind
from compiler.scheduling.strategies import finalists
from compiler.target import Target, target_of
from compiler.workload import Workload, WorkloadKind

WITHIN = 0.05
"""A learned pick counts as good when its cycles are at most 5 % above the exhaustive pick's."""


@dataclass(frozen=True)
class LayerCase:
    """One distinct GEMM layer of one network on one chip."""

    network: str
    chip_name: str
    workload: Workload
    chip: Target


def layer_cases(networks: dict[str, tuple[Workload, ...]], chips: dict[str, Accelerator]) -> Iterator[LayerCase]:
    """Distinct GEMM layers of every network on every chip (its own input precision)."""
    for chip_name, accel in chips.items():
        precision = accel.matrix.input_precision
        chip = target_of(accel, precision)
        for network, workloads in networks.items():
            seen: set[tuple] = set()
            for workload in workloads:
                key = (workload.gemm, workload.conv, workload.input_elements, workload.side_input_elements,
                       tuple(sorted(workload.vector_ops.items())))
                if workload.kind is WorkloadKind.GEMM and key not in seen:
                    seen.add(key)
                    yield LayerCase(network, chip_name, workload, chip)


@dataclass(frozen=True)
class TrainingSet:
    """Features, labels (−log2 cycles over the query's best) and query ids, row-aligned."""

    features: np.ndarray
    labels: np.ndarray
    groups: np.ndarray
    measurements: int


def training_set(cases: Sequence[LayerCase], per_layer: int, seed: int) -> TrainingSet:
    """Measure a sample of each case's candidates (module docstring)."""
    rng = np.random.default_rng(seed)
    features, labels, groups = [], [], []
    for query, case in enumerate(cases):
        space = ranked_space(case.workload, case.chip)
        if space is None or len(space.candidates) < 2:
            continue
        rows = np.sort(rng.choice(len(space.candidates), size=min(per_layer, len(space.candidates)), replace=False))
        cycles = np.array([measure_cycles(case.workload, space.candidates.schedule(int(i)), case.chip)
                           for i in rows], dtype=np.float64)
        features.append(space.features[rows])
        labels.append(-np.log2(cycles / cycles.min()))
        groups.append(np.full(len(rows), query))
    return TrainingSet(np.concatenate(features), np.concatenate(labels), np.concatenate(groups),
                       sum(len(g) for g in groups))


@dataclass(frozen=True)
class Judgement:
    """One held-out layer: cycles of the exhaustive, learned and random picks, and choosing times."""

    case: LayerCase
    exhaustive_cycles: int
    learned_cycles: int
    random_cycles: int
    exhaustive_s: float
    learned_s: float

    @property
    def learned_within(self) -> bool:
        return self.learned_cycles <= (1 + WITHIN) * self.exhaustive_cycles

    @property
    def random_within(self) -> bool:
        return self.random_cycles <= (1 + WITHIN) * self.exhaustive_cycles


def _choose(case: LayerCase, found: tuple[tuple[LayerSchedule, ...], np.ndarray, np.ndarray]) -> LayerSchedule:
    schedules, estimates, bounds = found
    if len(schedules) == 1:
        return schedules[0]
    return best(case.workload, schedules, bounds, np.argsort(estimates, kind="stable"), case.chip)


def judge(cases: Sequence[LayerCase], ranker, baseline, top_k: int) -> list[Judgement]:
    """Learned and random picks against the exhaustive search, layer by layer."""
    results = []
    for case in cases:
        try:
            started = time.perf_counter()
            exhaustive = _choose(case, finalists(case.workload, case.chip, SchedulerKind.EXHAUSTIVE))
            middle = time.perf_counter()
            learned = _choose(case, learned_finalists(case.workload, case.chip, ranker, top_k))
            ended = time.perf_counter()
        except InfeasibleSchedule:
            continue
        random = _choose(case, learned_finalists(case.workload, case.chip, baseline, top_k))

        def cycles(schedule: LayerSchedule) -> int:
            return measure_cycles(case.workload, schedule, case.chip)

        results.append(Judgement(case, cycles(exhaustive), cycles(learned), cycles(random), middle - started, ended - middle))
    return results
