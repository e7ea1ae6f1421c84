"""Numba kernel: one forward pass over a Program on the decoupled access–execute machine.

This is the fast twin of `simulator/reference.py`, which states the semantics and is the
specification; tests require the two to agree exactly. The kernels take only contiguous
numpy arrays and scalars, do no validation (`simulator.run` validates at the boundary) and
are cached on disk. Everything they call lives in this file, because Numba's cache does not
notice edits to jitted functions imported from other modules. The timing and traffic
formulas repeat `compiler/target/timing.py`, and tests assert that they agree.
`error_model="numpy"` drops Numba's division-by-zero checks: `target_of` guarantees
rows, cols and burst ≥ 1, a positive bandwidth and positive ports, so no divisor can be zero.

Counter layout. `_simulate` returns `counters[layer, column]` (int64) with the columns
below, and `sram_bits[layer, buffer, SRAM_READ | SRAM_WRITE]` (int64, bits so that 4-bit
elements stay exact). Engine indices equal opcode values (LOAD 0, MATRIX 1, VECTOR 2,
STORE 3).
"""

from __future__ import annotations

import math

import numpy as np

from simulator.kernels.numba_target import njit

N_ENGINES = 4
N_CAUSES = 3
N_OPERANDS = 3
N_OP_CLASSES = 3

# opcodes (= engine indices), dataflows, stall causes: the values of compiler.target.isa.Opcode,
# accel_spec.types.Dataflow and simulator.result.StallCause
OP_LOAD = 0
OP_GEMM = 1
OP_VEC = 2
OP_STORE = 3
DATAFLOW_OS = 0
DATAFLOW_WS = 1
LEVEL_DRAM = 0  # as compiler.target.LEVEL_DRAM
CAUSE_DRAM = 0
CAUSE_BUFFER = 1
CAUSE_DEPENDENCY = 2

# counter columns
COL_CYCLES = 0
COL_BUSY = 1  # + engine
COL_STALL = COL_BUSY + N_ENGINES  # + engine * N_CAUSES + cause
COL_MACS = COL_STALL + N_ENGINES * N_CAUSES
COL_DRAM_READ = COL_MACS + 1  # + operand; actual bytes of LOADs
COL_DRAM_WRITE = COL_DRAM_READ + N_OPERANDS  # + operand; actual bytes of STOREs
COL_CHANNEL_READ = COL_DRAM_WRITE + N_OPERANDS  # burst-rounded bytes of LOADs
COL_CHANNEL_WRITE = COL_CHANNEL_READ + 1  # burst-rounded bytes of STOREs
COL_VECTOR_OPS = COL_CHANNEL_WRITE + 1  # + op class; lane operations
COL_ONCHIP_READ = COL_VECTOR_OPS + N_OP_CLASSES  # bytes LOADed from on-chip levels
COL_ONCHIP_WRITE = COL_ONCHIP_READ + 1  # bytes STOREd to on-chip levels
COL_DATAFLOW_MACS = COL_ONCHIP_WRITE + 1  # + dataflow; MACs of GEMMs of that dataflow
N_DATAFLOWS = 3
COL_LOCAL_MACS = COL_DATAFLOW_MACS + N_DATAFLOWS  # MACs whose partial sum stays in the PE
COL_HELD_MACS = COL_LOCAL_MACS + 1  # MACs that use an input the PE already holds
N_COUNTERS = COL_HELD_MACS + 1

SRAM_READ = 0
SRAM_WRITE = 1

CEIL_SLACK = 1.0 - 1e-12  # as compiler.target.timing.CEIL_SLACK


@njit(cache=True, error_model="numpy")
def _ceil_cycles(x):
    return math.ceil(x * CEIL_SLACK)


