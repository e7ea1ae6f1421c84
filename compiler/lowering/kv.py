"""Which operands of a decoder's workloads are its KV cache, so they take the KV format.

The cache is what a KV-cache append extends (`Workload.cache_append`: the past entries, a
graph input, and the extended cache it writes) and every copy that only moves it: a
data-movement workload (a Transpose of the keys for QKᵀ, a GQA Expand) whose inputs are
all cache holds the cache too. A workload reading any of these tensors, or writing one,
has that operand in `Workload.kv_operands`. The appended entries themselves arrive from the
K and V projections at the activations' format and are written at the cache's.
"""

from __future__ import annotations

from dataclasses import replace

from accel_spec.types import Operand
from compiler.lowering.vector_rules import DATA_MOVEMENT_OPS
from compiler.workload import Workload, WorkloadKind


def mark_kv_operands(workloads: tuple[Workload, ...]) -> tuple[Workload, ...]:
    """`workloads` with `kv_operands` set (module doc); the same objects where none is."""
    cache: set[str] = set()
    marked = []
    for workload in workloads:
        operands: set[Operand] = set()
        if workload.input_tensors and all(t in cache for t in workload.input_tensors):
            operands.add(Operand.INPUT)
        if workload.weight_tensor in cache:
            operands.add(Operand.WEIGHT)
        moves_cache = (
            workload.kind is WorkloadKind.VECTOR and workload.op in DATA_MOVEMENT_OPS and Operand.INPUT in operands
        )
        if workload.cache_append is not None or moves_cache:
            cache.add(workload.output_tensor)
            operands.add(Operand.OUTPUT)
            if workload.cache_append is not None:
                cache.add(workload.cache_append.cache)
        marked.append(replace(workload, kv_operands=frozenset(operands)) if operands else workload)
    return tuple(marked)
