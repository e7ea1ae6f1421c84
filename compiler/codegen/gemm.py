"""Code for one GEMM workload: its tile loop nest as a `SlotTable`.

Iterations t enumerate (pass, outer, middle, inner) tiles in the schedule's loop order,
where a pass packs G = `groups_per_pass` products of the batch (fewer in the last pass),
so every tile, transfer and GEMM of a pass covers its G products at once (the GEMM's
`groups` field). Each iteration may issue, in this slot order:

  LOAD_INPUT   the input tile, when (pass, m, k) differs from the previous iteration's
  LOAD_WEIGHT  the weight tile, when (pass, k, n) differs
               (neither when the memory plan keeps that operand in the buffer the array
               reads it from: the array streams it in place; from an on-chip level otherwise
               than DRAM, `Workload.placement`)
  LOAD_PSUM    refill of spilled partial sums (spill mode, every k-tile after the first)
  LOAD_SIDE    the fused side input (residual) of the output tile, with its last k-tile
  GEMM         always; accumulate=1 after the first k-tile; under SCALE-Sim's timing,
               continues=1 when it streams through the one fold the previous GEMM left in
               the array (same stationary tile)
  SPILL        store of partial sums at accumulator precision (spill mode, not last k)
  VEC x3       fused epilogue, one per op class with work in this tile (last k-tile)
  STORE        the finished output tile at its format (last k-tile), to DRAM or to
               the on-chip buffer the plan keeps the output in

With double buffering the loads of iteration t share row t with the compute of iteration
t−1, so in program order (which is also the DRAM channel's grant order) the next tile's
loads come before the current tile's GEMM and store; single buffered, each row is one
iteration. Dependencies:

  GEMM ← the loads of its input and weight tiles and its refill (read after write);
  the first GEMM of an output tile ← the store that freed its partial-sum slot;
  VEC ← GEMM and side input; STORE ← last VEC (or GEMM and side input); SPILL ← GEMM;
  LOAD ← the last reader of the data that occupied its slot `slots` loads earlier
  (write after read: slots = 2 double buffered, else 1); refill ← the spill of the same
  tile's previous visit.
"""

from __future__ import annotations

from enum import IntEnum

import numpy as np

from accel_spec.types import Dataflow, OpClass, Operand
from compiler.codegen.layout import NO_DEP, SlotTable
from compiler.scheduling.footprint import gemm_footprint
from compiler.scheduling.roles import roles
from compiler.scheduling.schedule import Dim, Schedule
from compiler.scheduling.tiling import (
    active_pes,
    input_tile_elements,
    pass_groups,
    psum_group_tiles,
    side_tile_elements,
    tile_count,
    tile_sizes,
)
from compiler.target import Target, TimingMode, nbytes
from compiler.target.isa import Opcode
from compiler.target.timing import gemm_folds
from compiler.workload import Workload


class Slot(IntEnum):
    LOAD_INPUT = 0
    LOAD_WEIGHT = 1
    LOAD_PSUM = 2
    LOAD_SIDE = 3
    GEMM = 4
    SPILL = 5
    VEC = 6  # VEC + OpClass
    STORE = 6 + len(OpClass)


LOAD_SLOTS = (Slot.LOAD_INPUT, Slot.LOAD_WEIGHT, Slot.LOAD_PSUM, Slot.LOAD_SIDE)
DEP_WIDTH = 4


