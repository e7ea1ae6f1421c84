"""Tiling geometry shared by the scheduler's estimate, codegen and verification.

Everything here is vectorised: arguments may be scalars or numpy arrays of candidates.

Loop nest. Tile loops run in a `LoopOrder` (outermost first) inside a loop over passes of
the GEMM batch, each pass packing G products (`pass_groups`). An operand tile stays on
chip while only loops it does not index change, so an operand indexed by dims D is loaded

    reloads(D) = Π T_d  over loops d ∉ D that lie outside the innermost loop of D with T > 1

times per tile (T_d = tile count of dim d), once per tile when D's loops are innermost.

Partial sums. When K is not the innermost loop (and there is more than one K tile), all
output tiles visited inside one K iteration stay live: the dims M, N nested inside K
contribute their full extent, the others one tile. If that group does not fit the OUTPUT
buffer, each visit refills its tile (LOAD at accumulator precision) and spills it after
(STORE at accumulator precision) and only one tile is live.

Convolution input windows. A tile of `tm` output pixels (rows of the im2col matrix,
flattened over images × out_h × out_w) and `tk` reduction indices (channel-major over
kh × kw) reads this window of the feature map, images stacked vertically:

    channels = min(C / groups, ceil(tk / (kh·kw)))
    span(E, stride, eff) = E·min(stride, eff) + max(eff − stride, 0)
    tm ≥ out_w:  rows = min(images·in_h, span(ceil(tm / out_w), stride_h, eff_h))
                 cols = in_w, or min(in_w, out_w·eff_w) where eff_w < stride_w
    tm < out_w:  rows = min(images·in_h, eff_h)
                 cols = min(in_w, span(tm, stride_w, eff_w))
    elements = rows · cols · channels,       eff = (kernel − 1)·dilation + 1

i.e. the input rows from the tile's first needed row up to the next tile's first row, plus
the halo of eff − stride rows; where the window is narrower than the stride (a 1×1
convolution of stride 2, ResNet's downsampling shortcuts) only the eff rows (columns) of each
stride that the outputs read, as a strided DMA moves them (a row of pixels, or a pixel's
channels, is contiguous in the NHWC layout). It depends only on the tile's extents (so a
layer's input traffic has a closed form) and is sub-additive, so tiles together read at least
what one tile covering the whole layer reads (the compulsory traffic `verify` checks and
`roofline.planned_dram_bytes` counts).
"""

from __future__ import annotations

import numpy as np

from compiler.scheduling.schedule import Dim
from compiler.target import Target
from compiler.target.timing import row_stationary_pes
from compiler.workload import Workload


