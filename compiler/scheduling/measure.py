"""The measure step of the search: simulate one layer under each finalist schedule.

Like autotvm's measure, it runs the real thing — codegen and the simulator's kernel — on
one layer at a time. Codegen separates layers by a barrier (`compiler.codegen.program`):
every engine starts a layer only after the previous layer's last instruction, when the
channel and every engine are idle. A layer simulated alone from cycle 0 is therefore the
same layer shifted in time: its cycles are exactly the cycles it adds to the network, and
its events (hence its energy) are exactly its share of the network's. The code is generated
through `codegen.memo`, so the program reuses the chosen finalist's.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

import numpy as np

from compiler.scheduling.challengers import Pool
from compiler.scheduling.objective import Goal, Objective
from compiler.scheduling.schedule import LayerSchedule
from compiler.target import Target
from compiler.target.isa import Program
from compiler.workload import Workload
from simulator.kernels.engines import COL_CYCLES
from simulator.result import Counts
from simulator.run import execute

S = TypeVar("S", bound=LayerSchedule)
"""A kind of schedule (a fused chain's), kept through `best_below`."""


def simulate_layer(
    workload: Workload, schedule: LayerSchedule, chip: Target, spill: bool | None = None
) -> tuple[Counts, Program]:
    """The counts of `workload` simulated alone under `schedule`, and its program; `spill`
    is the schedule's `Footprint.spill` when the caller knows it (found otherwise)."""
    # codegen imports scheduling's geometry, so it is imported when first measuring
    from compiler.codegen.memo import cached_layer_code

    code = cached_layer_code(workload, schedule, chip, spill)
    program = Program(code.instructions, code.dep_ptr, code.deps, (workload.name,))
    return execute(program, chip), program


def measure_cycles(workload: Workload, schedule: LayerSchedule, chip: Target, spill: bool | None = None) -> int:
    """Simulated cycles of `workload` under `schedule`, alone on the machine."""
    return int(simulate_layer(workload, schedule, chip, spill)[0].counters[0, COL_CYCLES])


def best(
    workload: Workload,
    finalists: Sequence[LayerSchedule],
    bounds: np.ndarray,
    order: np.ndarray,
    chip: Target,
    goal: Goal = Goal(),
    spills: Sequence[bool] | None = None,
    pool: Pool | None = None,
) -> LayerSchedule:
    """The finalist whose measurement scores lowest on `goal`.

    For latency, by branch and bound: finalists are measured in `order` (most promising
    first); one whose lower bound (`CostTerms.bound`: cycles no simulation of it can beat)
    is not below the best cycles measured so far cannot be strictly faster and is skipped.
    The result is therefore exactly the minimum over all finalists, whatever the order.
    Energy and EDP have no such bound: every finalist is measured. Ties go to the earlier
    finalist in `order`.

    Given the layer's candidate `pool`, the candidates it qualifies as capacity challengers
    (`challengers`) whose bound is below the fewest cycles measured so far are measured too,
    whatever the goal, so that more buffer capacity never makes the layer slower, and a
    search for energy measures every schedule a search for latency does. Ties go to a
    finalist over a challenger.
    """
    prune = goal.objective is Objective.LATENCY
    chosen, lowest, fastest = finalists[int(order[0])], np.inf, np.inf

    def measure(schedule: LayerSchedule, spill: bool | None) -> None:
        nonlocal chosen, lowest, fastest
        counts, program = simulate_layer(workload, schedule, chip, spill)
        fastest = min(fastest, int(counts.counters[0, COL_CYCLES]))
        score = goal.score(counts, program, chip)
        if score < lowest:
            chosen, lowest = schedule, score

    for index in order:
        if not (prune and bounds[index] >= lowest):
            measure(finalists[index], None if spills is None else spills[index])
    if pool is not None:
        for schedule, spill in pool.challengers(lambda: fastest, set(finalists)):
            measure(schedule, spill)
    return chosen


def best_below(
    workload: Workload, finalists: Sequence[tuple[S, float]], chip: Target, goal: Goal, beat: float
) -> tuple[S, float] | None:
    """The finalist `(schedule, estimate)` whose measurement scores lowest on `goal`, and its
    score, if that is below `beat` (a fused chain's unfused layers); None otherwise. For
    latency a finalist whose estimate (a lower bound of its cycles) is not below `beat`
    cannot win and is not simulated."""
    latency = goal.objective is Objective.LATENCY
    best: tuple[S, float] | None = None
    for schedule, estimate in finalists:
        if latency and estimate >= beat:
            continue
        counts, program = simulate_layer(workload, schedule, chip)
        score = goal.score(counts, program, chip)
        if score < beat and (best is None or score < best[1]):
            best = (schedule, score)
    return best
