"""Numba kernel of the estimate's per-pass terms: one loop over tilings instead of hundreds of
numpy passes over them.

`compiler.scheduling.estimate._pass_inputs` states what the terms of one pass are and reduces
the workload, the chip and the memory plan to the per-tiling columns and scalars below; this
kernel computes, for each tiling, the same integers by the same formulas in the same order
(`compiler.target.timing` for the array's occupancy, `tiling` for the tiles' windows,
`compiler.target.nbytes` and `timing.burst_bytes` for the bytes), so every value equals the
numpy expression's. A tile's folds, streamed length and stationary load, and the rounding of
bytes and vector cycles, are the simulator kernel's own (`simulator.kernels.engines`), so the
estimate and the simulation time a GEMM tile by one derivation (`tests/kernels/test_terms_kernel.py` checks them against a transcription
of the numpy formulas). A never-seen chip scores some 20,000 tilings of a network's GEMM
shapes, where the numpy passes cost a few hundred array temporaries each. It takes only
arrays and scalars (STYLE: kernels validate nothing, the caller does).

Output rows, one column per tiling: matrix, matrix floor, vector, input bytes, weight bytes,
output bytes, partial-sum bytes, prologue bytes, epilogue bytes, first input load, first
weight load (`FIELDS`).
"""

from __future__ import annotations

import numpy as np

from simulator.kernels.engines import _burst_bytes, _ceil_div, _gemm, _nbytes, _vector_cycles
from simulator.kernels.numba_target import njit

FIELDS = (
    "matrix", "matrix_floor", "vector", "input_bytes", "weight_bytes", "output_bytes", "psum_bytes",
    "prologue_bytes", "epilogue_bytes", "first_input", "first_weight",
)  # fmt: skip


@njit(cache=True, error_model="numpy")
def _channel(elements, bits, over_dram, burst):
    """Burst-rounded bytes of `elements` values of `bits` bits (`compiler.target.nbytes`), where
    they go over DRAM."""
    if not over_dram:
        return 0
    return _burst_bytes(_nbytes(elements, bits), burst)


@njit(cache=True, error_model="numpy")
def _window_pixels(tm, is_conv, images, in_h, in_w, out_w, kernel_h, kernel_w, stride_h, stride_w, dilation_h, dilation_w):
    """`tiling.input_window_pixels` of one tile."""
    if not is_conv:
        return tm
    eff_h = (kernel_h - 1) * dilation_h + 1
    eff_w = (kernel_w - 1) * dilation_w + 1
    if tm >= out_w:
        rows = _ceil_div(tm, out_w) * min(stride_h, eff_h) + max(eff_h - stride_h, 0)
        cols = min(in_w, out_w * eff_w) if eff_w < stride_w else in_w
    else:
        rows = eff_h
        cols = min(in_w, tm * min(stride_w, eff_w) + max(eff_w - stride_w, 0))
    return min(rows, images * in_h) * cols


