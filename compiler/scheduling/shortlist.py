"""The finalists of a search: candidates chosen without looking at the DRAM bandwidth.

The search measures its finalists (`compiler.scheduling.measure`) and keeps the fastest.
The simulator is monotone in bandwidth: with a fixed program, more bandwidth never delays
an instruction. The minimum over a fixed set of monotone functions is monotone, so if the
set of finalists does not depend on the bandwidth, neither can the choice make a layer
slower when the bandwidth grows. That is the rule here: finalists are picked by the
estimate evaluated at a fixed LADDER of bandwidths (1 to 1024 bytes per cycle, doubling:
from a narrow DRAM channel at a fast clock to HBM at a slow one, then unlimited), every
other term (compute, bytes, latency, buffering) being the chip's own:

    finalists = ∪ over B in LADDER of the candidates estimated best at B

Each finalist is thus optimal, by the estimate, for some bandwidth, and lies on the Pareto
front of the bandwidth-independent terms (compute, channel bytes, exposed bytes,
iterations) since the estimate grows with each of them. A chip whose bandwidth is on the
ladder finds its own estimate-best candidate among them. The unlimited point is the limit
of the others (transfers take no channel time, latency still counts): it makes the
fewest, largest tiles that pay the array's fill and drain least a finalist, which a chip
faster than the last finite point (or one with effectively unlimited DRAM, as the
SCALE-Sim comparison's) needs, and which the measure step otherwise prunes by its bound.

  HEURISTIC   the best candidate per ladder point (at most 12 finalists);
  EXHAUSTIVE  per ladder point, the best candidate of each of the `EXHAUSTIVE_PER_POINT`
              least distinct estimates.

Ties between equal estimates go to the lower candidate index: candidate spaces are built
in a fixed order, so every rule above is a function of bandwidth-independent data only.

`tiled_shortlist` finds the HEURISTIC finalists of many spaces at once without estimating
every candidate at every ladder point: candidates of one tiling that differ only in loop
order are dominated by the one moving the fewest bytes (proof in its docstring).
"""

from __future__ import annotations

import numpy as np

from compiler.scheduling.estimate import CostTerms
from compiler.scheduling.schedule import SchedulerKind
from compiler.scheduling.shortlist_kernel import ladder_winners

LADDER = np.append(2.0 ** np.arange(0, 11), np.inf)
"""Reference DRAM bandwidths in bytes per cycle (a fixed, chip-independent ladder)."""

EXHAUSTIVE_PER_POINT = 4


def shortlist(terms: CostTerms, fits: np.ndarray, kind: SchedulerKind) -> np.ndarray:
    """Indices of the finalists among candidates that fit, without repeats (module doc)."""
    cycles = np.where(fits, terms.cycles(LADDER[:, None]), np.inf)
    if kind is SchedulerKind.EXHAUSTIVE:
        ranked = [_least_distinct(row, EXHAUSTIVE_PER_POINT) for row in cycles]
        order = np.array([row[rank] for rank in range(EXHAUSTIVE_PER_POINT) for row in ranked if rank < len(row)])
        _, first = np.unique(order, return_index=True)
        return order[np.sort(first)]
    winners = np.argmin(cycles, axis=1)
    _, first = np.unique(winners, return_index=True)
    return winners[np.sort(first)]


def _least_distinct(cycles: np.ndarray, count: int) -> np.ndarray:
    """The lowest-indexed candidate of each of the `count` least finite estimates, best
    first. Distinct estimates, not the `count` best candidates: a tiling's loop orders
    that move the same bytes tie, and would fill every place with one program."""
    order = np.argsort(cycles, kind="stable")
    ranked = cycles[order]
    first = np.flatnonzero(np.isfinite(ranked) & (ranked != np.concatenate(([-np.inf], ranked[:-1]))))
    return order[first[:count]]


def tiled_shortlist(terms: CostTerms, fits: np.ndarray, rank: np.ndarray, starts: np.ndarray) -> list[np.ndarray]:
    """HEURISTIC finalists of several factored candidate spaces scored together.

    Candidates are (arrangement, tiling) pairs (`candidates.GemmSpace`): `fits` and
    `terms.channel_bytes` are (arrangements, tilings); every other term is per tiling
    ((tilings,)), `double_buffer` one flag for all; `rank[a, t]` is the candidate's index
    in its space (unique there, the tie-break order). Space s holds tilings `starts[s]` up
    to the next start, each space with a candidate that fits. Returns, per space, flat
    positions a · tilings + t of its finalists in the order `shortlist` on that space's
    candidates alone finds them: per ladder point, the least-ranked candidate of least
    estimate.

    Why it need not estimate every candidate at every ladder point: within one tiling the
    candidates differ only in channel bytes, and `CostTerms.cycles` is non-decreasing in
    the channel bytes D at any bandwidth b. In exact arithmetic it is built from D by
    D / b, sums with terms that do not depend on D, max and a positive halving, each
    non-decreasing in D; IEEE-754 rounds every such operation to nearest, a
    non-decreasing map, so the computed float64 is non-decreasing in D as well. Hence a
    tiling's least estimate at b is its estimate at its least channel bytes among the
    candidates that fit (its representative), the space's least estimate is the least
    representative, and every candidate attaining it belongs to a tiling whose
    representative attains it. Only those tilings, usually one per space and point, are
    expanded to all their arrangements to find the least-ranked winner. Every estimate
    compared is computed by `CostTerms.cycles`'s formula from the same numbers
    (`shortlist_kernel`, one pass over the tilings per ladder point), so the winners are
    exactly `np.argmin`'s over all candidates (ties included).
    """
    if np.ndim(terms.double_buffer) != 0:
        raise ValueError("tiled_shortlist needs one buffering mode for every candidate")
    counted = [np.asarray(a) for a in (terms.compute, terms.channel_bytes, terms.exposed_bytes, terms.tail, terms.iterations)]
    if any(a.dtype.kind not in "iu" for a in counted):
        raise ValueError("tiled_shortlist needs integer terms (cycles and bytes, as the estimate counts them)")
    starts = np.asarray(starts, dtype=np.int64)
    winners = ladder_winners(
        *(np.ascontiguousarray(a, dtype=np.int64) for a in counted),
        bool(terms.double_buffer), int(terms.latency), LADDER, np.ascontiguousarray(fits, dtype=bool),
        np.ascontiguousarray(rank, dtype=np.int64), starts, np.diff(np.append(starts, fits.shape[1])),
    )  # fmt: skip
    return [np.array(list(dict.fromkeys(column)), dtype=np.int64) for column in winners.T.tolist()]
