"""Code for one vector workload: `chunks` slices streamed through the vector unit.

Each chunk c issues, in this slot order (a load only for operands the memory plan does not
keep in the very buffer they are read from, `Workload.placement`, each from its level):
LOAD_INPUT (INPUT buffer), LOAD_SIDE (the fused
side input, into the OUTPUT buffer), LOAD_CONST (its share of streamed constants, or the
slice of sliced ones its outputs read, into the WEIGHT buffer; resident constants are one
LOAD_CONST of chunk 0 that every chunk reads, see `scheduling.footprint`), one VEC per op
class with work, STORE (the output chunk at its format, `scheduling.roles`). The first VEC reads the
loaded chunk into the OUTPUT buffer and the others work there in place, so:

  first VEC ← its loads (and the resident constants), and the store that freed its output
  slot `slots` chunks earlier;
  STORE ← the last VEC; each LOAD ← the first VEC of the chunk `slots` chunks earlier.

Double buffered, chunk c's loads share a row with chunk c−1's compute (as in `gemm`).
Every quantity is split evenly over chunks with cumulative rounding, so totals are exact.
"""

from __future__ import annotations

from enum import IntEnum

import numpy as np

from accel_spec.types import OpClass, Operand
from compiler.codegen.layout import NO_DEP, SlotTable
from compiler.scheduling.estimate import vector_lane_ops
from compiler.scheduling.footprint import constant_slice_elements, streams_constants
from compiler.scheduling.roles import roles
from compiler.scheduling.schedule import VectorSchedule
from compiler.target import Target, nbytes
from compiler.target.isa import Opcode
from compiler.workload import Workload


class Slot(IntEnum):
    LOAD_INPUT = 0
    LOAD_SIDE = 1
    LOAD_CONST = 2
    VEC = 3  # VEC + OpClass
    STORE = 3 + len(OpClass)


DEP_WIDTH = 4


def even_split(total: int, parts: int) -> np.ndarray:
    """`total` split into `parts` integers differing by at most one, summing to `total`."""
    edges = (np.arange(parts + 1, dtype=np.int64) * total) // parts
    return np.diff(edges)


def vector_table(workload: Workload, schedule: VectorSchedule, chip: Target, layer: int) -> SlotTable:
    """The instructions of a vector workload under `schedule` (see module docstring)."""
    chunks = schedule.chunks
    slots_per_buffer = 2 if schedule.double_buffer else 1
    shift = 1 if schedule.double_buffer else 0
    table = SlotTable.empty(chunks + shift, Slot.STORE + 1, DEP_WIDTH)
    load_rows = np.arange(chunks)
    comp_rows = load_rows + shift

    ops = np.zeros((chunks, len(OpClass)), dtype=np.int64)
    for op_class, count in vector_lane_ops(workload).items():
        ops[:, op_class] = even_split(count, chunks)
    has_vec = ops > 0
    first_vec = Slot.VEC + np.argmax(has_vec, axis=1)
    last_vec = Slot.VEC + len(OpClass) - 1 - np.argmax(has_vec[:, ::-1], axis=1)
    first_pos = table.position(comp_rows, first_vec)
    earlier = load_rows - slots_per_buffer
    earlier_ok = earlier >= 0

    def fill(rows: np.ndarray, slot, mask: np.ndarray, **fields) -> None:
        r = rows[mask]
        table.present[r, slot] = True
        table.instructions["layer"][r, slot] = layer
        for name, value in fields.items():
            table.instructions[name][r, slot] = value[mask] if np.ndim(value) else value

    everywhere = np.ones(chunks, dtype=bool)
    slot_reader = np.where(earlier_ok, first_pos[np.maximum(earlier, 0)], NO_DEP)
    placement = workload.placement
    flags = roles(workload, chip)
    loads_input = bool(flags.input_tile)
    if loads_input:
        fill(load_rows, Slot.LOAD_INPUT, everywhere, opcode=Opcode.LOAD, operand=Operand.INPUT,
             buffer=chip.buffer(Operand.INPUT), level=placement.input,
             bytes=nbytes(even_split(workload.input_elements, chunks), flags.input_bits))
        table.deps[load_rows, Slot.LOAD_INPUT, 0] = slot_reader
    side = workload.side_input_elements > 0 and bool(flags.side_tile)
    if side:
        fill(load_rows, Slot.LOAD_SIDE, everywhere, opcode=Opcode.LOAD, operand=Operand.OUTPUT,
             buffer=chip.buffer(Operand.OUTPUT), level=placement.side,
             bytes=nbytes(even_split(workload.side_input_elements, chunks), flags.side_bits))
        table.deps[load_rows, Slot.LOAD_SIDE, 0] = slot_reader
    constants = workload.weight_elements > 0 and bool(flags.weight_tile)
    streamed = streams_constants(workload) or schedule.sliced_constants
    if constants:
        share = workload.weight_elements
        if schedule.sliced_constants:
            share = constant_slice_elements(workload, even_split(workload.output_elements, chunks))
        elif streamed:
            share = even_split(workload.weight_elements, chunks)
        fill(load_rows, Slot.LOAD_CONST, everywhere if streamed else load_rows == 0, opcode=Opcode.LOAD,
             operand=Operand.WEIGHT, buffer=chip.buffer(Operand.WEIGHT), level=placement.weight,
             bytes=nbytes(share, flags.weight_bits))
        table.deps[load_rows, Slot.LOAD_CONST, 0] = slot_reader if streamed else NO_DEP

    for op_class in OpClass:
        slot = Slot.VEC + op_class
        fill(comp_rows, slot, has_vec[:, op_class], opcode=Opcode.VEC, op_class=int(op_class),
             elements=ops[:, op_class])
    store_pos = table.position(comp_rows, Slot.STORE)
    table.deps[comp_rows, first_vec, 0] = table.position(load_rows, Slot.LOAD_INPUT) if loads_input else NO_DEP
    table.deps[comp_rows, first_vec, 1] = table.position(load_rows, Slot.LOAD_SIDE) if side else NO_DEP
    const_rows = load_rows if streamed else np.zeros(chunks, dtype=np.int64)
    table.deps[comp_rows, first_vec, 2] = table.position(const_rows, Slot.LOAD_CONST) if constants else NO_DEP
    table.deps[comp_rows, first_vec, 3] = np.where(earlier_ok, store_pos[np.maximum(earlier, 0)], NO_DEP)
    fill(comp_rows, Slot.STORE, everywhere, opcode=Opcode.STORE, operand=Operand.OUTPUT,
         buffer=chip.buffer(Operand.OUTPUT), level=placement.output,
         bytes=nbytes(even_split(workload.output_elements, chunks), flags.output_bits))
    table.deps[comp_rows, Slot.STORE, 0] = table.position(comp_rows, last_vec)
    return table
