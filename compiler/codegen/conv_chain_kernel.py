"""Numba kernel of a fused chain of convolutions' code: its slot table, then compacted.

`compiler.codegen.conv_chain` states the code (its module docstring names every slot, field
and dependency) and reduces the chain, its schedule and the chip to the arrays and integers
below; this kernel lays the table out row by row and compacts it into program order, as
`layout.compact` does for the tables built in numpy. It takes only arrays and scalars
(STYLE). A never-seen chip's fusion search generates a chain's code for each band height it
measures, and the same table in numpy calls cost half a millisecond of fixed overhead.

Layout. One row per GEMM: (band, layer, piece), band-major, then layer, then piece. Slots in
a row: LOAD_W of each layer (`depth` of them), LOAD_IN, LOAD_NEXT, LOAD_SIDE, GEMM, one VEC
per op class with work, CLOSE; a slot's flat position is row · slots + slot, and program
order is flat order over the present slots. A slot's dependencies are named by flat position,
then renumbered to program indices, sorted latest first and deduplicated (`layout.to_csr`).
"""

from __future__ import annotations

import numpy as np

from compiler.codegen.gemm_kernel import _insert_latest_first
from simulator.kernels.engines import _nbytes
from simulator.kernels.numba_target import njit

NO_DEP = -1
# Opcode and Operand values of `compiler.target.isa` / `accel_spec.types`.
OP_LOAD, OP_GEMM, OP_VEC, OP_STORE = 0, 1, 2, 3
INPUT, WEIGHT, OUTPUT = 0, 1, 2
FIXED_DEPS = 3
"""Dependencies a slot may have besides the line-buffer releases of a GEMM."""


