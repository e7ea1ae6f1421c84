"""Code for one GEMM workload: its tile loop nest, walked by `gemm_kernel`.

Iterations t enumerate (pass, outer, middle, inner) tiles in the schedule's loop order,
where a pass packs G = `groups_per_pass` products of the batch (fewer in the last pass),
so every tile, transfer and GEMM of a pass covers its G products at once (the GEMM's
`groups` field). Each iteration may issue, in this slot order:

  LOAD_INPUT   the input tile, when (pass, m, k) differs from the previous iteration's
  LOAD_WEIGHT  the weight tile, when (pass, k, n) differs
               (neither when the memory plan keeps that operand in the buffer the array
               reads it from: the array streams it in place; from an on-chip level otherwise
               than DRAM, `Workload.placement`)
  STORE        the finished output tile at its format (last k-tile), to DRAM or to
               the on-chip buffer the plan keeps the output in: issued one row after its
               GEMM's row (below)
  LOAD_PSUM    refill of spilled partial sums (spill mode, every k-tile after the first)
  LOAD_SIDE    the fused side input (residual) of the output tile, with its last k-tile
  GEMM         always; accumulate=1 after the first k-tile; under SCALE-Sim's timing,
               continues=1 when it streams through the one fold the previous GEMM left in
               the array (same stationary tile)
  SPILL        store of partial sums at accumulator precision (spill mode, not last k)
  VEC x3       fused epilogue, one per op class with work in this tile (last k-tile)

With double buffering the loads of iteration t share row t with the compute of iteration
t−1 and the store of the tile iteration t−2 finished, so in program order (which is also
the DRAM channel's grant order) the next tile's loads come before the current tile's GEMM
and before the store of the tile before it: a store waits for its tile's epilogue (the
vector work after the last GEMM), and a load granted the channel after it would hold up the
next GEMM behind that epilogue (BERT's fc1 on Eyeriss with its input kept, K tiles of 48:
418,429 cycles with the store first, 355,654 with the loads first, where the estimate says
350,925). Single buffered, each row is one iteration, and its loads come before the store
of the previous one. Dependencies:

  GEMM ← the loads of its input and weight tiles and its refill (read after write);
  the first GEMM of an output tile ← the store that freed its partial-sum slot;
  VEC ← GEMM and side input; STORE ← last VEC (or GEMM and side input); SPILL ← GEMM;
  LOAD ← the last reader of the data that occupied its slot `slots` loads earlier
  (write after read: slots = 2 double buffered, else 1); refill ← the spill of the same
  tile's previous visit.

The epilogue's lane operations of each class are split over the finished tiles in
proportion to their output elements, with cumulative rounding so the parts add up to the
workload's total exactly.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from accel_spec.types import Dataflow, OpClass, Operand
from compiler.codegen.gemm_kernel import _gemm_code
from compiler.codegen.layout import LayerCode
from compiler.scheduling.footprint import gemm_footprint
from compiler.scheduling.memo import BoundedCache
from compiler.scheduling.roles import roles
from compiler.scheduling.schedule import Dim, Schedule
from compiler.scheduling.tiling import active_pes, edge_tile, pass_groups
from compiler.target import Target, TimingMode
from compiler.target.isa import INSTRUCTION_DTYPE
from compiler.target.timing import gemm_folds
from compiler.workload import Workload


def gemm_code(
    workload: Workload, schedule: Schedule, chip: Target, layer: int, spill: bool | None = None
) -> LayerCode:
    """The instructions of a GEMM workload under `schedule` (see module docstring); `spill`
    is the schedule's `Footprint.spill`, found here when the caller has not.

    Everything that depends on the workload, the schedule or the chip is reduced here to
    integers and small arrays; `gemm_kernel` derives the tiling's tables, indexed by whether a
    tile is the last along its dimension (only the last tile of a dimension can be smaller),
    by `scheduling.tiling`'s formulas, and walks the loop nest.
    """
    gemm = workload.gemm
    assert gemm is not None
    extents = np.array([gemm.m, gemm.k, gemm.n], dtype=np.int64)
    tiles = np.array([schedule.tile_m, schedule.tile_k, schedule.tile_n], dtype=np.int64)
    groups = schedule.groups_per_pass
    if spill is None:
        positions = np.array([schedule.order.index(d) for d in Dim], dtype=np.int64)
        spill = bool(gemm_footprint(workload, chip, tiles, positions, schedule.double_buffer, groups).spill)
    layer_inputs = _layer_inputs(workload, chip)
    instructions, dep_ptr, deps, ok = _gemm_code(
        INSTRUCTION_PROTO,
        np.array(schedule.order, dtype=np.int64),
        extents,
        tiles,
        gemm.batch,
        groups,
        schedule.double_buffer,
        layer_inputs.input_tile,
        layer_inputs.weight_tile,
        layer_inputs.side_tile,
        spill,
        workload.side_input_elements,
        layer_inputs.geometry,
        _one_fold(schedule, extents, tiles, groups, gemm.batch, chip),
        np.array(STATIONARY[schedule.dataflow], dtype=np.int64),
        layer_inputs.vector_ops,
        layer_inputs.levels,
        layer_inputs.buffers,
        layer_inputs.bits,
        chip.accumulator_bits,
        int(schedule.dataflow),
        layer_inputs.active_pes,
        layer,
    )
    if not ok:
        raise AssertionError("codegen produced a dependency on an absent slot")
    return LayerCode(instructions, dep_ptr, deps)


INSTRUCTION_PROTO = np.zeros(0, dtype=INSTRUCTION_DTYPE)
"""An empty instruction array: the kernel allocates its output with this array's dtype."""


