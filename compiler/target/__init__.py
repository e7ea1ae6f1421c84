"""The target machine: the instruction set, the timing model and the chip's numbers together.

`isa` defines the instructions the compiler emits and the simulator runs, `timing` the
closed-form time of each, and `machine` the `Target` — every chip quantity the later stages
read, derived once from the validated `Accelerator`.
"""

from compiler.target.machine import LEVEL_DRAM, Target, TimingMode, level_of, nbytes, target_of

__all__ = ["LEVEL_DRAM", "Target", "TimingMode", "level_of", "nbytes", "target_of"]
