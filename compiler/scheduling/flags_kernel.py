"""Numba kernel of `memo.candidate_flags`: every tiling's fit and spill flags as one word.

It takes only arrays (STYLE). A memo key holds, for each candidate of a space, whether it
fits and whether it spills (`memo` module doc); a candidate grid holds them as (rows,
tilings) arrays, a row per arrangement. Packing each tiling's column into one 64-bit word, in
one pass over the rows (`memo.candidate_flags` keeps its lowest bytes), replaced numpy's
`packbits` over the transposed rows (a strided copy of every flag first): 85 against 385 us
for a MobileNetV2 network's 10,000 tilings, keys of the same size.
"""

from __future__ import annotations

import numpy as np

from simulator.kernels.numba_target import njit

MAX_ROWS = 32
"""Rows of flags a word holds: two bits per row (fit, spill) in 64 bits."""


@njit(cache=True)
def tiling_words(fits, spill):
    """(tilings,) uint64: bit r of tiling t's word is `fits[r, t]`, bit rows + r is
    `spill[r, t]` (`fits` and `spill` (rows, tilings) booleans, rows at most `MAX_ROWS`)."""
    rows, tilings = fits.shape
    words = np.zeros(tilings, dtype=np.uint64)
    for r in range(rows):
        fit_bit, spill_bit = np.uint64(1) << np.uint64(r), np.uint64(1) << np.uint64(rows + r)
        for t in range(tilings):
            if fits[r, t]:
                words[t] |= fit_bit
            if spill[r, t]:
                words[t] |= spill_bit
    return words