STATIONARY: dict[Dataflow, tuple[Dim, Dim]] = {
    Dataflow.WEIGHT_STATIONARY: (Dim.K, Dim.N),
    Dataflow.INPUT_STATIONARY: (Dim.K, Dim.M),
    Dataflow.OUTPUT_STATIONARY: (Dim.M, Dim.N),
}
"""The dims of each dataflow's stationary tile (weights, inputs, partial sums)."""


@dataclass(frozen=True)
class _LayerInputs:
    """What a GEMM layer's code reads of its workload and the chip whatever its schedule
    (`_gemm_code`'s arguments): whether the input, weight and side input need tiles
    (`scheduling.roles`), the convolution's window (`_geometry`), the epilogue's lane
    operations by `OpClass`, the levels the plan places the input, weight, output and side
    input at, the buffer of each `Operand`, the bits of one element by `Operand` (the side
    input, an activation like a GEMM's output, is loaded at the output's width), and the PEs
    the chip's mapping keeps busy (`tiling.active_pes`). Arrays read-only."""

    input_tile: bool
    weight_tile: bool
    side_tile: bool
    geometry: np.ndarray
    vector_ops: np.ndarray
    levels: np.ndarray
    buffers: np.ndarray
    bits: np.ndarray
    active_pes: int


def _layer_inputs(workload: Workload, chip: Target) -> _LayerInputs:
    """`_LayerInputs` of `workload` on `chip`, kept (`LAYER_INPUTS`): a search generates the
    code of several schedules of a layer, and a sweep's points share their layers."""
    mapped = (chip.rows, chip.cols) if chip.row_stationary else None  # `tiling.active_pes` reads the array
    key = (workload.shape_key, chip.buffer_of, chip.storage_bits, chip.row_stationary, mapped)
    found = LAYER_INPUTS.get(key)
    if found is None:
        flags = roles(workload, chip)
        placement = workload.placement
        found = _LayerInputs(
            bool(flags.input_tile),
            bool(flags.weight_tile),
            bool(flags.side_tile),
            _geometry(workload),
            np.array([int(workload.vector_ops.get(c, 0)) for c in OpClass], dtype=np.int64),
            np.array([placement.input, placement.weight, placement.output, placement.side], dtype=np.int64),
            np.array([chip.buffer(op) for op in Operand], dtype=np.int64),
            np.array([flags.input_bits, flags.weight_bits, flags.output_bits], dtype=np.int64),
            int(active_pes(workload, chip)),
        )
        for array in (found.geometry, found.vector_ops, found.levels, found.buffers, found.bits):
            array.flags.writeable = False
        LAYER_INPUTS.put(key, found)
    return found


LAYER_INPUTS: BoundedCache[_LayerInputs] = BoundedCache(capacity=4096)
"""`_layer_inputs` by everything they read: the workload's `shape_key` (its shape, convolution,
epilogue, placement and operand classes) and of the chip the operands' buffers, the storage
widths, whether its mapping is row-stationary and then its array (as `memo.code_key`, so chips
that differ only in array shape share the entries). A few hundred bytes an entry."""


def _geometry(workload: Workload) -> np.ndarray:
    """(is conv, images, in_h, in_w, out_w, kernel_h, kernel_w, stride_h, stride_w, dilation_h,
    dilation_w, in_c, groups) of a convolution's input window (`scheduling.tiling`); zeros
    for a plain GEMM, whose input tile is its tm × tk elements."""
    conv = workload.conv
    if conv is None:
        return np.zeros(13, dtype=np.int64)
    return np.array([1, conv.images, conv.in_h, conv.in_w, conv.out_w, conv.kernel_h, conv.kernel_w, conv.stride_h,
                     conv.stride_w, conv.dilation_h, conv.dilation_w, conv.in_c, conv.groups], dtype=np.int64)  # fmt: skip


def _one_fold(schedule: Schedule, extents: np.ndarray, tiles: np.ndarray, groups: int, batch: int, chip: Target) -> np.ndarray:
    """(m last, k last, n last, last pass) -> the GEMM tile is one fold, which it may then
    continue from the previous GEMM when its stationary tile is unchanged (`timing`). Only
    SCALE-Sim's timing streams folds across tiles (all False otherwise): the scheduler's
    estimate counts continued folds for its mapping alone (`candidates.scalesim_mapping`),
    and a bound it relies on must hold."""
    if chip.timing is not TimingMode.SCALESIM:
        return np.zeros((2, 2, 2, 2), dtype=np.bool_)
    sides = np.stack([tiles, edge_tile(extents, tiles)])  # (is last tile, dim) -> tile size
    m, k, n = (sides[:, d] for d in Dim)
    packed = np.array([groups, pass_groups(batch, groups)[1]], dtype=np.int64)
    mm, kk, nn, pp = np.meshgrid(m, k, n, packed, indexing="ij")
    folds, _ = gemm_folds(mm, kk, nn, int(schedule.dataflow), chip.rows, chip.cols, pp, chip.reduction_depth, chip.pe_width)
    return folds == 1
