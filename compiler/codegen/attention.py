"""Code for a fused attention chain (`scheduling.attention`) as a `SlotTable`.

Block n = (head, query block) takes 2 × T rows, T = key tiles per head: a first phase of T
rows (key tile j each) and a second phase of T rows. In slot order:

  phase 1, row j:  LOAD_Q (j = 0, unless the plan keeps Q in the INPUT buffer)
                   LOAD_K  key tile j (every block when streamed; the head's first block
                           when resident or T = 1)
                   GEMM_S  S[:, tile j] = Q·K_jᵀ (opens its partial sums)
                   VEC     softmax of the block's S row, one per op class (j = T − 1)
  phase 2, row j:  LOAD_P  P[:, tile j] from the OUTPUT buffer into the INPUT buffer
                           (on chip; it closes S tile j)
                   LOAD_V  value tile j (as LOAD_K)
                   GEMM_O  O += P_j·V_j (accumulate after j = 0)
                   STORE   O of the block (j = T − 1), to the level the plan puts it at

Pipelined (`AttentionSchedule.pipelined`), block n's second phase comes after block n + 1's
first phase in program order, so the array computes the next block's S while the vector unit
works on this block's, and S and P tiles have two slots; otherwise the phases of a block are
adjacent and S and P have one slot.

Dependencies: GEMM_S ← its Q and K loads, and the P load that freed its S slot (the block
one or two earlier, by slots); VEC ← the block's last GEMM_S; LOAD_P ← the block's last
VEC, and the GEMM_O that read P tile j in the block one or two earlier; GEMM_O ← its P and
V loads, and (j = 0) the previous block's STORE; STORE ← the last GEMM_O. A K (V) load waits for the last reader of
the tile in its slot: the load two earlier when streamed (two slots), the same tile of the
previous head when resident; the Q load for the previous block's last GEMM_S.
"""

from __future__ import annotations

import functools

import numpy as np

from accel_spec.types import OpClass, Operand, TensorClass
from compiler.codegen.layout import NO_DEP, SlotTable
from compiler.scheduling.roles import roles
from compiler.scheduling.schedule import AttentionSchedule
from compiler.scheduling.tiling import tile_sizes
from compiler.target import Target, level_of, nbytes
from compiler.target.isa import Opcode
from compiler.target.timing import row_stationary_pes
from compiler.workload import Workload

LOAD_Q, LOAD_K, GEMM_S, VEC = 0, 1, 2, 3
LOAD_P = VEC + len(OpClass)
LOAD_V, GEMM_O, STORE = LOAD_P + 1, LOAD_P + 2, LOAD_P + 3
SLOTS = STORE + 1
DEP_WIDTH = 3


