"""`simulator.run`: validate a Program, run the Numba kernel, and build the results.

The kernel trusts its input, so every check happens here, vectorised: a malformed program
(wrong dtype, broken CSR, forward dependency, buffer index out of range, a transfer into a
buffer that does not hold its operand, an unsupported dataflow) is a bug in the code that
built it, and raises ValueError listing every problem.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import NamedTuple
import numpy as np

from accel_spec.technology import Technology
from accel_spec.types import Dataflow, OpClass, Operand
from compiler.target import Target
from compiler.target.isa import INSTRUCTION_DTYPE, Engine, Opcode, Program
from simulator.energy import layer_energy
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
    N_DATAFLOWS,
    SRAM_READ,
    SRAM_WRITE,
    _problems,
    _serial_cycles,
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
    arguments = validated_arguments(program, machine)
    _check_pricing(machine, technology, activation_zeros)
    counts = _execute(arguments)
    return build_result(counts.counters, counts.sram_bits, program.layer_names, machine, technology,
                        trace=Trace(start=counts.start, end=counts.end) if trace else None,
                        activation_zeros=activation_zeros)  # fmt: skip


def run_layers(
    counters: np.ndarray,
    sram_bits: np.ndarray,
    names: tuple[str, ...],
    machine: Target,
    technology: Technology,
    *,
    activation_zeros: float = 0.0,
) -> SimResult:
    """`run`'s result (without a trace) from the counters and SRAM bits of a program's
    layers simulated apart, each in a program that passed `validate`
    (`compiler.scheduling.simulated`): between codegen's layers is a barrier, so a layer's
    counts do not depend on the layers around it. Raises ValueError when their cycles add
    up past what the kernel's counters hold (`MAX_CYCLES`)."""
    _check_pricing(machine, technology, activation_zeros)
    total = sum(counters[:, COL_CYCLES].tolist())
    if not total < MAX_CYCLES:
        raise ValueError(f"invalid program: {total:.3g} cycles, beyond the {MAX_CYCLES:.3g} the simulator can count")
    return build_result(counters, sram_bits, names, machine, technology, activation_zeros=activation_zeros)


def _check_pricing(machine: Target, technology: Technology, activation_zeros: float) -> None:
    """Refuse an `activation_zeros` outside [0, 1) and a technology that prices no SRAM
    access of some buffer of `machine`."""
    if not 0.0 <= activation_zeros < 1.0:
        raise ValueError(f"activation_zeros must be in [0, 1), got {activation_zeros!r}")
    missing = set(machine.buffer_names) - set(technology.sram_energy_per_byte)
    if missing:
        raise ValueError(f"technology has no SRAM energy for buffers {sorted(missing)}")


def validate(program: Program, machine: Target) -> None:
    """Raise ValueError listing every way `program` is malformed for `machine`."""
    _checked_arrays(program, machine)


def validated_arguments(program: Program, machine: Target) -> tuple:
    """`kernel_arguments` of `program` once `validate` would pass it (ValueError otherwise):
    the read-only arrays are made once for the checks and the kernel."""
    return _kernel_arguments(_checked_arrays(program, machine), program, machine)


def _checked_arrays(program: Program, machine: Target) -> ProgramArrays:
    """`ProgramArrays` of `program` once every check of `validate` passed. The search
    validates every round of layers it simulates (`compiler.scheduling.simulated`), a few
    hundred instructions at a time, so the fixed cost of the checks matters as much as their
    cost per instruction."""
    instr = program.instructions
    if not isinstance(instr, np.ndarray) or instr.dtype != INSTRUCTION_DTYPE or instr.ndim != 1:
        raise ValueError("instructions must be a 1-D array of compiler.target.isa.INSTRUCTION_DTYPE")
    count = len(instr)
    dep_ptr, deps = np.asarray(program.dep_ptr), np.asarray(program.deps)
    if dep_ptr.dtype.kind not in "iu" or deps.dtype.kind not in "iu":
        raise ValueError("dep_ptr and deps must be integer arrays")
    if dep_ptr.shape != (count + 1,) or deps.ndim != 1:
        raise ValueError(f"dep_ptr must have shape ({count + 1},) and deps must be 1-D")
    if int(dep_ptr[0]) != 0 or int(dep_ptr[-1]) != len(deps) or bool((dep_ptr[1:] < dep_ptr[:-1]).any()):
        raise ValueError("dep_ptr must start at 0, never decrease and end at len(deps)")

    arrays = ProgramArrays.of(program)
    supported = np.array([dataflow in machine.dataflows for dataflow in Dataflow], dtype=np.bool_)
    counts, examples = _problems(
        *arrays, len(program.layer_names), len(machine.buffer_names), machine.rows, machine.cols,
        machine.reduction_depth, machine.pe_width, machine.pipelined, np.asarray(machine.buffer_of, dtype=np.int64), supported,
        len(Opcode), len(Operand), len(OpClass),
    )  # fmt: skip
    broken = np.flatnonzero(counts).tolist()
    if broken:
        problems = [_problem(int(counts[rule]), examples[rule], PROBLEMS[rule]) for rule in broken]
        raise ValueError("invalid program:\n  " + "\n  ".join(problems))
    _check_makespan_fits(arrays, machine)
    return arrays


MAX_CYCLES = 2.0**62
"""Largest makespan the kernel's int64 cycle counters can hold with room for sums."""


