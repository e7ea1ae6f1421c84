"""Assemble per-layer code into one `Program`, with a barrier between layers.

The first instruction of every engine in layer l depends on the last instruction of layer
l−1 (its final STORE, which transitively follows everything else of that layer), so layers
never overlap and each layer's cycles are well defined.
"""

from __future__ import annotations

import numpy as np

from compiler.codegen.layout import LayerCode
from compiler.isa import ENGINE_OF_OPCODE, INSTRUCTION_DTYPE, Opcode, Program

_ENGINE_OF_OPCODE = np.array([ENGINE_OF_OPCODE[op] for op in Opcode], dtype=np.int64)


def with_barrier(code: LayerCode, previous_last: int) -> tuple[np.ndarray, np.ndarray]:
    """(dep_ptr, deps) of `code` with `previous_last` added to each engine's first instruction.

    Returned indices are still local to the layer; `previous_last` is expressed in the same
    local frame (negative: it lies in an earlier layer).
    """
    engines = _ENGINE_OF_OPCODE[code.instructions["opcode"]]
    _, first = np.unique(engines, return_index=True)
    extra = np.zeros(len(code.instructions), dtype=np.int64)
    extra[first] = 1
    counts = np.diff(code.dep_ptr)
    dep_ptr = np.zeros_like(code.dep_ptr)
    np.cumsum(counts + extra, out=dep_ptr[1:])
    deps = np.empty(dep_ptr[-1], dtype=np.int64)
    owner = np.repeat(np.arange(len(counts)), counts)
    offset_in_row = np.arange(len(code.deps)) - code.dep_ptr[owner]
    deps[dep_ptr[owner] + offset_in_row] = code.deps
    deps[dep_ptr[first + 1] - 1] = previous_last
    return dep_ptr, deps


def assemble(layers: list[LayerCode], layer_names: tuple[str, ...]) -> Program:
    """Concatenate layers in order, offsetting indices and adding layer barriers.

    Each layer's instructions are tagged with its index, whatever `layer` they were
    generated for (`codegen.memo` keeps code generated once, for layer 0).
    """
    instructions, ptrs, deps = [], [], []
    start = 0
    for number, code in enumerate(layers):
        if number == 0:
            dep_ptr, local = code.dep_ptr, code.deps
        else:
            dep_ptr, local = with_barrier(code, -1)
        instructions.append(code.instructions)
        ptrs.append(dep_ptr[1:] + (ptrs[-1][-1] if ptrs else 0))
        deps.append(local + start)
        start += len(code.instructions)
    if not layers:
        return Program(np.zeros(0, INSTRUCTION_DTYPE), np.zeros(1, np.int64), np.zeros(0, np.int64), layer_names)
    tagged = np.concatenate(instructions)
    lengths = [len(code.instructions) for code in layers]
    tagged["layer"] = np.repeat(np.arange(len(layers), dtype=tagged.dtype["layer"]), lengths)
    return Program(
        instructions=tagged,
        dep_ptr=np.concatenate([np.zeros(1, dtype=np.int64)] + ptrs),
        deps=np.concatenate(deps),
        layer_names=layer_names,
    )
