"""Numba kernel of `challengers.Candidates`: which candidates qualify as capacity challengers.

It takes only arrays (STYLE). The candidates are a factored space, (arrangements, tilings)
(`candidates.GemmSpace`; one arrangement for a flat list). For each examined candidate it
passes once over the candidates that fit, stopping as soon as every ladder bandwidth has a
rival that beats it. A rival's estimate is computed only at the bandwidths no rival has
beaten the candidate at yet, by `CostTerms.cycles`'s formula in its order of operations (so
the values are the same floats; `tests/unit/test_capacity_monotone.py` checks it): the
numpy version estimated every candidate a measurement's bound left in play at every ladder
bandwidth and gathered their terms first, which cost ten times the comparisons, and a
per-call table of every candidate's estimates at every bandwidth cost more to allocate than
the few it saved.
"""

from __future__ import annotations

import numpy as np

from simulator.kernels.numba_target import njit


@njit(cache=True, error_model="numpy")
def estimate(compute, channel_bytes, exposed_bytes, tail, iterations, double_buffer, latency, bytes_per_cycle):
    """`CostTerms.cycles` of one candidate at `bytes_per_cycle`, in the same operations."""
    dram = channel_bytes / bytes_per_cycle
    if not double_buffer:
        return compute + dram + (iterations + 1) * latency
    exposed = exposed_bytes / bytes_per_cycle
    exposed += 2 * latency
    exposed += tail
    latency_bound = compute + dram
    latency_bound += iterations * latency
    latency_bound /= 2
    overlapped = max(float(compute), dram)
    overlapped = max(overlapped, latency_bound)
    return overlapped + exposed


@njit(cache=True, error_model="numpy")
def qualifying(
    demand, rank, compute, channel_bytes, exposed_bytes, tail, iterations, double_buffer, latency, ladder, examined, rivals,
    first, by_compute, others,
):  # fmt: skip
    """For each flat index (arrangement × tilings + tiling) in `examined`, whether at some
    bandwidth of `ladder` no rival has a lower estimate, or an equal one and a lower `rank`;
    a rival is another candidate, of `rivals` (flat indices) or of `others` (arrangements,
    tilings `first` on: tiling `first + t` at `t`), whose `demand` (buffers, arrangements,
    tilings) is nowhere larger. The estimate terms are `CostTerms`'s: `channel_bytes`
    (arrangements, tilings), the others and `double_buffer` per tiling.

    The result does not depend on the order of `rivals`, only the time: the search ends for
    a candidate once every bandwidth has a rival that beats it, so rivals likely to beat many
    (the finalists, each the best at some bandwidth) go first. A rival whose compute cycles
    exceed the candidate's estimate at every bandwidth still open is passed over
    unestimated: an estimate is never below its compute term (every other term is a
    non-negative time), so it cannot beat the candidate there, nor tie. `by_compute` lists
    the tilings of `others` (their indices there) in ascending compute cycles, so the first
    such tiling ends the pass over `others`: every later one has as many compute cycles, and the open estimates only fall.
    (Most candidates that qualify are beaten at no bandwidth, and a pass over every rival of
    a few thousand, one at a time, cost most of the kernel's time.)"""
    rows = len(ladder)
    arrangements = others.shape[0]
    found = np.zeros(len(examined), dtype=np.bool_)
    beaten = np.zeros(rows, dtype=np.bool_)
    own = np.empty(rows)
    tilings = demand.shape[2]
    for j in range(len(examined)):
        xa, xt = examined[j] // tilings, examined[j] % tilings
        for r in range(rows):
            own[r] = estimate(compute[xt], channel_bytes[xa, xt], exposed_bytes[xt], tail[xt], iterations[xt],
                              double_buffer[xt], latency, ladder[r])  # fmt: skip
        beaten[:] = False
        left = rows
        ceiling = _highest_unbeaten(own, beaten)  # the candidate's highest estimate no rival beats yet
        listed = len(rivals)
        for p in range(listed + len(by_compute) * arrangements):  # the rivals listed, then `others` by compute
            if p < listed:
                ya, yt = rivals[p] // tilings, rivals[p] % tilings
                if compute[yt] > ceiling:  # no estimate is below its compute term
                    continue
            else:
                s, ya = (p - listed) // arrangements, (p - listed) % arrangements
                yt = first + by_compute[s]
                if compute[yt] > ceiling:  # nor at any later tiling
                    break
                if not others[ya, by_compute[s]]:
                    continue
            if ya == xa and yt == xt:
                continue
            opened = left
            left = _challenge(ya, yt, xa, xt, demand, rank, compute, channel_bytes, exposed_bytes, tail, iterations,
                              double_buffer, latency, ladder, own, beaten, left)  # fmt: skip
            if left < opened:
                ceiling = _highest_unbeaten(own, beaten)
            if left == 0:
                break
        found[j] = left > 0
    return found