@njit(cache=True, error_model="numpy")
def _conv_chain_code(
    proto, band_rows, new, last_reader, piece_groups, piece_n, piece_start, out_w, k, weight_bytes, class_ops, class_ids,
    flags, bits, buffers, levels, row_bytes, has_side, dataflow, layer,
):  # fmt: skip
    """(instructions, dep_ptr, deps, ok) of a fused chain (`conv_chain.conv_chain_code`).

    `band_rows` (depth, bands) rows each layer computes in each band, `new` the rows of its
    input that arrive in each band, `last_reader` the last band reading a band's new rows
    (`scheduling.conv_chain.Bands`); layer i's GEMMs in a band are pieces `piece_start[i]` to
    `piece_start[i + 1]` of (`piece_groups`, `piece_n`); per layer its output width × images
    `out_w`, reduction `k`, weight bytes `weight_bytes` and, per op class with work
    (`class_ids`), its lane operations `class_ops` (classes, depth). `flags` (input tile,
    weight tile, side tile), `bits` (input, side, output, activation), `buffers` (input,
    weight, output), `levels` (input, weight, side, output, the output buffer's own),
    `row_bytes` one input row's elements, `has_side` a side input, `dataflow` and `layer`
    the GEMMs' and the records'. `ok` is False when a dependency names an absent slot.
    """
    depth, count = band_rows.shape
    input_tile, weight_tile, side_tile = flags[0], flags[1], flags[2]
    classes = len(class_ids)
    load_in = depth
    load_next, load_side, gemm = load_in + 1, load_in + 2, load_in + 3
    vec, close = gemm + 1, gemm + 1 + classes
    slots = close + 1

    # rows: (band, layer, piece), band-major
    total = 0
    for j in range(count):
        for i in range(depth):
            if band_rows[i, j] > 0:
                total += piece_start[i + 1] - piece_start[i]
    band = np.empty(total, np.int64)
    member = np.empty(total, np.int64)
    g = np.empty(total, np.int64)
    n = np.empty(total, np.int64)
    m = np.empty(total, np.int64)
    first_row = np.full((depth, count), -1, np.int64)
    last_row = np.full((depth, count), -1, np.int64)
    band_start = np.full(count, total, np.int64)
    r = 0
    for j in range(count):
        for i in range(depth):
            if band_rows[i, j] <= 0:
                continue
            for p in range(piece_start[i], piece_start[i + 1]):
                band[r], member[r], g[r], n[r] = j, i, piece_groups[p], piece_n[p]
                m[r] = band_rows[i, j] * out_w[i]
                if first_row[i, j] < 0:
                    first_row[i, j] = r
                last_row[i, j] = r
                if band_start[j] == total:
                    band_start[j] = r
                r += 1
    # the newest earlier band's last row of each layer, and each layer's newest band with new rows
    before = np.full((depth, count), -1, np.int64)
    newest = np.full((depth, count), -1, np.int64)
    for i in range(depth):
        latest, arrived = -1, -1
        for j in range(count):
            before[i, j] = latest
            latest = max(latest, last_row[i, j])
            if new[i, j] > 0:
                arrived = j
            newest[i, j] = arrived

    # producers of each layer's input rows, per band that brings some: first and last position
    producer_first = np.full((depth, count), -1, np.int64)
    producer_last = np.full((depth, count), -1, np.int64)
    for j in range(count):
        if input_tile and new[0, j] > 0:
            loads = load_in if j == 0 else band_start[max(j - 1, 0)] * slots + load_next
            producer_first[0, j] = producer_last[0, j] = loads
        for i in range(1, depth):
            if new[i, j] > 0:
                producer_first[i, j] = first_row[i - 1, j] * slots + close
                producer_last[i, j] = last_row[i - 1, j] * slots + close

    # releases: every producing position of band j of layer i -> the last GEMM of band last_reader
    releases = np.zeros(total, np.int64)
    for i in range(depth):
        for j in range(count):
            if last_reader[i, j] >= 0 and producer_first[i, j] >= 0:
                stride = slots if i > 0 else 1
                releases[last_row[i, last_reader[i, j]]] += (producer_last[i, j] - producer_first[i, j]) // stride + 1
    width = FIXED_DEPS
    for row in range(total):
        width = max(width, FIXED_DEPS + releases[row])

    instructions = np.zeros(total * slots, dtype=proto.dtype)
    present = np.zeros(total * slots, np.bool_)
    deps = np.full((total * slots, width), NO_DEP, np.int64)
    filled = np.zeros(total * slots, np.int64)
    for i in range(depth):
        for j in range(count):
            if last_reader[i, j] >= 0 and producer_first[i, j] >= 0:
                stride = slots if i > 0 else 1
                target = last_row[i, last_reader[i, j]] * slots + gemm
                for source in range(producer_first[i, j], producer_last[i, j] + 1, stride):
                    deps[target, FIXED_DEPS + filled[target]] = source
                    filled[target] += 1

    # the epilogue of each layer split over its rows by output elements
    layer_total = np.zeros(depth, np.int64)
    for row in range(total):
        layer_total[member[row]] += g[row] * m[row] * n[row]
    after = np.zeros(depth, np.int64)
    for row in range(total):
        i, j = member[row], band[row]
        base = row * slots
        last = i == depth - 1
        elements = g[row] * m[row] * n[row]
        after[i] += elements
        side = last and has_side and side_tile
        if row == 0:
            for w in range(depth):
                if weight_tile:
                    _put(instructions, present, base + w, OP_LOAD, WEIGHT, buffers[WEIGHT], levels[1], weight_bytes[w], layer)
            if input_tile:
                _put(instructions, present, base + load_in, OP_LOAD, INPUT, buffers[INPUT], levels[0],
                     _nbytes(new[0, 0] * row_bytes, bits[0]), layer)  # fmt: skip
        following = min(j + 1, count - 1)
        if row == band_start[j] and j + 1 < count and new[0, following] > 0 and input_tile:
            _put(instructions, present, base + load_next, OP_LOAD, INPUT, buffers[INPUT], levels[0],
                 _nbytes(new[0, following] * row_bytes, bits[0]), layer)  # fmt: skip
            if before[0, j] >= 0:
                deps[base + load_next, 1] = before[0, j] * slots + gemm
        if side:
            _put(instructions, present, base + load_side, OP_LOAD, OUTPUT, buffers[OUTPUT], levels[2],
                 _nbytes(elements, bits[1]), layer)  # fmt: skip
            if row >= 2:
                deps[base + load_side, 1] = (row - 2) * slots + close
        at = base + gemm
        present[at] = True
        record = instructions[at]
        record["opcode"], record["dataflow"], record["layer"] = OP_GEMM, dataflow, layer
        record["m"], record["k"], record["n"], record["groups"] = m[row], k[i], n[row], g[row]
        if i > 0 or input_tile:
            arrived = newest[i, j]
            deps[at, 0] = producer_last[i, arrived if arrived >= 0 else count + arrived]
        if row >= 2:
            deps[at, 1] = (row - 2) * slots + close
        if weight_tile:
            deps[at, 2] = i
        closer = gemm
        for c in range(classes):
            whole = layer_total[i]
            ops = class_ops[c, i]
            quotient, remainder = ops // whole, ops % whole
            share = quotient * elements + (remainder * after[i]) // whole - (remainder * (after[i] - elements)) // whole
            if share > 0:
                at = base + vec + c
                present[at] = True
                record = instructions[at]
                record["opcode"], record["op_class"], record["elements"], record["layer"] = OP_VEC, class_ids[c], share, layer
                deps[at, 0] = base + gemm
                if side:
                    deps[at, 1] = base + load_side
                closer = vec + c
        if last:
            _put(instructions, present, base + close, OP_STORE, OUTPUT, buffers[OUTPUT], levels[3], _nbytes(elements, bits[2]), layer)
        else:
            _put(instructions, present, base + close, OP_LOAD, INPUT, buffers[INPUT], levels[4], _nbytes(elements, bits[3]), layer)
        deps[base + close, 0] = base + closer
        consumer = min(i + 1, depth - 1)
        if not last and before[consumer, j] >= 0:
            deps[base + close, 1] = before[consumer, j] * slots + gemm
    return _compacted(instructions, present, deps)


