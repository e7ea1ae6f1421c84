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
    format of its class (`Workload.operand_classes`)."""
    placement = workload.placement
    formats = PrecisionAssignment.of(precision)
    bits = sum(
        count * formats.of_class(tensor).bits
        for level, count, tensor in zip(
            (placement.input, placement.weight, placement.side, placement.output),
            (workload.input_elements, workload.weight_elements, workload.side_input_elements, workload.output_elements),
            workload.operand_classes,
        )
        if level == LEVEL_DRAM
    )
    return -(-bits // 8)


def lower_bound_cycles(workload: Workload, target: Target) -> int:
    """max(MACs / PEs, vector ops / vector throughput, planned DRAM bytes / DRAM bytes per cycle)."""
    compute = math.ceil(workload.macs / target.pes)
    vector = math.ceil(
        sum(count / target.vector_ops_per_cycle[OpClass(op_class)] for op_class, count in workload.vector_ops.items())
    )
    memory = math.ceil(planned_dram_bytes(workload, target.formats) / target.dram_bytes_per_cycle)
    return max(compute, vector, memory)