@njit(cache=True, error_model="numpy")
def _challenge(ya, yt, xa, xt, demand, rank, compute, channel_bytes, exposed_bytes, tail, iterations, double_buffer, latency,
               ladder, own, beaten, left):  # fmt: skip
    """`left` (bandwidths at which no rival beats candidate (xa, xt) yet) after rival (ya,
    yt), marking in `beaten` those it beats: none unless its demand is nowhere larger."""
    for b in range(demand.shape[0]):
        if demand[b, ya, yt] > demand[b, xa, xt]:
            return left
    for r in range(len(ladder)):
        if beaten[r]:
            continue
        y = estimate(compute[yt], channel_bytes[ya, yt], exposed_bytes[yt], tail[yt], iterations[yt], double_buffer[yt],
                     latency, ladder[r])  # fmt: skip
        if y < own[r] or (y == own[r] and rank[ya, yt] < rank[xa, xt]):
            beaten[r] = True
            left -= 1
    return left


@njit(cache=True, error_model="numpy")
def _highest_unbeaten(own, beaten):
    """The highest of `own` where not `beaten` (0 when every one is). A loop, not `own.max()`:
    an array method links a kernel's cached code to Numba's NumPy implementations, which
    loading it then imports (with SciPy's linear algebra, 15 MiB a process)."""
    highest = 0.0
    for r in range(len(own)):
        if not beaten[r] and own[r] > highest:
            highest = own[r]
    return highest


@njit(cache=True, error_model="numpy")
def qualified_below(
    limit, first, last, bound, finalist, demand, rank, compute, channel_bytes, exposed_bytes, tail, iterations,
    double_buffer, latency, ladder, by_compute,
):  # fmt: skip
    """Flat indices (a · tilings + t) of the candidates of tilings `first` to `last` (one
    space of a grid of several: the others are no one's rivals) that
    `challengers.Candidates.challengers` examines below `limit` (a `bound` below it, not a
    `finalist`) and that qualify (`qualifying`), least bound first (ties in flat order).
    Rivals are every candidate of the space that fits (a finite bound): the finalists first,
    then the examined, then the rest, by the space's tilings in ascending compute cycles
    (`by_compute[first:last]`, indices within the space)."""
    arrangements, tilings = bound.shape
    count = arrangements * (last - first)
    examined = np.empty(count, dtype=np.int64)
    rivals = np.empty(count, dtype=np.int64)
    others = np.zeros((arrangements, last - first), dtype=np.bool_)
    examined_count = 0
    rival_count = 0
    for a in range(arrangements):
        for t in range(first, last):
            if finalist[a, t]:
                rivals[rival_count] = a * tilings + t
                rival_count += 1
            elif bound[a, t] < limit:
                examined[examined_count] = a * tilings + t
                examined_count += 1
            else:
                others[a, t - first] = bound[a, t] < np.inf
    examined = examined[:examined_count]
    keys = np.empty(examined_count)
    for j in range(examined_count):
        keys[j] = bound[examined[j] // tilings, examined[j] % tilings]
    examined = examined[np.argsort(keys, kind="mergesort")]
    rivals[rival_count : rival_count + examined_count] = examined
    rival_count += examined_count
    found = qualifying(demand, rank, compute, channel_bytes, exposed_bytes, tail, iterations, double_buffer, latency, ladder,
                       examined, rivals[:rival_count], first, by_compute[first:last], others)  # fmt: skip
    return examined[found]
