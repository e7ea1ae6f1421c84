"""Layers' code simulated as one program, and the counts of every layer code simulated so far.

Codegen separates layers by a barrier (`compiler.codegen.program`): every engine starts a
layer only after the previous layer's last instruction, when the channel and every engine
are idle. A layer simulated after others is therefore the same layer shifted in time: its
counters and SRAM bits are exactly those it has alone, and its instructions' cycles are its
own shifted by the cycles the layers before it add. So the measure step simulates a round
of layers (one schedule of each) as one program, one kernel call (`measure.best_of_each`);
and a network's result is its layers' counts stacked, each taken from `LAYER_COUNTS` where
the search already simulated that code on this chip (it simulates every schedule it
chooses), the rest simulated together.

Every program simulated here passes `simulator.run`'s checks first, as a whole program
does (`validated_execute`), on the chip it runs on; a network whose layers' cycles add up
past the kernel's counters is refused (`simulator.run.run_layers`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from accel_spec.technology import Technology
from compiler.scheduling.memo import BoundedCache
from compiler.target import Target
from compiler.target.isa import Program
from simulator.kernels.engines import COL_CYCLES
from simulator.result import Counts, SimResult
from simulator.run import run_layers, validated_execute

if TYPE_CHECKING:
    from compiler.codegen.layout import LayerCode

LAYER_COUNTS: BoundedCache[tuple["LayerCode", np.ndarray, np.ndarray]] = BoundedCache(capacity=2_000_000)
"""(code, counters row, SRAM bits row) of each layer code simulated, by the chip's timing
(`Target.key_without_capacity`: the kernel reads every field but the capacities) and the
code's identity. An entry holds its code, so no other code takes that identity while it is
kept. Cost: the code's instructions (the rows are 400 bytes or so; the codes are mostly
those `codegen.memo.CODE` holds anyway)."""


class Simulated:
    """Layers' code (`names`: each one's layer name) simulated on `chip` as one program.

    `fresh`: simulate every layer (`layer` then gives each one's instruction cycles);
    otherwise a layer whose counts `LAYER_COUNTS` holds for this chip is taken from it, and
    only the others are simulated (none: no kernel call). Either way every layer simulated
    is recorded there.
    """

    def __init__(self, codes: Sequence[LayerCode], names: Sequence[str], chip: Target, fresh: bool = False) -> None:
        self._codes, self._names = codes, names
        timing = chip.key_without_capacity
        known = [None if fresh else _kept(timing, code) for code in codes]
        run = [index for index, entry in enumerate(known) if entry is None]
        self._run = run
        self._counts: Counts | None = None
        if run:
            self._counts = _simulate([codes[i] for i in run], [names[i] for i in run], chip)
            for array in (self._counts.counters, self._counts.sram_bits):
                array.flags.writeable = False  # `LAYER_COUNTS` keeps their rows
            for row, index in enumerate(run):
                counters, bits = self._counts.counters[row], self._counts.sram_bits[row]
                known[index] = (codes[index], counters, bits)
                LAYER_COUNTS.put((timing, id(codes[index])), known[index], cost=max(len(codes[index].instructions), 1))
        if self._counts is not None and len(run) == len(codes):  # every layer simulated here: the kernel's rows
            counters, sram_bits = self._counts.counters, self._counts.sram_bits
        else:
            # `np.array` of equal rows, not `np.stack`: a quarter of the time for a network's rows
            counters = np.array([entry[1] for entry in known])  # type: ignore[index]
            sram_bits = np.array([entry[2] for entry in known])  # type: ignore[index]
        self.counters: np.ndarray = counters
        """(layers, counters) each layer's counters."""
        self.sram_bits: np.ndarray = sram_bits
        """(layers, buffers, 2) each layer's SRAM bits read and written."""
        self.cycles: list[int] = self.counters[:, COL_CYCLES].tolist()
        """Each layer's cycles."""

    def rows(self, index: int) -> tuple[np.ndarray, np.ndarray, tuple[str]]:
        """Layer `index`'s counters and SRAM bits (one row each) and its name, as
        `build_result` reads them."""
        return self.counters[index : index + 1], self.sram_bits[index : index + 1], (self._names[index],)

    def layer(self, index: int) -> tuple[Counts, Program]:
        """The counts of layer `index` as if it had run alone, and its program (a fresh
        simulation's layers only: the counts kept hold no instruction cycles)."""
        if len(self._run) != len(self._codes):
            raise ValueError("a layer's instruction cycles are known only where it was simulated (fresh=True)")
        code, counts = self._codes[index], self._counts
        assert counts is not None
        program = Program(code.instructions, code.dep_ptr, code.deps, (self._names[index],))
        first = sum(len(earlier.instructions) for earlier in self._codes[:index])
        last, began = first + len(program), sum(self.cycles[:index])
        layer_counts = Counts(counts.start[first:last] - began, counts.end[first:last] - began,
                              self.counters[index : index + 1], self.sram_bits[index : index + 1])  # fmt: skip
        return layer_counts, program


def network_result(
    codes: Sequence[LayerCode], names: tuple[str, ...], chip: Target, technology: Technology, *, activation_zeros: float = 0.0
) -> SimResult:
    """The result of a network whose layers have `codes` (`names`), as `simulator.run` gives
    it for their whole program (without a trace): each layer's counts kept where the search
    simulated its code on this chip, the others simulated together (`Simulated`), summed by
    `simulator.run.run_layers`."""
    layers = Simulated(codes, names, chip)
    return run_layers(layers.counters, layers.sram_bits, names, chip, technology, activation_zeros=activation_zeros)


def _kept(timing: tuple, code: LayerCode) -> tuple[LayerCode, np.ndarray, np.ndarray] | None:
    """The `LAYER_COUNTS` entry of `code` on a chip of `timing`, if it holds this very code."""
    entry = LAYER_COUNTS.get((timing, id(code)))
    return entry if entry is not None and entry[0] is code else None


def _simulate(codes: Sequence[LayerCode], names: Sequence[str], chip: Target) -> Counts:
    """The counts of `codes` simulated as one program (checked first)."""
    if len(codes) == 1:
        (code,) = codes
        return validated_execute(Program(code.instructions, code.dep_ptr, code.deps, tuple(names)), chip)
    from compiler.codegen.program import assemble  # codegen imports scheduling's geometry

    return validated_execute(assemble(list(codes), tuple(names)), chip)