def gemm_table(
    workload: Workload, schedule: Schedule, chip: Target, layer: int, spill: bool | None = None
) -> SlotTable:
    """The instructions of a GEMM workload under `schedule` (see module docstring); `spill`
    is the schedule's `Footprint.spill`, found here when the caller has not."""
    gemm = workload.gemm
    assert gemm is not None
    extents = (gemm.m, gemm.k, gemm.n)
    tiles = np.array([schedule.tile(d) for d in Dim], dtype=np.int64)
    counts = np.array([int(tile_count(e, t)) for e, t in zip(extents, tiles)], dtype=np.int64)
    positions = np.array([schedule.order.index(d) for d in Dim], dtype=np.int64)
    groups = schedule.groups_per_pass
    if spill is None:
        spill = bool(gemm_footprint(workload, chip, tiles, positions, schedule.double_buffer, groups).spill)
    slots_per_buffer = 2 if schedule.double_buffer else 1
    shift = 1 if schedule.double_buffer else 0

    loop_counts = [counts[d] for d in schedule.order]
    passes, last_groups = (int(v) for v in pass_groups(gemm.batch, groups))
    coords = np.indices((passes, *loop_counts)).reshape(4, -1)
    pass_index = coords[0]
    packed = np.where(pass_index == passes - 1, last_groups, groups)
    tile = [coords[1 + schedule.order.index(d)] for d in Dim]
    iterations = pass_index.size
    sizes = [tile_sizes(e, int(t))[i] for e, t, i in zip(extents, tiles, tile)]
    kfirst = tile[Dim.K] == 0
    klast = tile[Dim.K] == counts[Dim.K] - 1

    table = SlotTable.empty(iterations + shift, Slot.STORE + 1, DEP_WIDTH)
    rows = np.arange(iterations)

    def load_pos(t, slot):
        return table.position(t, slot)

    def comp_pos(t, slot):
        return table.position(np.asarray(t) + shift, slot)

    def fill(slot: int, mask, compute: bool, **fields) -> None:
        """Issue `slot` where `mask`; every row of the column gets the fields, since
        compaction keeps only the present ones (whole-column writes, no gathers)."""
        span = slice(shift, shift + iterations) if compute else slice(0, iterations)
        table.present[span, slot] = mask
        column = table.instructions[span, slot]
        column["layer"] = layer
        for name, value in fields.items():
            column[name] = value

    def set_deps(slot: int, compute: bool, column_index: int, dep_pos) -> None:
        r = rows + shift if compute else rows
        table.deps[r, slot, column_index] = dep_pos

    # ---- operand loads: reuse while the tile does not change; write-after-read slots
    def changed(*dims: Dim) -> np.ndarray:
        new = np.ones(iterations, dtype=bool)
        key = [pass_index] + [tile[d] for d in dims]
        new[1:] = np.any([k[1:] != k[:-1] for k in key], axis=0)
        return new

    def current(new: np.ndarray) -> np.ndarray:
        """Iteration of the load whose tile iteration t uses."""
        return np.maximum.accumulate(np.where(new, rows, 0))

    def release_war(new: np.ndarray, release_pos: np.ndarray, reused: bool = True) -> np.ndarray:
        """Dep of each load on the release of the data `slots_per_buffer` loads earlier.

        A reused tile is last read in the iteration before the next load of its operand;
        a tile that is not reused (side input) in the iteration that loaded it.
        """
        load_iters = np.flatnonzero(new)
        if load_iters.size == 0:
            return np.full(iterations, NO_DEP)
        last_use = np.append(load_iters[1:] - 1, iterations - 1) if reused else load_iters
        j = np.cumsum(new) - 1 - slots_per_buffer
        return np.where(new & (j >= 0), release_pos[last_use[np.maximum(j, 0)]], NO_DEP)

    gemm_pos = comp_pos(rows, Slot.GEMM)
    placement = workload.placement
    flags = roles(workload, chip)
    new_input = changed(Dim.M, Dim.K) & bool(flags.input_tile)
    new_weight = changed(Dim.K, Dim.N) & bool(flags.weight_tile)
    in_elems = packed * input_tile_elements(sizes[Dim.M], sizes[Dim.K], workload)
    fill(Slot.LOAD_INPUT, new_input, False, opcode=Opcode.LOAD, operand=Operand.INPUT,
         buffer=chip.buffer(Operand.INPUT), level=placement.input, bytes=nbytes(in_elems, flags.input_bits))
    set_deps(Slot.LOAD_INPUT, False, 0, release_war(new_input, gemm_pos))
    fill(Slot.LOAD_WEIGHT, new_weight, False, opcode=Opcode.LOAD, operand=Operand.WEIGHT,
         buffer=chip.buffer(Operand.WEIGHT), level=placement.weight,
         bytes=nbytes(packed * sizes[Dim.K] * sizes[Dim.N], flags.weight_bits))
    set_deps(Slot.LOAD_WEIGHT, False, 0, release_war(new_weight, gemm_pos))

    # ---- partial sums: where each output tile lives and what frees its slot
    out_elems = packed * sizes[Dim.M] * sizes[Dim.N]
    psum_bytes = nbytes(out_elems, chip.accumulator_bits)
    store_pos = np.where(klast, comp_pos(rows, Slot.STORE), comp_pos(rows, Slot.SPILL))
    earlier = rows - slots_per_buffer
    if spill:
        refill = ~kfirst
        stride_k = int(np.prod([counts[d] for d in schedule.order[schedule.order.index(Dim.K) + 1:]]))
        fill(Slot.LOAD_PSUM, refill, False, opcode=Opcode.LOAD, operand=Operand.OUTPUT,
             buffer=chip.buffer(Operand.OUTPUT), bytes=psum_bytes)
        slot_free = np.where(earlier >= 0, store_pos[np.maximum(earlier, 0)], NO_DEP)
        set_deps(Slot.LOAD_PSUM, False, 0, np.where(refill, slot_free, NO_DEP))
        set_deps(Slot.LOAD_PSUM, False, 1, np.where(refill, comp_pos(rows - stride_k, Slot.SPILL), NO_DEP))
        set_deps(Slot.GEMM, True, 2, np.where(refill, load_pos(rows, Slot.LOAD_PSUM), slot_free))
        fill(Slot.SPILL, ~klast, True, opcode=Opcode.STORE, operand=Operand.OUTPUT,
             buffer=chip.buffer(Operand.OUTPUT), bytes=psum_bytes)
        set_deps(Slot.SPILL, True, 0, gemm_pos)
    else:
        group = int(psum_group_tiles(positions[:, None], counts[:, None])[0])
        opened = np.cumsum(kfirst) - 1 - slots_per_buffer * group
        final_stores = comp_pos(np.flatnonzero(klast), Slot.STORE)
        slot_free = np.where(kfirst & (opened >= 0), final_stores[np.maximum(opened, 0)], NO_DEP)
        set_deps(Slot.GEMM, True, 2, slot_free)

    # ---- the GEMM itself
    fill(Slot.GEMM, np.ones(iterations, dtype=bool), True, opcode=Opcode.GEMM,
         m=sizes[Dim.M], k=sizes[Dim.K], n=sizes[Dim.N], groups=packed, dataflow=int(schedule.dataflow),
         accumulate=(~kfirst).astype(np.uint8), continues=_continues(schedule, sizes, packed, changed, chip),
         active=int(active_pes(workload, chip)))
    if flags.input_tile:
        set_deps(Slot.GEMM, True, 0, load_pos(current(new_input), Slot.LOAD_INPUT))
    if flags.weight_tile:
        set_deps(Slot.GEMM, True, 1, load_pos(current(new_weight), Slot.LOAD_WEIGHT))

    # ---- epilogue of finished tiles: side input, fused vector ops, store
    vec_elements = _epilogue_split(workload, out_elems, klast)
    has_vec = vec_elements > 0
    last_vec = Slot.VEC + len(OpClass) - 1 - np.argmax(has_vec[:, ::-1], axis=1)
    epilogue_end = np.where(has_vec.any(axis=1), comp_pos(rows, last_vec), comp_pos(rows, Slot.STORE))
    has_side = klast & (workload.side_input_elements > 0) & bool(flags.side_tile)
    side_pos = np.where(has_side, load_pos(rows, Slot.LOAD_SIDE), NO_DEP)
    fill(Slot.LOAD_SIDE, has_side, False, opcode=Opcode.LOAD, operand=Operand.OUTPUT,
         buffer=chip.buffer(Operand.OUTPUT), level=placement.side,
         bytes=nbytes(packed * side_tile_elements(sizes[Dim.M], sizes[Dim.N], workload), flags.side_bits))
    set_deps(Slot.LOAD_SIDE, False, 0, release_war(has_side, epilogue_end, reused=False))
    for op_class in OpClass:
        if not has_vec[:, op_class].any():
            continue  # no VEC of this class: its slot stays absent
        slot = Slot.VEC + op_class
        fill(slot, has_vec[:, op_class], True, opcode=Opcode.VEC, op_class=int(op_class),
             elements=vec_elements[:, op_class])
        set_deps(slot, True, 0, gemm_pos)
        set_deps(slot, True, 1, side_pos)
    fill(Slot.STORE, klast, True, opcode=Opcode.STORE, operand=Operand.OUTPUT,
         buffer=chip.buffer(Operand.OUTPUT), level=placement.output, bytes=nbytes(out_elems, flags.output_bits))
    set_deps(Slot.STORE, True, 0, np.where(has_vec.any(axis=1), comp_pos(rows, last_vec), gemm_pos))
    set_deps(Slot.STORE, True, 1, np.where(has_vec.any(axis=1), NO_DEP, side_pos))
    return table


