"""Numba kernel of GEMM codegen: a layer's tile loop nest emitted as compacted instructions.

`compiler.codegen.gemm` decides what the code of a GEMM workload is (its module docstring
states every instruction, field and dependency) and reduces the workload, schedule and chip
to the integers below; this kernel walks the loop nest once and writes the instructions and
their dependencies in program order. It takes only arrays and scalars (STYLE: kernels
validate nothing, the caller does). A sweep over never-seen chips generates tens of layer
codes a design point, and this loop costs a few microseconds where the same work in numpy
calls costs a millisecond of fixed overhead.

Layout. Row r of the slot table holds the loads of iteration r, the store of the tile
iteration r − shift − 1 finished and, `shift` rows after its loads, the compute of iteration
r − shift (double buffering: the next tile's loads are issued before the current tile's GEMM,
and before the store of the tile finished before it). A slot's flat position is
row · SLOTS + slot; program order is flat order over the present slots, and dependencies are
named by flat position, then renumbered to program indices, sorted (latest first) and
deduplicated.
"""

from __future__ import annotations

import numpy as np

from compiler.scheduling.terms_kernel import _window_channels, _window_pixels
from simulator.kernels.engines import _ceil_div, _nbytes
from simulator.kernels.numba_target import njit

# Slot order within a row (`compiler.codegen.gemm` states it).
LOAD_INPUT, LOAD_WEIGHT, STORE, LOAD_PSUM, LOAD_SIDE, GEMM, SPILL, VEC = 0, 1, 2, 3, 4, 5, 6, 7
SLOTS = 10
CLASSES = 3
DEPS = 4
NO_DEP = -1
# Opcode and Operand values of `compiler.target.isa` / `accel_spec.types`.
OP_LOAD, OP_GEMM, OP_VEC, OP_STORE = 0, 1, 2, 3
INPUT, WEIGHT, OUTPUT = 0, 1, 2


@njit(cache=True, error_model="numpy")
def _reused_load(present, deps, loads, issued, t, slot, spb, shift):
    """Issue the load of a reused operand tile in `slot` at iteration t, the `issued`-th of its
    operand: it waits for the last GEMM that read the tile its buffer slot held `spb` loads
    earlier (the iteration before the load that replaced it). Returns the loads issued."""
    present[t * SLOTS + slot] = True
    loads[issued] = t
    j = issued - spb
    if j >= 0:
        deps[t * SLOTS + slot, 0] = (loads[j + 1] - 1 + shift) * SLOTS + GEMM
    return issued + 1


@njit(cache=True, error_model="numpy")
def _insert_latest_first(dep_list, start, end, target):
    """Insert `target` into `dep_list[start:end]`, an instruction's dependencies so far in
    descending order, unless it is there already; returns the new end."""
    for e in range(start, end):
        if dep_list[e] == target:
            return end
    at = end
    while at > start and dep_list[at - 1] < target:
        dep_list[at] = dep_list[at - 1]
        at -= 1
    dep_list[at] = target
    return end + 1


@njit(cache=True, error_model="numpy")
def _tiling(loop_dims, extents, tiles, batch, groups, side_input_elements, geometry):
    """What the loop nest needs of the tiling, as `scheduling.tiling` derives it: tiles per
    dim (`tile_count`) and the last one's extent (`edge_tile`), passes and the last pass's
    products (`pass_groups`), the input and side-input elements of a tile by whether it is
    the last along (M, K) and (M, N) (`input_tile_elements`, by the estimate's kernel, and
    `side_tile_elements`), the iterations between visits of one K tile (the loops inside K)
    and the output tiles live across one K iteration (`psum_group_tiles`). `geometry` is
    (is conv, images, in_h, in_w, out_w, kernel_h, kernel_w, stride_h, stride_w,
    dilation_h, dilation_w, in_c, conv groups)."""
    counts = np.empty(3, dtype=np.int64)
    edges = np.empty(3, dtype=np.int64)
    for d in range(3):
        counts[d] = _ceil_div(extents[d], tiles[d])
        edges[d] = extents[d] - (counts[d] - 1) * tiles[d]
    passes = _ceil_div(batch, groups)
    last_groups = batch - (passes - 1) * groups
    conv = geometry[0] != 0
    total = batch * extents[0] * extents[2]
    input_elements = np.empty((2, 2), dtype=np.int64)
    side_elements = np.empty((2, 2), dtype=np.int64)
    for i in range(2):
        tm = edges[0] if i else tiles[0]
        pixels = _window_pixels(tm, conv, geometry[1], geometry[2], geometry[3], geometry[4], geometry[5], geometry[6],
                                geometry[7], geometry[8], geometry[9], geometry[10])  # fmt: skip
        for j in range(2):
            tk = edges[1] if j else tiles[1]
            tn = edges[2] if j else tiles[2]
            input_elements[i, j] = pixels * _window_channels(tk, conv, geometry[11], geometry[12], geometry[5], geometry[6])
            side_elements[i, j] = _ceil_div(tm * tn * side_input_elements, total)
    k_position = 0
    for position in range(3):
        if loop_dims[position] == 1:
            k_position = position
    stride_k = 1
    for position in range(k_position + 1, 3):
        stride_k *= counts[loop_dims[position]]
    psum_group = stride_k if counts[1] > 1 else 1
    return counts, edges, passes, last_groups, input_elements, side_elements, stride_k, psum_group


