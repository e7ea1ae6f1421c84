"""Closed-form time of each instruction: the documented formulas the kernel implements.

These functions are vectorised numpy (they accept scalars or arrays) so that the scheduler
can score thousands of candidate schedules at once with exactly the formulas the simulator
charges. `simulator/kernels/` repeats the same arithmetic inside Numba (kernels may not call
into other modules without stale-cache surprises); tests assert the two agree.

Systolic-array compute time follows SCALE-Sim v2 (Samajdar et al., "A Systematic
Methodology for Characterizing Scalability of DNN Accelerators using SCALE-Sim", ISPASS
2020; scalesim/compute/systolic_compute_{os,ws,is}.py). For an m×k by k×n product on an
R×C array, the operand that stays in the array is spread over it in folds, each fold
streaming the remaining dimension T through the array:

    dataflow            spatial (rows × cols)   T    folds                  cycles per fold
    output-stationary   m × n                   k    ceil(m/R)·ceil(n/C)    T + R + C - 2
    weight-stationary   k × n                   m    ceil(k/R)·ceil(n/C)    T + 2R + C - 2
    input-stationary    k × m                   n    ceil(k/R)·ceil(m/C)    T + 2R + C - 2

(OS: skew in R - 1 and C - 1 plus the drain of results; WS/IS additionally pre-load the
stationary operand, R cycles.) Folds run back to back; a partial fold costs a full fold.
"""

from __future__ import annotations

import numpy as np

from accel_spec.types import Dataflow


def gemm_cycles(m, k, n, dataflow, rows: int, cols: int):
    """Cycles of an m×k·k×n GEMM tile on a rows×cols array (scalars or numpy arrays).

    `dataflow` holds `Dataflow` values (ints). Returns an int64 array (or numpy int).
    """
    m = np.asarray(m, dtype=np.int64)
    k = np.asarray(k, dtype=np.int64)
    n = np.asarray(n, dtype=np.int64)
    dataflow = np.asarray(dataflow)
    os_cycles = _ceil_div(m, rows) * _ceil_div(n, cols) * (k + rows + cols - 2)
    ws_cycles = _ceil_div(k, rows) * _ceil_div(n, cols) * (m + 2 * rows + cols - 2)
    is_cycles = _ceil_div(k, rows) * _ceil_div(m, cols) * (n + 2 * rows + cols - 2)
    return np.where(
        dataflow == Dataflow.OUTPUT_STATIONARY,
        os_cycles,
        np.where(dataflow == Dataflow.WEIGHT_STATIONARY, ws_cycles, is_cycles),
    )


def _ceil_div(a, b):
    return -(-a // b)
