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

from typing import NamedTuple

import numpy as np

from compiler.scheduling.columns import per_tiling
from compiler.scheduling.estimate import CostTerms
from compiler.scheduling.schedule import SchedulerKind
from compiler.scheduling.shortlist_kernel import space_finalists

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


class TiledShortlist(NamedTuple):
    """`tiled_shortlist`'s findings on the spaces it was given, at one chip bandwidth.

    Attributes:
        finalists: flat positions a · tilings + t of every space's finalists, space after
            space, each space's in the order `shortlist` on its candidates alone finds them.
        counts: finalists of each space.
        estimates, bounds: each finalist's `CostTerms.cycles` and `CostTerms.bound`.
        bound: (arrangements, tilings) `CostTerms.bound` of every candidate of the spaces
            that fits, infinite elsewhere.
        finalist: (arrangements, tilings) whether each candidate is a finalist.
        least: per space, the least bound of a candidate that fits and is not a finalist
            (infinite when there is none).
    """

    finalists: np.ndarray
    counts: np.ndarray
    estimates: np.ndarray
    bounds: np.ndarray
    bound: np.ndarray
    finalist: np.ndarray
    least: np.ndarray


def ascending_compute(compute: np.ndarray, starts: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """Each space's tilings (space s: `starts[s]` to `starts[s] + sizes[s]`, contiguous and
    together every tiling) as indices within the space, in ascending compute cycles, ties in
    tiling order: the order `tiled_shortlist` and the challengers visit a space's tilings in."""
    return np.concatenate([np.argsort(compute[start : start + size], kind="stable")
                           for start, size in zip(np.asarray(starts).tolist(), np.asarray(sizes).tolist())])  # fmt: skip


def tiled_shortlist(
    terms: CostTerms, fits: np.ndarray, rank: np.ndarray, starts: np.ndarray, sizes: np.ndarray, bytes_per_cycle: float,
    by_compute: np.ndarray,
) -> TiledShortlist:
    """HEURISTIC finalists of several factored candidate spaces scored together, with the
    bounds the measure step and the capacity challengers read (`TiledShortlist`), at the
    chip's `bytes_per_cycle`.

    Candidates are (arrangement, tiling) pairs (`candidates.GemmSpace`): `fits` and
    `terms.channel_bytes` are (arrangements, tilings); every other term is per tiling
    ((tilings,), `serial_bytes` (3, tilings); `serial_latency` and `chain` may be scalars),
    `double_buffer` one flag for all; `rank[a, t]` is the candidate's index in its space
    (unique there, the tie-break order). Space s holds tilings `starts[s]` to
    `starts[s] + sizes[s]`, each with a candidate that fits; tilings of no space are ignored.
    `by_compute` is `ascending_compute` of every space's tilings (those listed and the others).
    Per space, its finalists are those `shortlist` on that space's candidates alone finds, in
    its order: per ladder point, the least-ranked candidate of least estimate.

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
    and bound is computed by `CostTerms.cycles`'s and `CostTerms.bound`'s formulas from
    the same numbers (`shortlist_kernel`, one pass over each space), so the winners are
    exactly `np.argmin`'s over all candidates (ties included) and the numbers are theirs.
    """
    if np.ndim(terms.double_buffer) != 0:
        raise ValueError("tiled_shortlist needs one buffering mode for every candidate")
    counted = [np.asarray(a) for a in (terms.compute, terms.floor, terms.channel_bytes, terms.exposed_bytes, terms.tail,
                                       terms.iterations, terms.serial_bytes)]  # fmt: skip
    if any(a.dtype.kind not in "iu" for a in counted):
        raise ValueError("tiled_shortlist needs integer terms (cycles and bytes, as the estimate counts them)")
    size = fits.shape[1]
    return TiledShortlist(*space_finalists(
        *(np.ascontiguousarray(a, dtype=np.int64) for a in counted),
        per_tiling(terms.serial_latency, size), per_tiling(terms.chain, size), bool(terms.double_buffer),
        int(terms.latency), LADDER, np.ascontiguousarray(fits, dtype=bool), np.ascontiguousarray(rank, dtype=np.int64),
        np.asarray(starts, dtype=np.int64), np.asarray(sizes, dtype=np.int64), float(bytes_per_cycle),
        np.asarray(by_compute, dtype=np.int64),
    ))  # fmt: skip