@njit(cache=True, error_model="numpy")
def _window_channels(tk, is_conv, in_c, conv_groups, kernel_h, kernel_w):
    """`tiling.input_window_channels` of one tile."""
    if not is_conv:
        return tk
    return min(in_c // conv_groups, _ceil_div(tk, kernel_h * kernel_w))


@njit(cache=True, error_model="numpy")
def _stretched(cycles, pes, active):
    """`timing.stretched` of one tile."""
    if 0 < active < pes:
        return _ceil_div(cycles * pes, active)
    return cycles


@njit(cache=True, error_model="numpy")
def _classes(sizes, counts):
    """The distinct tile sizes of one dimension and how many tiles have each, from its full
    and edge tile (`sizes`, `counts`): (sizes, counts, how many distinct), the full tile
    first. Terms are integers, so summing a class once with both counts is exact."""
    if counts[0] == 0:
        return (sizes[1], 0), (counts[1], 0), 1
    if sizes[0] == sizes[1]:
        return (sizes[0], 0), (counts[0] + counts[1], 0), 1
    return sizes, counts, 2


@njit(cache=True, error_model="numpy")
def occupancy_and_floor(m, k, n, groups, dataflow, rows, cols, depth, width, fill_drain, pipelined):
    """`timing.gemm_occupancy` of one GEMM tile: the cycles it adds to a run of back-to-back
    GEMMs and those the array is certainly busy with it, from the simulator's fold times."""
    folds, streamed, loaded, _, last_stream, last_shift = _gemm(m, k, n, groups, dataflow, 0, 0, rows, cols, depth, width)[:6]
    if not pipelined:
        cycles = streamed + loaded + folds * fill_drain
        return cycles, cycles
    occupancy = max(streamed, max(loaded, folds * rows))
    return occupancy, occupancy - max(last_stream, last_shift) + last_stream


@njit(cache=True, error_model="numpy")
def chain_array_floor(m, k, n, batch, dataflows, groups, rows, cols, depth, width, fill_drain, pipelined):
    """(dataflows, packings) cycles the array is certainly busy with one layer of a fused
    chain over its bands (`conv_chain.packing`): for each band's `m` output pixels, every
    GEMM's busy floor (`occupancy_and_floor`), the batch run `groups` products a GEMM in
    passes (the last with the rest); a single product is split over array-wide tiles of n."""
    out = np.zeros((len(dataflows), len(groups)), dtype=np.int64)
    for d in range(len(dataflows)):
        flow = dataflows[d]
        for i in range(len(m)):
            if batch == 1:  # the same for every packing
                count = _ceil_div(n, cols)
                full = occupancy_and_floor(m[i], k, cols, 1, flow, rows, cols, depth, width, fill_drain, pipelined)[1]
                edge = occupancy_and_floor(m[i], k, n - (count - 1) * cols, 1, flow, rows, cols, depth, width, fill_drain,
                                           pipelined)[1]  # fmt: skip
                out[d, :] += (count - 1) * full + edge
                continue
            for j in range(len(groups)):
                passes = _ceil_div(batch, groups[j])
                last = batch - (passes - 1) * groups[j]
                full = occupancy_and_floor(m[i], k, n, groups[j], flow, rows, cols, depth, width, fill_drain, pipelined)[1]
                rest = occupancy_and_floor(m[i], k, n, last, flow, rows, cols, depth, width, fill_drain, pipelined)[1]
                out[d, j] += (passes - 1) * full + rest
    return out


@njit(cache=True, error_model="numpy")
def pass_terms(
    dataflow, tm, tk, tn, groups, m, k, n, batch,
    is_conv, images, in_h, in_w, in_c, out_w, kernel_h, kernel_w, stride_h, stride_w, dilation_h, dilation_w, conv_groups,
    side_elements, active, over_dram, bits, vector_ops, vector_rates, vector_on,
    rows, cols, depth, width, fill_drain, pes, pipelined, burst, accumulator_bits,
):  # fmt: skip
    """The terms of one pass with `groups` products per tile, per tiling (module doc).

    `over_dram` and `bits` are (4, tilings) by input, weight, side, output; `vector_ops`
    (classes, tilings) lane ops with their `vector_rates` (lanes × rate), a class counted where
    `vector_on` (some tiling has work of it); `depth` and `width` are the chip's reduction depth and channel width."""
    count = len(tm)
    out = np.zeros((len(FIELDS), count), dtype=np.int64)
    for t in range(count):
        g = groups[t]
        flow = dataflow[t]
        extents = (m[t], k[t], n[t])
        tiles = (tm[t], tk[t], tn[t])
        # full and edge tile of each dim (`tiling.edge_tile`) and how many of each, the first tile's extent
        nm1 = _ceil_div(extents[0], tiles[0])
        nk1 = _ceil_div(extents[1], tiles[1])
        nn1 = _ceil_div(extents[2], tiles[2])
        sm = (tiles[0], extents[0] - (nm1 - 1) * tiles[0])
        sk = (tiles[1], extents[1] - (nk1 - 1) * tiles[1])
        sn = (tiles[2], extents[2] - (nn1 - 1) * tiles[2])
        nm = (nm1 - 1, 1)
        nk = (nk1 - 1, 1)
        nn = (nn1 - 1, 1)
        fm = min(tiles[0], extents[0])
        fk = min(tiles[1], extents[1])
        fn = min(tiles[2], extents[2])
        conv = is_conv[t]
        geometry = (images[t], in_h[t], in_w[t], out_w[t], kernel_h[t], kernel_w[t], stride_h[t], stride_w[t],
                    dilation_h[t], dilation_w[t])  # fmt: skip
        in_dram, w_dram, side_dram, out_dram = over_dram[0, t], over_dram[1, t], over_dram[2, t], over_dram[3, t]
        in_bits, w_bits, side_bits, out_bits = bits[0, t], bits[1, t], bits[2, t], bits[3, t]

        # the array: `timing.gemm_occupancy` of the tile classes (full or edge tile of each
        # dim: at most 8, fewer where a dim's tiles are all one size, `_classes`), each tile's
        # folds, streams and stationary loads as the simulator's kernel times them
        matrix = 0
        floor = 0
        cm = _classes(sm, nm)
        ck = _classes(sk, nk)
        cn = _classes(sn, nn)
        for a in range(cm[2]):
            for b in range(ck[2]):
                for c in range(cn[2]):
                    tiles_abc = cm[1][a] * ck[1][b] * cn[1][c]
                    occupancy, busy = occupancy_and_floor(cm[0][a], ck[0][b], cn[0][c], g, flow, rows, cols, depth, width,
                                                          fill_drain, pipelined)  # fmt: skip
                    matrix += tiles_abc * _stretched(occupancy, pes, active[t])
                    floor += tiles_abc * _stretched(busy, pes, active[t])

        # the channel: every tile loaded once, the outputs stored once (`estimate._pass_inputs`)
        total_out = batch[t] * m[t] * n[t]
        input_bytes = weight_bytes = output_bytes = psum_bytes = vector = 0
        for a in range(cm[2]):
            window = _window_pixels(cm[0][a], conv, *geometry)
            for b in range(ck[2]):
                depth_b = _window_channels(ck[0][b], conv, in_c[t], conv_groups[t], kernel_h[t], kernel_w[t])
                input_bytes += cm[1][a] * ck[1][b] * _channel(g * (window * depth_b), in_bits, in_dram, burst)
        for a in range(ck[2]):
            for b in range(cn[2]):
                weight_bytes += ck[1][a] * cn[1][b] * _channel(g * (ck[0][a] * cn[0][b]), w_bits, w_dram, burst)
        for a in range(cm[2]):
            for b in range(cn[2]):
                tiles_ab = cm[1][a] * cn[1][b]
                out_elements = cm[0][a] * cn[0][b]
                side_tile = _ceil_div(out_elements * side_elements[t], total_out) if side_elements[t] else 0
                output_bytes += tiles_ab * (
                    _channel(g * out_elements, out_bits, out_dram, burst)
                    + _channel(g * side_tile, side_bits, side_dram, burst)
                )
                psum_bytes += tiles_ab * _channel(g * out_elements, accumulator_bits, True, burst)
                for op in range(len(vector_rates)):
                    if vector_on[op]:
                        per_tile = _ceil_div(vector_ops[op, t] * g * out_elements, total_out)
                        vector += tiles_ab * _vector_cycles(per_tile, vector_rates[op])
        out[0, t] = matrix
        out[1, t] = floor
        out[2, t] = vector
        out[3, t] = input_bytes
        out[4, t] = weight_bytes
        out[5, t] = output_bytes
        out[6, t] = psum_bytes
        first_window = _window_pixels(sm[0], conv, *geometry) * _window_channels(sk[0], conv, in_c[t], conv_groups[t],
                                                                                 kernel_h[t], kernel_w[t])  # fmt: skip
        out[7, t] = _channel(g * first_window, in_bits, in_dram, burst) + _channel(
            g * (sk[0] * sn[0]), w_bits, w_dram, burst
        )
        out[8, t] = _channel(g * (sm[1] * sn[1]), out_bits, out_dram, burst)
        whole_window = _window_pixels(fm, conv, *geometry) * _window_channels(fk, conv, in_c[t], conv_groups[t],
                                                                               kernel_h[t], kernel_w[t])  # fmt: skip
        out[9, t] = _channel(g * whole_window, in_bits, in_dram, burst)
        out[10, t] = _channel(g * (fk * fn), w_bits, w_dram, burst)
    return out


@njit(cache=True, error_model="numpy")
def grid_channel_bytes(positions, counts, input_bytes, weight_bytes, output_bytes, psum_bytes, spill):
    """`TilingTerms.channel_bytes` of every (arrangement, tiling) candidate of a grid:
    `positions` (3, arrangements) loop positions and `counts` (3, tilings) tile counts by
    Dim, the per-tiling bytes, `spill` (arrangements, tilings). An operand's tiles reload as
    `tiling.reloads` counts: once per iteration of the loop over the dim it does not index
    where that loop is outside its own innermost loop of more than one tile."""
    arrangements = positions.shape[1]
    tilings = counts.shape[1]
    out = np.empty((arrangements, tilings), dtype=np.int64)
    for a in range(arrangements):
        at_m, at_k, at_n = positions[0, a], positions[1, a], positions[2, a]
        for t in range(tilings):
            count_m, count_k, count_n = counts[0, t], counts[1, t], counts[2, t]
            inner_mk = max(at_m if count_m > 1 else -1, at_k if count_k > 1 else -1)
            inner_kn = max(at_k if count_k > 1 else -1, at_n if count_n > 1 else -1)
            total = (count_n if at_n < inner_mk else 1) * input_bytes[t] + (count_m if at_m < inner_kn else 1) * weight_bytes[t]
            total += output_bytes[t]
            if spill[a, t]:
                total += 2 * (count_k - 1) * psum_bytes[t]
            out[a, t] = total
    return out
