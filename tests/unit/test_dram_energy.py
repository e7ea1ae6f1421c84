"""DRAM energy per bit from datasheet currents (accel_spec.components.dram), against hand
calculations of DRAMPower's method and against Horowitz's published DDR3 range."""

from __future__ import annotations

import pytest

from accel_spec.components import dram
from accel_spec.types import DramType

PJ = 1e-12


def test_ddr3_read_and_write_by_hand() -> None:
    """Micron DDR3-1600 x8: a burst of 8 beats moves 64 bits in 4 × 1.25 ns."""
    burst_s, bits = 5e-9, 64
    activation = 1.5 * (70 * 38 - 45 * 28 - 45 * 10) * 1e-3 * 1.25e-9  # J, one page of 128 bursts
    read = (1.5 * (140 - 45) * 1e-3 * burst_s + activation / 128) / bits + 4.6e-3 * 0.625e-9
    write = (1.5 * (145 - 45) * 1e-3 * burst_s + activation / 128) / bits + 21.2e-3 * 0.625e-9
    assert dram.read_energy_per_bit(DramType.DDR3) == pytest.approx(read, rel=1e-12)
    assert dram.write_energy_per_bit(DramType.DDR3) == pytest.approx(write, rel=1e-12)


def test_lpddr4_counts_every_rail_and_its_vddq_is_the_io() -> None:
    """Micron LPDDR4-3200 x16: 16 beats of 16 bits in 8 × 0.625 ns; VDD1 1.8 V, VDD2 and VDDQ 1.1 V."""
    burst_s, bits, cycle = 5e-9, 256, 0.625e-9
    activation = (
        1.8 * (3.5 * 97 - 2.25 * 68 - 2.0 * 29) + 1.1 * (45 * 97 - 30 * 68 - 27 * 29) + 1.1 * 0.75 * (97 - 68 - 29)
    ) * 1e-3 * cycle  # fmt: skip
    core = (1.1 * (275 - 30) * 1e-3 * burst_s + activation / 64) / bits
    io = 1.1 * (150 - 0.75) * 1e-3 * burst_s / bits
    assert dram.LPDDR4_DEVICE.per_bit(write=False) == pytest.approx((core, io), rel=1e-12)
    assert dram.read_energy_per_bit(DramType.LPDDR4) == pytest.approx(core + io, rel=1e-12)


def test_ddr4_pseudo_open_drain_io_by_hand() -> None:
    """A low bit draws VDDQ through 34 Ω + 50 Ω for one unit interval (1 / 2400 MT/s); half the bits are low."""
    _, io = dram.DDR4_DEVICE.per_bit(write=False)
    assert io == pytest.approx(0.5 * 1.2**2 / 84 / 2.4e9, rel=1e-12)


def test_datasheet_ddr3_brackets_horowitzs_published_range() -> None:
    """Horowitz (ISSCC 2014): DDR3 1.3-2.6 nJ per 64-bit access. Streamed pages cost less than
    its low end, an activation per 64-bit burst more than its high end."""
    device = dram.DDR3_DEVICE
    low, high = 1.3e-9 / 64, 2.6e-9 / 64
    streamed = [sum(device.per_bit(write)) for write in (False, True)]
    shared = device.activation_joules() / (device.columns * device.width)
    random = [joules - shared + device.activation_joules() / device.burst_bits for joules in streamed]
    assert min(streamed) < low < high < max(random)


@pytest.mark.parametrize(
    ("scaled", "family"),
    [
        (DramType.DDR5, DramType.DDR4),
        (DramType.LPDDR4X, DramType.LPDDR4),
        (DramType.LPDDR5, DramType.LPDDR4),
        (DramType.LPDDR5X, DramType.LPDDR4),
    ],
)
def test_a_type_at_lower_supplies_never_costs_more_than_its_datasheet_family(scaled: DramType, family: DramType) -> None:
    assert dram.read_energy_per_bit(scaled) < dram.read_energy_per_bit(family)
    assert dram.write_energy_per_bit(scaled) < dram.write_energy_per_bit(family)
    assert dram.source(scaled).startswith("assumption:") and family.value in dram.source(scaled)


@pytest.mark.parametrize("kind", list(dram.DEVICES))
def test_datasheet_types_cite_their_memspec_and_method(kind: DramType) -> None:
    source = dram.source(kind)
    assert "memspecs/MICRON_" in source and "Chandrasekar" in source and "whole DRAM pages" in source
