"""Numba kernel of `challengers.Pool`: which candidates qualify as capacity challengers.

It takes only arrays (STYLE). One pass over the pool per examined candidate, stopping as
soon as every ladder bandwidth has a rival that beats it; the numpy version built a
(buffers × candidates) mask and a (bandwidths × rivals) comparison for every candidate
examined, three times the rest of a never-seen chip's search.
"""

from __future__ import annotations

import numpy as np

from simulator.kernels.numba_target import njit


@njit(cache=True, error_model="numpy")
def qualifying(demand, ladder, rank, examined):
    """For each candidate index in `examined`, whether at some row of `ladder` (estimates,
    bandwidths × candidates) no rival, a candidate whose `demand` (buffers × candidates) is
    nowhere larger, has a lower estimate, or an equal one and a lower `rank`."""
    buffers, count = demand.shape
    rows = ladder.shape[0]
    found = np.zeros(len(examined), dtype=np.bool_)
    beaten = np.zeros(rows, dtype=np.bool_)
    for j in range(len(examined)):
        x = examined[j]
        beaten[:] = False
        left = rows
        for y in range(count):
            if y == x:
                continue
            rival = True
            for b in range(buffers):
                if demand[b, y] > demand[b, x]:
                    rival = False
                    break
            if not rival:
                continue
            for r in range(rows):
                if not beaten[r] and (ladder[r, y] < ladder[r, x] or (ladder[r, y] == ladder[r, x] and rank[y] < rank[x])):
                    beaten[r] = True
                    left -= 1
            if left == 0:
                break
        found[j] = left > 0
    return found
