"""Code for a depth-first chain of convolutions (`scheduling.conv_chain`) as a `SlotTable`.

One row per GEMM: (band, layer, piece) for every layer that computes rows in the band, in
band order, then layer order, then piece order (`scheduling.conv_chain.pieces`: a pass of
`groups_per_pass` groups, or a tile of n as wide as the array). m = the rows the layer
computes in the band × its output width × images, k its own. In slot order a row holds:

  LOAD_W i    layer i's weights, whole (first row only; none when the plan keeps them in
              the weight buffer)
  LOAD_IN     the chain input's rows of band 0 (first row only)
  LOAD_NEXT   the chain input's rows of the next band (first row of each band: prefetched
              one band ahead)
  LOAD_SIDE   the side input (residual) of the row's output tile (last layer)
  GEMM        accumulate=0: the layer's whole reduction in one GEMM
  VEC         the fused epilogue, one per op class, split over the layer's GEMMs in
              proportion to their output elements (cumulative rounding: exact totals)
  CLOSE       the output tile's way out of the accumulators: the last layer STOREs it to
              the level the plan puts the chain's output at; any other layer moves it on
              chip into the next layer's line buffer in the INPUT buffer (a LOAD of INPUT
              from the OUTPUT buffer's level, as fused attention moves P: `compiler.verify`)

Dependencies. GEMM ← its layer's weights; the newest rows of its input (the last LOAD_IN
or CLOSE of the newest band that brought rows of it); every load or move whose rows it is
the last to read (so `compiler.verify` sees each line-buffer row live until then); the CLOSE
two rows earlier (two partial-sum tiles). VEC ← GEMM and side input; CLOSE ← the last VEC
(or GEMM). Write after read: LOAD_NEXT of band j + 1 waits for the first layer's last GEMM
before band j, a move into layer i + 1's line buffer in band j for layer i + 1's last GEMM
before band j, and a side input for the CLOSE two rows earlier.
"""

from __future__ import annotations

import functools

import numpy as np

from accel_spec.types import OpClass, Operand, TensorClass
from compiler.codegen.layout import SlotTable
from compiler.scheduling.conv_chain import bands, pieces
from compiler.scheduling.roles import roles
from compiler.scheduling.schedule import ConvChainSchedule
from compiler.target import Target, level_of, nbytes
from compiler.target.isa import Opcode
from compiler.workload import Workload

_DATA, _WAR, _WEIGHT = 0, 1, 2  # dependency columns; a VEC's side input goes in _WAR's
_FIXED_DEPS = 3


