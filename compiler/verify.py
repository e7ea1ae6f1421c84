"""Checks of schedules and programs: run after every pass in tests, behind a flag otherwise.

A failure here is a compiler bug, never bad user input, so it raises `ProgramError` listing
every problem found.

`verify_program` checks:
  * structure: CSR arrays well formed, every dependency points backwards;
  * fields: known opcodes, GEMM m, k, n > 0 and groups ≥ 0 (0 means 1) with a dataflow
    the chip supports, transfers into the buffer that holds their operand, positive byte
    and element counts;
  * conservation per layer: Σ GEMM G·m·k·n equals the workload's MACs exactly; loads
    cover the compulsory traffic (each operand read at least once — a vector workload's
    constants included; a conv's input is the window one tile covering the whole layer
    would read, see `scheduling.tiling`), except operands the memory plan keeps in the
    buffer they are read from, which are never loaded; every transfer uses the memory level
    the plan placed its operand at; every operand is counted at its class's width
    (`scheduling.roles`); the output is written exactly once unless partial sums were spilled;
  * capacity at every point (static, below), beside the bytes the plan keeps on chip.

A fused attention chain (`Workload.attention`, `codegen.attention`) moves each tile of P
from the OUTPUT buffer to the INPUT buffer by an on-chip LOAD of INPUT (`_drains`), and a
fused chain of convolutions (`Workload.conv_chain`, `codegen.conv_chain`) moves each output
tile of a layer but the last into the next layer's line buffer the same way, and a fused MLP
block (`Workload.mlp`, `codegen.mlp`) each chunk of its activated intermediate. Such a
drain is not an input of the layer (conservation checks Q, or the chain's input, alone) and
it closes the tile it reads, as a STORE of OUTPUT closes an output tile; in the INPUT buffer
it is an allocation like any load, live until the last GEMM that reads it.

Capacity. An allocation is a LOAD (live until its last direct dependant) or the opening of
an output tile in the OUTPUT buffer — a GEMM with accumulate=0 (G·m·n partial sums), a refill LOAD of OUTPUT
read by a GEMM, or the first VEC of a vector chunk (`_vector_openers`) — live
until its STORE of OUTPUT (openings and stores of a layer pair up in order). "A ended
before B started" is decided from B's direct dependencies and engine order, transitively:
a forward pass keeps, per instruction, the latest instruction of each engine known to have
ended before it starts (compute engines run one instruction at a time; DRAM transfers of
one engine complete in issue order). Allocations of a layer form streams (input, weight,
side-input loads, output tiles), each first-in first-out. When allocation W starts, a
stream may hold the members not known to have ended; two members coexist only if the
older one's release is not known to precede the younger one's start, so the stream's
worst case is the heaviest run of consecutive members that all coexist with the run's
newest one. The sum of these over the streams of W's buffer, plus the bytes of tensors the
memory plan keeps in it during the layer (`Workload.reserved`), must fit its capacity. The
check is conservative: it never misses an overflow the dependencies allow, and
`scheduling.footprint` counts exactly what it finds live in generated programs.
"""

from __future__ import annotations

import numpy as np

from accel_spec.types import OpClass, Operand
from compiler.scheduling.footprint import gemm_footprint, overflow_reason, slices_constants, vector_footprint
from compiler.scheduling.roles import roles
from compiler.scheduling.schedule import Dim, LayerSchedule, Schedule, VectorSchedule
from compiler.roofline import compulsory_input_elements
from compiler.target import Target, level_of, nbytes
from compiler.target.isa import ENGINE_OF_OPCODE, INSTRUCTION_DTYPE, Engine, Opcode, Program
from compiler.workload import Workload, WorkloadKind
from simulator.kernels.numba_target import njit

_ENGINE = np.array([ENGINE_OF_OPCODE[op] for op in Opcode], dtype=np.int64)
_SHOWN = 5
_MATRIX, _VECTOR = int(Engine.MATRIX), int(Engine.VECTOR)

