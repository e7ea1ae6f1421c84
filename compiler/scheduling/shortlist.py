"""The finalists of a search: candidates chosen without looking at the DRAM bandwidth.

The search measures its finalists (`compiler.scheduling.measure`) and keeps the fastest.
The simulator is monotone in bandwidth: with a fixed program, more bandwidth never delays
an instruction. The minimum over a fixed set of monotone functions is monotone, so if the
set of finalists does not depend on the bandwidth, neither can the choice make a layer
slower when the bandwidth grows. That is the rule here: finalists are picked by the
estimate evaluated at a fixed LADDER of bandwidths (1 to 1024 bytes per cycle, doubling:
from a narrow DRAM channel at a fast clock to HBM at a slow one), every other term
(compute, bytes, latency, buffering) being the chip's own:

    finalists = ∪ over B in LADDER of the candidates estimated best at B

Each finalist is thus optimal, by the estimate, for some bandwidth, and lies on the Pareto
front of the bandwidth-independent terms (compute, channel bytes, exposed bytes,
iterations) since the estimate grows with each of them. A chip whose bandwidth is on the
ladder finds its own estimate-best candidate among them.

  HEURISTIC   the best candidate per ladder point (at most 11 finalists);
  EXHAUSTIVE  the `EXHAUSTIVE_PER_POINT` best per ladder point.

Ties between equal estimates go to the lower candidate index: candidate spaces are built
in a fixed order, so every rule above is a function of bandwidth-independent data only.
"""

from __future__ import annotations

import numpy as np

from compiler.scheduling.estimate import CostTerms
from compiler.scheduling.schedule import SchedulerKind

LADDER = 2.0 ** np.arange(0, 11)
"""Reference DRAM bandwidths in bytes per cycle (a fixed, chip-independent ladder)."""

EXHAUSTIVE_PER_POINT = 4


def shortlist(terms: CostTerms, fits: np.ndarray, kind: SchedulerKind) -> np.ndarray:
    """Indices of the finalists among candidates that fit, without repeats (module doc)."""
    cycles = np.where(fits, terms.cycles(LADDER[:, None]), np.inf)
    if kind is SchedulerKind.EXHAUSTIVE:
        per_point = min(EXHAUSTIVE_PER_POINT, int(fits.sum()))
        best = np.argpartition(cycles, per_point - 1, axis=1)[:, :per_point]
        ranked = np.take_along_axis(best, np.lexsort((best, np.take_along_axis(cycles, best, 1))), 1)
        order = ranked.T.ravel()
        _, first = np.unique(order, return_index=True)
        return order[np.sort(first)]
    winners = np.argmin(cycles, axis=1)
    _, first = np.unique(winners, return_index=True)
    return winners[np.sort(first)]


def segment_shortlist(terms: CostTerms, fits: np.ndarray, starts: np.ndarray) -> list[np.ndarray]:
    """HEURISTIC finalists of several candidate spaces scored together, one array each.

    Candidates of space s occupy `starts[s]` up to the next start (each space non-empty and
    with a candidate that fits); the indices returned are into the whole set. Per space and
    ladder point the winner is the first candidate of least estimate, as `np.argmin` picks
    it in `shortlist` on that space alone, found for all spaces at once: the segment
    minimum, then the least index attaining it.
    """
    cycles = np.where(fits, terms.cycles(LADDER[:, None]), np.inf)
    sizes = np.diff(np.append(starts, cycles.shape[1]))
    segment = np.repeat(np.arange(len(starts)), sizes)
    least = np.minimum.reduceat(cycles, starts, axis=1)
    index = np.where(cycles == least[:, segment], np.arange(cycles.shape[1]), cycles.shape[1])
    winners = np.minimum.reduceat(index, starts, axis=1)
    finalists = []
    for column in winners.T:
        _, first = np.unique(column, return_index=True)
        finalists.append(column[np.sort(first)])
    return finalists
