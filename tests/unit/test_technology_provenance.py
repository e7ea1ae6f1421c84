"""No plausible wrong answer: every energy/area constant says where it came from.

A chip that leaves a constant unset gets the cited default, and the result says so
(`technology_sources` in `tessera simulate --json`, and in a sweep's manifest); a constant
set in the chip, or swept by an `overrides.*` axis, is marked as an override.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from accel_spec import load_accelerator, with_overrides
from accel_spec.technology import resolve
from explorer import execute_sweep
from explorer.fake_evaluator import FakeEvaluator
from tessera.api import simulate

ROOT = Path(__file__).resolve().parents[2]
TINY = ROOT / "examples" / "accelerators" / "tiny.yaml"
CONSTANTS = {
    "process", "mac_energy", "register_energy_per_bit", "clock_energy_per_bit", "wire_energy_per_bit_mm",
    "mac_area", "register_area", "forwarding_energy", "sram_area", "sram_read_energy_per_byte:inputs",
    "sram_write_energy_per_byte:inputs", "sram_read_energy_per_byte:weights", "sram_write_energy_per_byte:weights",
    "sram_read_energy_per_byte:accumulators", "sram_write_energy_per_byte:accumulators", "vector_lane_area",
    "vector_op_energy", "interconnect_energy", "dram_read_energy_per_bit", "dram_write_energy_per_bit",
    "dram_phy_energy_per_bit", "leakage",
    "clock_tree", "layout",
}  # fmt: skip
TIMING = {
    "dram_latency", "dram_burst", "dram_outstanding", "vector_rate:elementwise", "vector_rate:transcendental",
    "vector_rate:reduction",
}  # fmt: skip


def test_unset_constants_use_cited_defaults_and_the_result_says_so() -> None:
    sources = simulate(TINY, "gemm:m=8,k=8,n=8").to_json()["technology_sources"]
    assert set(sources) == CONSTANTS | TIMING
    for name, source in sources.items():
        assert source.startswith("chip: " if name == "process" else "default: "), (name, source)
        markers = ("2011", "2014", "2015", "2017", "2018", "bits x", "assumption:", "JESD79-4", "CUDA C++ Programming Guide")
        assert any(marker in source for marker in markers), (name, source)


def test_timing_values_a_chip_sets_are_marked_as_the_chips() -> None:
    """DRAM latency, burst, outstanding bursts and vector rates: the cited default where the chip
    leaves it, ``chip`` with the value where it sets its own."""
    chip = with_overrides(
        load_accelerator(TINY),
        {"dram.latency": "70 ns", "dram.burst": 32, "dram.outstanding": 8, "vector.throughput.transcendental": 0.5},
    )
    sources = simulate(chip, "gemm:m=8,k=8,n=8").to_json()["technology_sources"]
    assert sources["dram_latency"] == "chip: 70 ns"
    assert sources["dram_burst"] == "chip: 32 B"
    assert sources["dram_outstanding"] == "chip: 8 bursts in flight"
    assert sources["vector_rate:transcendental"] == "chip: 0.5"
    assert sources["vector_rate:elementwise"].startswith("default: 1, assumption:")


def test_an_override_is_marked_and_is_the_number_used() -> None:
    chip = with_overrides(load_accelerator(TINY), {"overrides.mac_energy": "3 pJ"})
    simulation = simulate(chip, "gemm:m=8,k=8,n=8")
    document = simulation.to_json()
    assert document["technology_sources"]["mac_energy"] == "override"
    assert all(document["technology_sources"][name].startswith("default: ") for name in CONSTANTS - {"mac_energy", "process"})
    assert document["energy_breakdown_j"]["mac"] == pytest.approx(simulation.result.macs * 3e-12, rel=1e-12)


SWEEP = f"""\
base: {TINY}
hardware:
  matrix.rows: [2, 4]
  overrides.dram_read_energy_per_bit: [10 pJ, 20 pJ]
models: ["gemm:m=8,k=8,n=8"]
objectives: [latency, energy]
"""


def test_a_sweep_manifest_names_the_source_of_every_constant(tmp_path: Path) -> None:
    sweep = tmp_path / "sweep.yaml"
    sweep.write_text(SWEEP)
    result = execute_sweep(sweep, tmp_path / "out", executor="serial", evaluator=FakeEvaluator())
    written = json.loads((tmp_path / "out" / "manifest.json").read_text())["technology_sources"]
    assert written == result.manifest.technology_sources
    defaults = dict(resolve(load_accelerator(TINY)).sources)
    assert written == {**defaults, "dram_read_energy_per_bit": "override (swept: overrides.dram_read_energy_per_bit)"}
