"""Numba kernel of `shortlist.tiled_shortlist`: each space's finalists, and every candidate's
lower bound at the chip's bandwidth.

It takes only arrays and scalars (STYLE). Candidates are (arrangement, tiling) pairs of
factored spaces (`candidates.GemmSpace`), every term but the channel bytes per tiling. Per
space and ladder bandwidth it finds the least estimate from each tiling's representative
(its least channel bytes among the arrangements that fit: the estimate is non-decreasing in
them, `tiled_shortlist`'s docstring), then the least-ranked fitting candidate of the tilings
that attain it whose own estimate equals it. Estimates are `challengers_kernel.estimate`,
`CostTerms.cycles`'s formula in its order of operations, and bounds `CostTerms.bound`'s, so
every comparison is the one the numpy version made on the same floats. Per bandwidth a
space's tilings are visited in ascending compute cycles (`by_compute`), and the first whose
compute cycles exceed the least estimate found so far ends the visit: an estimate is never
below its compute term, every other term a non-negative time, so neither it nor any later
tiling could be the least (the winner is the least-ranked candidate of least estimate, so the
order of the visit does not change it). In the same pass over
a space it finds what the measure step and the capacity challengers read: the finalists'
estimates and bounds at the chip's bandwidth, every fitting candidate's bound, and the least
bound of those that are not finalists. One kernel call for a network's spaces replaced a
dozen numpy passes over every candidate (and their temporaries) and a Python loop over the
spaces.
"""

from __future__ import annotations

import numpy as np

from compiler.scheduling.challengers_kernel import estimate
from simulator.kernels.engines import _ceil_cycles
from simulator.kernels.numba_target import njit


MOST_BYTES = np.iinfo(np.int64).max
"""More channel bytes than any candidate moves: where a tiling's search for its fewest starts
(a constant of the kernel's code; calling `np.iinfo` inside a kernel links its code to Numba's
NumPy implementations, which loading it from the cache would then import)."""


@njit(cache=True, error_model="numpy")
def space_finalists(
    compute, floor, channel_bytes, exposed_bytes, tail, iterations, serial_bytes, serial_latency, chain, double_buffer,
    latency, ladder, fits, rank, starts, sizes, bytes_per_cycle, by_compute,
):  # fmt: skip
    """Space s is tilings starts[s] .. starts[s] + sizes[s], with a candidate that fits;
    `by_compute` holds each space's tilings (indices within it) in ascending compute cycles,
    at the space's positions. Returns (finalists, counts, estimates, bounds, bound, finalist,
    least):

    * finalists: flat positions a · tilings + t of every space's finalists, space after
      space, each space's in the order its ladder bandwidths first pick them (per bandwidth
      the least `rank` among the fitting candidates of least estimate); counts: how many
      each space has; estimates, bounds: theirs at `bytes_per_cycle`;
    * bound: (arrangements, tilings) every fitting candidate's bound at `bytes_per_cycle`,
      infinite where it does not fit or its space is not listed; finalist: whether each is a
      finalist; least: per space, the least bound of a fitting candidate that is not one."""
    arrangements, tilings = fits.shape
    spaces = len(starts)
    rungs = len(ladder)
    bound = np.full((arrangements, tilings), np.inf)
    finalist = np.zeros((arrangements, tilings), dtype=np.bool_)
    least = np.full(spaces, np.inf)
    finalists = np.empty(spaces * rungs, dtype=np.int64)
    counts = np.zeros(spaces, dtype=np.int64)
    estimates = np.empty(spaces * rungs)
    bounds = np.empty(spaces * rungs)
    least_bytes = np.zeros(tilings, dtype=np.int64)
    fitting = np.zeros(tilings, dtype=np.bool_)
    representative = np.empty(tilings)
    least_bound = np.empty(tilings)  # per tiling, its fitting candidates' least bound
    holds_finalist = np.zeros(tilings, dtype=np.bool_)
    found = 0
    for s in range(spaces):
        first, end = starts[s], starts[s] + sizes[s]
        for t in range(first, end):
            # `CostTerms.bound` in its operations: the serial transfers' cycles
            # (`timing.transfer_cycles`, one-byte bursts) summed in order, then the maxima
            serial = 0
            for row in range(3):
                serial += _ceil_cycles(serial_bytes[row, t] / bytes_per_cycle)
            series = float(floor[t] + serial + serial_latency[t])
            # selections, not branches, on whether each fits: they follow no pattern, and the
            # mispredicted branches cost more than bounding every candidate
            fewest = MOST_BYTES
            lowest_bound = np.inf
            for a in range(arrangements):
                lower = max(float(floor[t]), channel_bytes[a, t] / bytes_per_cycle)
                bound[a, t] = max(max(lower, series), float(chain[t])) if fits[a, t] else np.inf
                lowest_bound = min(lowest_bound, bound[a, t])
                fewest = min(fewest, channel_bytes[a, t] if fits[a, t] else fewest)
                fitting[t] = fitting[t] or fits[a, t]
            least_bytes[t] = fewest
            least_bound[t] = lowest_bound
        space_first = found
        for r in range(rungs):
            lowest = np.inf
            visited = end - first  # positions of `by_compute` estimated at this bandwidth
            for k in range(first, end):
                t = first + by_compute[k]
                if fitting[t]:
                    if compute[t] > lowest:  # no estimate is below its compute term: not the least, nor any after it
                        visited = k - first
                        break
                    representative[t] = estimate(compute[t], least_bytes[t], exposed_bytes[t], tail[t], iterations[t],
                                                 double_buffer, latency, ladder[r])  # fmt: skip
                    lowest = min(lowest, representative[t])
            best_rank = -1  # none yet (ranks are positions in the space, from 0)
            winner = -1
            for k in range(first, first + visited):
                t = first + by_compute[k]
                if not fitting[t] or representative[t] != lowest:
                    continue
                for a in range(arrangements):
                    if fits[a, t] and (best_rank < 0 or rank[a, t] < best_rank):
                        own = estimate(compute[t], channel_bytes[a, t], exposed_bytes[t], tail[t], iterations[t],
                                       double_buffer, latency, ladder[r])  # fmt: skip
                        if own == lowest:
                            best_rank = rank[a, t]
                            winner = a * tilings + t
            if winner < 0:
                continue
            a, t = winner // tilings, winner % tilings
            if finalist[a, t]:
                continue
            finalist[a, t] = True
            finalists[found] = winner
            estimates[found] = estimate(compute[t], channel_bytes[a, t], exposed_bytes[t], tail[t], iterations[t],
                                        double_buffer, latency, bytes_per_cycle)  # fmt: skip
            bounds[found] = bound[a, t]
            found += 1
        counts[s] = found - space_first
        for j in range(space_first, found):
            holds_finalist[finalists[j] % tilings] = True
        for t in range(first, end):  # a tiling without finalists adds its least bound, the others their other candidates'
            if holds_finalist[t]:
                for a in range(arrangements):
                    least[s] = min(least[s], np.inf if finalist[a, t] else bound[a, t])  # infinite unless it fits
            else:
                least[s] = min(least[s], least_bound[t])
    return finalists[:found], counts, estimates[:found], bounds[:found], bound, finalist, least
