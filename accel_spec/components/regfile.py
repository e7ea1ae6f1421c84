"""Register files: per-PE storage too shallow for an SRAM macro, built from flip-flops.

An SRAM macro amortises its decoders and sense amplifiers over many rows; the CACTI table the
`sram` model is fitted to builds none shallower than `MAX_WORDS` natively, so a shallower
per-PE store is a register file (Eyeriss builds its 12- and 24-word scratchpads from registers
and its 224-word one in SRAM: Chen et al., JSSC 2017, Table IV). One is modelled as:

- one flip-flop per bit (Aladdin's register, `pe.REGISTER_*`);
- a read multiplexer of words - 1 two-input muxes per bit, each costed as one bit of Aladdin's
  bitwise unit (area and leakage); a read switches the log2(words) levels on the selected path;
- a write enable per word, which synthesis turns into a clock gate: a word's flip-flops take a
  clock edge only when it is written, so their internal (clock) energy is paid per write, not
  per cycle. The clock tree is still charged to every one of their bits every cycle (`clock`):
  an assumption, since beyond a word's gate the tree toggles only on a write; no source at hand
  gives the share of a tree's energy beyond its gates (docs/technology.md, "Where the power goes").

Energies and areas here are at Aladdin's 40 nm library; `technology` scales them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from accel_spec.components import Constant
from accel_spec.components.pe import ALADDIN_2014, REGISTER_AREA_M2, REGISTER_CLOCK_J, REGISTER_LEAKAGE_W, REGISTER_WRITE_J

_ALADDIN_BIT = ALADDIN_2014.replace("REG_1ns_* (per bit)", "BIT_1ns_* (bitwise AND/OR/XOR unit, 32 bits)")

MAX_WORDS = Constant(
    "regfile_max_words",
    64,
    "words",
    "assumption: the shallowest macro the CACTI table (accel_spec/components/cacti_sram_45nm.json) builds "
    "natively and the SRAM fit uses (64 rows); per-PE storage with fewer words is a register file",
)
GATE_ENERGY_J = Constant(
    "regfile_mux_gate_energy",
    1.805590e-2 * 1e-3 * 1e-9 / 32,
    "J per bit per level",
    _ALADDIN_BIT + " BIT_1ns_dynamic_energy 1.805590e-2 (mW at 1 GHz) / 32 bits",
)
GATE_AREA_M2 = Constant(
    "regfile_mux_gate_area", 5.036996e1 * 1e-12 / 32, "m² per 2:1 mux bit", _ALADDIN_BIT + " BIT_1ns_area 50.36996 µm² / 32 bits"
)
GATE_LEAKAGE_W = Constant(
    "regfile_mux_gate_leakage",
    6.111633e-4 * 1e-3 / 32,
    "W per 2:1 mux bit",
    _ALADDIN_BIT + " BIT_1ns_leakage_power 6.111633e-4 mW / 32 bits",
)

CONSTANTS = (MAX_WORDS, GATE_ENERGY_J, GATE_AREA_M2, GATE_LEAKAGE_W)


@dataclass(frozen=True)
class RegisterFile:
    """One register file at Aladdin's 40 nm: joules per word access, watts, square metres.

    Attributes:
        words, word_bits: its shape.
        read_energy: one word read through the multiplexer.
        write_energy: one word written, clock edge of its flip-flops included.
        leakage: static watts of flip-flops and multiplexer.
        area: flip-flops and multiplexer cells.
    """

    words: int
    word_bits: int
    read_energy: float
    write_energy: float
    leakage: float
    area: float

    @property
    def bits(self) -> int:
        return self.words * self.word_bits


def fits(capacity_bytes: int, word_bits: int) -> bool:
    """True when a store of this size is a register file rather than an SRAM macro."""
    return capacity_bytes * 8 // word_bits < MAX_WORDS.value


def register_file_40nm(capacity_bytes: int, word_bits: int) -> RegisterFile:
    """A register file of `capacity_bytes` in words of `word_bits` (at least one word)."""
    if capacity_bytes <= 0 or word_bits <= 0:
        raise ValueError("a register file needs a positive capacity and word width")
    words = max(1, capacity_bytes * 8 // word_bits)
    bits = words * word_bits
    mux_bits = (words - 1) * word_bits
    levels = math.ceil(math.log2(words)) if words > 1 else 0
    return RegisterFile(
        words=words,
        word_bits=word_bits,
        read_energy=word_bits * levels * GATE_ENERGY_J.value,
        write_energy=word_bits * (REGISTER_WRITE_J.value + REGISTER_CLOCK_J.value),
        leakage=bits * REGISTER_LEAKAGE_W.value + mux_bits * GATE_LEAKAGE_W.value,
        area=bits * REGISTER_AREA_M2.value + mux_bits * GATE_AREA_M2.value,
    )
