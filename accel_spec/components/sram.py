"""SRAM macros: energy per access, area and leakage by capacity, word width, banks and ports.

The numbers are CACTI 7's (45 nm, itrs-lstp cells), from the table `cacti_sram_45nm.json`
that `tools/sram_cacti_table.py` regenerates. CACTI picks each macro's internal organisation
by an optimisation, so neighbouring points are noisy (a 4-bank 4 KiB macro can be smaller than
a 16-bank one); the model is therefore a power law in capacity and word width fitted to the
single-bank, single-port macros CACTI builds natively (depth >= 64 words, width >= 32 bits):

    q(C, w) = q_1KiB,64b · (C / 1 KiB)^α · (w / 64 bit)^β        for read, write, leakage, area

A buffer of `banks` banks is `banks` macros of C / banks each, so banking is a trade-off:
each access touches a smaller array (less energy, α > 0) but every bank has its own decoders
and sense amplifiers (more area, area exponent α < 1), and the word travels across the whole
buffer to its port (`interconnect.htree_mm`, which grows with the buffer). Extra ports cost
CACTI's median factor per doubling of ports (two-port against one-port macros of the table).
Results are at 45 nm; `scaled` moves them to the chip's node (energy and leakage by
Stillmaker & Baas's energy ratio, area by the 6T bitcell ratio).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

from accel_spec.components import Constant

TABLE = Path(__file__).with_name("cacti_sram_45nm.json")
CACTI_SOURCE = (
    "CACTI 7.0 (Balasubramonian et al., ACM TACO 14(2), 2017) via hwcomponents-cacti 1.0.40, 45 nm "
    "itrs-lstp, accel_spec/components/cacti_sram_45nm.json; power law fitted to its native single-bank "
    "single-port macros"
)
REFERENCE_BYTES = 1024
REFERENCE_BITS = 64

# Fitted by `fit_power_law` to the committed table (tests/unit/test_components.py re-fits and
# compares): (value at 1 KiB and 64 bits, capacity exponent α, width exponent β).
READ = (1.7734e-12, 0.5640, 0.7643)
WRITE = (2.9664e-12, 0.4725, 0.8980)
LEAKAGE = (3.3821e-08, 0.9596, -0.01528)
AREA = (3.7086e-09, 0.9656, 0.1360)
# Median ratio of CACTI's two-port to one-port macros over the whole table (read, write,
# leakage, area), applied once per doubling of ports.
PORT_FACTOR = (2.539, 2.511, 1.323, 2.246)

CONSTANTS = (
    Constant("sram_read_energy_1KiB_64b_45nm", READ[0], "J per access", CACTI_SOURCE),
    Constant("sram_read_capacity_exponent", READ[1], "", CACTI_SOURCE),
    Constant("sram_read_width_exponent", READ[2], "", CACTI_SOURCE),
    Constant("sram_write_energy_1KiB_64b_45nm", WRITE[0], "J per access", CACTI_SOURCE),
    Constant("sram_write_capacity_exponent", WRITE[1], "", CACTI_SOURCE),
    Constant("sram_write_width_exponent", WRITE[2], "", CACTI_SOURCE),
    Constant("sram_leakage_1KiB_64b_45nm", LEAKAGE[0], "W", CACTI_SOURCE),
    Constant("sram_leakage_capacity_exponent", LEAKAGE[1], "", CACTI_SOURCE),
    Constant("sram_leakage_width_exponent", LEAKAGE[2], "", CACTI_SOURCE),
    Constant("sram_area_1KiB_64b_45nm", AREA[0], "m²", CACTI_SOURCE),
    Constant("sram_area_capacity_exponent", AREA[1], "", CACTI_SOURCE),
    Constant("sram_area_width_exponent", AREA[2], "", CACTI_SOURCE),
    Constant("sram_second_port_read_factor", PORT_FACTOR[0], "x", CACTI_SOURCE),
    Constant("sram_second_port_write_factor", PORT_FACTOR[1], "x", CACTI_SOURCE),
    Constant("sram_second_port_leakage_factor", PORT_FACTOR[2], "x", CACTI_SOURCE),
    Constant("sram_second_port_area_factor", PORT_FACTOR[3], "x", CACTI_SOURCE),
)


@dataclass(frozen=True)
class Macro:
    """One SRAM buffer at 45 nm (all banks): joules per word access, watts, square metres."""

    read_energy: float
    write_energy: float
    leakage: float
    area: float
    word_bits: float

    @property
    def read_energy_per_byte(self) -> float:
        return self.read_energy / (self.word_bits / 8)

    @property
    def write_energy_per_byte(self) -> float:
        return self.write_energy / (self.word_bits / 8)


def _law(coefficients: tuple[float, float, float], capacity: float, width: float) -> float:
    value, alpha, beta = coefficients
    return value * (capacity / REFERENCE_BYTES) ** alpha * (width / REFERENCE_BITS) ** beta


def macro_45nm(capacity: float, word_bits: float, banks: int = 1, ports: int = 1) -> Macro:
    """A buffer of `capacity` bytes in `banks` banks, each access moving `word_bits` from one bank.

    Energy per access is the bank's (routing to the port is charged by `interconnect`); area and
    leakage are the sum of the banks'.
    """
    if capacity <= 0 or word_bits <= 0 or banks < 1 or ports < 1:
        raise ValueError("an SRAM macro needs a positive capacity, word width, bank and port count")
    bank = capacity / banks
    doublings = math.log2(ports)
    read_f, write_f, leak_f, area_f = (factor**doublings for factor in PORT_FACTOR)
    return Macro(
        read_energy=_law(READ, bank, word_bits) * read_f,
        write_energy=_law(WRITE, bank, word_bits) * write_f,
        leakage=banks * _law(LEAKAGE, bank, word_bits) * leak_f,
        area=banks * _law(AREA, bank, word_bits) * area_f,
        word_bits=word_bits,
    )


@cache
def cacti_rows() -> tuple[tuple[float, ...], ...]:
    """The committed CACTI table's rows: capacity, width, banks, ports, read J, write J, leakage W, area m²."""
    return tuple(tuple(row) for row in json.loads(TABLE.read_text(encoding="utf-8"))["rows"])


def fit_power_law(column: int) -> tuple[float, float, float]:
    """Least-squares fit in log space of one table column over the native single-bank,
    single-port macros: (value at 1 KiB and 64 bits, capacity exponent, width exponent)."""
    rows = np.array(cacti_rows())
    capacity, width, banks, ports = rows[:, 0], rows[:, 1], rows[:, 2], rows[:, 3]
    native = (capacity * 8 / width >= 64) & (width >= 32) & (banks == 1) & (ports == 1)
    design = np.stack(
        [np.ones(native.sum()), np.log(capacity[native] / REFERENCE_BYTES), np.log(width[native] / REFERENCE_BITS)], 1
    )
    (log_value, alpha, beta), *_ = np.linalg.lstsq(design, np.log(rows[native, column]), rcond=None)
    return float(np.exp(log_value)), float(alpha), float(beta)


def port_factor(column: int) -> float:
    """Median ratio of a two-port to the one-port macro of the same capacity, width and banks."""
    rows = cacti_rows()
    single = {row[:3]: row for row in rows if row[3] == 1}
    return float(np.median([row[column] / single[row[:3]][column] for row in rows if row[3] == 2]))
