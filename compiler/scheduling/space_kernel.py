"""Numba kernel of `candidates.gemm_space`: a GEMM shape's tilings and each candidate's index.

It takes only arrays and scalars (STYLE). `gemm_space` reduces the shape and the chip to the
tile sizes of M, K and N and the packings of each dataflow (`candidates._tile_options`,
`_group_options`); this kernel crosses them in the space's order (dataflow by dataflow, then
tile M, K, N, and the packing fastest) and numbers every (arrangement, tiling) candidate as
`gemm_candidates` lists them: tile, then arrangement (loop order, buffering), then packing.
A never-seen chip builds the space of every GEMM shape of the network; in numpy that was a
dozen small arrays per dataflow, each costing more to make than to fill.
"""

from __future__ import annotations

import numpy as np

from simulator.kernels.numba_target import njit


@njit(cache=True, error_model="numpy")
def space_tables(options, lengths, dataflows, arrangements):
    """(values, dataflow, index) of the tilings crossed from `options`, the flat tile sizes of
    M, K, N and packings of each dataflow, `lengths[d]` of each in that order: values (4,
    tilings) the tiles of M, K, N and the packing; dataflow (tilings,) `dataflows[d]`;
    index (arrangements, tilings) each candidate's position in the space's candidate list."""
    total = 0
    for d in range(len(lengths)):
        total += lengths[d, 0] * lengths[d, 1] * lengths[d, 2] * lengths[d, 3]
    values = np.empty((4, total), dtype=np.int64)
    dataflow = np.empty(total, dtype=np.int64)
    index = np.empty((arrangements, total), dtype=np.int64)
    tiling = 0
    offset = 0  # candidates of the dataflows before
    start = 0  # this dataflow's first option
    for d in range(len(lengths)):
        first_m = start
        first_k = first_m + lengths[d, 0]
        first_n = first_k + lengths[d, 1]
        first_g = first_n + lengths[d, 2]
        packings = lengths[d, 3]
        start = first_g + packings
        tile = 0
        for i in range(lengths[d, 0]):
            for j in range(lengths[d, 1]):
                for k in range(lengths[d, 2]):
                    for g in range(packings):
                        values[0, tiling] = options[first_m + i]
                        values[1, tiling] = options[first_k + j]
                        values[2, tiling] = options[first_n + k]
                        values[3, tiling] = options[first_g + g]
                        dataflow[tiling] = dataflows[d]
                        for a in range(arrangements):
                            index[a, tiling] = offset + (tile * arrangements + a) * packings + g
                        tiling += 1
                    tile += 1
        offset += tile * arrangements * packings
    return values, dataflow, index
