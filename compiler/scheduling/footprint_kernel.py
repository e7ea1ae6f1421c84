"""Numba kernels of `footprint.tiling_bytes` and `footprint.arranged_footprint`: every
candidate's buffer demand, spill flag and fit, over a candidate grid of tilings ×
arrangements, in two passes: what each tiling alone decides (`tiling_bytes`), which a sweep
keeps for every point of an array whose plan places the layers alike (`batched`), then each
arrangement's (`arranged_footprint`).

They take only arrays and scalars (STYLE). `footprint.tiling_bytes` reduces the workloads'
columns (one entry per workload, not per tiling: a network's 60,000 candidates come from a
few dozen workloads), their roles (`scheduling.roles`) and the chip to the arrays below; these
kernels compute, per candidate, the integers `footprint.gemm_footprint`, `Footprint.demand`
and `Footprint.fits` compute, by the same formulas (`scheduling.tiling` for the tile counts,
the input window and the live partial-sum group, `compiler.target.nbytes` for the bytes):
`tests/kernels/test_footprint_kernel.py` checks every field against them. A never-seen chip
sizes some 60,000 candidates of a network's GEMM shapes, where the numpy version made some
forty temporaries of that size.
"""

from __future__ import annotations

import numpy as np

from compiler.scheduling.terms_kernel import _window_channels, _window_pixels
from simulator.kernels.engines import _ceil_div, _nbytes
from simulator.kernels.numba_target import njit

DIM_M, DIM_K, DIM_N = 0, 1, 2
"""`schedule.Dim` values: the rows of `positions`."""


@njit(cache=True, error_model="numpy")
def tiling_bytes(
    tm, tk, tn, groups, sizes, m, k, n, batch,
    is_conv, images, in_h, in_w, in_c, out_w, kernel_h, kernel_w, stride_h, stride_w, dilation_h, dilation_w, conv_groups,
    side_elements, tile_flags, bits, buffer_of, buffers, accumulator_bits,
):  # fmt: skip
    """The part of every candidate's footprint its tiling alone decides, whatever its loop
    order, buffering, kept tensors and capacities: (tiles (buffers, tilings) one slot of the
    input and weight tiles by the buffer holding them, side (tilings) one side-input tile,
    single (tilings) one tile of partial sums, accumulates (tilings) whether K takes more
    than one tile, workload_of (tilings) the workload of each tiling). Tiling t (`tm`, `tk`,
    `tn`, `groups` products a tile) is one of the tilings of workloads one after another,
    `sizes` of each; every other argument has an entry per workload (its last axis): its
    shape and convolution geometry, `tile_flags` (3, ...) whether the input, weight and side
    input need tiles, `bits` (4, ...) the widths of input, weight, side input and output;
    `buffer_of` is the buffer of each operand."""
    tilings = len(tm)
    tiles = np.zeros((buffers, tilings), dtype=np.int64)
    side = np.zeros(tilings, dtype=np.int64)
    single = np.empty(tilings, dtype=np.int64)
    accumulates = np.empty(tilings, dtype=np.bool_)
    workload_of = np.empty(tilings, dtype=np.int64)
    t = 0
    for w in range(len(sizes)):
        for _ in range(sizes[w]):
            workload_of[t] = w
            g = groups[t]
            window = _window_pixels(tm[t], is_conv[w], images[w], in_h[w], in_w[w], out_w[w], kernel_h[w], kernel_w[w],
                                    stride_h[w], stride_w[w], dilation_h[w], dilation_w[w]) * _window_channels(
                tk[t], is_conv[w], in_c[w], conv_groups[w], kernel_h[w], kernel_w[w])  # fmt: skip
            if tile_flags[0, w]:
                tiles[buffer_of[0], t] += _nbytes(g * window, bits[0, w])
            if tile_flags[1, w]:
                tiles[buffer_of[1], t] += _nbytes(g * (tk[t] * tn[t]), bits[1, w])
            if tile_flags[2, w]:
                side[t] = _nbytes(g * _ceil_div(tm[t] * tn[t] * side_elements[w], batch[w] * m[w] * n[w]), bits[2, w])
            single[t] = _nbytes(g * (tm[t] * tn[t]), accumulator_bits)
            accumulates[t] = _ceil_div(k[w], tk[t]) > 1
            t += 1
    return tiles, side, single, accumulates, workload_of


