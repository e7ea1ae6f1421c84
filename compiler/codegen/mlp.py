"""Code for a fused MLP block (`scheduling.mlp`) as a `SlotTable`.

Per band of tokens, two phases of C rows each (C = chunks of the intermediate; m = the band's
tokens, f = the chunk's columns, g = 2 for a gated block, else 1) and an epilogue row. In
slot order:

  phase 1, row j:  LOAD_X     the band of X (j = 0, unless the plan keeps X in the INPUT buffer)
                   LOAD_UP    up weights of chunk j (every band when streamed; the first
                              band only when resident)
                   LOAD_DOWN  down weights of chunk j when resident (first band only); when
                              streamed, of chunk 0 (j = C − 1)
                   GEMM_UP    H_j = X·W_up[:, chunk j]: m × hidden × g·f (opens its partial sums)
                   VEC_UP     the activation (and gate product) of H_j, one per op class
  phase 2, row j:  LOAD_DOWN  streamed: down weights of chunk j + 1
                   MOVE       H_j from the OUTPUT buffer into the INPUT buffer (on chip; it
                              closes H_j's partial sums, as fused attention moves P)
                   GEMM_DOWN  Y += H_j·W_down[chunk j]: m × f × out (accumulate after j = 0)
  epilogue:        LOAD_SIDE  the band's side input (residual)
                   VEC_DOWN   the down-projection's epilogue, one per op class
                   STORE      Y of the band, to the level the plan puts it at

Software pipelined like fused attention: a band's epilogue comes after the next band's first
up row in program order, so the vector unit starts the next band's activations before it
finishes this band's output, and the array never waits for the whole epilogue to reach the
next band's first down GEMM. Down weights ride in earlier rows than their GEMMs, ahead of
the moves that wait for the vector unit on the in-order LOAD engine. Vector work is split
over the rows that do it in proportion to their elements (cumulative rounding: exact totals).

Dependencies: GEMM_UP ← the band's X and its up chunk (the previous band's chunk in its
accumulators has moved out: the in-order array ran that band's GEMM_DOWNs, which wait for
the moves, first); VEC_UP ← GEMM_UP; MOVE ← the chunk's last VEC_UP,
and the GEMM_DOWN two chunks earlier (two activated chunks in the INPUT buffer); GEMM_DOWN ←
MOVE, its down chunk, and (j = 0) the previous band's STORE (one band of Y); LOAD_SIDE ← the
band's last GEMM_DOWN (the epilogue waits for it anyway); VEC_DOWN ← that GEMM and the side
input; STORE ← the last VEC_DOWN. Write after read: LOAD_X waits for the previous band's last
GEMM_UP; a streamed weight chunk for the GEMM that read the chunk two loads earlier.
"""

from __future__ import annotations

import functools

import numpy as np

from accel_spec.types import OpClass, Operand, TensorClass
from compiler.codegen.layout import SlotTable
from compiler.scheduling.roles import roles
from compiler.scheduling.schedule import MlpSchedule
from compiler.scheduling.tiling import tile_sizes
from compiler.target import Target, level_of, nbytes
from compiler.target.isa import Opcode
from compiler.workload import Workload

DEP_WIDTH = 3


def _shares(ops: int, elements: np.ndarray) -> np.ndarray:
    """`ops` split over rows in proportion to `elements` (zero where none), exactly."""
    after = np.cumsum(elements)
    total = int(after[-1])
    quotient, remainder = divmod(ops, total)
    return quotient * elements + (remainder * after) // total - (remainder * (after - elements)) // total


