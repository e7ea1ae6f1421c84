"""Component models of a chip's energy and area, one module per component, each constant cited.

- `scaling`: process node, supply voltage and device flavour; how energy, area and leakage
  move from the node a constant was published at to the chip's.
- `pe`: multipliers and adders by precision, pipeline registers, PE-to-PE forwarding.
- `sram`: SRAM macros (buffers and per-PE scratchpads) from CACTI 7: read/write energy, area
  and leakage by capacity, word width, banks and ports.
- `interconnect`: wires between buffers and the array, and between neighbouring PEs.
- `dram`: energy per bit read and written, by memory type.
- `dram_phy`: the chip's DRAM PHY, energy per bit moved, by memory type.
- `regfile`: per-PE storage too shallow for an SRAM macro, built from flip-flops.
- `clock`: the clock tree, per register bit it reaches.
- `floorplan`: from cells to placed blocks (layout factors), and the control block.
- `vector`: the SIMD lanes.
- `leakage`: static power of logic by area.
- `chip_defaults`: timing values a chip file may leave out (DRAM latency and burst, vector
  rates), each with its source.

Every default is a `Constant` (value, unit, source with page or table); `all_constants()`
lists them for `docs/technology.md`, whose table a test checks against these values.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Constant:
    """A published number: its value in SI units (or as stated), unit and source.

    Attributes:
        name: identifier used in the docs table and in provenance strings.
        value: the number as used by the model.
        unit: unit of `value` as written in the docs table.
        source: publication and the page, table or figure it is read from, or
            ``assumption: ...`` where no source gives the number.
    """

    name: str
    value: float
    unit: str
    source: str


def all_constants() -> tuple[Constant, ...]:
    """Every default constant of the component models, in module order."""
    from accel_spec.components import (
        chip_defaults, clock, dram, dram_phy, floorplan, interconnect, leakage, pe, regfile, sram,
    )  # fmt: skip

    return (
        *pe.CONSTANTS, *regfile.CONSTANTS, *sram.CONSTANTS, *interconnect.CONSTANTS, *clock.CONSTANTS,
        *floorplan.CONSTANTS, *leakage.CONSTANTS, *dram.CONSTANTS, *dram_phy.CONSTANTS, *chip_defaults.CONSTANTS,
    )  # fmt: skip
