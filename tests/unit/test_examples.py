"""Every example chip loads, and its headline numbers match hand computation from its sources."""

from __future__ import annotations

from pathlib import Path

import pytest
from rich.console import Console

from accel_spec import derive, load_accelerator, spec_hash
from accel_spec.report import derived_table

EXAMPLES = Path(__file__).parents[2] / "examples" / "accelerators"
NAMES = ["tpu_v1", "eyeriss", "gemmini", "edge", "datacenter_bf16", "tiny", "tpu_v5e"]
KiB, MiB = 1024, 1024**2

# name: (MACs/cycle, peak ops/s, DRAM bytes/cycle, on-chip SRAM bytes), each by hand
EXPECTED = {
    "tpu_v1": (256 * 256, 2 * 65536 * 700e6, 34e9 / 700e6, 24 * MiB + 256 * KiB + 4 * MiB),
    "eyeriss": (12 * 14, 2 * 168 * 200e6, 1.6e9 / 200e6, 108 * KiB + 168 * 224 * 2),
    "gemmini": (16 * 16, 2 * 256 * 1e9, 16e9 / 1e9, 256 * KiB + 64 * KiB),
    "edge": (64 * 64, 2 * 4096 * 500e6, 17.064e9 / 500e6, 4 * MiB + 2 * MiB + 256 * KiB),
    "datacenter_bf16": (128 * 128, 2 * 16384 * 1.05e9, 150e9 / 1.05e9, 28 * MiB),
    "tiny": (16, 2 * 16 * 100e6, 10.0, 2304),
    "tpu_v5e": (4 * 128 * 128, 2 * 65536 * 1.5e9, 819e9 / 1.5e9, 128 * MiB),
}


def test_tpu_v5e_peak_is_googles_197_tflops() -> None:
    """Four 128×128 MXUs × 2 ops × 1.5 GHz = 196.6 TFLOPs, the 197 bf16 TFLOPs Google publishes."""
    assert derive(load_accelerator(EXAMPLES / "tpu_v5e.yaml")).peak_tops == pytest.approx(196.608)


def test_every_example_is_listed() -> None:
    assert sorted(p.stem for p in EXAMPLES.glob("*.yaml")) == sorted(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_example_derived_numbers(name: str) -> None:
    accel = load_accelerator(EXAMPLES / f"{name}.yaml")
    d = derive(accel)
    macs, ops, bytes_per_cycle, sram = EXPECTED[name]
    assert accel.name == name
    assert d.peak_macs_per_cycle == macs
    assert d.peak_ops_per_second == pytest.approx(ops)
    assert d.dram_bytes_per_cycle == pytest.approx(bytes_per_cycle)
    assert d.sram_bytes == sram
    assert d.ridge_point == pytest.approx(ops / (bytes_per_cycle * accel.clock))
    assert 0 < d.total_area_mm2 < 800 and d.mac_energy_pj > 0


def test_tpu_v1_headline_numbers() -> None:
    d = derive(load_accelerator(EXAMPLES / "tpu_v1.yaml"))
    assert d.peak_macs_per_cycle == 65536
    assert d.peak_tops == pytest.approx(91.7504)  # Jouppi et al. quote 92 TOPS
    assert d.dram_bytes_per_cycle == pytest.approx(48.571428, rel=1e-6)
    assert d.dram_latency_cycles == pytest.approx(70)


def test_examples_have_distinct_hashes_and_render() -> None:
    hashes = {spec_hash(load_accelerator(EXAMPLES / f"{n}.yaml")) for n in NAMES}
    assert len(hashes) == len(NAMES)
    console = Console(width=120, record=True)
    console.print(derived_table(load_accelerator(EXAMPLES / "tpu_v1.yaml")))
    text = console.export_text()
    for fragment in ("700 MHz", "28 nm", "65,536", "91.75 TOPS", "24 MiB", "34 GB/s", "48.57"):
        assert fragment in text
