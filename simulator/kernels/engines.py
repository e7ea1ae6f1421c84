"""Numba kernel: one forward pass over a Program on the decoupled access–execute machine.

This is the fast twin of `simulator/reference.py`, which states the semantics and is the
specification; tests require the two to agree exactly. The kernels take only contiguous
numpy arrays and scalars, do no validation (`simulator.run` validates at the boundary) and
are cached on disk. Everything they call lives in this file, because Numba's cache does not
notice edits to jitted functions imported from other modules. The timing and traffic
formulas repeat `simulator/timing_model.py`, and tests assert that they agree.
`error_model="numpy"` drops Numba's division-by-zero checks: `machine_of` guarantees
rows, cols and burst ≥ 1 and a positive bandwidth, so no divisor can be zero.

Counter layout. `_simulate` returns `counters[layer, column]` (int64) with the columns
below, and `sram_bits[layer, buffer, SRAM_READ | SRAM_WRITE]` (int64, bits so that 4-bit
elements stay exact). Engine indices equal opcode values (LOAD 0, MATRIX 1, VECTOR 2,
STORE 3).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

N_ENGINES = 4
N_CAUSES = 3
N_OPERANDS = 3
N_OP_CLASSES = 3

# opcodes (= engine indices), dataflows, stall causes: the values of compiler.isa.Opcode,
# accel_spec.types.Dataflow and simulator.result.StallCause
OP_LOAD = 0
OP_GEMM = 1
OP_VEC = 2
OP_STORE = 3
DATAFLOW_OS = 0
DATAFLOW_WS = 1
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
N_COUNTERS = COL_VECTOR_OPS + N_OP_CLASSES

SRAM_READ = 0
SRAM_WRITE = 1

CEIL_SLACK = 1.0 - 1e-12  # as simulator.timing_model.CEIL_SLACK


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
def _transfer_cycles(nbytes, burst, bytes_per_cycle):
    return _ceil_cycles(_burst_bytes(nbytes, burst) / bytes_per_cycle)


@njit(cache=True, error_model="numpy")
def _vector_cycles(elements, lane_ops_per_cycle):
    return _ceil_cycles(elements / lane_ops_per_cycle)


@njit(cache=True, error_model="numpy")
def _gemm(m, k, n, groups, dataflow, accumulate, rows, cols):
    """(cycles, input reads, weight reads, output reads, output writes) of one GEMM tile.

    Cycles as `timing_model.gemm_cycles`, element accesses as `timing_model.gemm_sram_accesses`;
    `groups` (≥ 1) products packed block-diagonally are computed on the packed dims.
    """
    k = k * groups
    n = n * groups
    if dataflow == DATAFLOW_OS:
        m_folds = _ceil_div(m, rows)
        n_folds = _ceil_div(n, cols)
        cycles = m_folds * n_folds * (k + rows + cols - 2)
        input_reads = m * k * n_folds
        weight_reads = k * n * m_folds
        passes = 1
    elif dataflow == DATAFLOW_WS:
        n_folds = _ceil_div(n, cols)
        passes = _ceil_div(k, rows)
        cycles = passes * n_folds * (m + 2 * rows + cols - 2)
        input_reads = m * k * n_folds
        weight_reads = k * n
    else:
        m_folds = _ceil_div(m, cols)
        passes = _ceil_div(k, rows)
        cycles = passes * m_folds * (n + 2 * rows + cols - 2)
        input_reads = m * k
        weight_reads = k * n * m_folds
    outputs = m * n
    weight_reads = weight_reads // groups
    return cycles, input_reads, weight_reads, outputs * (passes - 1 + accumulate), outputs * passes


@njit(cache=True, error_model="numpy")
def _simulate(
    opcode,
    operand,
    buffer,
    dataflow,
    op_class,
    accumulate,
    layer,
    m,
    k,
    n,
    groups,
    nbytes,
    elements,
    dep_ptr,
    deps,
    n_layers,
    n_buffers,
    rows,
    cols,
    input_bits,
    accumulator_bits,
    operand_buffer,
    vector_lane_ops_per_cycle,
    dram_bytes_per_cycle,
    burst,
    latency_cycles,
    outstanding,
):
    """Simulate a program; returns (start, end, counters, sram_bits).

    `m`, `k`, `n`, `groups`, `nbytes`, `elements`, `dep_ptr` and `deps` are int64; the small fields
    may keep their narrow dtypes. `operand_buffer` (int64[3]) maps Operand -> buffer index,
    `vector_lane_ops_per_cycle` (float64[3]) is lanes × rate per OpClass.
    """
    count = opcode.shape[0]
    start = np.empty(count, np.int64)
    # 2·end + (1 if a LOAD/STORE): one max over a dependency list yields the latest end and
    # whether a transfer ends then (ties resolve towards the transfer), without branches
    end = np.empty(count, np.int64)
    counters = np.zeros((n_layers, N_COUNTERS), np.int64)
    sram_bits = np.zeros((n_layers, n_buffers, 2), np.int64)
    layer_end = np.zeros(n_layers, np.int64)
    free = np.zeros(N_ENGINES, np.int64)
    ring_size = min(outstanding, count + 1)
    in_flight = np.zeros(ring_size, np.int64)  # end of the last Q transfers, as a ring
    slot = 0  # ring position of the transfer issued Q transfers ago
    channel_free = 0
    input_buffer = operand_buffer[0]
    weight_buffer = operand_buffer[1]
    output_buffer = operand_buffer[2]

    for i in range(count):
        engine = np.int64(opcode[i])
        ready = 0
        ready_on_transfer = False
        for p in range(dep_ptr[i], dep_ptr[i + 1]):
            d = deps[p]
            t = end[d]
            on_transfer = (opcode[d] == OP_LOAD) | (opcode[d] == OP_STORE)
            # branch-free: the flag holds iff some dependency ending at `ready` is a transfer
            ready_on_transfer = (on_transfer & (t >= ready)) | (ready_on_transfer & (t <= ready))
            ready = max(ready, t)

        lay = layer[i]
        idle_from = free[engine]
        if engine == OP_LOAD or engine == OP_STORE:
            channel = max(channel_free, in_flight[slot])
            s = max(idle_from, ready, channel)
            if s > idle_from:
                if s == channel or ready_on_transfer:
                    cause = CAUSE_DRAM
                elif engine == OP_LOAD:
                    cause = CAUSE_BUFFER
                else:
                    cause = CAUSE_DEPENDENCY
                counters[lay, COL_STALL + engine * N_CAUSES + cause] += s - idle_from
            rounded = _burst_bytes(nbytes[i], burst)
            busy = _ceil_cycles(rounded / dram_bytes_per_cycle)
            channel_free = s + busy
            finish = s + busy + latency_cycles
            end[i] = finish
            in_flight[slot] = finish
            slot = slot + 1 if slot + 1 < ring_size else 0
            bits = nbytes[i] * 8
            if engine == OP_LOAD:
                counters[lay, COL_DRAM_READ + operand[i]] += nbytes[i]
                counters[lay, COL_CHANNEL_READ] += rounded
                sram_bits[lay, buffer[i], SRAM_WRITE] += bits
            else:
                counters[lay, COL_DRAM_WRITE + operand[i]] += nbytes[i]
                counters[lay, COL_CHANNEL_WRITE] += rounded
                sram_bits[lay, buffer[i], SRAM_READ] += bits
        else:
            s = max(idle_from, ready)
            if s > idle_from:
                cause = CAUSE_DRAM if ready_on_transfer else CAUSE_DEPENDENCY
                counters[lay, COL_STALL + engine * N_CAUSES + cause] += s - idle_from
            if engine == OP_GEMM:
                mi = m[i]
                ki = k[i]
                ni = n[i]
                gi = max(groups[i], 1)
                busy, in_reads, w_reads, out_reads, out_writes = _gemm(
                    mi, ki, ni, gi, dataflow[i], np.int64(accumulate[i]), rows, cols
                )
                counters[lay, COL_MACS] += gi * mi * ki * ni
                sram_bits[lay, input_buffer, SRAM_READ] += in_reads * input_bits
                sram_bits[lay, weight_buffer, SRAM_READ] += w_reads * input_bits
                sram_bits[lay, output_buffer, SRAM_READ] += out_reads * accumulator_bits
                sram_bits[lay, output_buffer, SRAM_WRITE] += out_writes * accumulator_bits
            else:
                busy = _vector_cycles(elements[i], vector_lane_ops_per_cycle[op_class[i]])
                counters[lay, COL_VECTOR_OPS + op_class[i]] += elements[i]
                bits = elements[i] * accumulator_bits
                sram_bits[lay, output_buffer, SRAM_READ] += bits
                sram_bits[lay, output_buffer, SRAM_WRITE] += bits
            finish = s + busy
            end[i] = finish
        free[engine] = s + busy
        counters[lay, COL_BUSY + engine] += busy
        start[i] = s
        if finish > layer_end[lay]:
            layer_end[lay] = finish

    reached = 0
    for lay in range(n_layers):
        if layer_end[lay] > reached:
            counters[lay, COL_CYCLES] = layer_end[lay] - reached
            reached = layer_end[lay]
    return start, end, counters, sram_bits
