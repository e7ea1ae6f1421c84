"""What a search minimises: latency, energy or their product, and how a measured layer scores.

The search (`strategies`) picks finalists without looking at the DRAM bandwidth and then
measures them (`measure`): it simulates each finalist's layer and keeps the one whose
measurement scores lowest on the `Goal`. Latency scores the simulated cycles; energy scores
the layer's events times the chip's per-event energies plus its leakage over its cycles
(`simulator.energy`, the same formula the results report); EDP their product. Energy needs
the chip's `Technology`, which the goal carries.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum

import numpy as np

from accel_spec.technology import Technology
from accel_spec.types import IdentityHashed
from compiler.target import Target
from compiler.target.isa import Program
from simulator.kernels.engines import COL_CYCLES
from simulator.result import Counts


LayerRows = tuple[np.ndarray, np.ndarray, tuple[str, ...]]
"""A measured layer's counters and SRAM bits (`Counts` of one layer) and its name."""


class Objective(IdentityHashed, Enum):
    """What schedules are chosen for."""

    LATENCY = "latency"
    ENERGY = "energy"
    EDP = "edp"


@dataclass(frozen=True)
class Goal:
    """An objective, with the technology that prices energy (needed unless LATENCY)."""

    objective: Objective = Objective.LATENCY
    technology: Technology | None = None

    def __post_init__(self) -> None:
        if self.objective is not Objective.LATENCY and self.technology is None:
            raise ValueError(f"the {self.objective.value} objective needs the chip's technology")

    def key(self) -> tuple:
        """Hashable: everything that changes a score (for the schedule memo)."""
        if self.objective is Objective.LATENCY:
            return (self.objective,)
        return (self.objective, _technology_key(self.technology))

    def score(self, counts: Counts, program: Program, chip: Target) -> float:
        """The measured layer's score: cycles, joules, or joules × cycles."""
        rows = (counts.counters, counts.sram_bits, program.layer_names)
        return self.score_of(int(counts.counters[0, COL_CYCLES]), lambda: rows, chip)

    def score_of(self, cycles: int, rows: Callable[[], LayerRows], chip: Target) -> float:
        """`score` of a layer measured at `cycles`, its counters, SRAM bits and name given by
        `rows` only where the objective reads them (energy, EDP)."""
        if self.objective is Objective.LATENCY:
            return float(cycles)
        from simulator.run import build_result

        energy = build_result(*rows(), chip, self.technology).total.energy_j
        return energy if self.objective is Objective.ENERGY else energy * cycles


def _technology_key(technology: Technology) -> tuple:
    """Every number of a `Technology` that prices an event, as a hashable tuple."""
    parts = []
    for name, value in sorted(vars(technology).items()):
        if name in ("area", "sources"):
            continue
        if hasattr(value, "items"):
            value = tuple(sorted((str(k), v) for k, v in value.items()))
        parts.append((name, value))
    return tuple(parts)
