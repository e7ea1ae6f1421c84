"""Assemble per-layer code into one `Program`, with a barrier between layers.

The first instruction of every engine in layer l depends on the last instruction of layer
l−1 (its final STORE, which transitively follows everything else of that layer), so layers
never overlap and each layer's cycles are well defined.
"""

from __future__ import annotations

import numpy as np

from compiler.codegen.layout import LayerCode
from compiler.codegen.program_kernel import _join
from compiler.target.isa import ENGINE_OF_OPCODE, INSTRUCTION_DTYPE, Engine, Opcode, Program

_ENGINE_OF_OPCODE = np.array([ENGINE_OF_OPCODE[op] for op in Opcode], dtype=np.int64)


def assemble(layers: list[LayerCode], layer_names: tuple[str, ...]) -> Program:
    """Concatenate layers in order, offsetting indices and adding layer barriers.

    Each layer's instructions are tagged with its index (by `program_kernel`, in place),
    whatever `layer` they were generated for (`codegen.memo` keeps code generated once, for
    layer 0). In every layer but the first, the first instruction of each engine gets one
    more dependency, after its own: the last instruction of the program so far
    (`program_kernel`).
    """
    if not layers:
        return Program(np.zeros(0, INSTRUCTION_DTYPE), np.zeros(1, np.int64), np.zeros(0, np.int64), layer_names)
    lengths = np.array([len(code.instructions) for code in layers], dtype=np.int64)
    # joined as raw bytes: concatenating structured arrays promotes their fields pair by pair
    raw = [np.ascontiguousarray(code.instructions).view(np.uint8) for code in layers]
    instructions = np.concatenate(raw).view(INSTRUCTION_DTYPE)
    dep_ptr, deps = _join(
        lengths,
        np.concatenate([code.dep_ptr for code in layers]).astype(np.int64, copy=False),
        np.concatenate([code.deps for code in layers]).astype(np.int64, copy=False),
        instructions,
        _ENGINE_OF_OPCODE,
        len(Engine),
    )
    return Program(instructions=instructions, dep_ptr=dep_ptr, deps=deps, layer_names=layer_names)