def attention_table(workload: Workload, schedule: AttentionSchedule, chip: Target, layer: int) -> SlotTable:
    """The instructions of a fused attention chain under `schedule` (module doc)."""
    shape = workload.attention
    assert shape is not None
    q_sizes = tile_sizes(shape.queries, schedule.query_block)
    k_sizes = tile_sizes(shape.keys, schedule.key_block)
    nq, nk = len(q_sizes), len(k_sizes)
    resident = schedule.kv_resident or nk == 1
    blocks = shape.batch * nq
    per_block = 2 * nk
    lag = int(schedule.pipelined)  # steps between a block's two phases
    slots = 1 + lag
    rows = np.arange((blocks + lag) * per_block, dtype=np.int64)
    step, within = rows // per_block, rows % per_block
    second, j = within >= nk, within % nk
    block = step - lag * second
    valid = (block >= 0) & (block < blocks)
    block = np.clip(block, 0, blocks - 1)
    second, first_phase = second & valid, ~second & valid
    head, qi = block // nq, block % nq
    bq, bk = q_sizes[qi], k_sizes[j]
    first, last = j == 0, j == nk - 1
    flags = roles(workload, chip)
    # each tensor at its class's width: Q, S, P and O activations, K and V the class of the
    # chain's second operand (the KV cache in a decode step)
    q_bits, kv_bits, _, out_bits = (int(b) for b in chip.bits_of(workload.operand_classes))
    act_bits = int(chip.bits_of(TensorClass.ACTIVATION))

    table = SlotTable.empty(len(rows), SLOTS, DEP_WIDTH)

    def pos(row, slot):
        return table.position(row, slot)

    def row_of(block_index, phase, tile):
        return ((block_index + phase * lag) * per_block + phase * nk + tile).astype(np.int64)

    fill = functools.partial(table.fill, layer=layer)
    dep = table.dep

    earlier = block >= 1
    previous = np.maximum(block - 1, 0)
    freed_by = np.maximum(block - slots, 0)  # the block whose S (P) slot this block reuses
    reuses = block >= slots
    active = row_stationary_pes(1, shape.queries, chip.rows, chip.cols) if chip.row_stationary else 0
    gemm = dict(opcode=Opcode.GEMM, dataflow=int(schedule.dataflow), active=int(active))

    # ---- phase 1: Q, K, S = Q·Kᵀ, softmax
    load_q = first_phase & first & bool(flags.input_tile)
    fill(LOAD_Q, load_q, opcode=Opcode.LOAD, operand=Operand.INPUT, buffer=chip.buffer(Operand.INPUT),
         level=workload.placement.input, bytes=nbytes(bq * shape.head_dim, q_bits))
    dep(LOAD_Q, 0, load_q & earlier, pos(row_of(previous, 0, nk - 1), GEMM_S))
    load_k = first_phase & ((qi == 0) | (not resident))
    kv_source = dict(opcode=Opcode.LOAD, operand=Operand.WEIGHT, buffer=chip.buffer(Operand.WEIGHT),
                     level=workload.placement.weight)
    fill(LOAD_K, load_k, **kv_source, bytes=nbytes(bk * shape.head_dim, kv_bits))
    dep(LOAD_K, 0, load_k, _kv_release(block, j, head, nk, nq, resident, 0, pos, row_of, GEMM_S))
    is_s = first_phase
    fill(GEMM_S, is_s, **gemm, m=bq, k=shape.head_dim, n=bk, accumulate=0)
    if flags.input_tile:
        dep(GEMM_S, 0, is_s, pos(row_of(block, 0, 0), LOAD_Q))
    kv_block = block if not resident else head * nq
    dep(GEMM_S, 1, is_s, pos(row_of(kv_block, 0, j), LOAD_K))
    dep(GEMM_S, 2, is_s & reuses, pos(row_of(freed_by, 1, j), LOAD_P))
    softmax = first_phase & last
    block_rows = np.where(softmax, bq, 0)
    after = np.cumsum(block_rows)
    total = int(after[-1])
    last_vec = np.full(len(rows), GEMM_S, dtype=np.int64)
    for op_class in OpClass:
        ops = int(workload.vector_ops.get(op_class, 0))
        if ops == 0:
            continue
        quotient, remainder = divmod(ops, total)
        share = quotient * block_rows + (remainder * after) // total - (remainder * (after - block_rows)) // total
        fill(VEC + op_class, softmax & (share > 0), opcode=Opcode.VEC, op_class=int(op_class), elements=share)
        dep(VEC + op_class, 0, softmax, pos(rows, GEMM_S))
        last_vec = np.where(share > 0, VEC + op_class, last_vec)
    softmax_end = pos(row_of(block, 0, nk - 1), last_vec[row_of(block, 0, nk - 1)])

    # ---- phase 2: P to the INPUT buffer, V, O += P·V, store O
    fill(LOAD_P, second, opcode=Opcode.LOAD, operand=Operand.INPUT, buffer=chip.buffer(Operand.INPUT),
         level=level_of(chip.buffer(Operand.OUTPUT)), bytes=nbytes(bq * bk, act_bits))
    dep(LOAD_P, 0, second, softmax_end)
    dep(LOAD_P, 1, second & reuses, pos(row_of(freed_by, 1, j), GEMM_O))
    load_v = second & ((qi == 0) | (not resident))
    fill(LOAD_V, load_v, **kv_source, bytes=nbytes(bk * shape.value_dim, kv_bits))
    dep(LOAD_V, 0, load_v, _kv_release(block, j, head, nk, nq, resident, 1, pos, row_of, GEMM_O))
    fill(GEMM_O, second, **gemm, m=bq, k=bk, n=shape.value_dim, accumulate=(~first).astype(np.uint8))
    dep(GEMM_O, 0, second, pos(rows, LOAD_P))
    dep(GEMM_O, 1, second, pos(row_of(kv_block, 1, j), LOAD_V))
    dep(GEMM_O, 2, second & first & earlier, pos(row_of(previous, 1, nk - 1), STORE))
    store = second & last
    fill(STORE, store, opcode=Opcode.STORE, operand=Operand.OUTPUT, buffer=chip.buffer(Operand.OUTPUT),
         level=workload.placement.output, bytes=nbytes(bq * shape.value_dim, out_bits))
    dep(STORE, 0, store, pos(rows, GEMM_O))
    return table


def _kv_release(
    block, j, head, nk: int, nq: int, resident: bool, phase: int, pos, row_of, reader: int
) -> np.ndarray:
    """Position of the last reader of the K (phase 0) or V (phase 1) tile whose slot a load
    of tile j in `block` refills (NO_DEP for the first loads)."""
    if resident:
        # the same tile of the previous head, last read in that head's last query block
        owner = (head - 1) * nq + nq - 1
        return np.where(head >= 1, pos(row_of(np.maximum(owner, 0), phase, j), reader), NO_DEP)
    # streamed through two slots: the load two earlier, read in its own row
    sequence = block * nk + j - 2
    earlier = np.maximum(sequence, 0)
    return np.where(sequence >= 0, pos(row_of(earlier // nk, phase, earlier % nk), reader), NO_DEP)