@njit(cache=True, error_model="numpy")
def _put(instructions, present, at, opcode, operand, buffer, level, size, layer):
    """Make slot `at` a transfer: `opcode` of `size` bytes of `operand` into or out of
    `buffer`, from or to `level`."""
    present[at] = True
    record = instructions[at]
    record["opcode"], record["operand"], record["buffer"], record["level"] = opcode, operand, buffer, level
    record["bytes"], record["layer"] = size, layer


@njit(cache=True, error_model="numpy")
def _compacted(instructions, present, deps):
    """(instructions, dep_ptr, deps, ok) of a slot table (flat `instructions`, `present`,
    `deps` by flat position, `NO_DEP` for none), as `layout.compact` makes them: the present
    slots in flat order, each one's dependencies renumbered to program indices, latest first,
    without repeats; ok is False when one names an absent slot."""
    positions = len(present)
    index_of = np.full(positions, NO_DEP, np.int64)
    count = 0
    for at in range(positions):
        if present[at]:
            index_of[at] = count
            count += 1
    compacted = np.empty(count, dtype=instructions.dtype)
    dep_ptr = np.zeros(count + 1, np.int64)
    width = deps.shape[1]
    dep_list = np.empty(count * width, np.int64)
    ok = True
    n_deps = 0
    for at in range(positions):
        if not present[at]:
            continue
        i = index_of[at]
        compacted[i] = instructions[at]
        start = n_deps
        for d in range(width):
            dep = deps[at, d]
            if dep == NO_DEP:
                continue
            named = dep if dep >= 0 else dep + positions  # as numpy indexes a negative position
            if not present[named]:
                ok = False
                continue
            n_deps = _insert_latest_first(dep_list, start, n_deps, index_of[named])
        dep_ptr[i + 1] = n_deps
    return compacted, dep_ptr, dep_list[:n_deps].copy(), ok
