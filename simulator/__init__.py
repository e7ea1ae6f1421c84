"""Simulator: runs a compiled Program on an Accelerator and reports cycles, traffic and energy.

`run(program, accel)` validates the program, runs the Numba kernel (`simulator.kernels`)
and returns a `SimResult`; `simulator.reference` is the slow executable specification of
the machine the kernel implements; `simulator.trace` exports a Perfetto timeline.
"""

from simulator.energy import EnergyBreakdown
from simulator.result import LayerResult, SimResult, StallCause, Trace
from simulator.run import run

__all__ = ["EnergyBreakdown", "LayerResult", "SimResult", "StallCause", "Trace", "run"]
