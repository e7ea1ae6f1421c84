"""Hand-built machines and programs for simulator tests and benchmarks.

`ProgramBuilder` writes small programs instruction by instruction (tests read like
assembly); `random_program` generates large valid programs with numpy (dependencies only
point backwards, transfers use the buffer that holds their operand, layers never decrease).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from accel_spec.precision import PrecisionAssignment
from accel_spec.types import Dataflow, OpClass, Operand, Precision
from compiler.target import LEVEL_DRAM, Target, TimingMode, level_of
from compiler.target.isa import INSTRUCTION_DTYPE, Opcode, Program
from compiler.target.timing import gemm_folds

BASE_MACHINE = Target(
    name="test",
    clock=1e9,
    rows=4,
    cols=4,
    unit_cols=4,
    dataflows=tuple(Dataflow),
    timing=TimingMode.TESSERA,
    pipelined=False,
    row_stationary=False,
    reduction_depth=1,
    pe_width=1,
    formats=PrecisionAssignment.uniform(Precision.INT8),
    operand_precision=Precision.INT8,
    accumulator_precision=Precision.INT32,
    buffer_names=("activations", "weights"),
    capacity=(1 << 20, 1 << 20),
    buffer_of=(0, 1, 0),
    read_port=(16.0, 8.0),
    write_port=(16.0, 4.0),
    vector_lanes=4,
    vector_rates=(1.0, 0.25, 0.5),
    dram_peak_bytes_per_cycle=8.0,
    dram_bytes_per_cycle=8.0,
    burst=16,
    latency=5,
    outstanding=3,
    dram_capacity=1 << 30,
)


def make_machine(**changes: object) -> Target:
    """`BASE_MACHINE` with some fields replaced; `cols` alone is one unit of that width."""
    if "cols" in changes:
        changes.setdefault("unit_cols", changes["cols"])
    return replace(BASE_MACHINE, **changes)


class ProgramBuilder:
    """Appends instructions in program order; each method returns the new instruction's index."""

    def __init__(self, machine: Target, layer_names: Sequence[str] = ("layer0",)) -> None:
        self._machine = machine
        self._layer_names = tuple(layer_names)
        self._rows: list[dict[str, int]] = []
        self._deps: list[tuple[int, ...]] = []

    def _append(self, fields: dict[str, int], deps: Sequence[int]) -> int:
        self._rows.append(fields)
        self._deps.append(tuple(deps))
        return len(self._rows) - 1

    def load(
        self, operand: Operand, nbytes: int, *, deps: Sequence[int] = (), layer: int = 0, level: int = LEVEL_DRAM
    ) -> int:
        """A LOAD of `operand` from `level` (DRAM, or `level_of` an on-chip buffer)."""
        return self._transfer(Opcode.LOAD, operand, nbytes, deps, layer, level)

    def store(
        self, operand: Operand, nbytes: int, *, deps: Sequence[int] = (), layer: int = 0, level: int = LEVEL_DRAM
    ) -> int:
        """A STORE of `operand` to `level` (DRAM, or `level_of` an on-chip buffer)."""
        return self._transfer(Opcode.STORE, operand, nbytes, deps, layer, level)

    def _transfer(
        self, opcode: Opcode, operand: Operand, nbytes: int, deps: Sequence[int], layer: int, level: int
    ) -> int:
        buffer = self._machine.buffer_of[operand]
        fields = dict(opcode=opcode, operand=operand, buffer=buffer, bytes=nbytes, layer=layer, level=level)
        return self._append(fields, deps)

    def gemm(
        self,
        m: int,
        k: int,
        n: int,
        dataflow: Dataflow,
        *,
        accumulate: bool = False,
        groups: int = 0,
        continues: bool = False,
        active: int = 0,
        deps: Sequence[int] = (),
        layer: int = 0,
    ) -> int:
        fields = dict(
            opcode=Opcode.GEMM, m=m, k=k, n=n, dataflow=dataflow, accumulate=int(accumulate),
            groups=groups, continues=int(continues), active=active, layer=layer,
        )
        return self._append(fields, deps)

    def vec(self, op_class: OpClass, elements: int, *, deps: Sequence[int] = (), layer: int = 0) -> int:
        fields = dict(opcode=Opcode.VEC, op_class=op_class, elements=elements, layer=layer)
        return self._append(fields, deps)

    def build(self) -> Program:
        instructions = np.zeros(len(self._rows), dtype=INSTRUCTION_DTYPE)
        for i, fields in enumerate(self._rows):
            for name, value in fields.items():
                instructions[i][name] = int(value)
        counts = [len(d) for d in self._deps]
        dep_ptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        deps = np.array([d for ds in self._deps for d in ds], dtype=np.int64)
        return Program(instructions, dep_ptr, deps, self._layer_names)