# allocation streams of a layer
_INPUT, _WEIGHT, _SIDE, _OUTPUT = range(4)
_STREAMS = 4


class ProgramError(Exception):
    """A schedule or program breaks an invariant (an internal compiler error)."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = tuple(problems)
        super().__init__("invalid program:\n  " + "\n  ".join(problems))


def verify_schedule(schedule: LayerSchedule, workload: Workload, chip: Target) -> None:
    """Check that a schedule suits its workload and fits the chip's buffers."""
    problems = []
    if workload.kind is WorkloadKind.GEMM:
        if not isinstance(schedule, Schedule):
            raise ProgramError([f"layer {workload.name}: GEMM workload with schedule {schedule!r}"])
        gemm = workload.gemm
        extents = (gemm.m, gemm.k, gemm.n)
        for dim in Dim:
            if not 1 <= schedule.tile(dim) <= extents[dim]:
                problems.append(f"layer {workload.name}: tile {dim.name}={schedule.tile(dim)} outside 1..{extents[dim]}")
        if schedule.dataflow not in chip.dataflows:
            problems.append(f"layer {workload.name}: dataflow {schedule.dataflow.label} not supported by the chip")
        if sorted(schedule.order) != list(Dim):
            problems.append(f"layer {workload.name}: loop order {schedule.order} is not a permutation of M, K, N")
        if not 1 <= schedule.groups_per_pass <= gemm.batch:
            groups = schedule.groups_per_pass
            problems.append(f"layer {workload.name}: {groups} groups per pass outside 1..{gemm.batch}")
        if problems:
            raise ProgramError(problems)
        tiles = np.array([schedule.tile(d) for d in Dim], dtype=np.int64)
        positions = np.array([schedule.order.index(d) for d in Dim], dtype=np.int64)
        footprint = gemm_footprint(workload, chip, tiles, positions, schedule.double_buffer, schedule.groups_per_pass)
    else:
        if not isinstance(schedule, VectorSchedule):
            raise ProgramError([f"layer {workload.name}: vector workload with schedule {schedule!r}"])
        if schedule.chunks < 1:
            raise ProgramError([f"layer {workload.name}: {schedule.chunks} chunks"])
        if schedule.sliced_constants and not slices_constants(workload):
            raise ProgramError([f"layer {workload.name}: constants sliced, but their broadcast is unknown or unneeded"])
        footprint = vector_footprint(workload, chip, schedule.chunks, schedule.double_buffer, schedule.sliced_constants)
    if not footprint.fits(chip):
        raise ProgramError([f"layer {workload.name}: {overflow_reason(footprint, chip, schedule.describe())}"])


def verify_program(program: Program, workloads: tuple[Workload, ...], chip: Target) -> None:
    """Check a generated program against its workloads and chip (see module docstring)."""
    problems = _structure(program, len(workloads))
    if problems:
        raise ProgramError(problems)
    problems += _fields(program, chip)
    if problems:
        raise ProgramError(problems)
    problems += _conservation(program, workloads, chip)
    problems += _capacity(program, workloads, chip)
    if problems:
        raise ProgramError(problems)


def _flag(problems: list[str], bad: np.ndarray, message: str) -> None:
    where = np.flatnonzero(bad)
    if where.size:
        shown = ", ".join(str(i) for i in where[:_SHOWN])
        more = f" and {where.size - _SHOWN} more" if where.size > _SHOWN else ""
        problems.append(f"instruction {shown}{more}: {message}")