def conv_chain_table(workload: Workload, schedule: ConvChainSchedule, chip: Target, layer: int) -> SlotTable:
    """The instructions of a fused chain of convolutions under `schedule` (module doc)."""
    chain = workload.conv_chain
    assert chain is not None
    plan = bands(chain, schedule.band_rows)
    packed = pieces(chain, schedule.groups_per_pass, chip.cols)
    depth, count = plan.rows.shape
    flags = roles(workload, chip)
    act_bits = int(chip.bits_of(TensorClass.ACTIVATION))

    # rows of the table: (band, member layer, piece), band-major
    band_of, layer_of = np.nonzero(plan.rows.T > 0)
    per = np.array([len(p) for p, _ in packed], dtype=np.int64)[layer_of]
    band = np.repeat(band_of, per)
    member = np.repeat(layer_of, per)
    starts = np.repeat(np.cumsum(per) - per, per)
    pass_index = np.arange(len(band)) - starts
    offsets = np.cumsum([0] + [len(p) for p, _ in packed])[member] + pass_index
    g = np.concatenate([p for p, _ in packed])[offsets]
    n = np.concatenate([w for _, w in packed])[offsets]
    out_w = np.array([lay.conv.out_w * lay.conv.images for lay in chain.layers], dtype=np.int64)
    k = np.array([lay.gemm.k for lay in chain.layers], dtype=np.int64)
    m = plan.rows[member, band] * out_w[member]
    total = len(band)
    last = member == depth - 1

    # first and last row of each (layer, band); the newest earlier band's last row
    first_row = np.full((depth, count), -1, dtype=np.int64)
    last_row = np.full((depth, count), -1, dtype=np.int64)
    np.maximum.at(last_row, (member, band), np.arange(total))
    first_row[member[::-1], band[::-1]] = np.arange(total)[::-1]
    before = np.maximum.accumulate(np.concatenate([np.full((depth, 1), -1), last_row[:, :-1]], axis=1), axis=1)
    band_start = np.full(count, total, dtype=np.int64)
    np.minimum.at(band_start, band, np.arange(total))

    classes = [c for c in OpClass if any(dict(lay.vector_ops).get(c, 0) for lay in chain.layers)]
    LOAD_W, LOAD_IN = 0, depth
    LOAD_NEXT, LOAD_SIDE, GEMM = LOAD_IN + 1, LOAD_IN + 2, LOAD_IN + 3
    VEC, CLOSE = GEMM + 1, GEMM + 1 + len(classes)

    # producers of each layer's input rows, per band that brings some: (layer, band) -> positions
    new = plan.new_input
    slots = CLOSE + 1
    input_tiled = bool(flags.input_tile)

    def pos(row, slot):
        return np.asarray(row, dtype=np.int64) * slots + slot

    producer_first = np.full((depth, count), -1, dtype=np.int64)  # first producing position
    producer_last = np.full((depth, count), -1, dtype=np.int64)
    if input_tiled:
        loads = np.where(np.arange(count) == 0, pos(0, LOAD_IN), pos(band_start[np.maximum(np.arange(count) - 1, 0)], LOAD_NEXT))
        producer_first[0] = producer_last[0] = np.where(new[0] > 0, loads, -1)
    for i in range(1, depth):
        producer_first[i] = np.where(new[i] > 0, pos(first_row[i - 1], CLOSE), -1)
        producer_last[i] = np.where(new[i] > 0, pos(last_row[i - 1], CLOSE), -1)
    newest = np.maximum.accumulate(np.where(new > 0, np.arange(count)[None, :], -1), axis=1)

    # releases: every producing position of band j of layer i -> the last GEMM of band last_reader
    released = (plan.last_reader >= 0) & (producer_first >= 0)
    src_first, src_last = producer_first[released], producer_last[released]
    where_layer, where_band = np.nonzero(released)
    target = last_row[where_layer, plan.last_reader[where_layer, where_band]]
    stride = np.where(where_layer > 0, slots, 1)  # moves: one per row (CLOSE); loads: one
    span = (src_last - src_first) // stride + 1
    release_target = np.repeat(target, span)
    release_source = np.repeat(src_first, span) + (np.arange(span.sum()) - np.repeat(np.cumsum(span) - span, span)) * np.repeat(stride, span)
    order = np.argsort(release_target, kind="stable")
    release_target, release_source = release_target[order], release_source[order]
    rank = np.arange(len(release_target)) - np.searchsorted(release_target, release_target, side="left")
    width = _FIXED_DEPS + (int(rank.max()) + 1 if len(rank) else 0)

    table = SlotTable.empty(total, slots, width)

    fill = functools.partial(table.fill, layer=layer)
    dep = table.dep

    rows = np.arange(total)
    head = rows == 0
    weights = dict(opcode=Opcode.LOAD, operand=Operand.WEIGHT, buffer=chip.buffer(Operand.WEIGHT),
                   level=workload.placement.weight)
    for i, lay in enumerate(chain.layers):
        fill(LOAD_W + i, head & bool(flags.weight_tile), **weights,
             bytes=nbytes(lay.gemm.batch * lay.gemm.k * lay.gemm.n, int(flags.weight_bits)))
    row_bytes = chain.layers[0].conv.in_w * chain.layers[0].conv.in_c * chain.layers[0].conv.images
    source = dict(opcode=Opcode.LOAD, operand=Operand.INPUT, buffer=chip.buffer(Operand.INPUT),
                  level=workload.placement.input)
    fill(LOAD_IN, head & input_tiled, **source, bytes=nbytes(new[0, 0] * row_bytes, int(flags.input_bits)))
    next_band = np.minimum(band + 1, count - 1)
    prefetch = (rows == band_start[band]) & (band + 1 < count) & (new[0, next_band] > 0) & input_tiled
    fill(LOAD_NEXT, prefetch, **source, bytes=nbytes(new[0, next_band] * row_bytes, int(flags.input_bits)))
    dep(LOAD_NEXT, _WAR, prefetch & (before[0, band] >= 0), pos(before[0, band], GEMM))

    side = last & bool(workload.side_input_elements) & bool(flags.side_tile)
    fill(LOAD_SIDE, side, opcode=Opcode.LOAD, operand=Operand.OUTPUT, buffer=chip.buffer(Operand.OUTPUT),
         level=workload.placement.side, bytes=nbytes(g * m * n, int(flags.side_bits)))
    dep(LOAD_SIDE, _WAR, side & (rows >= 2), pos(rows - 2, CLOSE))

    fill(GEMM, np.ones(total, dtype=bool), opcode=Opcode.GEMM, dataflow=int(schedule.dataflow), m=m, k=k[member],
         n=n, groups=g, accumulate=0)
    has_input = (member > 0) | input_tiled
    data = producer_last[member, newest[member, band]]
    dep(GEMM, _DATA, has_input, data)
    dep(GEMM, _WAR, rows >= 2, pos(rows - 2, CLOSE))
    dep(GEMM, _WEIGHT, bool(flags.weight_tile), pos(0, LOAD_W + member))
    table.deps[release_target, GEMM, _FIXED_DEPS + rank] = release_source

    # the epilogue of each layer split over its rows by output elements
    elements = g * m * n
    after = np.zeros(total, dtype=np.int64)
    for i in range(depth):
        mine = member == i
        after[mine] = np.cumsum(elements[mine])
    layer_total = np.bincount(member, weights=elements, minlength=depth).astype(np.int64)
    closer_after = np.full(total, GEMM, dtype=np.int64)
    for c, op_class in enumerate(classes):
        ops = np.array([dict(lay.vector_ops).get(op_class, 0) for lay in chain.layers], dtype=np.int64)[member]
        whole = layer_total[member]
        quotient, remainder = ops // whole, ops % whole
        share = quotient * elements + (remainder * after) // whole - (remainder * (after - elements)) // whole
        fill(VEC + c, share > 0, opcode=Opcode.VEC, op_class=int(op_class), elements=share)
        dep(VEC + c, _DATA, share > 0, pos(rows, GEMM))
        dep(VEC + c, _WAR, (share > 0) & side, pos(rows, LOAD_SIDE))
        closer_after = np.where(share > 0, VEC + c, closer_after)

    fill(CLOSE, np.ones(total, dtype=bool), opcode=np.where(last, Opcode.STORE, Opcode.LOAD),
         operand=np.where(last, Operand.OUTPUT, Operand.INPUT),
         buffer=np.where(last, chip.buffer(Operand.OUTPUT), chip.buffer(Operand.INPUT)),
         level=np.where(last, workload.placement.output, level_of(chip.buffer(Operand.OUTPUT))),
         bytes=np.where(last, nbytes(elements, int(flags.output_bits)), nbytes(elements, act_bits)))
    dep(CLOSE, _DATA, np.ones(total, dtype=bool), pos(rows, closer_after))
    consumer = np.minimum(member + 1, depth - 1)
    frees = ~last & (before[consumer, band] >= 0)
    dep(CLOSE, _WAR, frees, pos(before[consumer, band], GEMM))
    return table
