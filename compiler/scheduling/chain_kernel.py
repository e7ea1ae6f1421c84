"""Numba kernels of a fused convolution chain's per-band numbers (`conv_chain`): each layer's
packing of groups per GEMM and the array's busy cycles (`conv_chain.packing`), and the bytes
its line buffers, weights, partial sums and side-input tiles take (`conv_chain.chain_footprint`).

Both depend on the chain, the band height and the array alone, and are kept per process; but
a sweep meets new (chain, band) pairs at most points (which chains are worth fusing depends
on the memory plan, and how tall a band is tried on the capacities), and each layer's numpy
and kernel calls cost some 50 microseconds a pair. One call here per pair does the same
arithmetic (int64, the same formulas) over the layers. They take only arrays and scalars
(STYLE); `tests/kernels/test_chain_kernel.py` checks them against the numpy transcription.
"""

from __future__ import annotations

import numpy as np

from compiler.scheduling.terms_kernel import chain_array_floor
from simulator.kernels.engines import _nbytes
from simulator.kernels.numba_target import njit


@njit(cache=True, error_model="numpy")
def _ladder_to(high):
    """`tiling.ladder(1, high)`: the powers of two below `high`, then `high`."""
    count = 1
    step = 1
    while step < high:
        count += 1
        step <<= 1
    options = np.empty(count, dtype=np.int64)
    step = 1
    for i in range(count - 1):
        options[i] = step
        step <<= 1
    options[count - 1] = high
    return options


@njit(cache=True, error_model="numpy")
def chain_packing(band_rows, pixels, k, n, batch, dataflows, rows, cols, depth, width, fill_drain, pipelined):
    """(chosen (dataflows, layers), busy (dataflows,)): per dataflow, the groups per GEMM of
    each layer among `tiling.ladder(1, batch)` whose GEMMs over the bands keep the array
    busy fewest (`terms_kernel.chain_array_floor`; the fewest groups on a tie), and those
    cycles summed over the layers. `band_rows` (layers, bands) are the output rows each layer
    computes in each band (`conv_chain.Bands.rows`), `pixels` each layer's output width ×
    images; `k`, `n`, `batch` its GEMM's."""
    layers, bands = band_rows.shape
    flows = len(dataflows)
    chosen = np.empty((flows, layers), dtype=np.int64)
    busy = np.zeros(flows, dtype=np.int64)
    for i in range(layers):
        computing = 0
        for b in range(bands):
            if band_rows[i, b] > 0:
                computing += 1
        m = np.empty(computing, dtype=np.int64)
        j = 0
        for b in range(bands):
            if band_rows[i, b] > 0:
                m[j] = band_rows[i, b] * pixels[i]
                j += 1
        options = _ladder_to(batch[i])
        cycles = chain_array_floor(m, k[i], n[i], batch[i], dataflows, options, rows, cols, depth, width, fill_drain,
                                   pipelined)  # fmt: skip
        for d in range(flows):
            best = 0
            for o in range(1, len(options)):
                if cycles[d, o] < cycles[d, best]:
                    best = o
            chosen[d, i] = options[best]
            busy[d] += cycles[d, best]
    return chosen, busy


@njit(cache=True, error_model="numpy")
def chain_tile_bytes(
    need, band_rows, lookback, row_elements, pixels, weights, widest, buffers, input_buffer, weight_buffer, output_buffer,
    input_tile, weight_tile, side_tile, input_bits, weight_bits, side_bits, act_bits, accumulator_bits,
):  # fmt: skip
    """Bytes per buffer a chain's bands take, kept tensors aside (`conv_chain.chain_footprint`):
    each layer's line buffer holds the most input rows any band holds (from the oldest band
    `lookback` back to the next band's last row, `need` (layers, bands) cumulative), of
    `row_elements` each (the first layer's only where its input needs tiles, at
    `input_bits`, the others' at `act_bits`); the weights (`weights` elements a layer) where
    they need tiles; two GEMMs' partial sums, of the largest tile any layer computes (its
    most rows in a band × `pixels` × its `widest` GEMM, `conv_chain.widest_piece`), and two
    side-input tiles of the last layer's."""
    layers, bands = need.shape
    demand = np.zeros(buffers, dtype=np.int64)
    line = 0
    for i in range(layers):
        if i == 0 and not input_tile:
            continue
        held = need[i, min(1, bands - 1)]  # band 0: no band before it
        for j in range(1, bands):
            oldest = j - lookback - 1
            rows = need[i, min(j + 1, bands - 1)] - (need[i, oldest] if oldest >= 0 else 0)
            held = max(held, rows)
        line += _nbytes(held * row_elements[i], input_bits if i == 0 else act_bits)
    demand[input_buffer] += line
    if weight_tile:
        for i in range(layers):
            demand[weight_buffer] += _nbytes(weights[i], weight_bits)
    psum = 0
    side = 0
    for i in range(layers):
        most = 0
        for j in range(bands):
            most = max(most, band_rows[i, j])
        tile = most * pixels[i] * widest[i]
        psum = max(psum, _nbytes(tile, accumulator_bits))
        side = _nbytes(tile, side_bits)  # the last layer's
    demand[output_buffer] += 2 * psum
    if side_tile:
        demand[output_buffer] += 2 * side
    return demand
