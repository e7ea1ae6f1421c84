"""Numba kernel of `simulator.run.program_columns`: a program's instruction records split into
one contiguous array per field, in one pass over the records.

numpy copies a structured array's fields one strided field at a time, sixteen passes over
every record: for BERT-base on an 8×12 array (415,592 instructions) that took 27.6 ms, more
than simulating the program (19 ms). It takes only arrays (STYLE: the caller allocates the
columns with the fields' dtypes).
"""

from __future__ import annotations

from simulator.kernels.numba_target import njit


@njit(cache=True)
def split_fields(
    instructions, opcode, operand, buffer, dataflow, op_class, accumulate, continues, active, level, layer,
    m, k, n, groups, nbytes, elements,
):  # fmt: skip
    """Copy each field of `instructions` (`compiler.target.isa.INSTRUCTION_DTYPE`) into its column."""
    for i in range(len(instructions)):
        record = instructions[i]
        opcode[i] = record["opcode"]
        operand[i] = record["operand"]
        buffer[i] = record["buffer"]
        dataflow[i] = record["dataflow"]
        op_class[i] = record["op_class"]
        accumulate[i] = record["accumulate"]
        continues[i] = record["continues"]
        active[i] = record["active"]
        level[i] = record["level"]
        layer[i] = record["layer"]
        m[i] = record["m"]
        k[i] = record["k"]
        n[i] = record["n"]
        groups[i] = record["groups"]
        nbytes[i] = record["bytes"]
        elements[i] = record["elements"]
