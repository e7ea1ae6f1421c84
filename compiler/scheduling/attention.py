"""Schedules of a fused attention chain (QKᵀ → softmax → PV), and their search.

A fused chain (`Workload.attention`, made by `compiler.memory.chains`) runs head by head and,
within a head, query block by query block: for a block of `query_block` rows of Q,

  1. S = Q·Kᵀ, one GEMM per key tile of `key_block` keys: the block's whole row of S
     (query_block × keys partial sums) stays in the accumulator (OUTPUT) buffer;
  2. the softmax (and the scale or mask fused into QKᵀ) on the vector unit, in place: the
     row's max and sum are the softmax's own reductions over the whole row, so the
     probabilities P are exact and no running max/sum rescaling of O is needed (the
     online-softmax variant, which splits the keys of a row across passes, is not modelled:
     a chip whose accumulator cannot hold one query row of S is not offered fusion);
  3. P moves over the OUTPUT buffer's read port into the INPUT buffer (an on-chip LOAD),
     one key tile at a time;
  4. O = P·V, accumulated over the key tiles, and stored once.

S and P never reach DRAM. K and V tiles go to the WEIGHT buffer: either K and V of the
whole head stay there across its query blocks (`kv_resident`: read once per head) or they
stream double buffered per key tile and are read again for every query block (flash
attention's trade: ceil(queries / query_block) reads of K and V per head). With a single
key tile per head the tile is simply reused across query blocks, as resident.

Buffers hold (`attention_footprint`: the bytes `compiler.verify` finds live, or more for the
input buffer when streamed and pipelined, where part of the older P row is freed before the
newer one loads):
  INPUT   the Q block (unless the plan keeps Q in that buffer) + the block's P row;
  WEIGHT  K and V of a head (resident), or two K tiles and two V tiles (streamed);
  OUTPUT  the block's S row and its O block, at accumulator precision;
plus the bytes the memory plan keeps on chip (`Workload.reserved`).

The search enumerates query blocks (powers of two and the whole length), key tiles (the
array's side times powers of two, and all keys), both K/V modes and every dataflow of the
chip; keeps those that fit; orders them by a closed-form estimate (array time, vector time,
DRAM bytes over the channel) and measures the best `MEASURED` with the simulator, keeping
the lowest score on the search's `Goal` (`measure`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from accel_spec.types import Dataflow, Operand, TensorClass
from compiler.scheduling.footprint import Footprint
from compiler.scheduling.objective import Goal
from compiler.scheduling.roles import roles
from compiler.scheduling.schedule import AttentionSchedule
from compiler.scheduling.tiling import ladder, tile_count
from compiler.target import Target, nbytes
from compiler.target.timing import gemm_cycles
from compiler.workload import Workload

MEASURED = 4
"""Finalists of a fused chain simulated by the search, best estimate first."""


def attention_footprint(
    workload: Workload, chip: Target, query_block, key_block, kv_resident, pipelined
) -> np.ndarray:
    """(buffers, candidates) bytes each buffer holds for blocking candidates (arrays)."""
    shape = workload.attention
    assert shape is not None
    bq = np.asarray(query_block, dtype=np.int64)
    bk = np.asarray(key_block, dtype=np.int64)
    resident = np.asarray(kv_resident, dtype=bool)
    rows = 1 + np.asarray(pipelined, dtype=np.int64)  # S and P rows live at once
    flags = roles(workload, chip)
    q_bits, kv_bits, _, _ = (int(b) for b in chip.bits_of(workload.operand_classes))
    act_bits, ab = int(chip.bits_of(TensorClass.ACTIVATION)), chip.accumulator_bits
    by_operand = np.zeros((len(Operand),) + np.broadcast_shapes(bq.shape, bk.shape, resident.shape, rows.shape), dtype=np.int64)
    by_operand[Operand.INPUT] = bool(flags.input_tile) * nbytes(bq * shape.head_dim, q_bits) + rows * nbytes(bq * shape.keys, act_bits)
    whole = nbytes(shape.keys * shape.head_dim, kv_bits) + nbytes(shape.keys * shape.value_dim, kv_bits)
    streamed = 2 * (nbytes(bk * shape.head_dim, kv_bits) + nbytes(bk * shape.value_dim, kv_bits))
    by_operand[Operand.WEIGHT] = bool(flags.weight_tile) * np.where(resident, whole, streamed)
    by_operand[Operand.OUTPUT] = rows * nbytes(bq * shape.keys, ab) + nbytes(bq * shape.value_dim, ab)
    reserved = flags.reserved.reshape((-1,) + (1,) * (by_operand.ndim - 1))
    return Footprint(by_operand, np.zeros(by_operand.shape[1:], dtype=bool), reserved).demand(chip)


def attention_candidates(workload: Workload, chip: Target) -> list[AttentionSchedule]:
    """The blocking candidates that fit the chip's buffers, best estimate first."""
    shape = workload.attention
    assert shape is not None
    queries = ladder(1, shape.queries)
    side = max(chip.rows, chip.cols)
    keys = ladder(min(side, shape.keys), shape.keys)
    grid = np.meshgrid(queries, keys, [True, False], [True, False], [int(d) for d in chip.dataflows], indexing="ij")
    bq, bk, resident, pipelined, dataflow = (a.ravel() for a in grid)
    resident, pipelined = resident.astype(bool), pipelined.astype(bool)
    single = tile_count(shape.keys, bk) == 1
    keep = ~(single & ~resident)  # one key tile is reused across query blocks: resident
    capacity = chip.capacity_array.reshape(-1, 1)
    keep &= np.all(attention_footprint(workload, chip, bq, bk, resident, pipelined) <= capacity, axis=0)
    bq, bk, resident, pipelined, dataflow = bq[keep], bk[keep], resident[keep], pipelined[keep], dataflow[keep]
    estimate = attention_estimate(workload, chip, bq, bk, resident, pipelined, dataflow)
    order = np.lexsort((~pipelined, -bk, -bq, estimate))
    return [
        AttentionSchedule(Dataflow(int(dataflow[i])), int(bq[i]), int(bk[i]), bool(resident[i]), bool(pipelined[i]))
        for i in order
    ]


