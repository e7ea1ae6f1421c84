"""Numba kernel of `shortlist.tiled_shortlist`: each space's winner at each ladder bandwidth.

It takes only arrays and scalars (STYLE). Candidates are (arrangement, tiling) pairs of
factored spaces (`candidates.GemmSpace`), every term but the channel bytes per tiling. Per
space and ladder bandwidth it finds the least estimate from each tiling's representative
(its least channel bytes among the arrangements that fit: the estimate is non-decreasing in
them, `tiled_shortlist`'s docstring), then the least-ranked fitting candidate of the tilings
that attain it whose own estimate equals it. Estimates are `challengers_kernel.estimate`,
`CostTerms.cycles`'s formula in its order of operations, so every comparison is the one
the numpy version made on the same floats; one pass over the tilings per bandwidth instead
of a dozen (ladder × tilings) temporaries.
"""

from __future__ import annotations

import numpy as np

from compiler.scheduling.challengers_kernel import estimate
from simulator.kernels.numba_target import njit


@njit(cache=True, error_model="numpy")
def ladder_winners(compute, channel_bytes, exposed_bytes, tail, iterations, double_buffer, latency, ladder, fits, rank,
                   starts, sizes):  # fmt: skip
    """(ladder points, spaces) flat position a · tilings + t of each space's winner at each
    ladder bandwidth: the least `rank` among the fitting candidates of least estimate; -1
    where no candidate of the space fits. Space s is tilings starts[s] .. starts[s] + sizes[s]."""
    arrangements, tilings = fits.shape
    least_bytes = np.zeros(tilings, dtype=np.int64)
    fitting = np.zeros(tilings, dtype=np.bool_)
    for t in range(tilings):
        for a in range(arrangements):
            if fits[a, t] and (not fitting[t] or channel_bytes[a, t] < least_bytes[t]):
                least_bytes[t] = channel_bytes[a, t]
                fitting[t] = True
    winners = np.full((len(ladder), len(starts)), -1, dtype=np.int64)
    representative = np.empty(tilings)
    for s in range(len(starts)):
        first, end = starts[s], starts[s] + sizes[s]
        for r in range(len(ladder)):
            least = np.inf
            for t in range(first, end):
                if fitting[t]:
                    representative[t] = estimate(compute[t], least_bytes[t], exposed_bytes[t], tail[t], iterations[t],
                                                 double_buffer, latency, ladder[r])  # fmt: skip
                    least = min(least, representative[t])
            best_rank = -1  # none yet (ranks are positions in the space, from 0)
            for t in range(first, end):
                if not fitting[t] or representative[t] != least:
                    continue
                for a in range(arrangements):
                    if fits[a, t] and (best_rank < 0 or rank[a, t] < best_rank):
                        own = estimate(compute[t], channel_bytes[a, t], exposed_bytes[t], tail[t], iterations[t],
                                       double_buffer, latency, ladder[r])  # fmt: skip
                        if own == least:
                            best_rank = rank[a, t]
                            winners[r, s] = a * tilings + t
    return winners
