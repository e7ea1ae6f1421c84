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

Packed groups. A GEMM with `groups` = G > 1 computes G independent m×k·k×n products (the
groups of a grouped or depthwise convolution, the heads of attention) in one pass, the way
compilers fill an array that one small product would leave mostly idle: the G weight blocks
sit on the diagonal of a (G·k)×(G·n) matrix, the G inputs side by side in an m×(G·k) matrix,
and the outputs come out side by side in m×(G·n). The array cannot skip the zero blocks — a
row of a systolic array broadcasts the same operand stream to every column — so the pass
takes exactly the time of the dense packed product:

    cycles(m, k, n, G) = cycles(m, G·k, G·n)           (table above on the packed dims)

while only the diagonal blocks are useful work: MACs = G·m·k·n. With WS, for instance, the
G blocks occupy G·k rows and G·n columns, so G = min(R // k, C // n) groups share one fold
(a 3×3 depthwise layer, k = 9, n = 1, on a 64×64 array: 7 groups per pass instead of 1).
Off-diagonal PEs multiply by zero weights; they are charged time, not MAC energy.

Matrix units. `matrix.units` = U identical R×C arrays side by side (TPU v4 and v5e have four
MXUs per TensorCore) share the streamed operand, broadcast to all of them, and each holds its own
block of the stationary operand and of the outputs. Together they fold and read operands like one
R×(U·C) array — C in the table is U·C — while the fill and drain are those of one unit, its
input skew and output drain crossing C columns: R + C − 2 becomes R + C_unit − 2 (`unit_cols`).

Pipelined folds. An array that double-buffers its stationary operand (TPU v1 "holds one
64 KiB tile of weights plus one for double-buffering (to hide the 256 cycles it takes to
shift a tile in)", Jouppi et al., ISCA 2017, Sec. 2; `matrix.stationary_double_buffer`)
shifts the next fold's operand into the shadow copy while the current fold streams (WS, IS;
for OS the shadow copy drains the finished sums), and the next fold's stream enters right
behind the current one, so its fill overlaps the drain. Successive folds then start
max(T, R) cycles apart — the stream, or the R-cycle shift of the next operand, whichever is
longer — across GEMM instructions too, and only the first load (L =
`stationary_load_cycles`) and the last drain (R + C − 2) of a run of back-to-back folds are
paid once. The simulator keeps the state that makes this exact (`simulator.reference`). A
GEMM with one fold on an idle array costs T + L + R + C − 2 in both models.

Continued folds. A GEMM marked `continues` streams more rows through the single fold the
previous GEMM of the layer left in the array (the same stationary tile: under SCALE-Sim's
timing, codegen's tiles of one fold with the streamed dimension innermost). Its operand is in place, so it pays only
its stream: T cycles in the fold model (whose fold then costs L + ΣT + R + C − 2, the fold
SCALE-Sim streams in one go), and in a pipelined array its stream starts right behind the
previous one. It reads its stationary operand from no buffer (WS weights, IS inputs); in OS
the partial sums stay in the array and drain once, counted with the fold's first GEMM.
"""

from __future__ import annotations

import numpy as np

from accel_spec.types import Dataflow


def gemm_folds(m, k, n, dataflow, rows: int, cols: int, groups=1):
    """(folds, streamed length T) of GEMM tiles (scalars or numpy arrays), per the table
    above on the packed dims: int64 arrays (or numpy ints)."""
    packed = np.asarray(groups, dtype=np.int64)
    m = np.asarray(m, dtype=np.int64)
    k = np.asarray(k, dtype=np.int64) * packed
    n = np.asarray(n, dtype=np.int64) * packed
    folds = fold_count(dataflow, _ceil_div(m, rows), _ceil_div(m, cols), _ceil_div(k, rows), _ceil_div(n, cols))
    return folds, streamed_length(dataflow, m, k, n)


def fold_count(dataflow, m_rows, m_cols, k_rows, n_cols):
    """Folds of GEMM tiles per the table above, from how many folds each (packed) dim takes
    over the array's rows or columns (m_rows = ceil(m / R), ...). The estimate's kernel
    (`compiler.scheduling.terms_kernel`) counts the folds of its tile classes by the same
    table, and its test checks it against this function."""
    dataflow = np.asarray(dataflow)
    is_os = dataflow == Dataflow.OUTPUT_STATIONARY
    is_ws = dataflow == Dataflow.WEIGHT_STATIONARY
    return np.where(is_os, m_rows * n_cols, k_rows * np.where(is_ws, n_cols, m_cols))


def streamed_length(dataflow, m, k, n):
    """T of the table above: the (packed) dim the dataflow streams through the array."""
    dataflow = np.asarray(dataflow)
    return np.where(dataflow == Dataflow.OUTPUT_STATIONARY, k, np.where(dataflow == Dataflow.WEIGHT_STATIONARY, m, n))


def stationary_load_cycles(dataflow, rows: int):
    """Cycles to shift a fold's stationary operand into the array before it streams: R for
    WS and IS (one row per cycle: 256 cycles on TPU v1, Jouppi et al., ISCA 2017, Sec. 2),
    0 for OS, whose stationary partial sums start at zero."""
    return np.where(np.asarray(dataflow) == Dataflow.OUTPUT_STATIONARY, 0, rows)


def fill_drain_cycles(rows: int, cols: int, unit_cols: int | None = None):
    """R + C − 2: a fold's input skew and output drain across one unit of `unit_cols` columns
    (default `cols`: a single unit; module docstring, "Matrix units")."""
    return rows + (cols if unit_cols is None else unit_cols) - 2


def gemm_cycles(m, k, n, dataflow, rows: int, cols: int, groups=1, unit_cols: int | None = None):
    """Cycles of an m×k·k×n GEMM tile on a rows×cols array, folds back to back (scalars or
    numpy arrays): folds × (T + L + R + C − 2) with L = `stationary_load_cycles`, the
    table above. `dataflow` holds `Dataflow` values (ints); `groups` products packed in one
    pass are timed on the packed dims (module docstring); `cols` spans every unit and
    `unit_cols` is one unit's (`fill_drain_cycles`). Returns an int64 array (or numpy int).
    """
    folds, streamed = gemm_folds(m, k, n, dataflow, rows, cols, groups)
    return folds * (streamed + stationary_load_cycles(dataflow, rows) + fill_drain_cycles(rows, cols, unit_cols))


def gemm_occupancy(m, k, n, dataflow, rows: int, cols: int, groups=1, pipelined=False, unit_cols: int | None = None):
    """(occupancy, busy floor) of GEMM tiles in a run of back-to-back GEMMs on the array.

    Occupancy: the cycles a tile adds to the run, its folds each max(T, R) apart when
    `pipelined` (module docstring), else `gemm_cycles`. Busy floor: the cycles the array is
    certainly busy with it however it overlaps its neighbours, its folds' streams,
    (F − 1) · max(T, R) + T when `pipelined`, else `gemm_cycles` too (the same array)."""
    folds, streamed = gemm_folds(m, k, n, dataflow, rows, cols, groups)
    overhead = stationary_load_cycles(dataflow, rows) + fill_drain_cycles(rows, cols, unit_cols)
    return fold_occupancy(folds, streamed, overhead, rows, pipelined)


def fold_occupancy(folds, streamed, overhead, rows: int, pipelined: bool):
    """`gemm_occupancy` from the tiles' folds, streamed lengths and per-fold `overhead`
    (L + R + C − 2: `stationary_load_cycles` plus `fill_drain_cycles`)."""
    if not pipelined:
        cycles = folds * (streamed + overhead)
        return cycles, cycles
    spacing = np.maximum(streamed, rows)
    return folds * spacing, (folds - 1) * spacing + streamed


def pipeline_fill(dataflow, rows: int, cols: int, pipelined: bool, unit_cols: int | None = None):
    """Cycles a run of back-to-back pipelined GEMMs pays once: the first fold's load and the
    last fold's fill/drain, L + R + C − 2 (0 for folds back to back, which pay them in
    `gemm_cycles`)."""
    if not pipelined:
        return np.zeros_like(np.asarray(dataflow, dtype=np.int64))
    return stationary_load_cycles(dataflow, rows) + fill_drain_cycles(rows, cols, unit_cols)


def row_stationary_pes(filter_rows, output_rows, rows: int, cols: int):
    """PEs Eyeriss's row-stationary mapping keeps busy on a convolution (Chen et al., JSSC 2017,
    Sec. IV-B; the active-PE column of its AlexNet table).

    A PE set holds R filter rows (one per PE row) × E output rows (one per PE column). A set
    wider than the array is folded into bands of `cols` columns stacked over the rows, when
    they fit (AlexNet CONV2: 5×27 as 5×14 over 5×13, 135 PEs); else the output rows are
    strip-mined, `cols` at a time (CONV1: 11×55 as 11×14, 154); a set narrower than the array
    is replicated over it (CONV3–5: 3×13, four times, 156). A filter taller than the array
    runs `rows` filter rows at a time. A matrix product is a 1×1 convolution: every PE.
    Scalars or numpy arrays; int64.
    """
    r = np.minimum(np.asarray(filter_rows, dtype=np.int64), rows)
    e = np.asarray(output_rows, dtype=np.int64)
    bands = _ceil_div(e, cols)
    folded = bands * r <= rows
    replicas = (rows // np.maximum(bands * r, 1)) * np.where(bands == 1, cols // np.maximum(e, 1), 1)
    return np.where(folded, r * e * replicas, (rows // r) * r * cols)


def stretched(cycles, pes: int, active):
    """Cycles of work timed on all `pes` PEs when only `active` of them do it: cycles · PEs /
    active, rounded up per instruction (`active` 0 or ≥ `pes`: unchanged)."""
    active = np.asarray(active, dtype=np.int64)
    cycles = np.asarray(cycles, dtype=np.int64)
    if active.ndim == 0 and not 0 < active < pes:
        return cycles  # the whole array: the common case, without the array passes below
    partial = (active > 0) & (active < pes)
    return np.where(partial, _ceil_div(cycles * pes, np.where(partial, active, 1)), cycles)


def _ceil_div(a, b):
    return -(-a // b)


# --------------------------------------------------------------------------- data movement
#
# A transfer of `b` bytes moves round_up(b, burst) bytes over the channel, which carries
# `bytes_per_cycle = bandwidth / clock` bytes per cycle (a float). Its channel occupancy is
#
#     occupancy = ceil_cycles(round_up(b, burst) / bytes_per_cycle)
#
# and its data is usable `latency_cycles = ceil_cycles(latency · clock)` cycles after the
# channel released it. Vector work of `e` lane operations on `lanes` lanes at `rate`
# operations per lane per cycle takes ceil_cycles(e / (lanes · rate)) cycles.
#
# `ceil_cycles(x)` is ceil(x · (1 − 1e-12)): the relative slack absorbs the rounding error of
# float products such as 70 ns × 900 MHz = 63.00000000000001, so a duration that is an
# integer number of cycles in exact arithmetic is not charged one extra cycle.

CEIL_SLACK = 1.0 - 1e-12


def ceil_cycles(x):
    """Whole cycles covering a float duration `x` in cycles (scalar or array) -> int64."""
    return np.ceil(np.asarray(x, dtype=np.float64) * CEIL_SLACK).astype(np.int64)


def burst_bytes(nbytes, burst: int):
    """Bytes a transfer occupies on the channel: `nbytes` rounded up to whole bursts."""
    return _ceil_div(np.asarray(nbytes, dtype=np.int64), burst) * burst


def transfer_cycles(nbytes, burst: int, bytes_per_cycle: float):
    """Channel occupancy in cycles of LOAD/STORE transfers of `nbytes` bytes."""
    return ceil_cycles(burst_bytes(nbytes, burst) / bytes_per_cycle)


def latency_cycles(latency_s: float, clock_hz: float) -> int:
    """DRAM access latency in whole cycles."""
    return int(ceil_cycles(latency_s * clock_hz))


def vector_cycles(elements, lane_ops_per_cycle):
    """Cycles of VEC instructions of `elements` lane ops at `lanes × rate` ops per cycle."""
    return ceil_cycles(np.asarray(elements, dtype=np.int64) / np.asarray(lane_ops_per_cycle))


# --------------------------------------------------------------------------- SRAM traffic
#
# Element accesses of one GEMM to its three operand buffers, following SCALE-Sim's request
# counts per dataflow (the stationary operand is read once; a streamed operand is read once
# per fold of the dimension that is spread across the other array axis):
#
#     dataflow            input reads        weight reads       partial-sum passes P
#     output-stationary   m·k·ceil(n/C)      k·n·ceil(m/R)      1
#     weight-stationary   m·k·ceil(n/C)      k·n                ceil(k/R)
#     input-stationary    m·k                k·n·ceil(m/C)      ceil(k/R)
#
# Outputs: every pass writes the m×n partial sums (writes = m·n·P); every pass after the
# first reads the previous partial sums back, and so does the first when `accumulate` adds
# into sums left by an earlier GEMM (reads = m·n·(P − 1 + accumulate)). OS reduces the whole
# k inside the processing elements, hence a single pass.
#
# G packed groups: the counts of the packed m×(G·k)·(G·k)×(G·n) product, except that only
# the G diagonal weight blocks are read — the zero blocks are generated at the array's edge,
# never stored — so weight reads are the packed count divided by G (it holds G² blocks).
# Input and output counts need no correction: those packed matrices are dense.


def gemm_sram_accesses(m, k, n, dataflow, accumulate, rows: int, cols: int, groups=1, continues=0):
    """Element accesses of GEMM tiles: (input reads, weight reads, output reads, output writes).

    Scalars or numpy arrays; each result is int64. Multiply input/weight counts by the input
    precision and output counts by the accumulator precision to get bits. A GEMM that
    `continues` a fold reads no stationary operand (module docstring).
    """
    packed = np.asarray(groups, dtype=np.int64)
    m = np.asarray(m, dtype=np.int64)
    k = np.asarray(k, dtype=np.int64) * packed
    n = np.asarray(n, dtype=np.int64) * packed
    accumulate = np.asarray(accumulate, dtype=np.int64)
    dataflow = np.asarray(dataflow)
    is_os = dataflow == Dataflow.OUTPUT_STATIONARY
    is_ws = dataflow == Dataflow.WEIGHT_STATIONARY
    input_reads = np.where(is_os | is_ws, m * k * _ceil_div(n, cols), m * k)
    weight_reads = np.where(
        is_os, k * n * _ceil_div(m, rows), np.where(is_ws, k * n, k * n * _ceil_div(m, cols))
    ) // packed
    passes = np.where(is_os, 1, _ceil_div(k, rows))
    output_reads = m * n * (passes - 1 + accumulate)
    output_writes = m * n * passes
    fresh = 1 - np.asarray(continues, dtype=np.int64)
    is_is = ~(is_os | is_ws)
    input_reads = np.where(is_is, fresh * input_reads, input_reads)
    weight_reads = np.where(is_ws, fresh * weight_reads, weight_reads)
    output_reads = np.where(is_os, fresh * output_reads, output_reads)
    output_writes = np.where(is_os, fresh * output_writes, output_writes)
    return input_reads, weight_reads, output_reads, output_writes
