"""The chip's DRAM PHY (accel_spec.components.dram_phy): CACTI-IO's coefficients summed by hand,
the energy it adds to a run, and a chip whose PHY is off the die."""

from __future__ import annotations

from pathlib import Path

import pytest

from accel_spec import load_accelerator, with_overrides
from accel_spec.components import dram_phy
from accel_spec.technology import resolve
from accel_spec.types import DramType
from tessera.api import simulate

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "accelerators"
PJ = 1e-12


@pytest.mark.parametrize(
    ("dram_type", "coefficients"),
    [
        # CACTI 7 extio_technology.cc, PHY dynamic power coefficients (mW/Gbps): datapath, phase
        # rotator, clock tree, receivers, duty-cycle correction, deskew, leveling, PLL
        (DramType.DDR3, (0.5, 0.01, 0.5, 0.5, 0.05, 0.1, 0.05, 0.05)),
        (DramType.DDR4, (0.5, 0.01, 0.5, 0.5, 0.05, 0.1, 0.05, 0.05)),
        (DramType.LPDDR4X, (0.3, 0.01, 0.4, 0.2, 0.0, 0.0, 0.0, 0.05)),
        (DramType.HBM2E, (0.3, 0.01, 0.2, 0.1, 0.0, 0.0, 0.0, 0.0)),
    ],
)
def test_energy_per_bit_is_the_sum_of_cacti_io_coefficients(dram_type: DramType, coefficients: tuple[float, ...]) -> None:
    assert dram_phy.energy_per_bit(dram_type) == pytest.approx(sum(coefficients) * PJ, rel=1e-12)


def test_every_memory_type_has_a_phy_and_the_borrowed_ones_say_so() -> None:
    for dram_type in DramType:
        assert dram_phy.energy_per_bit(dram_type) > 0
        borrowed = dram_type not in (DramType.DDR3, DramType.DDR4)
        assert dram_phy.source(dram_type).startswith("assumption:") == borrowed, dram_type


def test_a_run_pays_the_phy_on_every_burst_rounded_dram_byte() -> None:
    accel = load_accelerator(EXAMPLES / "edge.yaml")
    result = simulate(accel, "mlp:layers=2,hidden=64,batch=1").result
    total = result.total
    per_byte = 8 * dram_phy.energy_per_bit(accel.dram.type)
    moved = total.channel_read_bytes + total.channel_write_bytes
    assert result.energy_breakdown["dram_phy"] == pytest.approx(moved * per_byte, rel=1e-12)
    assert moved > 0
    assert resolve(accel).sources["dram_phy_energy_per_bit"].startswith("default: LPDDR4X: assumption:")


def test_a_phy_off_the_chip_costs_the_chip_nothing_and_the_provenance_says_why() -> None:
    accel = with_overrides(load_accelerator(EXAMPLES / "edge.yaml"), {"dram.phy_on_chip": False})
    technology = resolve(accel)
    assert technology.dram_phy_energy_per_byte == 0.0
    assert "phy_on_chip is false" in technology.sources["dram_phy_energy_per_bit"]
    assert simulate(accel, "mlp:layers=2,hidden=64,batch=1").result.energy_breakdown["dram_phy"] == 0.0


def test_an_override_replaces_the_figure() -> None:
    accel = with_overrides(load_accelerator(EXAMPLES / "edge.yaml"), {"overrides.dram_phy_energy_per_bit": "2 pJ"})
    technology = resolve(accel)
    assert technology.dram_phy_energy_per_byte == pytest.approx(16 * PJ, rel=1e-12)
    assert technology.sources["dram_phy_energy_per_bit"] == "override"