def tile_count(extent, tile):
    """Number of tiles covering `extent` (ceil division)."""
    return -(-np.asarray(extent, dtype=np.int64) // tile)


def edge_tile(extent, tile):
    """Extent of the last tile (equal to `tile` when it divides `extent`)."""
    return extent - (tile_count(extent, tile) - 1) * tile


def tile_sizes(extent: int, tile: int) -> np.ndarray:
    """Extent of every tile along one dimension: 1000 by 256 gives 256, 256, 256, 232."""
    starts = np.arange(0, extent, tile, dtype=np.int64)
    return np.minimum(tile, extent - starts)


def pass_groups(batch: int, groups):
    """(passes, products in the last pass) when `batch` products run `groups` per pass."""
    passes = tile_count(batch, groups)
    return passes, batch - (passes - 1) * np.asarray(groups, dtype=np.int64)


def input_tile_elements(tm, tk, workload: Workload):
    """Elements of the input tile a (tm × tk) GEMM tile reads (conv: the window, see above).

    The geometry may be a `Workload`'s or per-candidate arrays (`scheduling.columns`).
    """
    return input_window_pixels(tm, workload) * input_window_channels(tk, workload)


def input_window_pixels(tm, workload: Workload):
    """Pixels (rows × cols) of the input window of a tile of `tm` output pixels; the
    window is these pixels times `input_window_channels` (plain GEMM: tm × tk)."""
    tm = np.asarray(tm, dtype=np.int64)
    conv = workload.conv
    if conv is None:
        return tm
    eff_h = (conv.kernel_h - 1) * conv.dilation_h + 1
    eff_w = (conv.kernel_w - 1) * conv.dilation_w + 1
    whole_rows = tm >= conv.out_w
    rows = np.where(whole_rows, _span(tile_count(tm, conv.out_w), conv.stride_h, eff_h), eff_h)
    rows = np.minimum(rows, conv.images * conv.in_h)
    whole_cols = np.where(eff_w < conv.stride_w, np.minimum(conv.in_w, conv.out_w * eff_w), conv.in_w)
    cols = np.where(whole_rows, whole_cols, np.minimum(conv.in_w, _span(tm, conv.stride_w, eff_w)))
    return rows * cols


def _span(outputs, stride, eff):
    """Input rows (columns) `outputs` consecutive output rows (columns) read: each its
    min(stride, eff) new ones, plus the halo of eff − stride (module docstring)."""
    return outputs * np.minimum(stride, eff) + np.maximum(eff - stride, 0)


def input_window_channels(tk, workload: Workload):
    """Input channels a tile of `tk` reduction indices reads (plain GEMM: tk)."""
    tk = np.asarray(tk, dtype=np.int64)
    conv = workload.conv
    if conv is None:
        return tk
    return np.minimum(conv.in_c // conv.groups, tile_count(tk, conv.kernel_h * conv.kernel_w))


def active_pes(workload, chip: Target):
    """PEs the chip's mapping keeps busy on a GEMM workload (a `Workload` or per-candidate
    columns): under the row-stationary mapping, `timing.row_stationary_pes` of a convolution's
    filter and output rows, a matrix product being the 1×1 convolution over its M rows
    (`columns`); 0 — the whole array — otherwise."""
    if not chip.row_stationary:
        return np.int64(0)
    conv = workload.conv
    if conv is None:
        return row_stationary_pes(1, workload.gemm.m, chip.rows, chip.cols)
    return row_stationary_pes(conv.kernel_h, conv.out_h, chip.rows, chip.cols)


def side_tile_elements(tm, tn, workload: Workload):
    """Elements of a fused side input (residual) read with a tm × tn output tile.

    Proportional to the tile's share of the output, rounded up.
    """
    gemm = workload.gemm
    assert gemm is not None
    total = gemm.batch * gemm.m * gemm.n
    share = np.asarray(tm, dtype=np.int64) * tn * workload.side_input_elements
    return -(-share // total)


def loop_positions(order_index, orders) -> np.ndarray:
    """Position (0 = outermost) of each Dim's loop: array (3, ...) indexed by Dim."""
    table = np.array([[order.index(dim) for dim in Dim] for order in orders], dtype=np.int64)
    return table[np.asarray(order_index)].T


def reloads(positions: np.ndarray, counts: np.ndarray, dims: tuple[Dim, ...]):
    """How many times each tile of an operand indexed by `dims` is loaded (see module doc).

    `positions` and `counts` are (3, ...) arrays indexed by Dim.
    """
    innermost = np.full(counts.shape[1:], -1, dtype=np.int64)
    for dim in dims:
        innermost = np.maximum(innermost, np.where(counts[dim] > 1, positions[dim], -1))
    factor = np.ones(counts.shape[1:], dtype=np.int64)
    for dim in Dim:
        if dim not in dims:
            factor = factor * np.where(positions[dim] < innermost, counts[dim], 1)
    return factor


def psum_group_elements(positions: np.ndarray, counts: np.ndarray, tiles: np.ndarray, extents):
    """Elements of the partial sums kept live across one K iteration (see module doc).

    `tiles` is (3, ...) by Dim; `extents` is (M, K, N).
    """
    accumulates = counts[Dim.K] > 1
    span = []
    for dim in (Dim.M, Dim.N):
        inside_k = accumulates & (positions[dim] > positions[Dim.K])
        span.append(np.where(inside_k, extents[dim], tiles[dim]))
    return span[0] * span[1]


def psum_group_tiles(positions: np.ndarray, counts: np.ndarray):
    """Number of output tiles in that live group (1 when K is effectively innermost)."""
    accumulates = counts[Dim.K] > 1
    group = np.ones(counts.shape[1:], dtype=np.int64)
    for dim in (Dim.M, Dim.N):
        inside_k = accumulates & (positions[dim] > positions[Dim.K])
        group = group * np.where(inside_k, counts[dim], 1)
    return group


def ladder(low: int, high: int) -> np.ndarray:
    """low · 2^i below `high`, and `high`."""
    steps = [low << i for i in range(max(0, int(high // max(low, 1)).bit_length())) if (low << i) < high]
    return np.array(sorted(set(steps) | {high}), dtype=np.int64)