def random_program(
    rng: np.random.Generator,
    machine: Target,
    count: int,
    *,
    layers: int = 3,
    max_deps: int = 3,
    window: int = 12,
    max_size: int = 40,
    opcode_cycle: Sequence[Opcode] | None = None,
) -> Program:
    """A random valid program of `count` instructions (vectorised; fine for millions).

    Each instruction depends on up to `max_deps` of the `window` instructions before it;
    GEMM dimensions are in [1, max_size] with 0–4 packed groups (0 meaning 1), transfers up
    to 8·max_size bytes, VECs up to
    4·max_size elements. Opcodes are uniform at random, or repeat `opcode_cycle` (closer to
    compiled code, whose engines alternate in a fixed pattern).
    """
    instructions = np.zeros(count, dtype=INSTRUCTION_DTYPE)
    if opcode_cycle is None:
        opcode = rng.integers(0, len(Opcode), count)
    else:
        opcode = np.resize(np.asarray([int(op) for op in opcode_cycle]), count)
    instructions["opcode"] = opcode
    operand = rng.integers(0, len(Operand), count)
    transfer = (opcode == Opcode.LOAD) | (opcode == Opcode.STORE)
    instructions["operand"] = np.where(transfer, operand, 0)
    instructions["buffer"] = np.where(transfer, np.asarray(machine.buffer_of)[operand], 0)
    instructions["bytes"] = np.where(transfer, rng.integers(0, 8 * max_size + 1, count), 0)
    gemm = opcode == Opcode.GEMM
    dataflows = np.asarray([int(d) for d in machine.dataflows])
    instructions["dataflow"] = np.where(gemm, rng.choice(dataflows, count), 0)
    instructions["accumulate"] = np.where(gemm, rng.integers(0, 2, count), 0)
    for dim in ("m", "k", "n"):
        instructions[dim] = np.where(gemm, rng.integers(1, max_size + 1, count), 0)
    vec = opcode == Opcode.VEC
    instructions["op_class"] = np.where(vec, rng.integers(0, len(OpClass), count), 0)
    instructions["elements"] = np.where(vec, rng.integers(0, 4 * max_size + 1, count), 0)
    instructions["layer"] = np.sort(rng.integers(0, layers, count))

    index = np.arange(count)
    dep_counts = np.minimum(rng.integers(0, max_deps + 1, count), index)
    dep_ptr = np.concatenate([[0], np.cumsum(dep_counts)]).astype(np.int64)
    owner = np.repeat(index, dep_counts)
    back = rng.integers(1, window + 1, len(owner))
    deps = np.maximum(owner - back, 0).astype(np.int64)
    # drawn last, so every other field keeps the value it had before groups and levels existed
    instructions["groups"] = np.where(gemm, rng.integers(0, 5, count), 0)
    instructions["level"] = np.where(transfer, random_levels(rng, instructions["buffer"], len(machine.buffer_names)), 0)
    folds, _ = gemm_folds(
        instructions["m"], instructions["k"], instructions["n"], instructions["dataflow"],
        machine.rows, machine.cols, np.maximum(instructions["groups"], 1), machine.reduction_depth,
        machine.pe_width,
    )
    instructions["continues"] = gemm & (folds == 1) & (rng.random(count) < 0.5)
    mapped = gemm & ~instructions["continues"].astype(bool) & (not machine.pipelined) & (rng.random(count) < 0.3)
    instructions["active"] = np.where(mapped, rng.integers(1, machine.pes + 1, count), 0)
    names = tuple(f"layer{i}" for i in range(layers))
    return Program(instructions, dep_ptr, deps, names)


def random_levels(rng: np.random.Generator, buffer: np.ndarray, buffers: int) -> np.ndarray:
    """A far end for each transfer into or out of `buffer`: DRAM two times in three, else
    another on-chip buffer (never the buffer itself)."""
    other = (buffer.astype(np.int64) + rng.integers(1, max(buffers, 2), len(buffer))) % buffers
    onchip = (rng.random(len(buffer)) < 1 / 3) & (buffers > 1)
    return np.where(onchip, level_of(other), LEVEL_DRAM)
