"""Reference simulator: the executable specification of the machine, in plain Python.

It is slow (one Python loop over instructions) and exists to be read and to be compared
with: the Numba kernel (`simulator.kernels.engines._simulate`) must produce exactly the same
start/end cycles and counters on every program.

Machine semantics
-----------------
Four in-order engines (LOAD, MATRIX, VECTOR, STORE) run concurrently. Each keeps `free[e]`,
the cycle from which it can start its next instruction (0 initially). Shared resources are
granted in program order: the DRAM channel (LOADs from and STOREs to DRAM) and one read and
one write port per on-chip buffer (LOADs from and STOREs to that buffer, `Target`). For
instruction i in program order, on engine e:

    ready_i = max(end_d for d in deps(i)), 0 without dependencies

    LOAD/STORE over the DRAM channel (level 0):
        start = max(free[e], ready_i, channel_free)
        occupancy = ceil_cycles(round_up(bytes, burst) / dram_bytes_per_cycle)
        channel_free = free[e] = start + occupancy; end = start + occupancy + latency
      (dram_bytes_per_cycle is the sustained rate: min(peak, Little's law), `Target`)
    LOAD from / STORE to on-chip buffer b (level b + 1), over b's read / write port:
        start = max(free[e], ready_i, port_free)
        port_free = free[e] = end = start + ceil_cycles(bytes / port bytes per cycle)
    VEC     start = max(free[e], ready_i); end = free[e] = start + ceil_cycles(elements /
            (lanes · rate[op_class]))
    GEMM    with F folds, each of streamed length T and stationary load L, at the chip's
            reduction depth and channel width (`compiler.target.timing.fold_times`), G = max(groups, 1) products
            packed in the pass:
      folds back to back (SCALESIM timing, or an array without a stationary double buffer):
            start = max(free[e], ready_i); end = free[e] = start + gemm_cycles(...), stretched
            by PEs / `active` when the chip's mapping keeps only `active` PEs busy
            (`timing.stretched`)
      pipelined (`Target.pipelined`), with shadow_free the cycle the last fold's stream
      started, emptying the shadow copy (−∞ initially), and S = max(L, R) the cycles the
      shadow copy takes to receive a fold's operand (WS, IS) or drain its results (OS)
      (`timing.fold_shift`):
            start = max(free[e], ready_i)
            first = max(free[e], ready_i + L₁, shadow_free + S₁)  (the first fold streams)
            last = first + Σ_{f<F} max(T_f, S_f)                 (each next fold: stream or shift)
            shadow_free = last; free[e] = last + T_F; end = last + T_F + R + C − 2
      continuing a fold (`continues`, one fold already in the array; `timing`):
            start = max(free[e], ready_i); free[e] = start + T, the array's busy time;
            end = start + T + D, with D = R + C − 2 when pipelined or once a gap has broken
            the fold's stream (this piece or an earlier one of the fold started after a gap,
            start > free[e]), else 0: in the fold model the fold's drain, charged with its
            first GEMM, follows the stream while it runs unbroken; the rows streamed after a
            gap drain on their own, and a systolic array delivers pieces in stream order, so
            no piece ends before the one ahead of it (and a layer's final STORE, which
            waits for its last piece, ends after every GEMM of the layer); like a DRAM
            latency, D is not busy time

Busy cycles of an engine are the union of its instructions' occupied intervals, [start,
start + occupancy) for a transfer (the channel or port, not the DRAM latency) and [start,
end) for compute (a pipelined array's drain included, counted once where the next GEMM
overlaps it; a continuing GEMM's only its stream); an instruction is charged the part of
its interval not covered before.

Layers: with end_l the latest end of layer l's instructions (0 if it has none) and begin_l =
max_{j<l} end_j, the layer's cycles are max(0, end_l − begin_l), so the layers' cycles sum
to the run's total (the latest end) whether or not the program puts barriers between them.

Stalls: every idle cycle of an engine inside a layer's window [begin_l, end_l) is charged to
exactly one cause. Before instruction i, the engine is idle from max(covered, begin_l) (covered:
the end of its busy intervals so far) to start_i; after its last instruction of the layer,
to end_l. The cause before i is what bound its start:
  - the DRAM channel (i waited for it) -> DRAM; an on-chip port -> BUFFER;
  - else the dependency that ended last (on a tie the first cause in this order):
      DRAM       data arriving from DRAM: i reads what a DRAM LOAD brought, or a LOAD refills
                 what a DRAM STORE spilled;
      BUFFER     buffer space: a compute instruction waits for a STORE to drain the slot it
                 writes, or a LOAD waits for compute to finish reading the slot it fills;
      DEPENDENCY another engine's result (compute or an on-chip transfer).
The idle time after an engine's last instruction of a layer is charged DRAM when the layer's
last instruction to end is a DRAM transfer, else DEPENDENCY. In a program with barriers
between layers (codegen's), an engine's busy and stall cycles in a layer where it has
instructions add up to the layer's cycles exactly.

Events:
  MACs       G·m·k·n per GEMM (the useful products only, never the packing's zero blocks),
             in all and by the GEMM's dataflow; those whose partial sum stays in the PE
             (`timing.gemm_local_macs`) also as local MACs, and those that use an input the PE
             already holds (`timing.gemm_held_macs`) as held MACs.
  DRAM       a DRAM LOAD adds `bytes` to the read bytes of its operand, a DRAM STORE to the
             write bytes; the burst-rounded bytes go to the channel read / write counters.
  on-chip    a LOAD from or STORE to an on-chip level adds `bytes` to the on-chip read / write
             counter.
  SRAM       a LOAD writes bytes·8 bits into its buffer and, from an on-chip level, reads them
             from that level's buffer; a STORE reads bytes·8 bits from its buffer and, to an
             on-chip level, writes them there. A GEMM reads inputs and weights from the
             buffers holding them and reads/writes partial sums in the OUTPUT buffer
             (`timing.gemm_sram_accesses`), at operand and accumulator precision. A VEC
             reads and writes `elements` elements at accumulator precision in the OUTPUT
             buffer (it works on the array's results in place).
  vector     `elements` lane operations of the instruction's op class.
"""