def _structure(program: Program, layers: int) -> list[str]:
    instr = program.instructions
    if not isinstance(instr, np.ndarray) or instr.dtype != INSTRUCTION_DTYPE or instr.ndim != 1:
        return ["instructions are not a 1-D INSTRUCTION_DTYPE array"]
    count = len(instr)
    ptr, deps = np.asarray(program.dep_ptr), np.asarray(program.deps)
    if ptr.shape != (count + 1,) or deps.ndim != 1 or ptr.dtype.kind != "i" or deps.dtype.kind != "i":
        return [f"dep_ptr must be an int array of length {count + 1} and deps a 1-D int array"]
    if ptr[0] != 0 or ptr[-1] != len(deps) or np.any(np.diff(ptr) < 0):
        return ["dep_ptr must start at 0, never decrease and end at len(deps)"]
    problems: list[str] = []
    owner = np.repeat(np.arange(count), np.diff(ptr))
    bad_dep = np.zeros(count, dtype=bool)
    bad_dep[owner[(deps < 0) | (deps >= owner)]] = True
    _flag(problems, bad_dep, "depends on itself, a later or a negative index")
    if len(program.layer_names) != layers:
        problems.append(f"{len(program.layer_names)} layer names for {layers} workloads")
    layer = instr["layer"]
    _flag(problems, (layer < 0) | (layer >= layers), "layer index out of range")
    _flag(problems, np.append(False, np.diff(layer) < 0), "layers are not contiguous and in order")
    return problems


def _fields(program: Program, chip: Target) -> list[str]:
    instr = program.instructions
    problems: list[str] = []
    opcode = instr["opcode"]
    _flag(problems, opcode >= len(Opcode), "unknown opcode")
    gemm = opcode == Opcode.GEMM
    _flag(problems, gemm & ((instr["m"] <= 0) | (instr["k"] <= 0) | (instr["n"] <= 0)), "GEMM with m, k or n <= 0")
    _flag(problems, gemm & (instr["groups"] < 0), "GEMM with a negative number of groups")
    supported = np.isin(instr["dataflow"], [int(d) for d in chip.dataflows])
    _flag(problems, gemm & ~supported, "GEMM dataflow not supported by the chip")
    _flag(problems, gemm & (instr["accumulate"] > 1), "accumulate is not 0 or 1")
    transfer = (opcode == Opcode.LOAD) | (opcode == Opcode.STORE)
    operand = instr["operand"]
    _flag(problems, transfer & (operand >= len(Operand)), "unknown operand")
    holder = np.asarray(chip.buffer_of)[np.minimum(operand, len(Operand) - 1)]
    _flag(problems, transfer & (instr["buffer"] != holder), "buffer does not hold the operand")
    _flag(problems, transfer & (instr["bytes"] <= 0), "transfer of no bytes")
    vec = opcode == Opcode.VEC
    _flag(problems, vec & (instr["op_class"] >= len(OpClass)), "unknown vector op class")
    _flag(problems, vec & (instr["elements"] <= 0), "VEC with no elements")
    return problems


def _groups(instr: np.ndarray) -> np.ndarray:
    """Products packed in each GEMM (int64; an unset field, 0, means 1)."""
    return np.maximum(instr["groups"].astype(np.int64), 1)