@njit(cache=True, error_model="numpy")
def _ceil_div(a, b):
    return -(-a // b)


@njit(cache=True, error_model="numpy")
def _burst_bytes(nbytes, burst):
    return _ceil_div(nbytes, burst) * burst


@njit(cache=True, error_model="numpy")
def _nbytes(elements, bits):
    """`compiler.target.nbytes`: bytes of `elements` values of `bits` bits, rounded up."""
    return (elements * bits + 7) // 8


@njit(cache=True, error_model="numpy")
def _vector_cycles(elements, lane_ops_per_cycle):
    return _ceil_cycles(elements / lane_ops_per_cycle)


@njit(cache=True, error_model="numpy")
def _split(extent, most):
    """`timing._even_split`: (parts, first part, last part) of `extent` in parts of at most `most`."""
    parts = _ceil_div(extent, most)
    small = max(extent // max(parts, 1), 1)
    return parts, (small + 1 if extent > small * parts else small), small


@njit(cache=True, error_model="numpy")
def _width(k_rows, n_cols, groups, depth, width):
    """`timing.pe_split`'s channel width of a weight-stationary tile: the w ≤ min(depth,
    width, n_cols) needing the fewest folds, the smallest on a tie; 1 for packed groups."""
    best = 1
    if groups != 1:
        return best
    fewest = _ceil_div(k_rows, depth) * n_cols
    for w in range(2, min(min(depth, width), n_cols) + 1):
        folds = _ceil_div(k_rows, depth // w) * _ceil_div(n_cols, w)
        if folds < fewest:
            fewest = folds
            best = w
    return best


@njit(cache=True, error_model="numpy")
def _gemm(m, k, n, groups, dataflow, accumulate, continues, rows, cols, depth, width):
    """(folds, Σ T, Σ L, first fold's L, last fold's T, last fold's shift, input reads,
    weight reads, output reads, output writes, local MACs, held MACs) of one GEMM tile.

    The fold times as `timing.fold_times` (a weight-stationary PE holding up to `depth`
    weights and `width` partial sums, split by `timing.pe_split`), element accesses as
    `timing.gemm_sram_accesses` (a continuing GEMM reads no stationary operand), local and
    held MACs as `timing.gemm_local_macs` and `gemm_held_macs`; `groups` (≥ 1) products
    packed block-diagonally are computed on the packed dims.
    """
    group_k = k
    group_n = n
    k = k * groups
    n = n * groups
    local = 0
    held = 0  # every MAC's input arrives: 0 at width 1, where each fold's columns take one channel
    if dataflow == DATAFLOW_OS:
        m_folds = _ceil_div(m, rows)
        n_folds = _ceil_div(n, cols)
        folds = m_folds * n_folds
        stream = k
        load = 0
        cells = folds
        first_cells = 1
        last_cells = 1
        input_reads = m * k * n_folds
        weight_reads = k * n * m_folds
        passes = 1
    elif dataflow == DATAFLOW_WS:
        n_cols = _ceil_div(n, cols)
        k_rows = _ceil_div(k, rows)
        w = _width(k_rows, n_cols, groups, depth, width)
        passes, deep, shallow = _split(k_rows, depth // w)
        n_folds, wide, narrow = _split(n_cols, w)
        first_cells = deep * wide
        last_cells = shallow * narrow
        folds = passes * n_folds
        stream = m
        load = rows
        cells = n_cols * k_rows
        input_reads = m * k * n_folds
        weight_reads = k * n
        local = groups * m * group_n * (group_k - min(group_k, rows * passes))
        held = m * k * (n - cols * (n_folds - 1) - min(cols, n - cols * (n_cols - narrow)))
    else:
        m_folds = _ceil_div(m, cols)
        passes = _ceil_div(k, rows)
        folds = passes * m_folds
        stream = n
        load = rows
        cells = folds
        first_cells = 1
        last_cells = 1
        input_reads = m * k
        weight_reads = k * n * m_folds
    outputs = m * n
    weight_reads = weight_reads // groups
    output_reads = outputs * (passes - 1 + accumulate)
    output_writes = outputs * passes
    if continues:
        if dataflow == DATAFLOW_OS:
            output_reads = 0
            output_writes = 0
        elif dataflow == DATAFLOW_WS:
            weight_reads = 0
        else:
            input_reads = 0
    return (
        folds, stream * cells, load * cells, load * first_cells, stream * last_cells, max(load * last_cells, rows),
        input_reads, weight_reads, output_reads, output_writes, local, held,
    )  # fmt: skip


@njit(cache=True, error_model="numpy")
def _dependency_cause(waiter, dependency, dependency_on_dram):
    """`simulator.reference.dependency_cause` on opcodes."""
    waiter_computes = waiter == OP_GEMM or waiter == OP_VEC
    dependency_computes = dependency == OP_GEMM or dependency == OP_VEC
    if (waiter_computes and dependency == OP_STORE) or (waiter == OP_LOAD and dependency_computes):
        return CAUSE_BUFFER
    if dependency_on_dram:
        return CAUSE_DRAM
    return CAUSE_DEPENDENCY


@njit(cache=True, error_model="numpy")
def _simulate(
    instructions,
    dep_ptr,
    deps,
    n_layers,
    n_buffers,
    rows,
    cols,
    depth,
    width,
    fill_drain,
    pipelined,
    operand_bits,
    accumulator_bits,
    buffer_of,
    read_port,
    write_port,
    vector_lane_ops_per_cycle,
    dram_bytes_per_cycle,
    burst,
    latency,
):
    """Simulate a program; returns (start, end, counters, sram_bits).

    `instructions` are the program's records (`compiler.target.isa.INSTRUCTION_DTYPE`), read
    in place: a copy of their fields as columns would double the program's memory, 300 MB for
    a Llama-3-8B prefill of 6.4 M instructions. Fields are widened to int64 as they are read.
    `dep_ptr` and `deps` are int64. `buffer_of` (int64[3]) maps Operand -> buffer index,
    `read_port` / `write_port` (float64[n_buffers]) are bytes per cycle of each buffer's
    ports, `vector_lane_ops_per_cycle` (float64[3]) is lanes × rate per OpClass. `cols` spans
    every matrix unit; `depth` and `width` are the weights and partial sums a weight-stationary
    PE holds (`Target.reduction_depth`, `Target.pe_width`); `fill_drain` is one unit's R + C − 2 (`Target.fill_drain`).
    """
    count = instructions.shape[0]
    start = np.empty(count, np.int64)
    end = np.empty(count, np.int64)
    idle_from = np.empty(count, np.int64)
    cause = np.empty(count, np.int8)  # a StallCause: one byte a record, not eight
    on_dram = np.zeros(count, np.bool_)
    counters = np.zeros((n_layers, N_COUNTERS), np.int64)
    sram_bits = np.zeros((n_layers, n_buffers, 2), np.int64)
    layer_end = np.zeros(n_layers, np.int64)
    last_cause = np.full(n_layers, CAUSE_DEPENDENCY, np.int64)
    covered_at_layer = np.full((n_layers, N_ENGINES), -1, np.int64)
    free = np.zeros(N_ENGINES, np.int64)
    covered = np.zeros(N_ENGINES, np.int64)
    port_free = np.zeros((n_buffers, 2), np.int64)
    channel_free = 0
    shadow_free = -(1 << 62)  # when the shadow copy last emptied (its fold started): never yet
    restarted = False  # whether a gap has broken the stream of the fold in the array
    input_buffer = buffer_of[0]
    weight_buffer = buffer_of[1]
    output_buffer = buffer_of[2]

    for i in range(count):
        record = instructions[i]
        op = np.int64(record["opcode"])
        engine = op
        ready = 0
        ready_cause = CAUSE_DEPENDENCY
        for p in range(dep_ptr[i], dep_ptr[i + 1]):
            d = deps[p]
            t = end[d]
            c = _dependency_cause(op, np.int64(instructions[d]["opcode"]), on_dram[d])
            if t > ready:
                ready = t
                ready_cause = c
            elif t == ready and c < ready_cause:
                ready_cause = c

        lay = np.int64(record["layer"])
        if op == OP_LOAD or op == OP_STORE:
            far = np.int64(record["level"])
            size = np.int64(record["bytes"])
            direction = SRAM_READ if op == OP_LOAD else SRAM_WRITE
            if far == LEVEL_DRAM:
                resource = channel_free
                resource_cause = CAUSE_DRAM
            else:
                resource = port_free[far - 1, direction]
                resource_cause = CAUSE_BUFFER
            s = max(free[engine], ready, resource)
            binding = resource_cause if resource >= ready else ready_cause
            if far == LEVEL_DRAM:
                on_dram[i] = True
                rounded = _burst_bytes(size, burst)
                busy = _ceil_cycles(rounded / dram_bytes_per_cycle)
                channel_free = s + busy
                finish = s + busy + latency
                if op == OP_LOAD:
                    counters[lay, COL_DRAM_READ + np.int64(record["operand"])] += size
                    counters[lay, COL_CHANNEL_READ] += rounded
                else:
                    counters[lay, COL_DRAM_WRITE + np.int64(record["operand"])] += size
                    counters[lay, COL_CHANNEL_WRITE] += rounded
            else:
                if op == OP_LOAD:
                    busy = _ceil_cycles(size / read_port[far - 1])
                    counters[lay, COL_ONCHIP_READ] += size
                else:
                    busy = _ceil_cycles(size / write_port[far - 1])
                    counters[lay, COL_ONCHIP_WRITE] += size
                port_free[far - 1, direction] = s + busy
                finish = s + busy
                sram_bits[lay, far - 1, direction] += size * 8
            near = SRAM_WRITE if op == OP_LOAD else SRAM_READ
            sram_bits[lay, np.int64(record["buffer"]), near] += size * 8
            free[engine] = s + busy
            occupied_end = s + busy
        elif op == OP_GEMM:
            mi = np.int64(record["m"])
            ki = np.int64(record["k"])
            ni = np.int64(record["n"])
            gi = max(np.int64(record["groups"]), 1)
            flow = np.int64(record["dataflow"])
            chained = np.int64(record["continues"])
            (folds, streamed, loaded, first_load, last_stream, last_shift,
             in_reads, w_reads, out_reads, out_writes, local, held) = _gemm(
                mi, ki, ni, gi, flow, np.int64(record["accumulate"]), chained, rows, cols, depth, width
            )  # fmt: skip
            binding = ready_cause
            s = max(free[engine], ready)
            occupied_end = s + streamed
            if chained:
                # the array is busy streaming; in the fold model the fold's drain, charged with
                # its first GEMM, follows this stream while the fold streams unbroken; once a
                # gap has broken it (here or at an earlier piece), or pipelined, each piece's
                # drain is latency after it, so pieces finish in stream order
                restarted = restarted or s > free[engine]
                drained = fill_drain if (pipelined or restarted) else 0
                finish = s + streamed + drained
                free[engine] = s + streamed
            elif pipelined:
                restarted = False
                first = max(free[engine], ready + first_load, shadow_free + max(first_load, rows))
                spaced = max(streamed, max(loaded, folds * rows))
                last = first + spaced - max(last_stream, last_shift)
                shadow_free = last
                free[engine] = last + last_stream
                finish = last + last_stream + fill_drain
            else:
                restarted = False
                cycles = streamed + loaded + folds * fill_drain
                busy_pes = np.int64(record["active"])
                if busy_pes > 0 and busy_pes < rows * cols:
                    cycles = _ceil_div(cycles * rows * cols, np.int64(busy_pes))
                finish = s + cycles
                free[engine] = finish
            if not chained:
                occupied_end = finish
            counters[lay, COL_MACS] += gi * mi * ki * ni
            counters[lay, COL_DATAFLOW_MACS + flow] += gi * mi * ki * ni
            counters[lay, COL_LOCAL_MACS] += local
            counters[lay, COL_HELD_MACS] += held
            sram_bits[lay, input_buffer, SRAM_READ] += in_reads * operand_bits
            sram_bits[lay, weight_buffer, SRAM_READ] += w_reads * operand_bits
            sram_bits[lay, output_buffer, SRAM_READ] += out_reads * accumulator_bits
            sram_bits[lay, output_buffer, SRAM_WRITE] += out_writes * accumulator_bits
        else:
            binding = ready_cause
            s = max(free[engine], ready)
            elements = np.int64(record["elements"])
            op_class = np.int64(record["op_class"])
            finish = s + _vector_cycles(elements, vector_lane_ops_per_cycle[op_class])
            free[engine] = finish
            occupied_end = finish
            counters[lay, COL_VECTOR_OPS + op_class] += elements
            bits = elements * accumulator_bits
            sram_bits[lay, output_buffer, SRAM_READ] += bits
            sram_bits[lay, output_buffer, SRAM_WRITE] += bits

        idle_from[i] = covered[engine]
        cause[i] = binding
        counters[lay, COL_BUSY + engine] += max(0, occupied_end - max(s, covered[engine]))
        covered[engine] = max(covered[engine], occupied_end)
        covered_at_layer[lay, engine] = covered[engine]
        start[i] = s
        end[i] = finish
        if finish > layer_end[lay]:
            layer_end[lay] = finish
            last_cause[lay] = CAUSE_DRAM if on_dram[i] else CAUSE_DEPENDENCY
        elif finish == layer_end[lay] and on_dram[i]:
            last_cause[lay] = CAUSE_DRAM

    begin = np.zeros(n_layers, np.int64)
    reached = 0
    for lay in range(n_layers):
        begin[lay] = reached
        counters[lay, COL_CYCLES] = max(0, layer_end[lay] - reached)
        if layer_end[lay] > reached:
            reached = layer_end[lay]
    for i in range(count):
        lay = np.int64(instructions[i]["layer"])
        gap = start[i] - max(idle_from[i], begin[lay])
        if gap > 0:
            counters[lay, COL_STALL + np.int64(instructions[i]["opcode"]) * N_CAUSES + cause[i]] += gap
    for lay in range(n_layers):
        for engine in range(N_ENGINES):
            if covered_at_layer[lay, engine] < 0:
                continue
            tail = layer_end[lay] - max(covered_at_layer[lay, engine], begin[lay])
            if tail > 0:
                counters[lay, COL_STALL + engine * N_CAUSES + last_cause[lay]] += tail
    return start, end, counters, sram_bits


N_CHECKS = 18
"""Rules `_problems` checks, in the order `simulator.run.PROBLEMS` words them."""
EXAMPLES = 5


@njit(cache=True, error_model="numpy")
def _note(counts, examples, check, index):
    if counts[check] < EXAMPLES:
        examples[check, counts[check]] = index
    counts[check] += 1


@njit(cache=True, error_model="numpy")
def _problems(
    instructions,
    dep_ptr,
    deps,
    n_layers,
    n_buffers,
    rows,
    cols,
    depth,
    width,
    pipelined,
    buffer_of,
    supported,
    n_opcodes,
    n_operands,
    n_classes,
):
    """(offenders per rule, first offending instructions per rule) of a program whose
    `dep_ptr` is well formed; the rules are `simulator.run.PROBLEMS`, one pass over the
    instructions. A dependency rule counts each bad dependency and names its owner."""
    counts = np.zeros(N_CHECKS, dtype=np.int64)
    examples = np.zeros((N_CHECKS, EXAMPLES), dtype=np.int64)
    for i in range(len(instructions)):
        record = instructions[i]
        layer = np.int64(record["layer"])
        for d in range(dep_ptr[i], dep_ptr[i + 1]):
            if not (deps[d] >= 0 and deps[d] < i):
                _note(counts, examples, 0, i)
        op = np.int64(record["opcode"])
        if op >= n_opcodes:
            _note(counts, examples, 1, i)
        if layer < 0:
            _note(counts, examples, 2, i)
        if layer >= n_layers:
            _note(counts, examples, 3, i)
        if op == OP_LOAD or op == OP_STORE:
            operand = np.int64(record["operand"])
            if operand >= n_operands:
                _note(counts, examples, 4, i)
            if record["buffer"] != buffer_of[min(operand, n_operands - 1)]:
                _note(counts, examples, 5, i)
            if record["level"] > n_buffers:
                _note(counts, examples, 6, i)
            if record["bytes"] < 0:
                _note(counts, examples, 7, i)
        elif op == OP_GEMM:
            m = np.int64(record["m"])
            k = np.int64(record["k"])
            n = np.int64(record["n"])
            groups = np.int64(record["groups"])
            dataflow = np.int64(record["dataflow"])
            continues = np.int64(record["continues"])
            active = np.int64(record["active"])
            if dataflow >= len(supported) or not supported[dataflow]:
                _note(counts, examples, 8, i)
            if record["accumulate"] > 1:
                _note(counts, examples, 9, i)
            if continues > 1:
                _note(counts, examples, 10, i)
            if continues == 1 and _gemm(m, k, n, max(groups, 1), dataflow, 0, 0, rows, cols, depth, width)[0] != 1:
                _note(counts, examples, 11, i)
            if active < 0:
                _note(counts, examples, 12, i)
            if active > 0 and (pipelined or continues == 1):
                _note(counts, examples, 13, i)
            if m < 0 or k < 0 or n < 0:
                _note(counts, examples, 14, i)
            if groups < 0:
                _note(counts, examples, 15, i)
        elif op == OP_VEC:
            if record["op_class"] >= n_classes:
                _note(counts, examples, 16, i)
            if record["elements"] < 0:
                _note(counts, examples, 17, i)
    return counts, examples


@njit(cache=True, error_model="numpy")
def _serial_cycles(instructions, rows, cols, burst, narrowest_port, latency, slowest_lane):
    """An upper bound of a program's makespan in float64: every instruction one after
    another, each transfer burst-rounded through the narrowest port with a full latency,
    each GEMM's folds of any two dims on either array axis (`simulator.run.MAX_CYCLES`)."""
    side = min(rows, cols)
    bound = 0.0
    vector_elements = 0
    for i in range(len(instructions)):
        record = instructions[i]
        op = np.int64(record["opcode"])
        if op == OP_LOAD or op == OP_STORE:
            bound += np.ceil(record["bytes"] / burst) * burst / narrowest_port + (latency + 1)
        elif op == OP_GEMM:
            g = float(max(record["groups"], 1))
            m, k, n = float(record["m"]), float(record["k"]), float(record["n"])
            folds = np.ceil(m / side) * np.ceil(g * k / side) * np.ceil(g * n / side)  # floats: no int64 wrap
            bound += folds * (m + g * (k + n) + 2.0 * rows + cols)
        elif op == OP_VEC:
            vector_elements += np.int64(record["elements"])
    return bound + vector_elements / slowest_lane + len(instructions)
