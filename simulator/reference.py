"""Reference simulator: the executable specification of the machine, in plain Python.

It is slow (one Python loop over instructions) and exists to be read and to be compared
with: the Numba kernel (`simulator.kernels.engines._simulate`) must produce exactly the same
start/end cycles and counters on every program.

Machine semantics
-----------------
Four in-order engines (LOAD, MATRIX, VECTOR, STORE) run concurrently. Each keeps `free[e]`,
the cycle from which it can start its next instruction (0 initially). LOADs and STOREs share
one DRAM channel: `channel_free` is the cycle it becomes available, and at most Q =
`outstanding` transfers (LOADs and STOREs counted together, in program order) are in flight.
For instruction i in program order, on engine e:

    ready_i = max(end_d for d in deps(i)), 0 without dependencies
    compute (GEMM, VEC):   start_i = max(free[e], ready_i)
    transfer (LOAD, STORE): start_i = max(free[e], ready_i, channel_i)
        channel_i = max(channel_free, end of the transfer issued Q transfers earlier, or 0)

    LOAD/STORE  occupancy = ceil_cycles(round_up(bytes, burst) / dram_bytes_per_cycle)
                channel_free = free[e] = start + occupancy; end = start + occupancy + latency
    GEMM        end = free[e] = start + gemm_cycles(m, k, n, dataflow, R, C, G)
                with G = max(groups, 1) products packed in the pass (see timing_model)
    VEC         end = free[e] = start + ceil_cycles(elements / (lanes · rate[op_class]))

(formulas in `simulator.timing_model`). The channel is granted in program order, so a STORE
cannot use it before a LOAD that precedes it in the program.

Busy cycles of an instruction are its occupancy (transfers) or its duration (compute).

Stalls: the idle time `start_i − free[e]`, when positive, is charged to exactly one cause,
taking the first that applies:
  1. DRAM:   i is a transfer and start_i = channel_i (channel busy or Q transfers in flight);
  2. DRAM:   start_i = ready_i and some dependency with end = ready_i is a LOAD or STORE;
  3. BUFFER: i is a LOAD (so it waits for compute to free buffer space: write-after-read);
  4. DEPENDENCY: otherwise: compute waiting for compute, or a STORE waiting for the compute
     that produces its data (read-after-write, not a lack of buffer space).
Stalls, busy cycles and every event are charged to the layer of instruction i.

Layers: with end_l the latest end of layer l's instructions (0 if it has none), the layer's
cycles are max(0, end_l − max_{j<l} end_j), so the layers' cycles sum to the run's total
(the latest end) whether or not the program puts barriers between layers.

Events:
  MACs       G·m·k·n per GEMM (the useful products only, never the packing's zero blocks).
  DRAM       LOAD adds `bytes` to the read bytes of its operand, STORE to the write bytes of
             its operand; the burst-rounded bytes go to the channel read / write counters.
  SRAM       LOAD writes bytes·8 bits into its buffer; STORE reads bytes·8 bits from its
             buffer. A GEMM reads inputs and weights from the buffers holding them and
             reads/writes partial sums in the OUTPUT buffer (`timing_model.gemm_sram_accesses`),
             at input precision and accumulator precision respectively. A VEC reads and
             writes `elements` elements at accumulator precision in the OUTPUT buffer (it
             works on the array's results in place).
  vector     `elements` lane operations of the instruction's op class.
"""

from __future__ import annotations

import numpy as np

from accel_spec.types import Operand
from compiler.isa import Engine, Opcode, Program
from simulator.kernels.engines import (
    COL_BUSY,
    COL_CHANNEL_READ,
    COL_CHANNEL_WRITE,
    COL_CYCLES,
    COL_DRAM_READ,
    COL_DRAM_WRITE,
    COL_MACS,
    COL_STALL,
    COL_VECTOR_OPS,
    N_CAUSES,
    N_COUNTERS,
    SRAM_READ,
    SRAM_WRITE,
)
from simulator.machine import Machine
from simulator.result import Counts, StallCause
from simulator.timing_model import (
    burst_bytes,
    gemm_cycles,
    gemm_sram_accesses,
    transfer_cycles,
    vector_cycles,
)

TRANSFERS = (Opcode.LOAD, Opcode.STORE)