def mlp_table(workload: Workload, schedule: MlpSchedule, chip: Target, layer: int) -> SlotTable:
    """The instructions of a fused MLP block under `schedule` (module doc)."""
    shape = workload.mlp
    assert shape is not None
    up_classes = [OpClass(c) for c, ops in shape.up_ops if ops]
    down_classes = [OpClass(c) for c, ops in shape.down_ops if ops]
    LOAD_X, LOAD_UP, LOAD_DOWN, GEMM_UP, VEC_UP = 0, 1, 2, 3, 4
    MOVE = VEC_UP + len(up_classes)
    GEMM_DOWN, LOAD_SIDE, VEC_DOWN = MOVE + 1, MOVE + 2, MOVE + 3
    STORE = VEC_DOWN + len(down_classes)

    band_sizes = tile_sizes(shape.tokens, schedule.band)
    chunk_sizes = tile_sizes(shape.ffn, schedule.chunk)
    bands, chunks = len(band_sizes), len(chunk_sizes)
    # step t: band t's first up row, band t - 1's epilogue, band t's other up rows, its down rows
    per_step = 2 * chunks + 1
    rows = np.arange((bands + 1) * per_step, dtype=np.int64)
    step, within = rows // per_step, rows % per_step
    epilogue = (within == 1) & (step >= 1)
    first_phase = (within != 1) & (within <= chunks) & (step < bands)
    second = (within > chunks) & (step < bands)
    band = np.minimum(np.where(within == 1, step - 1, step), bands - 1)
    j = np.where(within > chunks, within - chunks - 1, np.maximum(within - 1, 0))
    m, f = band_sizes[band], chunk_sizes[j]
    flags = roles(workload, chip)
    act_bits = int(chip.bits_of(TensorClass.ACTIVATION))
    up = 1 + int(shape.gated)

    table = SlotTable.empty(len(rows), STORE + 1, DEP_WIDTH)
    fill = functools.partial(table.fill, layer=layer)
    dep = table.dep

    def up_row(band_index, chunk):
        return np.asarray(band_index) * per_step + np.where(np.asarray(chunk) == 0, 0, np.asarray(chunk) + 1)

    def down_row(band_index, chunk):
        return np.asarray(band_index) * per_step + chunks + 1 + chunk

    def epilogue_row(band_index):
        return (np.asarray(band_index) + 1) * per_step + 1

    pos = table.position
    earlier = band >= 1
    streamed = not schedule.weights_resident
    loads_weights = bool(flags.weight_tile) & (streamed | (band == 0))
    weight_band = band if streamed else np.zeros_like(band)
    sequence = band * chunks + j - 2  # the chunk whose weight (or activated-chunk) slot is refilled
    refills = sequence >= 0

    def reader(chunk_sequence, row, slot):
        """Position of `slot` in the row of chunk number `chunk_sequence` (bands × chunks)."""
        earliest = np.maximum(chunk_sequence, 0)
        return pos(row(earliest // chunks, earliest % chunks), slot)

    weights = dict(opcode=Opcode.LOAD, operand=Operand.WEIGHT, buffer=chip.buffer(Operand.WEIGHT),
                   level=workload.placement.weight)
    weight_bits = int(flags.weight_bits)

    # ---- phase 1: X, up weights, H_j = X·W_up, activation
    load_x = first_phase & (j == 0) & bool(flags.input_tile)
    fill(LOAD_X, load_x, opcode=Opcode.LOAD, operand=Operand.INPUT, buffer=chip.buffer(Operand.INPUT),
         level=workload.placement.input, bytes=nbytes(m * shape.hidden, int(flags.input_bits)))
    dep(LOAD_X, 0, load_x & earlier, pos(up_row(band - 1, chunks - 1), GEMM_UP))
    load_up = first_phase & loads_weights
    fill(LOAD_UP, load_up, **weights, bytes=nbytes(shape.hidden * up * f, weight_bits))
    dep(LOAD_UP, 0, load_up & streamed & refills, reader(sequence, up_row, GEMM_UP))
    fill(GEMM_UP, first_phase, opcode=Opcode.GEMM, dataflow=int(schedule.dataflow), m=m, k=shape.hidden, n=up * f,
         accumulate=0)
    dep(GEMM_UP, 0, first_phase & bool(flags.input_tile), pos(up_row(band, 0), LOAD_X))
    dep(GEMM_UP, 1, first_phase & bool(flags.weight_tile), pos(up_row(weight_band, j), LOAD_UP))
    last_up = np.full(len(rows), GEMM_UP, dtype=np.int64)
    for c, op_class in enumerate(up_classes):
        share = _shares(dict(shape.up_ops)[op_class], np.where(first_phase, m * f, 0))
        fill(VEC_UP + c, share > 0, opcode=Opcode.VEC, op_class=int(op_class), elements=share)
        dep(VEC_UP + c, 0, share > 0, pos(rows, GEMM_UP))
        last_up = np.where(share > 0, VEC_UP + c, last_up)

    # ---- phase 2: H_j on chip into the INPUT buffer, down weights, Y += H_j·W_down
    fill(MOVE, second, opcode=Opcode.LOAD, operand=Operand.INPUT, buffer=chip.buffer(Operand.INPUT),
         level=level_of(chip.buffer(Operand.OUTPUT)), bytes=nbytes(m * f, act_bits))
    activated = up_row(band, j)
    dep(MOVE, 0, second, pos(activated, last_up[activated]))
    dep(MOVE, 1, second & refills, reader(sequence, down_row, GEMM_DOWN))
    # down chunk j rides in an earlier row than its GEMM, ahead of the moves that wait for the
    # vector unit on the in-order LOAD engine: resident, beside up chunk j; streamed, chunk 0
    # after the band's last up chunk and chunk j + 1 in the row of GEMM_DOWN j, so that each
    # load follows the GEMM that frees its slot in program order (two up and two down chunks)
    if streamed:
        holds_down = (first_phase & (j == chunks - 1)) | (second & (j + 1 < chunks))
        down_chunk = np.where(first_phase, 0, np.minimum(j + 1, chunks - 1))
    else:
        holds_down, down_chunk = first_phase, j
    load_down = holds_down & loads_weights
    down_sequence = band * chunks + down_chunk - 2
    fill(LOAD_DOWN, load_down, **weights, bytes=nbytes(chunk_sizes[down_chunk] * shape.out, weight_bits))
    dep(LOAD_DOWN, 0, load_down & streamed & (down_sequence >= 0), reader(down_sequence, down_row, GEMM_DOWN))

    def down_load(band_index, chunk):
        if not streamed:
            return up_row(0, chunk)
        return np.where(chunk == 0, up_row(band_index, chunks - 1), down_row(band_index, chunk - 1))

    fill(GEMM_DOWN, second, opcode=Opcode.GEMM, dataflow=int(schedule.dataflow), m=m, k=f, n=shape.out,
         accumulate=(second & (j > 0)).astype(np.uint8))
    dep(GEMM_DOWN, 0, second, pos(rows, MOVE))
    dep(GEMM_DOWN, 1, second & bool(flags.weight_tile), pos(down_load(band, j), LOAD_DOWN))
    dep(GEMM_DOWN, 2, second & (j == 0) & earlier, pos(epilogue_row(band - 1), STORE))

    # ---- epilogue: side input, the down-projection's epilogue, store Y
    side = epilogue & bool(workload.side_input_elements) & bool(flags.side_tile)
    fill(LOAD_SIDE, side, opcode=Opcode.LOAD, operand=Operand.OUTPUT, buffer=chip.buffer(Operand.OUTPUT),
         level=workload.placement.side, bytes=nbytes(m * shape.out, int(flags.side_bits)))
    dep(LOAD_SIDE, 0, side, pos(down_row(band, chunks - 1), GEMM_DOWN))
    last_down = np.full(len(rows), -1, dtype=np.int64)
    for c, op_class in enumerate(down_classes):
        share = _shares(dict(shape.down_ops)[op_class], np.where(epilogue, m * shape.out, 0))
        fill(VEC_DOWN + c, share > 0, opcode=Opcode.VEC, op_class=int(op_class), elements=share)
        dep(VEC_DOWN + c, 0, share > 0, pos(down_row(band, chunks - 1), GEMM_DOWN))
        dep(VEC_DOWN + c, 1, (share > 0) & side, pos(rows, LOAD_SIDE))
        last_down = np.where(share > 0, pos(rows, VEC_DOWN + c), last_down)
    fill(STORE, epilogue, opcode=Opcode.STORE, operand=Operand.OUTPUT, buffer=chip.buffer(Operand.OUTPUT),
         level=workload.placement.output, bytes=nbytes(m * shape.out, int(flags.output_bits)))
    dep(STORE, 0, epilogue, np.where(last_down >= 0, last_down, pos(down_row(band, chunks - 1), GEMM_DOWN)))
    return table
