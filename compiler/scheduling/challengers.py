"""Capacity-monotone search: the candidates the measure step adds to a layer's finalists.

The finalists (`shortlist`) are the estimate's best candidates among those that fit the
buffers. The estimate is not the simulator, so a candidate that fits only in larger buffers
can displace a finalist the simulator finds faster, and the chosen layer gets slower as the
buffers grow: an artifact in every sweep over capacities. Measured before this rule, on the
edge chip with every buffer four times larger: BERT's fc1 19,511 → 23,443 cycles (a loop
order tied on the estimate, which moves partial sums more, took the finalist's place), a
3×3 convolution 36,141 → 37,471 (a tiling the estimate ranks 5 % faster than it is).

The rule: a candidate x is also measured when it would be a finalist if the buffers held
exactly what x needs, i.e. when at some ladder bandwidth no candidate needing no more than x
in any buffer has a lower estimate, or an equal one and a lower index (the shortlist's
tie-break). Whether x qualifies depends on the candidates' demands and estimates, not on the
capacities: a larger chip qualifies every candidate a smaller one does, and every finalist
qualifies (its rivals needing no more than it are among those that fit). A candidate's
simulated cycles do not depend on the capacities either, so the best over a set that only
grows with them never gets slower. Only candidates whose lower bound (`CostTerms.bound`) is
below the best measured so far are examined, so the extra measurements are the few the
estimate misjudges.

Exact where no candidate changes variant with the capacities: a GEMM tile that spills its
partial sums in small buffers keeps them in larger ones (demand and terms of the variant at
hand), a vector constant sliced per chunk becomes resident. The guarantee is for cycles: a
search for energy or EDP measures the same challengers (pruned by cycles, `measure.best`), so
it never loses to the latency search on its own objective, but its choice may still move
either way with capacity.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np

from compiler.scheduling.challengers_kernel import qualified_below
from compiler.scheduling.estimate import CostTerms
from compiler.scheduling.schedule import LayerSchedule
from compiler.scheduling.shortlist import LADDER


@dataclass(frozen=True)
class Candidates:
    """One layer's candidate space, factored as (arrangements, tilings) (one arrangement
    for a flat list of candidates); candidates that do not fit have an infinite bound. The
    arrays may hold the spaces of other layers too (a network's spaces scored together,
    `batched`): this layer's are the tilings of `own`.

    Attributes:
        terms: the estimate terms: `channel_bytes` (arrangements, tilings), the others and
            `double_buffer` per tiling.
        bound: (arrangements, tilings) `CostTerms.bound` at the chip's bandwidth, infinite
            where the candidate does not fit.
        demand: (buffers, arrangements, tilings) bytes each needs in each buffer
            (`Footprint.demand`).
        rank: (arrangements, tilings) their indices in the space, the shortlist's tie-break
            order.
        spill: (arrangements, tilings) whether each spills partial sums (its code depends on it).
        schedule: the schedule of the candidate (arrangement, tiling).
        finalist: (arrangements, tilings) whether each is one of the layer's finalists, which
            the measure step measures anyway: a rival of the others, never examined itself
            (every finalist qualifies, so examining one would only confirm it).
        own: the tilings of this layer's space.
        by_compute: (tilings,) each space's tilings, indices within it, in ascending compute
            cycles (ties in tiling order): the order the kernel passes over rivals in.
    """

    terms: CostTerms
    bound: np.ndarray
    demand: np.ndarray
    rank: np.ndarray
    spill: np.ndarray
    schedule: Callable[[int, int], LayerSchedule]
    finalist: np.ndarray
    own: slice
    by_compute: np.ndarray

    def challengers(self, lowest: Callable[[], float], measured: set[LayerSchedule]) -> Iterator[tuple[LayerSchedule, bool]]:
        """(schedule, spill) of each qualifying candidate (module doc) that is not a finalist
        nor in `measured` and whose bound is below `lowest()`, the best score so far (read
        again before each): least bound first, so the first that cannot win ends the search."""
        terms, tilings = self.terms, self.bound.shape[1]
        double_buffer = terms.double_buffer if np.ndim(terms.double_buffer) else np.full(tilings, bool(terms.double_buffer))
        qualified = qualified_below(
            lowest(), self.own.start, self.own.stop, self.bound, self.finalist, self.demand, self.rank, terms.compute,
            terms.channel_bytes, terms.exposed_bytes, terms.tail, terms.iterations, double_buffer, terms.latency, LADDER,
            self.by_compute,
        )  # fmt: skip
        for index in qualified.tolist():
            arrangement, tiling = divmod(index, tilings)
            if self.bound[arrangement, tiling] >= lowest():
                return
            schedule = self.schedule(arrangement, tiling)
            if schedule not in measured:
                yield schedule, bool(self.spill[arrangement, tiling])


@dataclass(frozen=True)
class Pool:
    """A layer's `Candidates`, made only when a measurement leaves room for one of them.

    Attributes:
        floor: the least bound (`CostTerms.bound`) of any candidate that may be examined (a
            finalist is not), at the chip's bandwidth.
        candidates: makes the candidates.
    """

    floor: float
    candidates: Callable[[], Candidates]

    def challengers(self, lowest: Callable[[], float], measured: set[LayerSchedule]) -> Iterator[tuple[LayerSchedule, bool]]:
        """`Candidates.challengers`; none when no candidate's bound is below `lowest()`."""
        if self.floor < lowest():
            yield from self.candidates().challengers(lowest, measured)
