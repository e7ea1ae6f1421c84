"""Kept tensors that crowd a layer's streamed input: a measured challenger to the memory plan.

The plan (`planner`) keeps a tensor where it fits beside every layer's working set, and a
layer whose input is not kept streams it through the activation buffer beside the tensors
kept across it, its own output among them. The working set reserves one array-sized tile of
each streamed operand, not the tiles the layer's best schedule wants; so with more capacity
the plan keeps more, the layer tiles its input in what is left, and it can lose more time than
the kept tensors save. On the 4×4 `tiny` chip with a 3,246 B input buffer, MobileNetV2
(width 0.5, 128 px) keeps block10.project's 3,072 B output across block 11 for its residual
add, leaving block11.project's streamed input tiles 174 B: the layer takes 131,367 cycles
where it took 60,177 in a 1,266 B buffer that kept nothing across it, for 6 KiB of DRAM
traffic saved (600 cycles at 10 bytes a cycle).

`uncrowd` measures it. Every layer that streams its input beside kept tensors is scheduled
again with their room returned (placements unchanged: what it would do if they took no room);
where that scores lower on the search's `Goal` than the plan's schedule, the kept tensors are
crowding it. Each such layer in turn (in network order), the challenger plans the network
again with that layer keeping room for the tiles of its uncrowded schedule
(`plan_memory(reserve=...)`, `planner.tile_room` at its placement), so the planner keeps
whatever else fits beside them; it is scheduled and fused like the plan (which chains fuse
depends on where the plan keeps their operands), and the two whole networks are simulated.
The challenger replaces the plan only when it takes no more cycles and no more energy, and less
of one: sending tensors to DRAM costs their transfers' energy, and a plan that buys a few
cycles with that (or the reverse) is a trade the goal did not ask for. The new plan is
examined in turn; a layer once tried is not tried again, so the search ends.

Everything here is judged at the chip's own DRAM bandwidth, so the plan chosen is never slower
and never costlier there than the greedy plan. The price is that the plan now depends on the
bandwidth (`planner.tile_room` alone does not): a layer's workload can differ between two
bandwidths, and more bandwidth no longer guarantees every layer is as fast, only that the
plan at each bandwidth is the better one there (judged at unlimited bandwidth instead, the
plan would not depend on it, but of the 20 points of the edge chip's quickstart sweep it changed
14 got slower at their own bandwidth, up to +0.8 %: a plan that keeps fewer tensors moves bytes
an unlimited bandwidth does not wait for). A network with no crowded layer pays nothing; one
whose kept tensors slow no layer pays one more schedule of each crowded layer; a challenger
costs a whole network's schedule (mostly cached), fusion and simulation. On never-seen edge
chips running MobileNetV2 (1.7 crowded layers a point, a challenger on 1 point in 25) a point
took 92 → 102 ms (docs/model.md, "Schedules").
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from types import MappingProxyType
from typing import TYPE_CHECKING

import numpy as np

from accel_spec.technology import Technology
from compiler.memory.planner import MemoryPlan, tile_room
from compiler.scheduling.objective import Goal
from compiler.scheduling.schedule import LayerSchedule
from compiler.scheduling.simulated import network_result
from compiler.target import LEVEL_DRAM, Target
from compiler.workload import Workload

if TYPE_CHECKING:
    from compiler.codegen.memo import MeasuredCodes

Schedules = tuple[LayerSchedule, ...]
Reserve = Mapping[int, np.ndarray]


def uncrowd(
    plan: MemoryPlan,
    target: Target,
    goal: Goal,
    replan: Callable[[Reserve], MemoryPlan],
    schedule: Callable[[tuple[Workload, ...]], Schedules],
    finish: Callable[[MemoryPlan, Schedules], tuple[MemoryPlan, Schedules]],
    technology: Callable[[], Technology],
    measured: MeasuredCodes,
) -> tuple[MemoryPlan, Schedules]:
    """The plan scheduled by `schedule` and finished by `finish` (fused), or a challenger that
    keeps room for the tiles of the layers its kept tensors slow, finished alike, while one is
    better on `target` (module doc). `replan(reserve)` plans the same network with `reserve`
    (layer index -> bytes per buffer) kept free beside kept tensors; `schedule` schedules
    planned workloads and `finish` fuses a scheduled plan, both on `target`; `technology()`
    prices energy; `measured`: the codes `schedule` measured (`codegen.memo.MeasuredCodes`).

    The plan's layers and its crowded layers with their room returned are scheduled in one
    call: one search, its measurements taken in shared rounds (each layer's choice is its own,
    so the schedules are those of two calls)."""
    reserve: Reserve = MappingProxyType({})
    tried: set[int] = set()
    finished = measures = None
    crowded = crowded_layers(plan.workloads, target)
    scheduled = schedule(plan.workloads + _freed(plan, crowded))
    schedules, freed = scheduled[: len(plan.workloads)], scheduled[len(plan.workloads) :]
    while True:
        for index, room in slowed_layers(plan, schedules, target, goal, schedule, measured, freed):
            if index in tried:
                continue
            tried.add(index)
            challenger = replan(MappingProxyType({**reserve, index: room}))
            challenger_schedules = schedule(challenger.workloads)
            challenger_finished = finish(challenger, challenger_schedules)
            challenger_measures = _measures(*challenger_finished, target, technology(), measured)
            finished = finished or finish(plan, schedules)
            measures = measures or _measures(*finished, target, technology(), measured)
            if _better(challenger_measures, measures):
                plan, schedules, freed = challenger, challenger_schedules, None
                finished, measures = challenger_finished, challenger_measures
                reserve = MappingProxyType({**reserve, index: room})
                break
        else:
            return finished or finish(plan, schedules)


def crowded_layers(workloads: Sequence[Workload], target: Target) -> list[int]:
    """Indices of the layers that stream their input from DRAM through the activation buffer
    while the plan keeps tensors there."""
    buffer = target.activation_buffer
    return [
        index
        for index, workload in enumerate(workloads)
        if workload.placement.input == LEVEL_DRAM and workload.reserved and workload.reserved[buffer] > 0
    ]


def slowed_layers(
    plan: MemoryPlan,
    schedules: Schedules,
    target: Target,
    goal: Goal,
    schedule: Callable[[tuple[Workload, ...]], Schedules],
    measured: MeasuredCodes,
    freed: Schedules | None = None,
) -> list[tuple[int, np.ndarray]]:
    """The crowded layers (`crowded_layers`) that score lower on `goal` with the kept
    tensors' room returned (scheduled by `schedule`, unless `freed` gives those schedules,
    the crowded layers' in order) than as `schedules` schedule them, each with the bytes per
    buffer the tiles of the uncrowded schedule take at the layer's placement. (The same
    schedule scores the same: the room changes no instruction.)"""
    crowded = crowded_layers(plan.workloads, target)
    if not crowded:
        return []
    if freed is None:
        freed = schedule(_freed(plan, crowded))
    slowed = []
    for index, free in zip(crowded, freed, strict=True):
        workload = plan.workloads[index]
        if free == schedules[index]:
            continue
        if _score(workload, free, target, goal, measured) < _score(workload, schedules[index], target, goal, measured):
            slowed.append((index, tile_room(workload, free, target, workload.placement)))
    return slowed


def _freed(plan: MemoryPlan, crowded: Sequence[int]) -> tuple[Workload, ...]:
    """The `crowded` layers of `plan` with the kept tensors' room returned (placements kept)."""
    return tuple(plan.workloads[i].placed(plan.workloads[i].placement, ()) for i in crowded)


def _score(workload: Workload, schedule: LayerSchedule, target: Target, goal: Goal, measured: MeasuredCodes) -> float:
    """The layer alone, simulated and scored on `goal`, as the search measures it."""
    from compiler.memory.chains import unfused_score

    return unfused_score((workload,), (schedule,), target, goal, measured)


def _measures(
    plan: MemoryPlan, schedules: Schedules, target: Target, technology: Technology, measured: MeasuredCodes
) -> tuple[int, float]:
    """(cycles, joules) of the whole planned network, as `simulate` finds them: from the
    layers' counts, kept where the search simulated their code (`simulated.network_result`)."""
    codes = measured.codes(plan.workloads, schedules, target)
    result = network_result(codes, tuple(w.name for w in plan.workloads), target, technology)
    return result.total_cycles, result.energy_j


def _better(challenger: tuple[int, float], plan: tuple[int, float]) -> bool:
    """Whether the challenger takes no more cycles and no more energy, and less of one: then
    it scores lower on every goal (latency, energy, EDP), and no goal trades one for the other
    behind the user's back."""
    return challenger[0] <= plan[0] and challenger[1] <= plan[1] and challenger != plan
