"""Technology defaults: Horowitz's numbers at 45 nm, monotone scaling, overrides recorded."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from accel_spec import load_accelerator, resolve, with_overrides
from accel_spec import technology_tables as tables
from accel_spec.technology_tables import Arith
from accel_spec.types import DramType, Precision
from tessera.errors import InputError

TINY = Path(__file__).parents[2] / "examples" / "accelerators" / "tiny.yaml"
PJ = 1e-12
UM2 = 1e-12


@pytest.fixture(scope="module")
def tiny():
    return load_accelerator(TINY)


@pytest.mark.parametrize(
    ("op", "precision", "energy_pj", "area_um2"),
    [
        (Arith.ADD, Precision.INT8, 0.03, 36),
        (Arith.ADD, Precision.INT32, 0.1, 137),
        (Arith.MULT, Precision.INT8, 0.2, 282),
        (Arith.MULT, Precision.INT32, 3.1, 3495),
        (Arith.ADD, Precision.FP16, 0.4, 1360),
        (Arith.ADD, Precision.FP32, 0.9, 4184),
        (Arith.MULT, Precision.FP16, 1.1, 1640),
        (Arith.MULT, Precision.FP32, 3.7, 7700),
    ],
)
def test_45nm_values_are_horowitz(op: Arith, precision: Precision, energy_pj: float, area_um2: float) -> None:
    assert tables.arith_energy_45nm(op, precision) == pytest.approx(energy_pj * PJ)
    assert tables.arith_area_45nm(op, precision) == pytest.approx(area_um2 * UM2)


def test_derived_precisions_follow_the_power_law() -> None:
    for op in Arith:
        int4, int8, int16, int32 = (
            tables.arith_energy_45nm(op, p) for p in (Precision.INT4, Precision.INT8, Precision.INT16, Precision.INT32)
        )
        assert int4 < int8 < int16 < int32
        assert int16 == pytest.approx((int8 * int32) ** 0.5)  # 16 is the geometric mean of 8 and 32
        fp8, bf16, fp16 = (tables.arith_energy_45nm(op, p) for p in (Precision.FP8, Precision.BF16, Precision.FP16))
        assert fp8 < bf16 < fp16
    # int4 multiplier: 0.2 pJ × (4/8)^(log(3.1/0.2)/log 4)
    exponent = math.log(3.1 / 0.2) / math.log(4)
    assert tables.arith_energy_45nm(Arith.MULT, Precision.INT4) == pytest.approx(0.2 * PJ * 0.5**exponent)


def test_tiny_at_45nm_uses_unscaled_horowitz(tiny) -> None:
    tech = resolve(tiny)
    assert tech.mac_energy == pytest.approx((0.2 + 0.1) * PJ)  # int8 multiply + int32 add
    assert tech.vector_op_energy == pytest.approx((3.7 + 0.9) * PJ)  # fp32 lanes
    assert tech.area["matrix"] == pytest.approx(16 * (282 + 137) * UM2)
    assert tech.area["vector"] == pytest.approx(4 * (7700 + 4184) * UM2)
    kib = 0.346 * UM2 * 8192 / tables.SRAM_ARRAY_EFFICIENCY
    assert tech.area["inputs"] == pytest.approx(kib)
    assert tech.area["accumulators"] == pytest.approx(kib / 4)
    assert set(tech.area) == {"matrix", "vector", "inputs", "weights", "accumulators"}
    assert tech.total_area == pytest.approx(sum(tech.area.values()))
    ddr4_pj_per_bit = (1.3e3 + 2.6e3) / 2 / 64 * (1.2 / 1.5) ** 2
    assert tech.dram_energy_per_byte == pytest.approx(8 * ddr4_pj_per_bit * PJ)
    assert tech.leakage_power == pytest.approx(28 / 331 * tech.total_area * 1e6)


def test_precision_argument_changes_mac_and_accumulator(tiny) -> None:
    assert resolve(tiny, Precision.INT8).mac_energy == resolve(tiny).mac_energy
    # fp32 operands on an int32-accumulator array: the float accumulator is fp32.
    assert resolve(tiny, Precision.FP32).mac_energy == pytest.approx((3.7 + 0.9) * PJ)
    assert resolve(tiny, Precision.FP16).mac_energy == pytest.approx((1.1 + 0.9) * PJ)


def test_sram_energy_matches_horowitz_and_grows_with_capacity() -> None:
    assert tables.sram_energy_per_byte_45nm(8 * 1024) == pytest.approx(10 * PJ / 8)
    assert tables.sram_energy_per_byte_45nm(32 * 1024) == pytest.approx(20 * PJ / 8)
    assert tables.sram_energy_per_byte_45nm(1024 * 1024) == pytest.approx(100 * PJ / 8)
    sizes = [2**k for k in range(6, 28)]
    energies = [tables.sram_energy_per_byte_45nm(s) for s in sizes]
    assert all(a < b for a, b in zip(energies, energies[1:]))
    # below 8 KB the 8–32 KB slope (0.5) extrapolates: a quarter of the capacity, half the energy
    assert tables.sram_energy_per_byte_45nm(2 * 1024) == pytest.approx(10 * PJ / 8 / 2)


def test_sram_energy_uses_per_bank_capacity(tiny) -> None:
    one_bank = with_overrides(tiny, {"buffers.inputs.capacity": "64 KiB"})
    eight_banks = with_overrides(tiny, {"buffers.inputs.capacity": "64 KiB", "buffers.inputs.banks": 8})
    assert resolve(eight_banks).sram_energy_per_byte["inputs"] == pytest.approx(10 * PJ / 8)
    assert resolve(one_bank).sram_energy_per_byte["inputs"] > resolve(eight_banks).sram_energy_per_byte["inputs"]


NODES = [7, 10, 14, 16, 20, 28, 32, 45, 65, 90, 130, 180]


def test_scaling_is_one_at_45nm_and_monotone_in_node() -> None:
    assert tables.energy_scale(45) == pytest.approx(1.0)
    assert tables.area_scale(45) == pytest.approx(1.0)
    for scale in (tables.energy_scale, tables.area_scale, tables.sram_area_per_kib):
        values = [scale(n) for n in NODES]
        assert all(a < b for a, b in zip(values, values[1:])), scale.__name__


def test_area_scale_matches_stillmaker_table_points() -> None:
    assert tables.area_scale(7) == pytest.approx(0.059)
    assert tables.area_scale(180) == pytest.approx(19.0)


@pytest.mark.parametrize("node", [5, 3, 250])
def test_nodes_outside_the_tables_are_rejected(tiny, node: int) -> None:
    with pytest.raises(ValueError, match="outside the technology tables"):
        tables.energy_scale(node)
    with pytest.raises(InputError, match="outside the technology tables"):
        with_overrides(tiny, {"technology": f"{node} nm"})


def test_chip_energy_shrinks_with_node(tiny) -> None:
    energies = [resolve(with_overrides(tiny, {"technology": f"{n} nm"})).mac_energy for n in NODES]
    assert all(a < b for a, b in zip(energies, energies[1:]))


def test_override_replaces_default_and_is_recorded(tiny) -> None:
    chip = with_overrides(
        tiny, {"overrides.mac_energy": "1 pJ", "overrides.sram_energy_per_byte": "2 pJ", "overrides.mac_area": "100 um2"}
    )
    tech = resolve(chip)
    assert tech.mac_energy == pytest.approx(1 * PJ)
    assert dict(tech.sram_energy_per_byte) == pytest.approx({"inputs": 2 * PJ, "weights": 2 * PJ, "accumulators": 2 * PJ})
    assert tech.area["matrix"] == pytest.approx(16 * 100 * UM2)
    assert tech.sources["mac_energy"] == "override"
    assert tech.sources["mac_area"] == "override"
    assert tech.sources["vector_op_energy"].startswith("default: ")
    assert "Horowitz" in resolve(tiny).sources["mac_energy"]
    expected = {
        "mac_energy", "sram_energy_per_byte", "dram_energy_per_bit", "vector_op_energy",
        "leakage_power_per_mm2", "mac_area", "sram_area_per_kib", "vector_lane_area",
    }
    assert set(tech.sources) == expected


@pytest.mark.parametrize("dram", list(DramType))
def test_every_dram_type_has_a_cited_energy(dram: DramType) -> None:
    assert 0 < tables.dram_energy_per_bit(dram) < 100 * PJ
    assert tables.dram_source(dram)


def test_dram_energy_ordering() -> None:
    e = tables.dram_energy_per_bit
    assert e(DramType.DDR3) > e(DramType.DDR4) > e(DramType.LPDDR4X) > e(DramType.LPDDR5)
    assert e(DramType.DDR4) > e(DramType.GDDR6) > e(DramType.HBM2)