STATIONARY: dict[Dataflow, tuple[Dim, Dim]] = {
    Dataflow.WEIGHT_STATIONARY: (Dim.K, Dim.N),
    Dataflow.INPUT_STATIONARY: (Dim.K, Dim.M),
    Dataflow.OUTPUT_STATIONARY: (Dim.M, Dim.N),
}
"""The dims of each dataflow's stationary tile (weights, inputs, partial sums)."""


def _continues(schedule: Schedule, sizes, packed: np.ndarray, changed, chip: Target) -> np.ndarray:
    """Which GEMMs continue the fold the previous one left in the array: its stationary
    tile is unchanged (same pass) and is one fold (`compiler.target.timing`). Only SCALE-Sim's
    timing streams folds across tiles: the scheduler's estimate counts continued folds for
    its mapping alone (`candidates.scalesim_mapping`), and a bound it relies on must hold."""
    if chip.timing is not TimingMode.SCALESIM:
        return np.zeros(len(sizes[Dim.M]), dtype=np.uint8)
    folds, _ = gemm_folds(sizes[Dim.M], sizes[Dim.K], sizes[Dim.N], int(schedule.dataflow), chip.rows, chip.cols, packed)
    return ((folds == 1) & ~changed(*STATIONARY[schedule.dataflow])).astype(np.uint8)


def _epilogue_split(workload: Workload, out_elems: np.ndarray, klast: np.ndarray) -> np.ndarray:
    """(iterations, op classes) lane ops of the fused epilogue of each finished tile.

    Each class's total is split in proportion to the tiles' output elements, with
    cumulative rounding so the parts add up to the total exactly.
    """
    split = np.zeros((len(klast), len(OpClass)), dtype=np.int64)
    finished = np.where(klast, out_elems, 0)
    total = int(finished.sum())
    after = np.cumsum(finished)
    before = after - finished
    for op_class, ops in workload.vector_ops.items():
        quotient, remainder = divmod(int(ops), total)
        split[:, op_class] = quotient * finished + (remainder * after) // total - (remainder * before) // total
    return split