def _roles(program: Program) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(refill, side, release) per instruction.

    refill: LOAD of OUTPUT read by a GEMM; side: LOAD of OUTPUT read otherwise; release:
    index of the last direct dependant (-1 if none).
    """
    instr = program.instructions
    count = len(instr)
    owner = np.repeat(np.arange(count), np.diff(program.dep_ptr))
    release = np.full(count, -1, dtype=np.int64)
    np.maximum.at(release, program.deps, owner)
    read_by_gemm = np.zeros(count, dtype=bool)
    read_by_gemm[program.deps[instr["opcode"][owner] == Opcode.GEMM]] = True
    output_load = (instr["opcode"] == Opcode.LOAD) & (instr["operand"] == Operand.OUTPUT)
    return output_load & read_by_gemm, output_load & ~read_by_gemm, release


def _drains(program: Program, workloads: tuple[Workload, ...], chip: Target) -> np.ndarray:
    """LOADs of INPUT from the OUTPUT buffer in fused layers: P's on-chip moves in attention,
    a layer's rows into the next one's line buffer in a chain of convolutions."""
    instr = program.instructions
    fused = np.array([w.attention is not None or w.conv_chain is not None or w.mlp is not None for w in workloads] + [False], dtype=bool)
    layer = np.minimum(instr["layer"].astype(np.int64), len(workloads))
    return (
        fused[layer]
        & (instr["opcode"] == Opcode.LOAD)
        & (instr["operand"] == Operand.INPUT)
        & (instr["level"] == level_of(chip.buffer(Operand.OUTPUT)))
    )


def _conservation(program: Program, workloads: tuple[Workload, ...], chip: Target) -> list[str]:
    instr = program.instructions
    layers = len(workloads)
    layer = instr["layer"].astype(np.int64)
    opcode = instr["opcode"]
    refill, side, _ = _roles(program)
    drains = _drains(program, workloads, chip)

    def per_layer(mask: np.ndarray, values: np.ndarray) -> np.ndarray:
        total = np.zeros(layers, dtype=np.int64)
        np.add.at(total, layer[mask], values[mask].astype(np.int64))
        return total

    macs = per_layer(opcode == Opcode.GEMM, _groups(instr) * instr["m"] * instr["k"] * instr["n"])
    load = (opcode == Opcode.LOAD) & ~drains
    store = opcode == Opcode.STORE
    operand = instr["operand"]
    read_input = per_layer(load & (operand == Operand.INPUT), instr["bytes"])
    read_weight = per_layer(load & (operand == Operand.WEIGHT), instr["bytes"])
    read_side = per_layer(side, instr["bytes"])
    refills = per_layer(refill, np.ones(len(instr), dtype=np.int64))
    written = per_layer(store & (operand == Operand.OUTPUT), instr["bytes"])
    problems = []
    for index, w in enumerate(workloads):
        where = f"layer {index} ({w.name})"
        if macs[index] != w.macs:
            problems.append(f"{where}: GEMMs do {macs[index]} MACs, workload has {w.macs}")
        compulsory_input = compulsory_input_elements(w)
        second = "weight" if w.gemm is not None else "constant"
        flags = roles(w, chip)
        checks = [
            ("input", read_input[index], flags.input_tile * nbytes(compulsory_input, flags.input_bits)),
            (second, read_weight[index], flags.weight_tile * nbytes(w.weight_elements, flags.weight_bits)),
            ("side input", read_side[index], flags.side_tile * nbytes(w.side_input_elements, flags.side_bits)),
        ]
        for name, moved, needed in checks:
            if moved < needed:
                problems.append(f"{where}: reads {moved} bytes of {name}, less than the compulsory {needed}")
            if needed == 0 and moved > 0:
                problems.append(f"{where}: loads {moved} bytes of {name}, which the plan keeps in place")
        placed = (w.placement.input, w.placement.weight, w.placement.side, w.placement.output)
        for kind, mask, level in (
            ("input", load & (operand == Operand.INPUT), placed[0]),
            (second, load & (operand == Operand.WEIGHT), placed[1]),
            ("side input", side, placed[2]),
            # a layer that spills partial sums also stores them to DRAM: its output is not checked
            ("output", store & (operand == Operand.OUTPUT) & (refills[index] == 0), placed[3]),
        ):
            wrong = mask & (layer == index) & (instr["level"] != level)
            if wrong.any():
                problems.append(f"{where}: moves {kind} from or to level {instr['level'][wrong][0]}, planned {level}")
        output = nbytes(w.output_elements, flags.output_bits)
        exact = refills[index] == 0 and flags.output_bits % 8 == 0
        if written[index] < output or (exact and written[index] != output):
            problems.append(f"{where}: writes {written[index]} output bytes, expected {output}")
    return problems


def _capacity(program: Program, workloads: tuple[Workload, ...], chip: Target) -> list[str]:
    instr = program.instructions
    opcode = instr["opcode"]
    engine = _ENGINE[opcode]
    refill, side, release = _roles(program)
    frontier = _frontier(engine, program.dep_ptr.astype(np.int64), program.deps.astype(np.int64))

    load = opcode == Opcode.LOAD
    opens = ((opcode == Opcode.GEMM) & (instr["accumulate"] == 0)) | refill | _vector_openers(program)
    closes = ((opcode == Opcode.STORE) & (instr["operand"] == Operand.OUTPUT)) | _drains(program, workloads, chip)

    problems: list[str] = []
    layer = instr["layer"].astype(np.int64)
    open_idx, close_idx = np.flatnonzero(opens), np.flatnonzero(closes)
    # a refill belongs to the output tile of the GEMM that reads it: pair in that order
    open_idx = open_idx[np.lexsort((np.where(refill[open_idx], release[open_idx], open_idx), layer[open_idx]))]
    open_count = np.bincount(layer[open_idx], minlength=len(program.layer_names))
    close_count = np.bincount(layer[close_idx], minlength=len(program.layer_names))
    for bad in np.flatnonzero(open_count != close_count):
        problems.append(f"layer {bad}: {open_count[bad]} output tiles opened but {close_count[bad]} stored")
    if problems:
        return problems

    output_bits = np.array([roles(w, chip).output_bits for w in workloads], dtype=np.int64)
    psum_bytes = np.where(
        opcode[open_idx] == Opcode.GEMM,
        nbytes(_groups(instr[open_idx]) * instr["m"][open_idx] * instr["n"][open_idx], chip.accumulator_bits),
        np.where(
            refill[open_idx],
            instr["bytes"][open_idx],
            -(-instr["bytes"][close_idx] * chip.accumulator_bits // output_bits[layer[close_idx]]),
        ),
    )
    plain_loads = np.flatnonzero(load & ~refill)
    unread = plain_loads[release[plain_loads] < 0]
    _flag(problems, np.isin(np.arange(len(instr)), unread), "LOAD that nothing reads")
    if problems:
        return problems
    role = np.where(side[plain_loads], _SIDE, np.where(instr["operand"][plain_loads] == Operand.WEIGHT, _WEIGHT, _INPUT))
    alloc = np.concatenate([plain_loads, open_idx])
    stream = np.concatenate([layer[plain_loads] * _STREAMS + role, layer[open_idx] * _STREAMS + _OUTPUT])
    buffer = np.concatenate([instr["buffer"][plain_loads].astype(np.int64), np.full(len(open_idx), chip.buffer(Operand.OUTPUT))])
    size = np.concatenate([instr["bytes"][plain_loads].astype(np.int64), psum_bytes.astype(np.int64)])
    freed = np.concatenate([release[plain_loads], close_idx])
    fifo = np.concatenate([plain_loads, np.arange(len(open_idx))])
    order = np.lexsort((fifo, stream))
    alloc, stream, buffer, size, freed = alloc[order], stream[order], buffer[order], size[order], freed[order]
    demand = _live_bytes(alloc, stream, buffer, size, freed, engine, frontier, len(program.layer_names) * _STREAMS)
    demand = demand + _reserved(workloads, chip)[layer[alloc], buffer]
    over = demand > chip.capacity_array[buffer]
    for a in np.flatnonzero(over)[:_SHOWN]:
        problems.append(
            f"instruction {alloc[a]} (layer {layer[alloc[a]]}): up to {demand[a]} bytes live in buffer "
            f"'{chip.buffer_names[buffer[a]]}' (capacity {chip.capacity_array[buffer[a]]})"
        )
    if over.sum() > _SHOWN:
        problems.append(f"... and {over.sum() - _SHOWN} more capacity violations")
    return problems


def _vector_openers(program: Program) -> np.ndarray:
    """The first VEC of each chunk of a vector layer (a layer without GEMMs), which opens the
    chunk's output tile: in program order a chunk's VECs come before its STORE of OUTPUT
    (`codegen.vector`), so it is a VEC whose previous VEC-or-output-STORE in the layer is not
    a VEC."""
    instr = program.instructions
    opcode, layer = instr["opcode"], instr["layer"].astype(np.int64)
    gemm_layers = np.unique(layer[opcode == Opcode.GEMM])
    marks = (opcode == Opcode.VEC) | ((opcode == Opcode.STORE) & (instr["operand"] == Operand.OUTPUT))
    index = np.flatnonzero(marks)
    vec = opcode[index] == Opcode.VEC
    first = np.ones(len(index), dtype=bool)
    first[1:] = (~vec[:-1]) | (layer[index][1:] != layer[index][:-1])
    openers = np.zeros(len(instr), dtype=bool)
    openers[index[vec & first]] = True
    return openers & ~np.isin(layer, gemm_layers)


def _reserved(workloads: tuple[Workload, ...], chip: Target) -> np.ndarray:
    """(layers, buffers) bytes the memory plan keeps in each buffer during each layer."""
    table = np.zeros((len(workloads), len(chip.buffer_names)), dtype=np.int64)
    for index, workload in enumerate(workloads):
        table[index, : len(workload.reserved)] = workload.reserved
    return table


@njit(cache=True)
def _frontier(engine, dep_ptr, deps):
    """Per instruction and engine: the latest instruction of that engine known to have
    ended before this one starts (-1 if none)."""
    count = len(engine)
    known = np.full((count, 4), -1, dtype=np.int64)
    last = np.full(4, -1, dtype=np.int64)
    for i in range(count):
        e = engine[i]
        previous = last[e]
        if previous >= 0:
            for x in range(4):
                known[i, x] = known[previous, x]
            if e == _MATRIX or e == _VECTOR:  # one instruction at a time: the previous has ended
                known[i, e] = max(known[i, e], previous)
        for j in range(dep_ptr[i], dep_ptr[i + 1]):
            d = deps[j]
            for x in range(4):
                known[i, x] = max(known[i, x], known[d, x])
            known[i, engine[d]] = max(known[i, engine[d]], d)
        last[e] = i
    return known


@njit(cache=True)
def _released(freed, engine, frontier, at):
    return freed <= frontier[at, engine[freed]]


@njit(cache=True)
def _live_bytes(alloc, stream, buffer, size, freed, engine, frontier, n_streams):
    """Worst-case bytes live in the buffer of each allocation when it starts (module doc).

    Arrays are sorted by (stream, position in the stream's first-in first-out order);
    stream ids are layer · 4 + role. Allocations are visited in program order so that,
    per stream and per engine of the visitor, the pointer to the oldest member not known
    to be released only moves forward (what an engine knows to have ended only grows).
    """
    count = len(alloc)
    prefix = np.zeros(count + 1, dtype=np.int64)
    for a in range(count):
        prefix[a + 1] = prefix[a] + size[a]
    first = np.full(n_streams, -1, dtype=np.int64)
    for a in range(count - 1, -1, -1):
        first[stream[a]] = a
    visit = np.argsort(alloc, kind="mergesort")

    # coexist[o]: oldest member of o's stream that may still be live when o starts
    coexist = np.empty(count, dtype=np.int64)
    oldest = np.empty((n_streams, 4), dtype=np.int64)
    for s in range(n_streams):
        oldest[s, :] = first[s]
    for o in visit:
        s, at = stream[o], alloc[o]
        lo = oldest[s, engine[at]]
        while lo < o and _released(freed[lo], engine, frontier, at):
            lo += 1
        oldest[s, engine[at]] = lo
        coexist[o] = lo

    demand = np.zeros(count, dtype=np.int64)
    started = np.full(n_streams, -1, dtype=np.int64)  # furthest member allocated so far
    for s in range(n_streams):
        oldest[s, :] = first[s]
    for w in visit:
        at = alloc[w]
        started[stream[w]] = max(started[stream[w]], w)
        layer_streams = (stream[w] // 4) * 4
        total = 0
        for s in range(layer_streams, layer_streams + 4):
            if first[s] < 0 or started[s] < 0 or buffer[first[s]] != buffer[w]:
                continue
            lo = oldest[s, engine[at]]
            while lo <= started[s] and _released(freed[lo], engine, frontier, at):
                lo += 1
            oldest[s, engine[at]] = lo
            best = 0
            for o in range(lo, started[s] + 1):
                best = max(best, prefix[o + 1] - prefix[max(lo, coexist[o])])
            total += best
        demand[w] = total
    return demand