def simulate_reference(program: Program, machine: Machine) -> Counts:
    """Simulate `program` on `machine` one instruction at a time (see the module docstring)."""
    count = len(program)
    n_layers = len(program.layer_names)
    start = np.zeros(count, dtype=np.int64)
    end = np.zeros(count, dtype=np.int64)
    counters = np.zeros((n_layers, N_COUNTERS), dtype=np.int64)
    sram_bits = np.zeros((n_layers, len(machine.buffer_names), 2), dtype=np.int64)
    layer_end = [0] * n_layers
    free = {engine: 0 for engine in Engine}
    channel_free = 0
    transfer_ends: list[int] = []  # end of every transfer so far, in issue order
    lane_ops_per_cycle = machine.vector_lane_ops_per_cycle

    for i, instr in enumerate(program.instructions):
        opcode = Opcode(int(instr["opcode"]))
        engine = opcode.engine
        layer = int(instr["layer"])
        dep_ends = [int(end[d]) for d in program.dependencies(i)]
        ready = max(dep_ends, default=0)
        ready_on_transfer = any(
            int(end[d]) == ready and Opcode(int(program.instructions["opcode"][d])) in TRANSFERS
            for d in program.dependencies(i)
        )

        if opcode in TRANSFERS:
            q = machine.outstanding
            oldest_in_flight = transfer_ends[-q] if len(transfer_ends) >= q else 0
            channel = max(channel_free, oldest_in_flight)
            begin = max(free[engine], ready, channel)
            if begin == channel or ready_on_transfer:
                cause = StallCause.DRAM
            elif opcode == Opcode.LOAD:
                cause = StallCause.BUFFER
            else:
                cause = StallCause.DEPENDENCY
        else:
            begin = max(free[engine], ready)
            cause = StallCause.DRAM if ready_on_transfer else StallCause.DEPENDENCY
        if begin > free[engine]:
            counters[layer, COL_STALL + engine * N_CAUSES + cause] += begin - free[engine]

        if opcode in TRANSFERS:
            nbytes = int(instr["bytes"])
            busy = int(transfer_cycles(nbytes, machine.burst, machine.dram_bytes_per_cycle))
            channel_free = begin + busy
            finish = begin + busy + machine.latency_cycles
            transfer_ends.append(finish)
            operand = int(instr["operand"])
            rounded = int(burst_bytes(nbytes, machine.burst))
            if opcode == Opcode.LOAD:
                counters[layer, COL_DRAM_READ + operand] += nbytes
                counters[layer, COL_CHANNEL_READ] += rounded
                sram_bits[layer, instr["buffer"], SRAM_WRITE] += nbytes * 8
            else:
                counters[layer, COL_DRAM_WRITE + operand] += nbytes
                counters[layer, COL_CHANNEL_WRITE] += rounded
                sram_bits[layer, instr["buffer"], SRAM_READ] += nbytes * 8
        elif opcode == Opcode.GEMM:
            m, k, n = int(instr["m"]), int(instr["k"]), int(instr["n"])
            groups = max(int(instr["groups"]), 1)
            dataflow = int(instr["dataflow"])
            busy = int(gemm_cycles(m, k, n, dataflow, machine.rows, machine.cols, groups))
            finish = begin + busy
            counters[layer, COL_MACS] += groups * m * k * n
            accesses = gemm_sram_accesses(
                m, k, n, dataflow, int(instr["accumulate"]), machine.rows, machine.cols, groups
            )
            input_reads, weight_reads, output_reads, output_writes = (int(a) for a in accesses)
            buffer_of = machine.operand_buffer
            sram_bits[layer, buffer_of[Operand.INPUT], SRAM_READ] += input_reads * machine.input_bits
            sram_bits[layer, buffer_of[Operand.WEIGHT], SRAM_READ] += weight_reads * machine.input_bits
            sram_bits[layer, buffer_of[Operand.OUTPUT], SRAM_READ] += (
                output_reads * machine.accumulator_bits
            )
            sram_bits[layer, buffer_of[Operand.OUTPUT], SRAM_WRITE] += (
                output_writes * machine.accumulator_bits
            )
        else:
            elements = int(instr["elements"])
            op_class = int(instr["op_class"])
            busy = int(vector_cycles(elements, lane_ops_per_cycle[op_class]))
            finish = begin + busy
            counters[layer, COL_VECTOR_OPS + op_class] += elements
            for direction in (SRAM_READ, SRAM_WRITE):
                sram_bits[layer, machine.operand_buffer[Operand.OUTPUT], direction] += (
                    elements * machine.accumulator_bits
                )

        free[engine] = begin + busy
        counters[layer, COL_BUSY + engine] += busy
        start[i] = begin
        end[i] = finish
        layer_end[layer] = max(layer_end[layer], finish)

    reached = 0
    for layer, latest in enumerate(layer_end):
        counters[layer, COL_CYCLES] = max(0, latest - reached)
        reached = max(reached, latest)
    return Counts(start=start, end=end, counters=counters, sram_bits=sram_bits)
