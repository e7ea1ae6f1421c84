"""`simulator.run`: validate a Program, run the Numba kernel, and build the results.

The kernel trusts its input, so every check happens here, vectorised: a malformed program
(wrong dtype, broken CSR, forward dependency, buffer index out of range, a transfer into a
buffer that does not hold its operand, an unsupported dataflow) is a bug in the code that
built it, and raises ValueError listing every problem.
"""

from __future__ import annotations

from types import MappingProxyType

import numpy as np

from accel_spec.technology import Technology
from accel_spec.types import OpClass, Operand
from compiler.target import Target
from compiler.target.isa import INSTRUCTION_DTYPE, Engine, Opcode, Program
from compiler.target.timing import gemm_folds
from simulator.energy import layer_energy
from simulator.kernels.engines import (
    COL_BUSY,
    COL_CHANNEL_READ,
    COL_CHANNEL_WRITE,
    COL_CYCLES,
    COL_DATAFLOW_MACS,
    COL_DRAM_READ,
    COL_DRAM_WRITE,
    COL_MACS,
    COL_ONCHIP_READ,
    COL_ONCHIP_WRITE,
    COL_STALL,
    COL_VECTOR_OPS,
    N_DATAFLOWS,
    SRAM_READ,
    SRAM_WRITE,
    _simulate,
)
from simulator.result import TOTAL_NAME, Counts, LayerResult, SimResult, StallCause, Trace

_SQUARE_METRES_TO_MM2 = 1e6
_STALL_SPANS = tuple((COL_STALL + e * len(StallCause), len(StallCause)) for e in Engine)
"""(first column, width) of each engine's stall causes: iterating an enum costs microseconds,
and a result is built for every layer of every design point."""


def run(
    program: Program, machine: Target, technology: Technology, *, trace: bool = False, activation_zeros: float = 0.0
) -> SimResult:
    """Simulate `program` on the target `machine` it was compiled for and return per-layer
    and total results, with energy from `technology` (`accel_spec.technology.resolve` of the
    chip at the program's precision). With `trace=True` the result keeps every instruction's
    start and end cycle. `activation_zeros` is the fraction of input activations that are
    zero, in [0, 1): it lowers the energy of a chip that gates zero inputs (`simulator.energy`).
    """
    validate(program, machine)
    if not 0.0 <= activation_zeros < 1.0:
        raise ValueError(f"activation_zeros must be in [0, 1), got {activation_zeros!r}")
    missing = set(machine.buffer_names) - set(technology.sram_energy_per_byte)
    if missing:
        raise ValueError(f"technology has no SRAM energy for buffers {sorted(missing)}")
    counts = execute(program, machine)
    return build_result(counts, program, machine, technology, trace=trace, activation_zeros=activation_zeros)


def validate(program: Program, machine: Target) -> None:
    """Raise ValueError listing every way `program` is malformed for `machine`."""
    instr = program.instructions
    if not isinstance(instr, np.ndarray) or instr.dtype != INSTRUCTION_DTYPE or instr.ndim != 1:
        raise ValueError("instructions must be a 1-D array of compiler.target.isa.INSTRUCTION_DTYPE")
    count = len(instr)
    dep_ptr, deps = np.asarray(program.dep_ptr), np.asarray(program.deps)
    if dep_ptr.dtype.kind not in "iu" or deps.dtype.kind not in "iu":
        raise ValueError("dep_ptr and deps must be integer arrays")
    if dep_ptr.shape != (count + 1,) or deps.ndim != 1:
        raise ValueError(f"dep_ptr must have shape ({count + 1},) and deps must be 1-D")
    if dep_ptr[0] != 0 or dep_ptr[-1] != len(deps) or np.any(np.diff(dep_ptr) < 0):
        raise ValueError("dep_ptr must start at 0, never decrease and end at len(deps)")

    problems = []
    owner = np.repeat(np.arange(count), np.diff(dep_ptr))
    backwards = (deps >= 0) & (deps < owner)
    _check(problems, ~backwards, "depends on itself, a later or a negative index", owner)
    opcode = instr["opcode"]
    _check(problems, opcode >= len(Opcode), "has an unknown opcode")
    _check(problems, instr["layer"] < 0, "has a negative layer")
    _check(problems, instr["layer"] >= len(program.layer_names), "has a layer without a name")
    transfer = (opcode == Opcode.LOAD) | (opcode == Opcode.STORE)
    _check(problems, transfer & (instr["operand"] >= len(Operand)), "moves an unknown operand")
    holder = np.asarray(machine.buffer_of)[np.minimum(instr["operand"], len(Operand) - 1)]
    wrong_buffer = transfer & (instr["buffer"] != holder)
    _check(problems, wrong_buffer, "uses a buffer that does not hold its operand")
    _check(problems, transfer & (instr["level"] > len(machine.buffer_names)), "names a memory level the chip lacks")
    _check(problems, transfer & (instr["bytes"] < 0), "moves a negative number of bytes")
    gemm = opcode == Opcode.GEMM
    supported = np.isin(instr["dataflow"], [int(d) for d in machine.dataflows])
    _check(problems, gemm & ~supported, "uses a dataflow the array does not support")
    _check(problems, gemm & (instr["accumulate"] > 1), "has accumulate other than 0 or 1")
    _check(problems, gemm & (instr["continues"] > 1), "has continues other than 0 or 1")
    folds, _ = gemm_folds(
        instr["m"], instr["k"], instr["n"], instr["dataflow"], machine.rows, machine.cols, np.maximum(instr["groups"], 1)
    )
    _check(problems, gemm & (instr["continues"] == 1) & (folds != 1), "continues a fold but is not one fold")
    _check(problems, gemm & (instr["active"] < 0), "keeps a negative number of PEs busy")
    _check(problems, gemm & (instr["active"] > 0) & (machine.pipelined | (instr["continues"] == 1)),
           "keeps some PEs busy on a pipelined or continued fold")
    negative_shape = (instr["m"] < 0) | (instr["k"] < 0) | (instr["n"] < 0)
    _check(problems, gemm & negative_shape, "has a negative GEMM dimension")
    _check(problems, gemm & (instr["groups"] < 0), "packs a negative number of groups")
    vec = opcode == Opcode.VEC
    _check(problems, vec & (instr["op_class"] >= len(OpClass)), "has an unknown vector op class")
    _check(problems, vec & (instr["elements"] < 0), "has a negative element count")
    if problems:
        raise ValueError("invalid program:\n  " + "\n  ".join(problems))
    _check_makespan_fits(instr, machine)


