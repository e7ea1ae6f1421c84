"""The physical lower bound of a layer: no schedule on a chip can beat it.

lower bound = max(compute bound, memory bound), where the compute bound is the MACs spread
over every processing element (and the vector work over every lane at its op-class rate), and
the memory bound is the compulsory DRAM traffic (each operand read once, the output written
once) at the channel's peak bytes per cycle. Reported beside every layer's simulated cycles so
a schedule's distance from the limit is always visible.
"""

from __future__ import annotations

import math

from accel_spec.types import OpClass, Precision
from compiler.target import Target
from compiler.workload import Workload


def compulsory_dram_bytes(workload: Workload, precision: Precision) -> int:
    """Bytes a layer must move at least once: inputs, weights, side inputs in; output out."""
    elements = (
        workload.input_elements
        + workload.weight_elements
        + workload.side_input_elements
        + workload.output_elements
    )
    return math.ceil(elements * precision.bytes)


def lower_bound_cycles(workload: Workload, target: Target) -> int:
    """max(MACs / PEs, vector ops / vector throughput, compulsory bytes / DRAM bytes per cycle)."""
    compute = math.ceil(workload.macs / target.pes)
    vector = math.ceil(
        sum(count / target.vector_ops_per_cycle[OpClass(op_class)] for op_class, count in workload.vector_ops.items())
    )
    memory = math.ceil(compulsory_dram_bytes(workload, target.operand_precision) / target.dram_bytes_per_cycle)
    return max(compute, vector, memory)
