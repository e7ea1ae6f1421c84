"""Simulator speed on random valid programs of 10^4 .. 10^6 instructions.

Prints, per size, the median of 5 warm runs of the Numba kernel alone and of the whole
`execute` path (read-only views of the records + kernel), and the rate in millions of instructions per
second. Programs come from `tests/kernels/programs.random_program` with up to 3 dependencies
per instruction, once with uniformly random opcodes (the worst case for branch prediction)
and once with opcodes repeating LOAD LOAD GEMM GEMM VEC STORE, as compiled code does.

    python benchmarks/kernel_speed.py
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "kernels"))
from programs import make_machine, random_program  # noqa: E402

from compiler.target.isa import Opcode  # noqa: E402
from simulator.run import execute, kernel_arguments  # noqa: E402

SIZES = (10**4, 10**5, 10**6)
CYCLE = (Opcode.LOAD, Opcode.LOAD, Opcode.GEMM, Opcode.GEMM, Opcode.VEC, Opcode.STORE)
REPEATS = 5


def median_seconds(call: Callable[[], object]) -> float:
    call()  # warm: compile or load the cached kernel, fault in the pages
    times = []
    for _ in range(REPEATS):
        began = time.perf_counter()
        call()
        times.append(time.perf_counter() - began)
    return statistics.median(times)


def kernel_only(program, machine) -> Callable[[], object]:
    """The kernel call of `execute` with its arguments already made."""
    from simulator.kernels.engines import _simulate

    args = kernel_arguments(program, machine)
    return lambda: _simulate(*args)


def main() -> None:
    machine = make_machine(rows=16, cols=16, outstanding=8)
    rng = np.random.default_rng(0)
    header = f"{'opcodes':>8} {'instructions':>12} {'kernel s':>10} {'M instr/s':>10}"
    print(f"{header} {'execute s':>10} {'M instr/s':>10}")
    for label, cycle in (("random", None), ("periodic", CYCLE)):
        for size in SIZES:
            program = random_program(rng, machine, size, layers=50, opcode_cycle=cycle)
            kernel = median_seconds(kernel_only(program, machine))
            whole = median_seconds(lambda: execute(program, machine))
            print(
                f"{label:>8} {size:>12} {kernel:>10.4f} {size / kernel / 1e6:>10.1f}"
                f" {whole:>10.4f} {size / whole / 1e6:>10.1f}"
            )


if __name__ == "__main__":
    main()