MAX_CYCLES = 2.0**62
"""Largest makespan the kernel's int64 cycle counters can hold with room for sums."""


def _check_makespan_fits(instr: np.ndarray, machine: Target) -> None:
    """Refuse programs whose serial time could overflow the int64 cycle counters.

    Running every instruction one after another (each transfer with its full latency) is an
    upper bound of the makespan, because engines only overlap work; bounding it in floating
    point before the kernel runs turns an overflow (a silently negative cycle count) into an
    error. Target files cannot get here (the loader bounds DRAM times), code-built machines can.
    """
    opcode = instr["opcode"]
    transfer = (opcode == Opcode.LOAD) | (opcode == Opcode.STORE)
    narrowest_port = min(machine.dram_bytes_per_cycle, *machine.read_port, *machine.write_port)
    channel = np.ceil(instr["bytes"][transfer] / machine.burst) * machine.burst / narrowest_port
    is_gemm = opcode == Opcode.GEMM  # fields gathered one by one: copying whole records is slow
    m, k, n = (instr[name][is_gemm].astype(np.float64) for name in ("m", "k", "n"))
    groups = np.maximum(instr["groups"][is_gemm], 1).astype(np.float64)
    side = min(machine.rows, machine.cols)  # folds of any two dims on either array axis, at most
    folds = np.ceil(m / side) * np.ceil(groups * k / side) * np.ceil(groups * n / side)
    streamed = m + groups * (k + n) + 2.0 * machine.rows + machine.cols
    slowest_lane = machine.vector_lanes * min(machine.vector_rates)
    bound = (
        channel.sum()
        + float(transfer.sum()) * (machine.latency + 1)
        + (folds * streamed).sum()
        + instr["elements"][opcode == Opcode.VEC].sum() / slowest_lane
        + len(instr)
    )
    if not bound < MAX_CYCLES:
        raise ValueError(
            f"invalid program: up to {bound:.3g} cycles, beyond the {MAX_CYCLES:.3g} the simulator can count "
            f"(DRAM at {machine.dram_bytes_per_cycle:.3g} bytes/cycle, latency {machine.latency} cycles)"
        )


def _check(problems: list[str], bad: np.ndarray, message: str, index: np.ndarray | None = None) -> None:
    """Record a problem naming the first few offending instructions."""
    where = np.flatnonzero(bad)
    if where.size:
        instructions = where if index is None else index[where]
        shown = ", ".join(str(i) for i in instructions[:5])
        more = f" and {where.size - 5} more" if where.size > 5 else ""
        problems.append(f"instruction {shown}{more} {message}")


