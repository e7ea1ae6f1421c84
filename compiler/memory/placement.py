"""Where a workload's operands come from and where its output goes.

Each field is a memory level (`compiler.target`): `LEVEL_DRAM`, or `level_of(b)` for the
on-chip buffer b that keeps the tensor between layers. An operand whose level is the buffer
the array reads that operand from is *direct*: it is already in place, so codegen issues no
transfer and reserves no tile for it (TPU v1's Unified Buffer feeds the array the previous
layer's output in place). Any other on-chip level is moved by an on-chip transfer over the
buffers' ports; DRAM over the channel.
"""

from __future__ import annotations

from dataclasses import dataclass

from compiler.target.machine import LEVEL_DRAM


@dataclass(frozen=True)
class Placement:
    """Memory levels of one workload's operands (all DRAM unless the planner keeps a tensor).

    Attributes:
        input: level the input operand is read from.
        weight: level the second operand (weights, or an activation) is read from.
        side: level the fused side inputs are read from.
        output: level the output is written to.
    """

    input: int = LEVEL_DRAM
    weight: int = LEVEL_DRAM
    side: int = LEVEL_DRAM
    output: int = LEVEL_DRAM

    @property
    def levels(self) -> tuple[int, int, int, int]:
        """The four levels in operand order: input, weight, side, output."""
        return (self.input, self.weight, self.side, self.output)
