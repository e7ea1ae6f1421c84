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

Reduction depth. A weight-stationary PE that keeps several weights in its own storage
(`matrix.pe_storage.weight`, Eyeriss's filter scratchpad) can hold d of them along the
reduction and add their d products into its own partial sum before passing it to the PE below
(Eyeriss's row-stationary PEs keep a filter row in their filter scratchpad and accumulate its
products in their psum scratchpad: Chen et al., JSSC 2017, Sec. IV; ZigZag's and Timeloop's
mappings call it a temporal reduction at the PE's register file). D = `Target.reduction_depth`
is the most it can hold (half of its store where the array double-buffers its stationary
operand). A fold then covers R·d rows of the reduction, d in each PE; each streamed row takes
d cycles in every PE and the load d rows of weights. The reduction's ceil(k/R) rows' worth is
cut into the fewest passes and spread over them as evenly as whole depths allow:

    passes P = ceil(ceil(k/R) / D)      (ceil(k/R) at D = 1, and for OS and IS)
    depths d_p: ceil(k/R) mod P passes of q + 1, the rest of q = floor(ceil(k/R) / P), deepest first
    a fold of depth d: T = m·d, L = R·d;    folds = P·ceil(n/C)

So the folds of one column stream m·ceil(k/R) cycles and load R·ceil(k/R), whatever D, and
pay the fill and drain P times instead of ceil(k/R): a tile of k = R·D is one fold of
m·D + R·D + R + C − 2 cycles where D = 1 takes D folds of m + R + R + C − 2. The partial
sums go to the buffer P times (`gemm_sram_accesses`), and each output's sum hops between PEs
once per PE row and pass, min(k, R·P) times, instead of k (`gemm_local_macs`: the energy model
charges no hop to the others). Pipelined, a fold of depth d shifts its operand in over R·d
cycles (`fold_shift`). Output- and input-stationary folds are unchanged (depth 1).

Channel width. A weight-stationary PE that also keeps w partial sums (`matrix.pe_storage.output`
of W ≥ 2 accumulator words, W = `Target.pe_width`; no width at depth 1, since w ≤ D) can spend
its weight store across output channels: it holds d weights of each of w channels and uses
every input it receives w times, once per channel, before taking the next (Eyeriss's PEs interleave p filters
in the filter scratchpad and accumulate p partial sums, reusing each ifmap value p times: Chen
et al., JSSC 2017, Sec. IV-B; ZigZag's energy mappings of its Eyeriss-like chip put the K loop
innermost at the PE's register files). A fold then covers C·w output channels; each streamed
row takes d·w cycles and the load R·d·w. The compiler splits the store (d·w ≤ D, w ≤ W) to
need the fewest folds, the deeper split on a tie, and spreads both as evenly as whole
numbers allow (`pe_split`):

    w = argmin over w ≤ min(D, W) of ceil(ceil(k/R) / floor(D/w)) · ceil(ceil(n/C) / w)
    passes P = ceil(ceil(k/R) / floor(D/w)),  column folds N = ceil(ceil(n/C) / w)
    a fold of depth d and width v: T = m·d·v, L = R·d·v;    folds = P·N

The folds of a tile still stream m·ceil(k/R)·ceil(n/C) and load R·ceil(k/R)·ceil(n/C) cycles
in all; they pay the fill and drain P·N times. The input is read from the buffer once per
column fold, m·k·N elements (`gemm_sram_accesses`), and reaches a PE once for all its w
channels: of the MACs, those after the first of each input in a PE keep it
(`gemm_held_macs`), and the energy model charges them no input register write, hop or store
access. Packed groups (G > 1) keep w = 1.

Continued folds. A GEMM marked `continues` streams more rows through the single fold the
previous GEMM of the layer left in the array (the same stationary tile: under SCALE-Sim's
timing, codegen's tiles of one fold with the streamed dimension innermost). Its operand is in place, so it pays only
its stream: T cycles in the fold model (whose fold then costs L + ΣT + R + C − 2, the fold
SCALE-Sim streams in one go), and in a pipelined array its stream starts right behind the
previous one. It reads its stationary operand from no buffer (WS weights, IS inputs); in OS
the partial sums stay in the array and drain once, counted with the fold's first GEMM.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from accel_spec.types import Dataflow


class FoldTimes(NamedTuple):
    """How GEMM tiles' folds occupy the array (scalars or numpy arrays, int64): the table
    above, each fold at its own depth and width (module docstring, "Reduction depth",
    "Channel width").

    Attributes:
        folds: F.
        streamed: Σ T over the folds.
        loaded: Σ L over the folds.
        first_load: L of the first fold.
        last_stream: T of the last fold.
        last_shift: `fold_shift` of the last fold.
    """

    folds: np.ndarray
    streamed: np.ndarray
    loaded: np.ndarray
    first_load: np.ndarray
    last_stream: np.ndarray
    last_shift: np.ndarray

    def back_to_back(self, fill_drain) -> np.ndarray:
        """Cycles of the folds run one after the other: Σ (T + L + R + C − 2)."""
        return self.streamed + self.loaded + self.folds * fill_drain

    def spaced(self, rows: int) -> np.ndarray:
        """Cycles between the first fold's stream and the next GEMM's, pipelined: Σ over the
        folds of max(T, shift), which is max(Σ T, Σ shift) because every fold of a tile has
        the same ratio of stream to shift (m·d·v to R·d·v, or T to R at depth 1)."""
        return np.maximum(self.streamed, np.maximum(self.loaded, self.folds * rows))

    @property
    def last_spacing(self) -> np.ndarray:
        """max(T, shift) of the last fold."""
        return np.maximum(self.last_stream, self.last_shift)


def fold_times(m, k, n, dataflow, rows: int, cols: int, groups=1, depth=1, width=1) -> FoldTimes:
    """`FoldTimes` of GEMM tiles (scalars or numpy arrays) per the table above on the packed
    dims, with the chip's reduction `depth` and channel `width` (module docstring)."""
    packed = np.asarray(groups, dtype=np.int64)
    m = np.asarray(m, dtype=np.int64)
    k = np.asarray(k, dtype=np.int64) * packed
    n = np.asarray(n, dtype=np.int64) * packed
    k_rows, n_cols = _ceil_div(k, rows), _ceil_div(n, cols)
    split = pe_split(dataflow, k_rows, n_cols, packed, depth, width)
    folds = fold_count(dataflow, _ceil_div(m, rows), _ceil_div(m, cols), split.passes, split.column_folds)
    cells = np.where(np.asarray(dataflow) == Dataflow.WEIGHT_STATIONARY, n_cols * k_rows, folds)  # Σ d·v
    stream, load = streamed_length(dataflow, m, k, n), stationary_load_cycles(dataflow, rows)
    return FoldTimes(
        folds=folds,
        streamed=stream * cells,
        loaded=load * cells,
        first_load=load * split.deep * split.wide,
        last_stream=stream * split.shallow * split.narrow,
        last_shift=fold_shift(load * split.shallow * split.narrow, rows),
    )


def gemm_folds(m, k, n, dataflow, rows: int, cols: int, groups=1, depth=1, width=1):
    """(folds, streamed cycles Σ T) of GEMM tiles (`fold_times`); one fold streams T."""
    times = fold_times(m, k, n, dataflow, rows, cols, groups, depth, width)
    return times.folds, times.streamed


class PeSplit(NamedTuple):
    """How GEMM tiles spread their reduction and output columns over the PEs' stores (module
    docstring, "Reduction depth" and "Channel width"); scalars or numpy arrays, int64.

    Attributes:
        passes: P, folds along the reduction.
        deep, shallow: depth of the first pass and of the last.
        column_folds: N, folds along the output columns.
        wide, narrow: channels per PE in the first column fold and in the last.
    """

    passes: np.ndarray
    deep: np.ndarray
    shallow: np.ndarray
    column_folds: np.ndarray
    wide: np.ndarray
    narrow: np.ndarray


def pe_split(dataflow, k_rows, n_cols, groups, depth, width) -> PeSplit:
    """`PeSplit` of tiles whose (packed) reduction spans `k_rows` = ceil(k/R) rows of the
    array and whose outputs `n_cols` = ceil(n/C) columns' worth, on a chip whose
    weight-stationary PEs hold `depth` weights and `width` partial sums (module docstring):
    the width w ≤ min(D, W) needing the fewest folds P·N (the smallest on a tie), P =
    ceil(k_rows / floor(D/w)) passes, the first k_rows mod P of them q + 1 deep and the rest
    q = floor(k_rows / P), and N = ceil(n_cols / w) column folds, widths split alike. Other
    dataflows, packed groups (`groups` > 1) for the width, and empty dims: depth and width 1.
    `depth` and `width` are the chip's (ints) or one per tile (arrays, as the surrogate's
    features time many chips at once)."""
    k_rows = np.asarray(k_rows, dtype=np.int64)
    n_cols = np.asarray(n_cols, dtype=np.int64)
    depth = np.asarray(depth, dtype=np.int64)
    is_ws = np.asarray(dataflow) == Dataflow.WEIGHT_STATIONARY
    depth_of = np.where(is_ws, depth, 1)
    best_width = np.ones_like(k_rows * n_cols * depth)
    reachable = np.minimum(depth, width)
    if np.max(reachable) > 1:
        widest = np.where(is_ws & (np.asarray(groups) == 1), np.minimum(n_cols, reachable), 1)
        best = _ceil_div(k_rows, depth_of) * n_cols
        for w in range(2, int(np.max(widest, initial=1)) + 1):
            folds = _ceil_div(k_rows, np.maximum(depth // w, 1)) * _ceil_div(n_cols, w)
            better = (w <= widest) & (folds < best)
            best = np.where(better, folds, best)
            best_width = np.where(better, w, best_width)
        depth_of = np.where(best_width > 1, depth // best_width, depth_of)
    passes, deep, shallow = _even_split(k_rows, depth_of)
    column_folds, wide, narrow = _even_split(n_cols, best_width)
    return PeSplit(passes, deep, shallow, column_folds, wide, narrow)


def _even_split(extent, most):
    """(parts, first part, last part) of `extent` cut into the fewest parts of at most `most`,
    as even as whole numbers allow, larger parts first (every part at least 1)."""
    parts = _ceil_div(extent, most)
    small = np.maximum(extent // np.maximum(parts, 1), 1)
    return parts, np.where(extent > small * parts, small + 1, small), small


def fold_count(dataflow, m_rows, m_cols, k_passes, n_cols):
    """Folds of GEMM tiles per the table above, from how many folds each (packed) dim takes
    over the array's rows or columns (m_rows = ceil(m / R), ...; k_passes the reduction's,
    `pe_split`). The estimate's kernel (`compiler.scheduling.terms_kernel`) counts the
    folds of its tile classes by the same table, and its test checks it against this function."""
    dataflow = np.asarray(dataflow)
    is_os = dataflow == Dataflow.OUTPUT_STATIONARY
    is_ws = dataflow == Dataflow.WEIGHT_STATIONARY
    return np.where(is_os, m_rows * n_cols, k_passes * np.where(is_ws, n_cols, m_cols))


def streamed_length(dataflow, m, k, n):
    """T of the table above at depth 1: the (packed) dim the dataflow streams through the array."""
    dataflow = np.asarray(dataflow)
    return np.where(dataflow == Dataflow.OUTPUT_STATIONARY, k, np.where(dataflow == Dataflow.WEIGHT_STATIONARY, m, n))


def stationary_load_cycles(dataflow, rows: int):
    """Cycles to shift a fold's stationary operand into the array before it streams, one
    value per PE: R for WS and IS (one row per cycle: 256 cycles on TPU v1, Jouppi et al.,
    ISCA 2017, Sec. 2), 0 for OS, whose stationary partial sums start at zero. A PE holding d
    values takes d times as long (`fold_times`)."""
    return np.where(np.asarray(dataflow) == Dataflow.OUTPUT_STATIONARY, 0, rows)


def fold_shift(load, rows: int):
    """Cycles a pipelined array takes to prepare its next fold in the shadow copy: the
    stationary load L (R·d), or R for output stationary, whose shadow copy drains R rows of
    finished sums (module docstring, "Pipelined folds"): max(L, R)."""
    return np.maximum(load, rows)


def fill_drain_cycles(rows: int, cols: int, unit_cols: int | None = None):
    """R + C − 2: a fold's input skew and output drain across one unit of `unit_cols` columns
    (default `cols`: a single unit; module docstring, "Matrix units")."""
    return rows + (cols if unit_cols is None else unit_cols) - 2


def gemm_cycles(m, k, n, dataflow, rows: int, cols: int, groups=1, unit_cols: int | None = None, depth=1, width=1):
    """Cycles of an m×k·k×n GEMM tile on a rows×cols array, folds back to back (scalars or
    numpy arrays): Σ over its folds of T + L + R + C − 2 (`fold_times`; F·(T + L + R + C − 2)
    at depth 1), the table above. `dataflow` holds `Dataflow` values (ints); `groups` products
    packed in one pass are timed on the packed dims (module docstring); `cols` spans every
    unit and `unit_cols` is one unit's (`fill_drain_cycles`); `depth` and `width` are the
    chip's reduction depth and channel width. Returns an int64 array (or numpy int).
    """
    times = fold_times(m, k, n, dataflow, rows, cols, groups, depth, width)
    return times.back_to_back(fill_drain_cycles(rows, cols, unit_cols))


def gemm_occupancy(
    m, k, n, dataflow, rows: int, cols: int, groups=1, pipelined=False, unit_cols: int | None = None, depth=1, width=1
):
    """(occupancy, busy floor) of GEMM tiles in a run of back-to-back GEMMs on the array.

    Occupancy: the cycles a tile adds to the run, its folds each max(T, `fold_shift`) apart
    when `pipelined` (module docstring), else `gemm_cycles`. Busy floor: the cycles the array
    is certainly busy with it however it overlaps its neighbours, its folds' streams, the
    spacing of every fold but the last plus the last one's T when `pipelined`, else
    `gemm_cycles` too (the same array)."""
    times = fold_times(m, k, n, dataflow, rows, cols, groups, depth, width)
    return fold_occupancy(times, fill_drain_cycles(rows, cols, unit_cols), rows, pipelined)


def fold_occupancy(times: FoldTimes, fill_drain, rows: int, pipelined: bool):
    """`gemm_occupancy` from the tiles' `FoldTimes` and fill and drain (R + C − 2)."""
    if not pipelined:
        cycles = times.back_to_back(fill_drain)
        return cycles, cycles
    spaced = times.spaced(rows)
    return spaced, spaced - times.last_spacing + times.last_stream


def pipeline_fill(load, rows: int, cols: int, pipelined: bool, unit_cols: int | None = None):
    """Cycles a run of back-to-back pipelined GEMMs pays once: the first fold's stationary
    `load` and the last fold's fill/drain, L + R + C − 2 (0 for folds back to back, which pay
    them in `gemm_cycles`)."""
    if not pipelined:
        return np.zeros_like(np.asarray(load, dtype=np.int64))
    return load + fill_drain_cycles(rows, cols, unit_cols)


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
#     weight-stationary   m·k·N              k·n                ceil(k/R), or P of `pe_split`
#                                                               with reduction depth D
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


def gemm_sram_accesses(m, k, n, dataflow, accumulate, rows: int, cols: int, groups=1, continues=0, depth=1, width=1):
    """Element accesses of GEMM tiles: (input reads, weight reads, output reads, output writes).

    Scalars or numpy arrays; each result is int64. Multiply input/weight counts by the input
    precision and output counts by the accumulator precision to get bits. A GEMM that
    `continues` a fold reads no stationary operand (module docstring); with the chip's
    reduction `depth` and channel `width` the partial-sum passes P and the weight-stationary
    column folds N (ceil(n/C) at width 1) are `pe_split`'s.
    """
    packed = np.asarray(groups, dtype=np.int64)
    m = np.asarray(m, dtype=np.int64)
    k = np.asarray(k, dtype=np.int64) * packed
    n = np.asarray(n, dtype=np.int64) * packed
    accumulate = np.asarray(accumulate, dtype=np.int64)
    dataflow = np.asarray(dataflow)
    is_os = dataflow == Dataflow.OUTPUT_STATIONARY
    is_ws = dataflow == Dataflow.WEIGHT_STATIONARY
    split = pe_split(dataflow, _ceil_div(k, rows), _ceil_div(n, cols), packed, depth, width)
    input_reads = np.where(is_ws, m * k * split.column_folds, np.where(is_os, m * k * _ceil_div(n, cols), m * k))
    weight_reads = np.where(
        is_os, k * n * _ceil_div(m, rows), np.where(is_ws, k * n, k * n * _ceil_div(m, cols))
    ) // packed
    passes = np.where(is_os, 1, split.passes)
    output_reads = m * n * (passes - 1 + accumulate)
    output_writes = m * n * passes
    fresh = 1 - np.asarray(continues, dtype=np.int64)
    is_is = ~(is_os | is_ws)
    input_reads = np.where(is_is, fresh * input_reads, input_reads)
    weight_reads = np.where(is_ws, fresh * weight_reads, weight_reads)
    output_reads = np.where(is_os, fresh * output_reads, output_reads)
    output_writes = np.where(is_os, fresh * output_writes, output_writes)
    return input_reads, weight_reads, output_reads, output_writes


def gemm_local_macs(m, k, n, dataflow, rows: int, cols: int, groups=1, depth=1, width=1):
    """MACs of GEMM tiles whose partial sum stays in the PE (module docstring, "Reduction
    depth"): of each output's k products, min(k, R·P) pass the sum to the next PE (once per PE
    row and pass), the rest keep it: G·m·n·(k − min(k, R·P)) for weight stationary, P the
    passes of the packed reduction (`pe_split`); 0 at depth 1, where R·P ≥ k. int64."""
    packed = np.asarray(groups, dtype=np.int64)
    k = np.asarray(k, dtype=np.int64)
    n = np.asarray(n, dtype=np.int64)
    passes = pe_split(dataflow, _ceil_div(k * packed, rows), _ceil_div(n * packed, cols), packed, depth, width).passes
    kept = np.where(np.asarray(dataflow) == Dataflow.WEIGHT_STATIONARY, k - np.minimum(k, rows * passes), 0)
    return packed * np.asarray(m, dtype=np.int64) * n * kept


def gemm_held_macs(m, k, n, dataflow, rows: int, cols: int, groups=1, depth=1, width=1):
    """MACs of GEMM tiles that use an input the PE already holds (module docstring, "Channel
    width"): a weight-stationary column fold of v channels a PE (channel j in column j mod C)
    brings each input to the min(C, its channels) columns that use it, once, for up to v
    MACs; every fold but the last is full, so the input arrives m·k·(C·(N − 1) + min(C, n −
    C·(ceil(n/C) − v_last))) times, and the other of the m·k·n MACs hold it: 0 at width 1
    (every other dataflow, packed groups), where each column takes one channel a fold. int64."""
    k = np.asarray(k, dtype=np.int64)
    n = np.asarray(n, dtype=np.int64)
    n_cols = _ceil_div(n, cols)
    split = pe_split(dataflow, _ceil_div(k * np.asarray(groups, dtype=np.int64), rows), n_cols, groups, depth, width)
    last = n - cols * (n_cols - split.narrow)
    arrivals = cols * (split.column_folds - 1) + np.minimum(cols, last)
    return np.asarray(m, dtype=np.int64) * k * (n - arrivals)