from __future__ import annotations

import numpy as np

from accel_spec.types import Operand
from compiler.target import LEVEL_DRAM, Target
from compiler.target.isa import Engine, Opcode, Program
from compiler.target.timing import (
    burst_bytes,
    ceil_cycles,
    fold_shift,
    fold_times,
    gemm_cycles,
    gemm_folds,
    gemm_held_macs,
    gemm_local_macs,
    gemm_sram_accesses,
    stretched,
    transfer_cycles,
    vector_cycles,
)
from simulator.kernels.engines import (
    COL_BUSY,
    COL_CHANNEL_READ,
    COL_CHANNEL_WRITE,
    COL_CYCLES,
    COL_DATAFLOW_MACS,
    COL_DRAM_READ,
    COL_DRAM_WRITE,
    COL_HELD_MACS,
    COL_LOCAL_MACS,
    COL_MACS,
    COL_ONCHIP_READ,
    COL_ONCHIP_WRITE,
    COL_STALL,
    COL_VECTOR_OPS,
    N_CAUSES,
    N_COUNTERS,
    SRAM_READ,
    SRAM_WRITE,
)
from simulator.result import Counts, StallCause

TRANSFERS = (Opcode.LOAD, Opcode.STORE)
COMPUTE = (Opcode.GEMM, Opcode.VEC)


def dependency_cause(waiter: Opcode, dependency: Opcode, dependency_on_dram: bool) -> StallCause:
    """Why an instruction `waiter` waiting for `dependency` is idle (module doc)."""
    if (waiter in COMPUTE and dependency is Opcode.STORE) or (waiter is Opcode.LOAD and dependency in COMPUTE):
        return StallCause.BUFFER
    if dependency in TRANSFERS and dependency_on_dram:
        return StallCause.DRAM
    return StallCause.DEPENDENCY


