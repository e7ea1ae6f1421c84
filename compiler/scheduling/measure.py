"""The measure step of the search: simulate one layer under each finalist schedule.

Like autotvm's measure, it runs the real thing — codegen and the simulator's kernel — on
one layer at a time. Codegen separates layers by a barrier (`compiler.codegen.program`):
every engine starts a layer only after the previous layer's last instruction, when the
channel and every engine are idle. A layer simulated alone from cycle 0 is therefore the
same layer shifted in time: its cycles are exactly the cycles it adds to the network, and
its events (hence its energy) are exactly its share of the network's. For the same reason
the searches of a network's layers take their measurements in rounds, each round's layers
simulated as one program, one kernel call (`best_of_each`, `simulated.Simulated`), and a
code already simulated on this chip's timing is not simulated again
(`simulated.LAYER_COUNTS`). The code is generated through `codegen.memo`, so the program
reuses the chosen finalist's.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from functools import partial
from typing import TYPE_CHECKING, TypeVar

import numpy as np

from compiler.scheduling.challengers import Pool
from compiler.scheduling.memo import layer_key
from compiler.scheduling.objective import Goal, LayerRows, Objective
from compiler.scheduling.schedule import LayerSchedule
from compiler.scheduling.simulated import Simulated
from compiler.target import Target
from compiler.target.isa import Program
from compiler.workload import Workload
from simulator.kernels.engines import COL_CYCLES
from simulator.result import Counts

if TYPE_CHECKING:
    from compiler.codegen.memo import MeasuredCodes

S = TypeVar("S", bound=LayerSchedule)
"""A kind of schedule (a fused chain's), kept through `best_below`."""


def simulate_layer(
    workload: Workload, schedule: LayerSchedule, chip: Target, spill: bool | None = None
) -> tuple[Counts, Program]:
    """The counts of `workload` simulated alone under `schedule`, and its program; `spill`
    is the schedule's `Footprint.spill` when the caller knows it (found otherwise)."""
    # codegen imports scheduling's geometry, so it is imported when first measuring
    from compiler.codegen.memo import cached_layer_code

    return Simulated([cached_layer_code(workload, schedule, chip, spill)], [workload.name], chip, fresh=True).layer(0)


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
    """The finalist whose measurement scores lowest on `goal` (`Search`, alone)."""
    return best_of_each([Search(workload, finalists, bounds, order, goal, spills, pool)], chip)[0]


class Search:
    """One layer's measure step, taken one measurement at a time.

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

    Each step depends only on this layer's measurements so far, so searches of several
    layers can take their steps in rounds (`best_of_each`) and choose what each would alone.
    """

    def __init__(
        self,
        workload: Workload,
        finalists: Sequence[LayerSchedule],
        bounds: np.ndarray,
        order: np.ndarray,
        goal: Goal,
        spills: Sequence[bool] | None = None,
        pool: Pool | None = None,
    ) -> None:
        self.workload = workload
        self.key = layer_key(workload)
        """The workload's `memo.layer_key`, by which its measured codes are recorded."""
        self.chosen: LayerSchedule = finalists[int(order[0])]
        self._lowest = np.inf
        self._fastest = np.inf
        self._goal = goal
        self._steps = self._schedules(finalists, bounds, order, spills, pool)

    def _schedules(
        self,
        finalists: Sequence[LayerSchedule],
        bounds: np.ndarray,
        order: np.ndarray,
        spills: Sequence[bool] | None,
        pool: Pool | None,
    ) -> Iterator[tuple[LayerSchedule, bool | None]]:
        """(schedule, spill) of each measurement, read after the previous one is recorded."""
        prune = self._goal.objective is Objective.LATENCY
        for index in order.tolist():
            if not (prune and bounds[index] >= self._lowest):
                yield finalists[index], None if spills is None else spills[index]
        if pool is not None:
            yield from pool.challengers(lambda: self._fastest, set(finalists))

    def next(self) -> tuple[LayerSchedule, bool | None] | None:
        """The next (schedule, spill) to measure, or None: the search is over."""
        return next(self._steps, None)

    def record(self, schedule: LayerSchedule, cycles: int, rows: Callable[[], LayerRows], chip: Target) -> None:
        """Take the measurement of `schedule` (the last `next`): its cycles, and its counters
        and SRAM bits given by `rows` where the goal reads them (`Goal.score_of`)."""
        self._fastest = min(self._fastest, cycles)
        score = self._goal.score_of(cycles, rows, chip)
        if score < self._lowest:
            self.chosen, self._lowest = schedule, score


def best_of_each(searches: Sequence[Search], chip: Target, measured: MeasuredCodes | None = None) -> list[LayerSchedule]:
    """Each search's choice, its measurements taken in rounds: one step of every search
    still open per round, the round's layers simulated as one program (`Simulated`); every
    code simulated is recorded in `measured`, if given."""
    from compiler.codegen.memo import cached_layer_code

    open_searches = list(searches)
    while open_searches:
        steps = [(search, search.next()) for search in open_searches]
        taken = [(search, step) for search, step in steps if step is not None]
        if taken:
            codes = [cached_layer_code(search.workload, schedule, chip, spill) for search, (schedule, spill) in taken]
            if measured is not None:
                for (search, (schedule, _)), code in zip(taken, codes, strict=True):
                    measured.record(search.key, schedule, code)
            simulated = Simulated(codes, [search.workload.name for search, _ in taken], chip)
            for index, ((search, (schedule, _)), cycles) in enumerate(zip(taken, simulated.cycles, strict=True)):
                search.record(schedule, cycles, partial(simulated.rows, index), chip)
        open_searches = [search for search, _ in taken]
    return [search.chosen for search in searches]


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
