"""The physical lower bound of a layer: no schedule on a chip can beat it.

lower bound = max(compute bound, memory bound), where the compute bound is the MACs spread
over every processing element (and the vector work over every lane at its op-class rate), and
the memory bound is the layer's DRAM traffic under the memory plan — each operand the plan
leaves in DRAM read once, the output written once if it goes to DRAM — at the channel's
sustained bytes per cycle. Reported beside every layer's simulated cycles so a schedule's
distance from the limit is always visible.
"""

from __future__ import annotations

import math

from accel_spec.precision import PrecisionAssignment
from accel_spec.types import OpClass, Precision
from compiler.target import LEVEL_DRAM, Target
from compiler.workload import Workload


def planned_dram_bytes(workload: Workload, precision: PrecisionAssignment | Precision) -> int:
    """Bytes a layer must move over DRAM at least once: each operand its placement leaves in
    DRAM (input, weights, side inputs) in, and its output out if it goes to DRAM, each at the
    format of its class (`Workload.operand_classes`). The input is what the layer reads of it
    (`compulsory_input_elements`: a convolution of stride wider than its kernel skips the rest)."""
    placement = workload.placement
    formats = PrecisionAssignment.of(precision)
    bits = sum(
        count * formats.of_class(tensor).bits
        for level, count, tensor in zip(
            (placement.input, placement.weight, placement.side, placement.output),
            (compulsory_input_elements(workload), workload.weight_elements, workload.side_input_elements,
             workload.output_elements),
            workload.operand_classes,
        )  # fmt: skip
        if level == LEVEL_DRAM
    )
    return -(-bits // 8)


def compulsory_input_elements(workload: Workload) -> int:
    """Elements of its input a layer reads at least once: all of them, or for a GEMM the window
    one tile covering the whole layer reads (`scheduling.tiling`, which every tiling's windows
    cover: a convolution whose stride is wider than its kernel reads only the rows and columns
    its outputs use), whichever is fewer."""
    gemm = workload.gemm
    if gemm is None:
        return workload.input_elements
    from compiler.scheduling.tiling import input_tile_elements  # scheduling imports this module

    return min(workload.input_elements, gemm.batch * int(input_tile_elements(gemm.m, gemm.k, workload)))


def lower_bound_cycles(workload: Workload, target: Target) -> int:
    """max(MACs / PEs, vector ops / vector throughput, planned DRAM bytes / DRAM bytes per cycle)."""
    compute = math.ceil(workload.macs / target.pes)
    vector = math.ceil(
        sum(count / target.vector_ops_per_cycle[OpClass(op_class)] for op_class, count in workload.vector_ops.items())
    )
    memory = math.ceil(planned_dram_bytes(workload, target.formats) / target.dram_bytes_per_cycle)
    return max(compute, vector, memory)
