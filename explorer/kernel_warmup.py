"""Run by a sweep's fork server at start-up (`fork_server.WORKER_PRELOAD`): load the compile's
and the simulator's Numba kernels once, so that every worker forked from it starts with them.

Numba loads a kernel from its on-disk cache the first time the kernel is called, about 10 ms
each, and a compile calls a dozen. Every worker used to load them in its model check
(`LocalExecutor.check`), 0.12–0.15 s a worker before its first point. The fork server
imports the compile stack anyway while `tessera sweep` imports its own modules and reads the
sweep file; compiling and simulating a small network there, on a tiny chip, loads the kernels
in that time, and a forked worker inherits them. The network is a small MobileNetV2 because
it reaches every kernel a CNN sweep point calls (convolutions, depthwise layers, fused
chains, capacity challengers, whole programs): measured on 2026-12-05, MobileNetV2 and
ResNet-50 points on never-seen edge chips loaded no kernel after it. Kernels a point needs
beyond these (other networks' layers) load in the worker, as before.

Imported in any other process it does nothing.
"""

from __future__ import annotations

from explorer.forkserver_setup import is_fork_server

WARM_UP_CHIP = """
name: warm-up
clock: 100 MHz
technology: 45 nm
matrix: {rows: 4, cols: 4, dataflows: [output-stationary, weight-stationary], input_precision: int8,
         accumulator_precision: int32}
buffers:
  inputs: {capacity: 1 KiB, holds: [input]}
  weights: {capacity: 1 KiB, holds: [weight]}
  accumulators: {capacity: 512 B, holds: [output]}
vector: {lanes: 4, precision: fp32}
dram: {type: DDR4, bandwidth: 1 GB/s, latency: 100 ns}
"""
"""A 4×4 chip with small buffers (`examples/accelerators/tiny.yaml`, with 512 B of accumulators
where that has 256 B: with them, no band height of the network's chains fits, so it generates
no fused chain's code and that kernel would load in every worker): small candidate spaces,
so the warm-up compile takes about 0.25 s."""

WARM_UP_MODEL = "mobilenetv2:width=0.35,resolution=32"


def load_kernels() -> None:
    """Compile and simulate `WARM_UP_MODEL` on `WARM_UP_CHIP`, then forget the compile caches
    it filled (a sweep's chips share none of them): what stays is the kernels, loaded."""
    from accel_spec import load_accelerator_text
    from compiler.pipeline import clear_compile_caches
    from tessera.api import simulate

    simulate(load_accelerator_text(WARM_UP_CHIP, "the fork server's warm-up chip"), WARM_UP_MODEL)
    clear_compile_caches()


if is_fork_server():
    load_kernels()
