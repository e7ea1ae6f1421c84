"""Derived quantities against hand computation on small hand-written chips."""

from __future__ import annotations

from pathlib import Path

import pytest

from accel_spec.components.floorplan import LOGIC_LAYOUT_FACTOR
from accel_spec.components.pe import ALADDIN_PROCESS
from accel_spec.components.scaling import Process

from accel_spec import derive, load_accelerator, resolve, with_overrides

TINY = Path(__file__).parents[2] / "examples" / "accelerators" / "tiny.yaml"


@pytest.fixture(scope="module")
def tiny():
    return load_accelerator(TINY)


def test_tiny_by_hand(tiny) -> None:
    d = derive(tiny)
    assert d.peak_macs_per_cycle == 16  # 4 × 4
    assert d.peak_ops_per_second == pytest.approx(2 * 16 * 100e6)
    assert d.peak_tops == pytest.approx(0.0032)
    assert d.dram_bytes_per_cycle == pytest.approx(1e9 / 100e6)  # 10
    assert d.ridge_point == pytest.approx(3.2e9 / 1e9)
    assert d.sram_bytes == 1024 + 1024 + 256
    assert d.dram_latency_cycles == pytest.approx(10)
    assert d.mac_energy_pj == pytest.approx(0.3)
    assert d.total_area_mm2 == pytest.approx(sum(d.area_mm2.values()))
    # multiplier + adder (Horowitz, 419 µm²) and 48 register bits (Aladdin's 40 nm bit scaled to
    # 45 nm), placed: times the logic layout factor
    register_mm2 = 5.981433e-6 * Process(45, 0.9).area_from(ALADDIN_PROCESS)
    cells = 16 * (419e-6 + 48 * register_mm2)
    assert d.area_mm2["matrix"] == pytest.approx(cells * LOGIC_LAYOUT_FACTOR.value)
    assert d.total_area_mm2 == pytest.approx(resolve(tiny).total_area * 1e6)


def test_derived_follows_overrides(tiny) -> None:
    chip = with_overrides(tiny, {"matrix.rows": 8, "clock": "200 MHz", "dram.bandwidth": "4 GB/s"})
    d = derive(chip)
    assert d.peak_macs_per_cycle == 32
    assert d.peak_ops_per_second == pytest.approx(2 * 32 * 200e6)
    assert d.dram_bytes_per_cycle == pytest.approx(20)
    assert d.ridge_point == pytest.approx(2 * 32 * 200e6 / 4e9)
    assert d.dram_latency_cycles == pytest.approx(20)
    assert d.area_mm2["matrix"] == pytest.approx(2 * derive(tiny).area_mm2["matrix"])
