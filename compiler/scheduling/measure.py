"""The measure step of the search: simulate one layer under each finalist schedule.

Like autotvm's measure, it runs the real thing — codegen and the simulator's kernel — on
one layer at a time. Codegen separates layers by a barrier (`compiler.codegen.program`):
every engine starts a layer only after the previous layer's last instruction, when the
channel and every engine are idle. A layer simulated alone from cycle 0 is therefore the
same layer shifted in time, and its cycles are exactly the cycles it adds to the network.
The code is generated through `codegen.memo`, so the program reuses the chosen finalist's.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from compiler.scheduling.schedule import LayerSchedule
from compiler.target import Target
from compiler.target.isa import Program
from compiler.workload import Workload
from simulator.kernels.engines import COL_CYCLES
from simulator.run import execute


def measure_cycles(
    workload: Workload, schedule: LayerSchedule, chip: Target, spill: bool | None = None
) -> int:
    """Simulated cycles of `workload` under `schedule`, alone on the machine; `spill` is the
    schedule's `Footprint.spill` when the caller knows it (found otherwise)."""
    # codegen imports scheduling's geometry, so it is imported when first measuring
    from compiler.codegen.memo import cached_layer_code

    code = cached_layer_code(workload, schedule, chip, spill)
    program = Program(code.instructions, code.dep_ptr, code.deps, (workload.name,))
    return int(execute(program, chip).counters[0, COL_CYCLES])


def fastest(
    workload: Workload,
    finalists: Sequence[LayerSchedule],
    bounds: np.ndarray,
    order: np.ndarray,
    chip: Target,
    spills: Sequence[bool] | None = None,
) -> LayerSchedule:
    """The finalist with the fewest simulated cycles, by branch and bound.

    Finalists are measured in `order` (most promising first); one whose lower bound
    (`CostTerms.bound`: cycles no simulation of it can beat) is not below the best
    cycles measured so far cannot be strictly faster and is skipped. The cycles of the
    result are therefore exactly the minimum over all finalists, whatever the order.
    """
    best, best_cycles = finalists[int(order[0])], np.inf
    for index in order:
        if bounds[index] >= best_cycles:
            continue
        spill = None if spills is None else spills[index]
        cycles = measure_cycles(workload, finalists[index], chip, spill)
        if cycles < best_cycles:
            best, best_cycles = finalists[index], cycles
    return best
