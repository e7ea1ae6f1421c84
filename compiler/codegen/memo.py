"""Layer code by content, so the code the measure step simulates is the code the program uses.

The search simulates each finalist's layer code (`scheduling.measure`); the program then
needs the chosen finalist's code again, and a network repeats shapes (ResNet's blocks), and
sweep points share schedules. A layer's code is a pure function of `code_key`, which spells
out every input codegen reads: the workload's shape (`Workload.shape_key`), the
schedule, the buffer of each operand, the operand classes' and accumulator widths, whether partial
sums spill (the only way buffer capacities enter codegen), the timing mode and mapping, and
the array's shape where codegen reads it (the PEs a row-stationary mapping keeps busy; the
folds a GEMM continues under SCALE-Sim's timing; the array-wide tiles of n of a fused chain of
convolutions, `scheduling.conv_chain.pieces`). Chips that differ only in array shape share
every other layer's code. Code is stored for
layer 0 with read-only arrays; `program.assemble` tags each layer with its index.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from compiler.codegen.layer import layer_code
from compiler.codegen.layout import LayerCode
from compiler.scheduling.columns import WorkloadColumns
from compiler.scheduling.footprint import gemm_footprint
from compiler.scheduling.memo import BoundedCache, layer_key
from compiler.scheduling.schedule import ConvChainSchedule, Dim, LayerSchedule, Schedule
from compiler.target import Target, TimingMode
from compiler.workload import Workload

CODE: BoundedCache[LayerCode] = BoundedCache(capacity=2_000_000)
"""Layer code by `code_key`, bounded by instructions held (about 100 MB at most)."""


def code_key(workload: Workload, schedule: LayerSchedule, chip: Target, spill: bool | None = None) -> tuple:
    """Everything a layer's code depends on (module doc); `spill` is the schedule's
    `Footprint.spill` when the caller has it."""
    if spill is None:
        spill = spills_partial_sums(workload, schedule, chip)
    reads_array = chip.row_stationary or chip.timing is TimingMode.SCALESIM or isinstance(schedule, ConvChainSchedule)
    array = (chip.rows, chip.cols) if reads_array else None
    return (workload.shape_key, schedule, chip.buffer_of, chip.storage_bits, chip.accumulator_bits, spill,
            chip.timing, chip.row_stationary, array)


def cached_layer_codes(
    workloads: Sequence[Workload], schedules: Sequence[LayerSchedule], chip: Target
) -> list[LayerCode]:
    """`cached_layer_code` of every layer, with the spill flags of the GEMM layers found
    in one vectorised footprint (`scheduling.columns`, exact for tiles within the extents;
    any other layer's flag is found on its own)."""
    gemm = [i for i, (w, s) in enumerate(zip(workloads, schedules)) if _within(w, s)]
    spills: dict[int, bool | None] = dict.fromkeys(range(len(workloads)))
    if gemm:
        chosen: list[Schedule] = [schedules[i] for i in gemm]  # type: ignore[misc]
        tiles = np.array([[s.tile_m for s in chosen], [s.tile_k for s in chosen], [s.tile_n for s in chosen]])
        positions = np.array([[s.order.index(dim) for s in chosen] for dim in Dim], dtype=np.int64)
        double_buffer = np.array([s.double_buffer for s in chosen])
        groups = np.array([s.groups_per_pass for s in chosen], dtype=np.int64)
        columns = WorkloadColumns.of([workloads[i] for i in gemm], np.ones(len(gemm), dtype=np.int64))
        spill = gemm_footprint(columns, chip, tiles.astype(np.int64), positions, double_buffer, groups).spill
        spills.update(zip(gemm, spill.tolist()))
    return [
        cached_layer_code(workload, schedule, chip, spills[index])
        for index, (workload, schedule) in enumerate(zip(workloads, schedules))
    ]


class MeasuredCodes:
    """The code of every layer the measure step simulated in one compile, by the layer's
    `scheduling.memo.layer_key` and its schedule. On one chip these decide the code, its spill
    flag included (a layer's footprint reads nothing else), so the program takes the code the
    search measured instead of finding every GEMM layer's spill flag again, as
    `cached_layer_codes` does for the layers the search did not measure (those it found in
    `scheduling.memo`, and fused chains). One per compile: its keys do not name the chip."""

    def __init__(self) -> None:
        self._codes: dict[tuple[tuple, LayerSchedule], LayerCode] = {}

    def record(self, key: tuple, schedule: LayerSchedule, code: LayerCode) -> None:
        """Keep `code`, which the search simulated under `schedule` for the layer of
        `scheduling.memo.layer_key` `key`."""
        self._codes[(key, schedule)] = code

    def share(self, key: tuple, schedule: LayerSchedule, searched_as: tuple) -> None:
        """Record for the layer of `scheduling.memo.layer_key` `key` the code recorded for the
        layer of key `searched_as` under `schedule`, if any: layers whose search is one
        (`scheduling.memo.schedule_key`: one shape, and the same fit and spill flags for every
        candidate) have one code under each schedule."""
        code = self._codes.get((searched_as, schedule))
        if code is not None:
            self._codes[(key, schedule)] = code

    def codes(self, workloads: Sequence[Workload], schedules: Sequence[LayerSchedule], chip: Target) -> list[LayerCode]:
        """`cached_layer_codes(workloads, schedules, chip)`: the codes recorded, the others
        generated or found in `CODE`."""
        codes = [self._codes.get((layer_key(w), s)) for w, s in zip(workloads, schedules, strict=True)]
        missing = [index for index, code in enumerate(codes) if code is None]
        if missing:
            found = cached_layer_codes([workloads[i] for i in missing], [schedules[i] for i in missing], chip)
            for index, code in zip(missing, found, strict=True):
                codes[index] = code
        return codes  # type: ignore[return-value]


def cached_layer_code(
    workload: Workload, schedule: LayerSchedule, chip: Target, spill: bool | None = None
) -> LayerCode:
    """`layer_code(workload, schedule, chip, 0)`, generated once per `code_key`."""
    if spill is None:
        spill = spills_partial_sums(workload, schedule, chip)
    key = code_key(workload, schedule, chip, spill)
    code = CODE.get(key)
    if code is None:
        code = layer_code(workload, schedule, chip, 0, spill)
        for array in (code.instructions, code.dep_ptr, code.deps):
            array.flags.writeable = False
        CODE.put(key, code, cost=len(code.instructions))
    return code


def _within(workload: Workload, schedule: LayerSchedule) -> bool:
    """A GEMM schedule whose tiles do not exceed the workload's extents."""
    gemm = workload.gemm
    if gemm is None or not isinstance(schedule, Schedule):
        return False
    return schedule.tile_m <= gemm.m and schedule.tile_k <= gemm.k and schedule.tile_n <= gemm.n


def spills_partial_sums(workload: Workload, schedule: LayerSchedule, chip: Target) -> bool:
    """`Footprint.spill` of a GEMM schedule (False for vector work, which never spills)."""
    if not isinstance(schedule, Schedule) or workload.gemm is None:
        return False
    tiles = np.array([schedule.tile(dim) for dim in Dim], dtype=np.int64)
    positions = np.array([schedule.order.index(dim) for dim in Dim], dtype=np.int64)
    footprint = gemm_footprint(workload, chip, tiles, positions, schedule.double_buffer, schedule.groups_per_pass)
    return bool(footprint.spill)