def kernel_arguments(program: Program, machine: Target) -> tuple:
    """The kernel's arguments: the program's columns as contiguous arrays, then the machine's scalars."""
    instr = program.instructions

    def column(name: str, dtype: np.dtype | None = None) -> np.ndarray:
        return np.ascontiguousarray(instr[name], dtype=dtype)

    return (
        column("opcode"),
        column("operand"),
        column("buffer"),
        column("dataflow"),
        column("op_class"),
        column("accumulate"),
        column("continues"),
        column("active"),
        column("level"),
        column("layer"),
        column("m", np.int64),
        column("k", np.int64),
        column("n", np.int64),
        column("groups", np.int64),
        column("bytes", np.int64),
        column("elements", np.int64),
        np.ascontiguousarray(program.dep_ptr, dtype=np.int64),
        np.ascontiguousarray(program.deps, dtype=np.int64),
        len(program.layer_names),
        len(machine.buffer_names),
        machine.rows,
        machine.cols,
        machine.pipelined,
        machine.operand_bits,
        machine.accumulator_bits,
        np.asarray(machine.buffer_of, dtype=np.int64),
        np.asarray(machine.read_port, dtype=np.float64),
        np.asarray(machine.write_port, dtype=np.float64),
        machine.vector_lane_ops_per_cycle,
        machine.dram_bytes_per_cycle,
        machine.burst,
        machine.latency,
    )


def execute(program: Program, machine: Target) -> Counts:
    """Run the kernel on an already validated program."""
    start, end, counters, sram_bits = _simulate(*kernel_arguments(program, machine))
    return Counts(start=start, end=end, counters=counters, sram_bits=sram_bits)


def build_result(
    counts: Counts,
    program: Program,
    machine: Target,
    technology: Technology,
    *,
    trace: bool = False,
    activation_zeros: float = 0.0,
) -> SimResult:
    """Turn raw counters into `LayerResult`s (with energy at `activation_zeros`) and their total.

    The total is built from the summed counters; it equals `sum(layers)` (integers exactly,
    energies up to float rounding).
    """
    # Python ints from the start: one conversion per array, not one per counter
    layers = tuple(
        _layer_result(name, row, bits, machine, technology, activation_zeros)
        for name, row, bits in zip(program.layer_names, counts.counters.tolist(), counts.sram_bits.tolist())
    )
    total = _layer_result(
        TOTAL_NAME,
        counts.counters.sum(axis=0).tolist(),
        counts.sram_bits.sum(axis=0).tolist(),
        machine,
        technology,
        activation_zeros,
    )
    return SimResult(
        layers=layers,
        total=total,
        clock=machine.clock,
        area_breakdown_mm2=MappingProxyType(
            {name: area * _SQUARE_METRES_TO_MM2 for name, area in technology.area.items()}
        ),
        technology_sources=MappingProxyType(dict(technology.sources)),
        trace=Trace(start=counts.start, end=counts.end) if trace else None,
    )


def _layer_result(
    name: str, row: list[int], bits: list[list[int]], machine: Target, technology: Technology, activation_zeros: float
) -> LayerResult:
    """One layer's (or the total's) result from its counter row and SRAM bits by buffer."""

    def span(first: int, size: int) -> tuple[int, ...]:
        return tuple(row[first : first + size])

    sram_read = {b: float(bits[i][SRAM_READ]) / 8 for i, b in enumerate(machine.buffer_names)}
    sram_write = {b: float(bits[i][SRAM_WRITE]) / 8 for i, b in enumerate(machine.buffer_names)}
    cycles = int(row[COL_CYCLES])
    vector_ops = span(COL_VECTOR_OPS, len(OpClass))
    return LayerResult(
        name=name,
        cycles=cycles,
        pes=machine.pes,
        busy=span(COL_BUSY, len(Engine)),
        stall=tuple(span(first, size) for first, size in _STALL_SPANS),
        macs=int(row[COL_MACS]),
        dram_read_bytes_by_operand=span(COL_DRAM_READ, len(Operand)),
        dram_write_bytes_by_operand=span(COL_DRAM_WRITE, len(Operand)),
        channel_read_bytes=int(row[COL_CHANNEL_READ]),
        channel_write_bytes=int(row[COL_CHANNEL_WRITE]),
        onchip_read_bytes=int(row[COL_ONCHIP_READ]),
        onchip_write_bytes=int(row[COL_ONCHIP_WRITE]),
        sram_read_bytes=MappingProxyType(sram_read),
        sram_write_bytes=MappingProxyType(sram_write),
        vector_ops=vector_ops,
        energy=layer_energy(
            macs_by_dataflow=span(COL_DATAFLOW_MACS, N_DATAFLOWS),
            sram_read_bytes=sram_read,
            sram_write_bytes=sram_write,
            channel_read_bytes=int(row[COL_CHANNEL_READ]),
            channel_write_bytes=int(row[COL_CHANNEL_WRITE]),
            vector_ops=sum(vector_ops),
            cycles=cycles,
            technology=technology,
            clock=machine.clock,
            activation_zeros=activation_zeros,
        ),
    )