def attention_estimate(workload: Workload, chip: Target, bq, bk, resident, pipelined, dataflow) -> np.ndarray:
    """Estimated cycles of candidates: the largest of the array's time (full tiles) and the
    vector unit's (overlapped when pipelined, one after the other otherwise) and the DRAM
    channel's (Q, O, and K and V as often as they are read). Pipelined, the overlap stops at
    a block: the first block's softmax waits for its S row and the last block's PV for its
    softmax, so one block's array work (QKᵀ and PV, the array's time over the blocks) is in
    series with all of the vector unit's; fewer, larger blocks expose more of it."""
    shape = workload.attention
    flags = roles(workload, chip)
    blocks = shape.batch * tile_count(shape.queries, bq)
    tiles = blocks * tile_count(shape.keys, bk)

    def cycles(m, k, n):
        return gemm_cycles(m, k, n, dataflow, chip.rows, chip.cols, unit_cols=chip.unit_cols, depth=chip.reduction_depth,
                           width=chip.pe_width)

    array = tiles * (cycles(bq, shape.head_dim, bk) + cycles(bq, bk, shape.value_dim))
    rates = chip.vector_lane_ops_per_cycle
    vector = sum(ops / rates[op_class] for op_class, ops in workload.vector_ops.items())
    reads = np.where(resident, 1, tile_count(shape.queries, bq))
    kv = shape.batch * (shape.keys * (shape.head_dim + shape.value_dim)) * reads
    q_bits, kv_bits, _, out_bits = (int(b) for b in chip.bits_of(workload.operand_classes))
    moved = (
        bool(flags.input_dram) * nbytes(workload.input_elements, q_bits)
        + bool(flags.weight_dram) * nbytes(kv, kv_bits)
        + bool(flags.output_dram) * nbytes(workload.output_elements, out_bits)
    )
    dram = moved / chip.dram_bytes_per_cycle
    engines = np.where(pipelined, np.maximum(array, vector + array / blocks), array + vector)
    return np.maximum(engines, dram)


def best_attention(
    workload: Workload, chip: Target, goal: Goal, finalists: Sequence[AttentionSchedule]
) -> tuple[AttentionSchedule, float] | None:
    """The measured best of `finalists` (the first `MEASURED` of `attention_candidates`) on
    `goal`, and its score; None when there are none (no blocking fits)."""
    from compiler.scheduling.measure import simulate_layer

    best: tuple[AttentionSchedule, float] | None = None
    for schedule in finalists:
        counts, program = simulate_layer(workload, schedule, chip)
        score = goal.score(counts, program, chip)
        if best is None or score < best[1]:
            best = (schedule, score)
    return best
