"""The instruction set: engines, opcodes, the instruction record and the Program.

The machine is decoupled access–execute: four in-order engines (LOAD, MATRIX, VECTOR,
STORE) run concurrently and synchronise only through explicit dependencies. Every
dependency points to an earlier instruction, so one forward pass over the program is a
complete simulation. A Program is a numpy structured array of instructions plus the
dependencies in CSR form; codegen builds it with vectorised numpy and the simulator's
Numba kernel reads its columns directly.

Instruction semantics (fields not listed are zero):

  LOAD   operand, buffer, bytes, level,  move `bytes` from memory level `level` into `buffer`
         layer                           (a tile of `operand`): from DRAM (level 0) over the
                                         shared DRAM channel, or from on-chip buffer b
                                         (level b + 1, where the memory planner kept the
                                         tensor) over that buffer's read port.
  GEMM   m, k, n, dataflow, accumulate,  multiply an m×k by a k×n tile on the systolic
         groups, continues, layer                  array; accumulate=1 adds into partial sums
                                         already in the accumulator buffer. groups=G > 1
                                         packs G independent m×k·k×n products (groups of a
                                         grouped convolution, heads of attention) block-
                                         diagonally into one pass of the array, as one
                                         m×(G·k)·(G·k)×(G·n) product whose off-diagonal
                                         blocks are zero: G·m·k·n MACs. 0 (the value of an
                                         unset field) means 1. continues=1: one fold whose
                                         stationary operand the previous GEMM left in the
                                         array; it streams more rows through it without
                                         loading, filling or re-reading it (`timing`).
                                         active=A > 0: the chip's mapping keeps only A
                                         PEs busy (row-stationary): the fold time is
                                         stretched by PEs / A (`timing.stretched`).
  VEC    op_class, elements, layer      `elements` lane operations of one op class on
                                         the vector unit.
  STORE  operand, buffer, bytes, level,  move `bytes` from `buffer` to memory level `level`:
         layer                           DRAM (0, sharing the channel with LOAD) or on-chip
                                         buffer b (b + 1, over its write port), where the
                                         output stays for the layers that read it.

`buffer` indexes `Target.buffer_names`, `level` is `compiler.target.LEVEL_DRAM` or
`level_of(buffer)`. `layer` indexes `Program.layer_names`.

Dependencies carry no kind: the simulator tells them apart by what they join. A compute
instruction waiting for a STORE, or a LOAD waiting for a compute instruction, waits for
buffer space (write after read: the slot it fills is freed by the one it waits for); every
other dependency waits for data (read after write).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

import numpy as np


class Engine(IntEnum):
    """The concurrent in-order engines of the machine. Values index per-engine arrays."""

    LOAD = 0
    MATRIX = 1
    VECTOR = 2
    STORE = 3


class Opcode(IntEnum):
    """One opcode per engine; the value is stored in `INSTRUCTION_DTYPE['opcode']`."""

    # data movement: DRAM -> SRAM
    LOAD = 0
    # compute on the systolic array
    GEMM = 1
    # compute on the vector unit
    VEC = 2
    # data movement: SRAM -> DRAM
    STORE = 3

    @property
    def engine(self) -> Engine:
        return ENGINE_OF_OPCODE[self]


ENGINE_OF_OPCODE: dict[Opcode, Engine] = {
    Opcode.LOAD: Engine.LOAD,
    Opcode.GEMM: Engine.MATRIX,
    Opcode.VEC: Engine.VECTOR,
    Opcode.STORE: Engine.STORE,
}

INSTRUCTION_DTYPE = np.dtype(
    [
        ("opcode", np.uint8),  # Opcode
        ("operand", np.uint8),  # Operand moved by LOAD/STORE
        ("buffer", np.uint8),  # index into Accelerator.buffer_names()
        ("dataflow", np.uint8),  # Dataflow of a GEMM
        ("op_class", np.uint8),  # OpClass of a VEC
        ("accumulate", np.uint8),  # GEMM adds into existing partial sums
        ("continues", np.uint8),  # GEMM streams more of the fold the previous GEMM left in the array
        ("active", np.int32),  # GEMM: PEs the chip's mapping keeps busy (0: the whole array)
        ("layer", np.int32),  # index into Program.layer_names
        ("m", np.int32),  # GEMM tile rows
        ("k", np.int32),  # GEMM tile reduction depth
        ("n", np.int32),  # GEMM tile columns
        ("groups", np.int32),  # GEMM products packed in one pass (0 or 1: a plain GEMM)
        ("level", np.uint8),  # LOAD source / STORE destination: 0 DRAM, b + 1 on-chip buffer b
        ("bytes", np.int64),  # LOAD/STORE transfer size
        ("elements", np.int64),  # VEC lane operations
    ]
)


@dataclass(frozen=True)
class Program:
    """A whole model's instruction stream.

    Attributes:
        instructions: structured array of `INSTRUCTION_DTYPE`, in program order.
        dep_ptr: int64 array of length n+1; instruction i waits for
            `deps[dep_ptr[i]:dep_ptr[i+1]]`.
        deps: int64 array of absolute indices of earlier instructions (each < i).
        layer_names: name of each layer (workload), indexed by the `layer` field.
    """

    instructions: np.ndarray
    dep_ptr: np.ndarray
    deps: np.ndarray
    layer_names: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.instructions)

    def dependencies(self, index: int) -> np.ndarray:
        """Indices that instruction `index` waits for."""
        return self.deps[self.dep_ptr[index] : self.dep_ptr[index + 1]]