def simulate_reference(program: Program, machine: Target) -> Counts:
    """Simulate `program` on `machine` one instruction at a time (see the module docstring)."""
    count = len(program)
    n_layers = len(program.layer_names)
    instructions = program.instructions
    start = np.zeros(count, dtype=np.int64)
    end = np.zeros(count, dtype=np.int64)
    idle_from = np.zeros(count, dtype=np.int64)
    cause = np.zeros(count, dtype=np.int64)
    counters = np.zeros((n_layers, N_COUNTERS), dtype=np.int64)
    sram_bits = np.zeros((n_layers, len(machine.buffer_names), 2), dtype=np.int64)
    layer_end = [0] * n_layers
    last_cause = [StallCause.DEPENDENCY] * n_layers
    covered_at_layer = np.full((n_layers, len(Engine)), -1, dtype=np.int64)
    free = {engine: 0 for engine in Engine}
    covered = {engine: 0 for engine in Engine}
    channel_free = 0
    port_free = {(b, d): 0 for b in range(len(machine.buffer_names)) for d in (SRAM_READ, SRAM_WRITE)}
    shadow_free = -(1 << 62)
    restarted = False  # whether a gap has broken the stream of the fold in the array
    lane_ops_per_cycle = machine.vector_lane_ops_per_cycle

    def on_dram(index: int) -> bool:
        return Opcode(int(instructions["opcode"][index])) in TRANSFERS and int(instructions["level"][index]) == LEVEL_DRAM

    for i, instr in enumerate(instructions):
        opcode = Opcode(int(instr["opcode"]))
        engine = opcode.engine
        layer = int(instr["layer"])
        ready, ready_cause = 0, StallCause.DEPENDENCY
        for d in program.dependencies(i):
            t = int(end[d])
            c = dependency_cause(opcode, Opcode(int(instructions["opcode"][d])), on_dram(d))
            if t > ready:
                ready, ready_cause = t, c
            elif t == ready:
                ready_cause = min(ready_cause, c)

        if opcode in TRANSFERS:
            level = int(instr["level"])
            nbytes = int(instr["bytes"])
            operand = int(instr["operand"])
            if level == LEVEL_DRAM:
                resource, resource_cause = channel_free, StallCause.DRAM
            else:
                direction = SRAM_READ if opcode is Opcode.LOAD else SRAM_WRITE
                resource, resource_cause = port_free[(level - 1, direction)], StallCause.BUFFER
            begin = max(free[engine], ready, resource)
            binding = resource_cause if resource >= ready else ready_cause
            if level == LEVEL_DRAM:
                busy = int(transfer_cycles(nbytes, machine.burst, machine.dram_bytes_per_cycle))
                channel_free = begin + busy
                finish = begin + busy + machine.latency
                rounded = int(burst_bytes(nbytes, machine.burst))
                if opcode is Opcode.LOAD:
                    counters[layer, COL_DRAM_READ + operand] += nbytes
                    counters[layer, COL_CHANNEL_READ] += rounded
                else:
                    counters[layer, COL_DRAM_WRITE + operand] += nbytes
                    counters[layer, COL_CHANNEL_WRITE] += rounded
            else:
                ports = machine.read_port if opcode is Opcode.LOAD else machine.write_port
                busy = int(ceil_cycles(nbytes / ports[level - 1]))
                port_free[(level - 1, direction)] = begin + busy
                finish = begin + busy
                far = SRAM_READ if opcode is Opcode.LOAD else SRAM_WRITE
                sram_bits[layer, level - 1, far] += nbytes * 8
                counters[layer, COL_ONCHIP_READ if opcode is Opcode.LOAD else COL_ONCHIP_WRITE] += nbytes
            near = SRAM_WRITE if opcode is Opcode.LOAD else SRAM_READ
            sram_bits[layer, instr["buffer"], near] += nbytes * 8
            free[engine] = begin + busy
            occupied_end = begin + busy
        elif opcode is Opcode.GEMM:
            m, k, n = int(instr["m"]), int(instr["k"]), int(instr["n"])
            groups = max(int(instr["groups"]), 1)
            dataflow = int(instr["dataflow"])
            binding = ready_cause
            begin = max(free[engine], ready)
            continues = bool(instr["continues"])
            fill_drain = machine.fill_drain
            depth, width = machine.reduction_depth, machine.pe_width
            if continues:
                streamed = int(gemm_folds(m, k, n, dataflow, machine.rows, machine.cols, groups, depth, width)[1])
                restarted = restarted or begin > free[engine]
                drained = fill_drain if (machine.pipelined or restarted) else 0
                finish = begin + streamed + drained
                free[engine] = begin + streamed
            elif machine.pipelined:
                restarted = False
                times = fold_times(m, k, n, dataflow, machine.rows, machine.cols, groups, depth, width)
                first_load, last_stream = int(times.first_load), int(times.last_stream)
                first = max(free[engine], ready + first_load, shadow_free + int(fold_shift(first_load, machine.rows)))
                last = first + int(times.spaced(machine.rows)) - int(times.last_spacing)
                shadow_free = last
                free[engine] = last + last_stream
                finish = last + last_stream + fill_drain
            else:
                restarted = False
                cycles = gemm_cycles(m, k, n, dataflow, machine.rows, machine.cols, groups, machine.unit_cols, depth, width)
                finish = begin + int(stretched(cycles, machine.pes, int(instr["active"])))
                free[engine] = finish
            occupied_end = free[engine] if continues else finish
            counters[layer, COL_MACS] += groups * m * k * n
            counters[layer, COL_DATAFLOW_MACS + dataflow] += groups * m * k * n
            counters[layer, COL_LOCAL_MACS] += int(
                gemm_local_macs(m, k, n, dataflow, machine.rows, machine.cols, groups, depth, width)
            )
            counters[layer, COL_HELD_MACS] += int(
                gemm_held_macs(m, k, n, dataflow, machine.rows, machine.cols, groups, depth, width)
            )
            accesses = gemm_sram_accesses(
                m, k, n, dataflow, int(instr["accumulate"]), machine.rows, machine.cols, groups, int(continues), depth,
                width,
            )  # fmt: skip
            input_reads, weight_reads, output_reads, output_writes = (int(a) for a in accesses)
            buffer_of = machine.buffer_of
            sram_bits[layer, buffer_of[Operand.INPUT], SRAM_READ] += input_reads * machine.operand_bits
            sram_bits[layer, buffer_of[Operand.WEIGHT], SRAM_READ] += weight_reads * machine.operand_bits
            sram_bits[layer, buffer_of[Operand.OUTPUT], SRAM_READ] += output_reads * machine.accumulator_bits
            sram_bits[layer, buffer_of[Operand.OUTPUT], SRAM_WRITE] += output_writes * machine.accumulator_bits
        else:
            elements = int(instr["elements"])
            op_class = int(instr["op_class"])
            binding = ready_cause
            begin = max(free[engine], ready)
            finish = begin + int(vector_cycles(elements, lane_ops_per_cycle[op_class]))
            free[engine] = finish
            occupied_end = finish
            counters[layer, COL_VECTOR_OPS + op_class] += elements
            for direction in (SRAM_READ, SRAM_WRITE):
                sram_bits[layer, machine.buffer_of[Operand.OUTPUT], direction] += elements * machine.accumulator_bits

        idle_from[i] = covered[engine]
        cause[i] = binding
        counters[layer, COL_BUSY + engine] += max(0, occupied_end - max(begin, covered[engine]))
        covered[engine] = max(covered[engine], occupied_end)
        covered_at_layer[layer, engine] = covered[engine]
        start[i] = begin
        end[i] = finish
        if finish > layer_end[layer]:
            layer_end[layer] = finish
            last_cause[layer] = StallCause.DRAM if on_dram(i) else StallCause.DEPENDENCY
        elif finish == layer_end[layer] and on_dram(i):
            last_cause[layer] = StallCause.DRAM

    begin_of = [0] * n_layers
    reached = 0
    for layer, latest in enumerate(layer_end):
        begin_of[layer] = reached
        counters[layer, COL_CYCLES] = max(0, latest - reached)
        reached = max(reached, latest)
    for i in range(count):
        layer = int(instructions["layer"][i])
        engine = int(instructions["opcode"][i])
        gap = int(start[i]) - max(int(idle_from[i]), begin_of[layer])
        if gap > 0:
            counters[layer, COL_STALL + engine * N_CAUSES + int(cause[i])] += gap
    for layer in range(n_layers):
        for engine in Engine:
            if covered_at_layer[layer, engine] < 0:
                continue
            tail = layer_end[layer] - max(int(covered_at_layer[layer, engine]), begin_of[layer])
            if tail > 0:
                counters[layer, COL_STALL + engine * N_CAUSES + last_cause[layer]] += tail
    return Counts(start=start, end=end, counters=counters, sram_bits=sram_bits)