def _check_makespan_fits(arrays: ProgramArrays, machine: Target) -> None:
    """Refuse programs whose serial time could overflow the int64 cycle counters.

    Running every instruction one after another (each transfer with its full latency) is an
    upper bound of the makespan, because engines only overlap work; bounding it in floating
    point before the kernel runs (`_serial_cycles`) turns an overflow (a silently negative
    cycle count) into an error. Target files cannot get here (the loader bounds DRAM times),
    code-built machines can.
    """
    bound = _serial_cycles(
        arrays.instructions, machine.rows, machine.cols, machine.burst,
        min(machine.dram_bytes_per_cycle, *machine.read_port, *machine.write_port), machine.latency,
        machine.vector_lanes * min(machine.vector_rates),
    )  # fmt: skip
    if not bound < MAX_CYCLES:
        raise ValueError(
            f"invalid program: up to {bound:.3g} cycles, beyond the {MAX_CYCLES:.3g} the simulator can count "
            f"(DRAM at {machine.dram_bytes_per_cycle:.3g} bytes/cycle, latency {machine.latency} cycles)"
        )


PROBLEMS = (
    "depends on itself, a later or a negative index",
    "has an unknown opcode",
    "has a negative layer",
    "has a layer without a name",
    "moves an unknown operand",
    "uses a buffer that does not hold its operand",
    "names a memory level the chip lacks",
    "moves a negative number of bytes",
    "uses a dataflow the array does not support",
    "has accumulate other than 0 or 1",
    "has continues other than 0 or 1",
    "continues a fold but is not one fold",
    "keeps a negative number of PEs busy",
    "keeps some PEs busy on a pipelined or continued fold",
    "has a negative GEMM dimension",
    "packs a negative number of groups",
    "has an unknown vector op class",
    "has a negative element count",
)
"""What an instruction breaking each rule of the kernel's `_problems` does wrong, in rule order."""


def _problem(count: int, examples: np.ndarray, message: str) -> str:
    """One problem naming the first few offending instructions."""
    shown = ", ".join(str(i) for i in examples[: min(count, len(examples))])
    more = f" and {count - 5} more" if count > 5 else ""
    return f"instruction {shown}{more} {message}"


class ProgramArrays(NamedTuple):
    """A program as the kernels read it: its records and its dependencies in CSR form (int64),
    all read-only, whether or not the program's are (the code memo freezes its own, a whole
    program's are fresh): Numba types a read-only array apart from a writable one, and one
    signature means one kernel to load from the on-disk cache, not two. The records are read
    in place, not split into columns: that copy would double a large program's memory."""

    instructions: np.ndarray
    dep_ptr: np.ndarray
    deps: np.ndarray

    @classmethod
    def of(cls, program: Program) -> ProgramArrays:
        """The read-only arrays of `program` (no copy where they already have these dtypes)."""

        def read_only(array: np.ndarray, dtype: np.dtype) -> np.ndarray:
            if not array.flags.writeable and array.flags.c_contiguous and array.dtype == dtype:
                return array  # already as the kernel reads it (the code memo's arrays)
            view = np.ascontiguousarray(array, dtype=dtype).view()
            view.flags.writeable = False
            return view

        return cls(
            read_only(program.instructions, INSTRUCTION_DTYPE),
            read_only(program.dep_ptr, np.dtype(np.int64)),
            read_only(program.deps, np.dtype(np.int64)),
        )


def kernel_arguments(program: Program, machine: Target) -> tuple:
    """The kernel's arguments: the program's arrays (`ProgramArrays`), then the machine's scalars."""
    return _kernel_arguments(ProgramArrays.of(program), program, machine)


def _kernel_arguments(arrays: ProgramArrays, program: Program, machine: Target) -> tuple:
    return (
        *arrays,
        len(program.layer_names),
        len(machine.buffer_names),
        machine.rows,
        machine.cols,
        machine.reduction_depth,
        machine.pe_width,
        machine.fill_drain,
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
    return _execute(kernel_arguments(program, machine))


def validated_execute(program: Program, machine: Target) -> Counts:
    """`execute` once `validate` passes `program` (ValueError otherwise)."""
    return _execute(validated_arguments(program, machine))


def _execute(arguments: tuple) -> Counts:
    start, end, counters, sram_bits = _simulate(*arguments)
    return Counts(start=start, end=end, counters=counters, sram_bits=sram_bits)


def build_result(
    counters: np.ndarray,
    sram_bits: np.ndarray,
    names: tuple[str, ...],
    machine: Target,
    technology: Technology,
    *,
    trace: Trace | None = None,
    activation_zeros: float = 0.0,
) -> SimResult:
    """Turn raw counters (`Counts.counters` and `.sram_bits` of layers `names`) into
    `LayerResult`s (with energy at `activation_zeros`) and their total, keeping `trace`.

    The total is built from the summed counters; it equals `sum(layers)` (integers exactly,
    energies up to float rounding). The layers are built when first read (`SimResult.layers`),
    from the counters alone (not the program or the trace, which need not stay alive).
    """

    def layers() -> tuple[LayerResult, ...]:
        # Python ints from the start: one conversion per array, not one per counter
        return tuple(
            _layer_result(name, row, bits, machine, technology, activation_zeros)
            for name, row, bits in zip(names, counters.tolist(), sram_bits.tolist())
        )

    total = _layer_result(
        TOTAL_NAME,
        counters.sum(axis=0).tolist(),
        sram_bits.sum(axis=0).tolist(),
        machine,
        technology,
        activation_zeros,
    )
    return SimResult(
        total=total,
        clock=machine.clock,
        area_breakdown_mm2=MappingProxyType(
            {name: area * _SQUARE_METRES_TO_MM2 for name, area in technology.area.items()}
        ),
        technology_sources=MappingProxyType(dict(technology.sources)),
        build_layers=layers,
        trace=trace,
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
            local_macs=int(row[COL_LOCAL_MACS]),
            held_macs=int(row[COL_HELD_MACS]),
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
