"""Values a chip file may leave out, each with where it comes from.

Not energy or area constants: timing parameters of the DRAM channel and the vector unit that
`accel_spec.schema` takes as field defaults. A result's provenance (`technology_sources`)
names the source of each one a chip leaves at its default (`provenance`).
"""

from __future__ import annotations

from accel_spec.components import Constant

DRAM_LATENCY = Constant(
    "dram_latency_default", 100e-9, "s",
    "assumption: a DRAM row miss at the device, tRP + tRCD + CL = 16 + 16 + 16 cycles at 1.2 GHz = 40 ns on "
    "DDR4-2400 (Micron, via DRAMPower memspecs/MICRON_4Gb_DDR4-2400_8bit_A.json), plus the memory controller, "
    "PHY and queueing, taken as 100 ns",
)  # fmt: skip
DRAM_BURST = Constant(
    "dram_burst_default", 64, "B",
    "JEDEC JESD79-4 (DDR4): burst length 8 on a 64-bit channel moves 64 bytes",
)  # fmt: skip
VECTOR_ELEMENTWISE_RATE = Constant(
    "vector_elementwise_rate_default", 1.0, "ops per lane per cycle",
    "assumption: a lane completes one add, multiply, max or compare per cycle (what a lane is)",
)  # fmt: skip
VECTOR_TRANSCENDENTAL_RATE = Constant(
    "vector_transcendental_rate_default", 0.25, "ops per lane per cycle",
    "NVIDIA, CUDA C++ Programming Guide, 'Arithmetic Instructions' throughput table, compute capability "
    "7.x-9.0: 16 results per clock per multiprocessor for exp2, log2, reciprocal (square root) and sine, "
    "against 64 for 32-bit floating-point add and multiply (not re-opened for this change)",
)  # fmt: skip
VECTOR_REDUCTION_RATE = Constant(
    "vector_reduction_rate_default", 1.0, "ops per lane per cycle",
    "assumption: a lane completes one step of a sum or max reduction per cycle, like an elementwise add",
)  # fmt: skip

CONSTANTS = (DRAM_LATENCY, DRAM_BURST, VECTOR_ELEMENTWISE_RATE, VECTOR_TRANSCENDENTAL_RATE, VECTOR_REDUCTION_RATE)
