"""Technology defaults: cited numbers at their source node, scaling to the chip, trade-offs, overrides."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from accel_spec import load_accelerator, resolve, with_overrides
from accel_spec.components import dram, floorplan, pe, sram
from accel_spec.components.pe import Arith
from accel_spec.components.scaling import Device, Process, nominal
from accel_spec.types import Dataflow, DramType, Precision
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
    assert pe.arith_energy_45nm(op, precision) == pytest.approx(energy_pj * PJ)
    assert pe.arith_area_45nm(op, precision) == pytest.approx(area_um2 * UM2)


def test_derived_precisions_follow_the_power_law() -> None:
    for op in Arith:
        int4, int8, int16, int32 = (
            pe.arith_energy_45nm(op, p) for p in (Precision.INT4, Precision.INT8, Precision.INT16, Precision.INT32)
        )
        assert int4 < int8 < int16 < int32
        assert int16 == pytest.approx((int8 * int32) ** 0.5)  # 16 is the geometric mean of 8 and 32
        fp8, bf16, fp16 = (pe.arith_energy_45nm(op, p) for p in (Precision.FP8, Precision.BF16, Precision.FP16))
        assert fp8 < bf16 < fp16
    # int4 multiplier: 0.2 pJ × (4/8)^(log(3.1/0.2)/log 4)
    exponent = math.log(3.1 / 0.2) / math.log(4)
    assert pe.arith_energy_45nm(Arith.MULT, Precision.INT4) == pytest.approx(0.2 * PJ * 0.5**exponent)


def test_tiny_at_45nm_0v9_uses_unscaled_horowitz(tiny) -> None:
    tech = resolve(tiny)
    assert tech.mac_energy == pytest.approx((0.2 + 0.1) * PJ)  # int8 multiply + int32 add
    assert tech.vector_op_energy == pytest.approx((3.7 + 0.9) * PJ)  # fp32 lanes
    registers = (8 + 8 + 32) * pe.REGISTER_AREA_M2.value * Process(45, 0.9).area_from(pe.ALADDIN_PROCESS)
    assert tech.cell_area["matrix"] == pytest.approx(16 * ((282 + 137) * UM2 + registers))
    assert tech.cell_area["vector"] == pytest.approx(4 * (7700 + 4184) * UM2)
    assert tech.area["matrix"] == pytest.approx(tech.cell_area["matrix"] * floorplan.LOGIC_LAYOUT_FACTOR.value)
    assert tech.area["inputs"] == pytest.approx(tech.cell_area["inputs"] * floorplan.SRAM_LAYOUT_FACTOR.value)
    assert set(tech.area) == {"matrix", "vector", "inputs", "weights", "accumulators", "control"}
    assert set(tech.cell_area) == set(tech.area) - {"control"}
    assert tech.area["control"] == pytest.approx(0.02 * tech.total_area)
    assert set(tech.leakage) == set(tech.area)
    assert tech.total_area == pytest.approx(sum(tech.area.values()))
    assert tech.dram_read_energy_per_byte == pytest.approx(8 * dram.read_energy_per_bit(DramType.DDR4))


def test_precision_argument_changes_mac_and_accumulator(tiny) -> None:
    assert resolve(tiny, Precision.INT8).mac_energy == resolve(tiny).mac_energy
    # fp32 operands on an int32-accumulator array: the float accumulator is fp32.
    assert resolve(tiny, Precision.FP32).mac_energy == pytest.approx((3.7 + 0.9) * PJ)
    assert resolve(tiny, Precision.FP16).mac_energy == pytest.approx((1.1 + 0.9) * PJ)


def test_sram_fit_constants_are_the_fit_of_the_committed_cacti_table() -> None:
    for column, constants in ((4, sram.READ), (5, sram.WRITE), (6, sram.LEAKAGE), (7, sram.AREA)):
        assert sram.fit_power_law(column) == pytest.approx(constants, rel=1e-3, abs=1e-4)
    for index, column in enumerate((4, 5, 6, 7)):
        assert sram.port_factor(column) == pytest.approx(sram.PORT_FACTOR[index], rel=1e-3)


def test_sram_fit_follows_cacti_on_its_native_macros() -> None:
    rows = [r for r in sram.cacti_rows() if r[2] == 1 and r[3] == 1 and r[0] * 8 / r[1] >= 64 and r[1] >= 32]
    errors = sorted(abs(sram.macro_45nm(r[0], r[1]).read_energy / r[4] - 1) for r in rows)
    assert errors[len(errors) // 2] < 0.15  # median read-energy error against CACTI itself


@pytest.mark.parametrize("capacity", [1024, 64 * 1024, 4 * 2**20, 24 * 2**20])
@pytest.mark.parametrize("word_bits", [16, 64, 512])
def test_banking_trades_energy_for_area_monotonically(capacity: int, word_bits: int) -> None:
    macros = [sram.macro_45nm(capacity, word_bits, banks) for banks in (1, 2, 4, 8, 32, 128, 1024)]
    assert all(b.read_energy < a.read_energy for a, b in zip(macros, macros[1:]))
    assert all(b.write_energy < a.write_energy for a, b in zip(macros, macros[1:]))
    assert all(b.area > a.area for a, b in zip(macros, macros[1:]))


def test_a_second_port_costs_area_and_energy() -> None:
    one, two = sram.macro_45nm(65536, 64), sram.macro_45nm(65536, 64, ports=2)
    assert two.area > one.area and two.read_energy > one.read_energy


GROWTH = [
    {"matrix.rows": 8}, {"matrix.cols": 8}, {"buffers.inputs.capacity": "4 KiB"}, {"buffers.inputs.banks": 4},
    {"vector.lanes": 16}, {"matrix.pe_storage": {"output": "64 B"}}, {"matrix.accumulator_precision": "int32"},
]


@pytest.mark.parametrize("change", GROWTH, ids=lambda c: str(c))
def test_more_of_any_component_never_lowers_area(tiny, change: dict) -> None:
    base = {"matrix.pe_storage": {"output": "16 B"}}
    before = resolve(with_overrides(tiny, base))
    after = resolve(with_overrides(tiny, {**base, **change}))
    assert after.total_area >= before.total_area
    assert all(after.area[name] >= value for name, value in before.area.items())


NODES = [7, 10, 14, 16, 20, 28, 32, 45, 65, 90, 130, 180]


@pytest.mark.parametrize("node", [7, 16, 28, 65, 130])
def test_sram_energy_is_scaled_to_the_chip_node(tiny, node: int) -> None:
    """Planted bug of issue 15: SRAM access energy left at 45 nm for every node."""
    at_45 = resolve(with_overrides(tiny, {"process.voltage": "1.0 V"}))
    chip = with_overrides(tiny, {"technology": f"{node} nm", "process.voltage": "1.0 V"})
    expected = Process(node, 1.0).energy_from(Process(45, 1.0))
    assert expected != pytest.approx(1.0, rel=0.05)
    tech = resolve(chip)
    for name in ("inputs", "weights", "accumulators"):
        ratio = tech.sram_read_energy_per_byte[name] / at_45.sram_read_energy_per_byte[name]
        assert ratio == pytest.approx(expected, rel=1e-9), name
        ratio = tech.sram_write_energy_per_byte[name] / at_45.sram_write_energy_per_byte[name]
        assert ratio == pytest.approx(expected, rel=1e-9), name


def test_scaling_is_one_at_the_source_and_monotone_in_node() -> None:
    assert Process(45, 0.9).energy_from(pe.HOROWITZ_PROCESS) == pytest.approx(1.0)
    energies = [nominal(n).energy() for n in NODES]
    areas = [nominal(n).area() for n in NODES]
    assert all(a < b for a, b in zip(energies, energies[1:]))
    assert all(a < b for a, b in zip(areas, areas[1:]))
    assert nominal(7).area() == pytest.approx(0.059)
    assert nominal(180).area() == pytest.approx(19.0)


def test_voltage_and_device_are_explicit(tiny) -> None:
    low = resolve(with_overrides(tiny, {"process.voltage": "0.8 V"}))
    high = resolve(with_overrides(tiny, {"process.voltage": "1.0 V"}))
    assert low.mac_energy < high.mac_energy
    assert Process(45, 0.9, Device.LP).energy() != Process(45, 0.9, Device.HP).energy()
    assert resolve(tiny).sources["process"].startswith("chip: 45 nm, 0.9 V")


@pytest.mark.parametrize("node", [5, 3, 250])
def test_nodes_outside_the_tables_are_rejected(tiny, node: int) -> None:
    with pytest.raises(ValueError, match="outside the technology tables"):
        nominal(node)
    with pytest.raises(InputError, match="outside the technology tables"):
        with_overrides(tiny, {"technology": f"{node} nm"})


def test_chip_energy_shrinks_with_node(tiny) -> None:
    energies = [resolve(with_overrides(tiny, {"technology": f"{n} nm", "process.voltage": None})).mac_energy for n in NODES]
    assert all(a < b for a, b in zip(energies, energies[1:]))


def test_dataflow_decides_register_writes_and_hops(tiny) -> None:
    tech = resolve(tiny)
    ws, os_ = tech.register_energy_per_mac[Dataflow.WEIGHT_STATIONARY], tech.register_energy_per_mac[Dataflow.OUTPUT_STATIONARY]
    # WS writes input (8) + psum (32) bits; OS writes input + weight (16) and its accumulator (32)
    assert os_ / ws == pytest.approx((8 + 8 + 32) / (8 + 32))
    assert tech.forwarding_energy_per_mac[Dataflow.OUTPUT_STATIONARY] / tech.forwarding_energy_per_mac[
        Dataflow.WEIGHT_STATIONARY
    ] == pytest.approx(16 / 40)
    stored = resolve(with_overrides(tiny, {"matrix.pe_storage": {"output": "16 B"}}))
    assert all(stored.pe_storage_energy_per_mac[d] > 0 for d in Dataflow)
    assert stored.register_energy_per_mac[Dataflow.WEIGHT_STATIONARY] == pytest.approx(8 / 40 * ws)


def test_override_replaces_default_and_is_recorded(tiny) -> None:
    chip = with_overrides(
        tiny, {"overrides.mac_energy": "1 pJ", "overrides.sram_energy_per_byte": "2 pJ", "overrides.mac_area": "100 um2"}
    )
    tech = resolve(chip)
    assert tech.mac_energy == pytest.approx(1 * PJ)
    assert dict(tech.sram_read_energy_per_byte) == pytest.approx({"inputs": 2 * PJ, "weights": 2 * PJ, "accumulators": 2 * PJ})
    assert tech.area["matrix"] > 16 * 100 * UM2
    assert tech.sources["mac_energy"] == "override"
    assert tech.sources["mac_area"] == "override"
    assert tech.sources["sram_read_energy_per_byte:inputs"] == "override"
    assert tech.sources["vector_op_energy"].startswith("default: ")
    assert "Horowitz" in resolve(tiny).sources["mac_energy"]
    per_buffer = resolve(with_overrides(tiny, {"overrides.buffers": {"inputs": {"read_energy_per_byte": "3 pJ"}}}))
    assert per_buffer.sram_read_energy_per_byte["inputs"] == pytest.approx(3 * PJ)
    assert per_buffer.sources["sram_write_energy_per_byte:inputs"].startswith("default: ")


@pytest.mark.parametrize("kind", list(DramType))
def test_every_dram_type_has_a_cited_read_and_write_energy(kind: DramType) -> None:
    assert 0 < dram.read_energy_per_bit(kind) < 100 * PJ
    assert 0 < dram.write_energy_per_bit(kind) < 100 * PJ
    assert dram.source(kind)