@njit(cache=True, error_model="numpy")
def arranged_footprint(
    tiles, side, single, accumulates, workload_of, tm, tn, groups, m, n, reserved, positions, double_buffer, output_buffer,
    capacity, accumulator_bits,
):  # fmt: skip
    """(demand (buffers, arrangements, tilings), spill and fits (arrangements, tilings)) of
    every candidate: tiling t under arrangement a (`positions` (3, arrangements) loop
    positions by Dim, `double_buffer`), from its tiling's bytes (`tiling_bytes`: `tiles`,
    `side`, `single`, `accumulates`, `workload_of`), its extents (`tm`, `tn`, `groups`), and
    per workload its `m` and `n` and the bytes kept tensors hold (`reserved` (buffers, ...))."""
    buffers, tilings = tiles.shape
    arrangements = len(double_buffer)
    demand = np.empty((buffers, arrangements, tilings), dtype=np.int64)
    spill = np.zeros((arrangements, tilings), dtype=np.bool_)
    fits = np.empty((arrangements, tilings), dtype=np.bool_)
    # per tiling, what no arrangement changes: its workload's kept bytes in each buffer, and
    # its live partial sums' bytes for each span of them (they live across one K iteration,
    # `tiling.psum_group_elements`): [1] M inside K, [2] N inside K, [3] both, [0] neither
    kept = np.empty((buffers, tilings), dtype=np.int64)
    group = np.empty((4, tilings), dtype=np.int64)
    for t in range(tilings):
        w = workload_of[t]
        for b in range(buffers):
            kept[b, t] = reserved[b, w]
        whole_m = m[w] if accumulates[t] else tm[t]
        whole_n = n[w] if accumulates[t] else tn[t]
        group[0, t] = _nbytes(groups[t] * (tm[t] * tn[t]), accumulator_bits)
        group[1, t] = _nbytes(groups[t] * (whole_m * tn[t]), accumulator_bits)
        group[2, t] = _nbytes(groups[t] * (tm[t] * whole_n), accumulator_bits)
        group[3, t] = _nbytes(groups[t] * (whole_m * whole_n), accumulator_bits)
    # arrangements outer, then buffers: each (buffer, arrangement) row of `demand` is written
    # in order by a loop without branches (the fits of one buffer at a time)
    for a in range(arrangements):
        slots = 2 if double_buffer[a] else 1
        span = (positions[DIM_M, a] > positions[DIM_K, a]) + 2 * (positions[DIM_N, a] > positions[DIM_K, a])
        held_everywhere = fits[a]
        held_everywhere[:] = True
        for b in range(buffers):
            row, limit = demand[b, a], capacity[b]
            if b == output_buffer:
                for t in range(tilings):
                    row[t] = kept[b, t] + slots * tiles[b, t] + slots * (group[span, t] + side[t])
                    held_everywhere[t] &= row[t] <= limit
            else:
                for t in range(tilings):
                    row[t] = kept[b, t] + slots * tiles[b, t]
                    held_everywhere[t] &= row[t] <= limit
        for t in range(tilings):
            if not held_everywhere[t] and group[span, t] > single[t]:  # spill: one tile of partial sums
                spill[a, t] = True
                demand[output_buffer, a, t] = kept[output_buffer, t] + slots * (tiles[output_buffer, t] + single[t] + side[t])
                held = True
                for b in range(buffers):
                    held = held and demand[b, a, t] <= capacity[b]
                held_everywhere[t] = held
    return demand, spill, fits