@njit(cache=True, error_model="numpy")
def _gemm_code(
    proto,
    loop_dims,
    extents,
    tiles,
    batch,
    groups,
    double_buffer,
    input_tile,
    weight_tile,
    side_tile,
    spill,
    side_input_elements,
    geometry,
    one_fold,
    stationary,
    vector_ops,
    levels,
    buffers,
    bits,
    accumulator_bits,
    dataflow,
    active,
    layer,
):
    """(instructions, dep_ptr, deps, ok) of one GEMM workload; see `gemm.gemm_code` for the
    arguments. `ok` is False if a dependency names an absent slot (a codegen bug)."""
    counts, edges, passes, last_groups, input_elements, side_elements, stride_k, psum_group = _tiling(
        loop_dims, extents, tiles, batch, groups, side_input_elements, geometry
    )
    m_dim, k_dim, n_dim = 0, 1, 2
    spb = 2 if double_buffer else 1
    shift = 1 if double_buffer else 0
    lag = shift + 1  # rows from an iteration's loads to its store
    inner = counts[loop_dims[0]] * counts[loop_dims[1]] * counts[loop_dims[2]]
    iterations = passes * inner
    table_rows = iterations + lag

    # ---- phase 1: each iteration's tiles, sizes and which instructions it issues
    tile = np.empty((iterations, 3), dtype=np.int64)
    last = np.empty((iterations, 3), dtype=np.int64)
    size = np.empty((iterations, 3), dtype=np.int64)
    pass_of = np.empty(iterations, dtype=np.int64)
    packed = np.empty(iterations, dtype=np.int64)
    t = 0
    for p in range(passes):
        for a in range(counts[loop_dims[0]]):
            for b in range(counts[loop_dims[1]]):
                for c in range(counts[loop_dims[2]]):
                    tile[t, loop_dims[0]] = a
                    tile[t, loop_dims[1]] = b
                    tile[t, loop_dims[2]] = c
                    pass_of[t] = p
                    packed[t] = last_groups if p == passes - 1 else groups
                    for d in range(3):
                        is_last = tile[t, d] == counts[d] - 1
                        last[t, d] = 1 if is_last else 0
                        size[t, d] = edges[d] if is_last else tiles[d]
                    t += 1

    new_input = np.zeros(iterations, dtype=np.bool_)
    new_weight = np.zeros(iterations, dtype=np.bool_)
    kfirst = np.zeros(iterations, dtype=np.bool_)
    klast = np.zeros(iterations, dtype=np.bool_)
    continues = np.zeros(iterations, dtype=np.uint8)
    out_elements = np.empty(iterations, dtype=np.int64)
    for t in range(iterations):
        first = t == 0
        same_pass = (not first) and pass_of[t] == pass_of[t - 1]
        changed_mk = not (same_pass and tile[t, m_dim] == tile[t - 1, m_dim] and tile[t, k_dim] == tile[t - 1, k_dim])
        changed_kn = not (same_pass and tile[t, k_dim] == tile[t - 1, k_dim] and tile[t, n_dim] == tile[t - 1, n_dim])
        new_input[t] = changed_mk and input_tile
        new_weight[t] = changed_kn and weight_tile
        kfirst[t] = tile[t, k_dim] == 0
        klast[t] = last[t, k_dim] == 1
        out_elements[t] = packed[t] * size[t, m_dim] * size[t, n_dim]
        s0, s1 = stationary[0], stationary[1]
        kept = same_pass and tile[t, s0] == tile[t - 1, s0] and tile[t, s1] == tile[t - 1, s1]
        last_pass = 1 if pass_of[t] == passes - 1 else 0
        if kept and one_fold[last[t, m_dim], last[t, k_dim], last[t, n_dim], last_pass]:
            continues[t] = 1

    # fused epilogue: each class's lane ops split over finished tiles by output share,
    # with cumulative rounding so the parts add up to the total exactly
    total = 0
    for t in range(iterations):
        if klast[t]:
            total += out_elements[t]
    vec = np.zeros((iterations, CLASSES), dtype=np.int64)
    after = 0
    for t in range(iterations):
        finished = out_elements[t] if klast[t] else 0
        before = after
        after += finished
        for c in range(CLASSES):
            if vector_ops[c] > 0:
                quotient = vector_ops[c] // total
                remainder = vector_ops[c] - quotient * total
                vec[t, c] = quotient * finished + (remainder * after) // total - (remainder * before) // total

    # ---- phase 2: the slot table (present slots, fields, dependencies by flat position)
    present = np.zeros(table_rows * SLOTS, dtype=np.bool_)
    deps = np.full((table_rows * SLOTS, DEPS), NO_DEP, dtype=np.int64)
    final_stores = np.empty(iterations, dtype=np.int64)
    finals = 0
    for t in range(iterations):
        if klast[t]:
            final_stores[finals] = (t + lag) * SLOTS + STORE
            finals += 1
    input_loads = np.empty(iterations, dtype=np.int64)
    weight_loads = np.empty(iterations, dtype=np.int64)
    side_loads = np.empty(iterations, dtype=np.int64)
    n_input = 0
    n_weight = 0
    n_side = 0
    current_input = 0
    current_weight = 0
    opened = 0
    for t in range(iterations):
        load_row = t * SLOTS
        comp_row = (t + shift) * SLOTS
        store_pos = (t + lag) * SLOTS + STORE
        gemm_pos = comp_row + GEMM
        if new_input[t]:
            n_input = _reused_load(present, deps, input_loads, n_input, t, LOAD_INPUT, spb, shift)
            current_input = t
        if new_weight[t]:
            n_weight = _reused_load(present, deps, weight_loads, n_weight, t, LOAD_WEIGHT, spb, shift)
            current_weight = t

        # partial sums: where the output tile lives and what frees its slot
        if spill:
            slot_free = NO_DEP
            earlier = t - spb
            if earlier >= 0:
                slot_free = (earlier + lag) * SLOTS + STORE if klast[earlier] else (earlier + shift) * SLOTS + SPILL
            if not kfirst[t]:
                present[load_row + LOAD_PSUM] = True
                deps[load_row + LOAD_PSUM, 0] = slot_free
                deps[load_row + LOAD_PSUM, 1] = (t - stride_k + shift) * SLOTS + SPILL
                deps[gemm_pos, 2] = load_row + LOAD_PSUM
            else:
                deps[gemm_pos, 2] = slot_free
            if not klast[t]:
                present[comp_row + SPILL] = True
                deps[comp_row + SPILL, 0] = gemm_pos
        elif kfirst[t]:
            index = opened - spb * psum_group
            if index >= 0:
                deps[gemm_pos, 2] = final_stores[index]
            opened += 1

        present[gemm_pos] = True
        if input_tile:
            deps[gemm_pos, 0] = current_input * SLOTS + LOAD_INPUT
        if weight_tile:
            deps[gemm_pos, 1] = current_weight * SLOTS + LOAD_WEIGHT

        # epilogue of a finished tile: side input, fused vector ops, store
        last_vec = -1
        for c in range(CLASSES):
            if vec[t, c] > 0:
                last_vec = VEC + c
        side_pos = NO_DEP
        if klast[t] and side_input_elements > 0 and side_tile:
            side_pos = load_row + LOAD_SIDE
            present[side_pos] = True
            side_loads[n_side] = t
            j = n_side - spb
            if j >= 0:
                released = side_loads[j]
                end = (released + lag) * SLOTS + STORE
                for c in range(CLASSES):
                    if vec[released, c] > 0:
                        end = (released + shift) * SLOTS + VEC + c
                deps[side_pos, 0] = end
            n_side += 1
        for c in range(CLASSES):
            if vec[t, c] > 0:
                present[comp_row + VEC + c] = True
                deps[comp_row + VEC + c, 0] = gemm_pos
                deps[comp_row + VEC + c, 1] = side_pos
        if klast[t]:
            present[store_pos] = True
            if last_vec >= 0:
                deps[store_pos, 0] = comp_row + last_vec
            else:
                deps[store_pos, 0] = gemm_pos
                deps[store_pos, 1] = side_pos

    # ---- phase 3: compaction into program order
    index_of = np.full(table_rows * SLOTS, NO_DEP, dtype=np.int64)
    count = 0
    for position in range(table_rows * SLOTS):
        if present[position]:
            index_of[position] = count
            count += 1
    instructions = np.zeros(count, dtype=proto.dtype)
    dep_ptr = np.zeros(count + 1, dtype=np.int64)
    dep_list = np.empty(count * DEPS, dtype=np.int64)
    ok = True
    n_deps = 0
    i = 0
    for position in range(table_rows * SLOTS):
        if not present[position]:
            continue
        row = position // SLOTS
        slot = position - row * SLOTS
        t = row - lag if slot == STORE else (row - shift if slot >= GEMM else row)
        ins = instructions[i]
        ins["layer"] = layer
        if slot == LOAD_INPUT or slot == LOAD_WEIGHT:
            operand = INPUT if slot == LOAD_INPUT else WEIGHT
            ins["opcode"] = OP_LOAD
            ins["operand"] = operand
            ins["buffer"] = buffers[operand]
            ins["level"] = levels[operand]
            if slot == LOAD_INPUT:
                elements = packed[t] * input_elements[last[t, m_dim], last[t, k_dim]]
            else:
                elements = packed[t] * size[t, k_dim] * size[t, n_dim]
            ins["bytes"] = _nbytes(elements, bits[operand])
        elif slot == LOAD_PSUM or slot == SPILL:
            ins["opcode"] = OP_LOAD if slot == LOAD_PSUM else OP_STORE
            ins["operand"] = OUTPUT
            ins["buffer"] = buffers[OUTPUT]
            ins["bytes"] = _nbytes(out_elements[t], accumulator_bits)
        elif slot == LOAD_SIDE:
            ins["opcode"] = OP_LOAD
            ins["operand"] = OUTPUT
            ins["buffer"] = buffers[OUTPUT]
            ins["level"] = levels[3]
            ins["bytes"] = _nbytes(packed[t] * side_elements[last[t, m_dim], last[t, n_dim]], bits[OUTPUT])
        elif slot == GEMM:
            ins["opcode"] = OP_GEMM
            ins["m"] = size[t, m_dim]
            ins["k"] = size[t, k_dim]
            ins["n"] = size[t, n_dim]
            ins["groups"] = packed[t]
            ins["dataflow"] = dataflow
            ins["accumulate"] = 0 if kfirst[t] else 1
            ins["continues"] = continues[t]
            ins["active"] = active
        elif slot == STORE:
            ins["opcode"] = OP_STORE
            ins["operand"] = OUTPUT
            ins["buffer"] = buffers[OUTPUT]
            ins["level"] = levels[2]
            ins["bytes"] = _nbytes(out_elements[t], bits[OUTPUT])
        else:
            ins["opcode"] = OP_VEC
            ins["op_class"] = slot - VEC
            ins["elements"] = vec[t, slot - VEC]
        # dependencies: program indices, latest first, without repeats
        start = n_deps
        for w in range(DEPS):
            dep = deps[position, w]
            if dep == NO_DEP:
                continue
            if not present[dep]:
                ok = False
                continue
            n_deps = _insert_latest_first(dep_list, start, n_deps, index_of[dep])
        i += 1
        dep_ptr[i] = n_deps
    return instructions, dep_ptr, dep_list[:n_deps].copy(), ok
