"""Register files, the clock tree and the floor plan: each mechanism by hand, its calibration
recomputed from its source, and the Eyeriss core area it predicts."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from accel_spec import load_accelerator, resolve, with_overrides
from accel_spec.components import clock, floorplan, pe, regfile
from accel_spec.components.scaling import Process
from accel_spec.types import Dataflow, Operand

EXAMPLES = Path(__file__).parents[2] / "examples" / "accelerators"


@pytest.fixture(scope="module")
def eyeriss():
    return load_accelerator(EXAMPLES / "eyeriss.yaml")


@pytest.fixture(scope="module")
def tiny():
    return load_accelerator(EXAMPLES / "tiny.yaml")


def test_layout_factors_are_tpu_v1_blocks_over_the_models_cells() -> None:
    cells = resolve(load_accelerator(EXAMPLES / "tpu_v1.yaml")).cell_area
    die = floorplan.TPU_DIE_M2.value
    logic = floorplan.TPU_MATRIX_SHARE.value * die / cells["matrix"]
    macros = floorplan.TPU_BUFFER_SHARE.value * die / cells["unified_buffer"]
    assert floorplan.LOGIC_LAYOUT_FACTOR.value == pytest.approx(logic, rel=1e-4)
    assert floorplan.SRAM_LAYOUT_FACTOR.value == pytest.approx(macros, rel=1e-4)


def test_tpu_v1_accumulators_land_near_their_floor_plan_share() -> None:
    """Not calibrated: the 4 MiB accumulators are 6 % of the < 331 mm² die."""
    area = resolve(load_accelerator(EXAMPLES / "tpu_v1.yaml")).area["accumulators"]
    assert area / (0.06 * floorplan.TPU_DIE_M2.value) == pytest.approx(1.0, abs=0.10)


@pytest.mark.parametrize("name", ["tiny", "edge", "eyeriss", "tpu_v1"])
def test_placed_area_is_cells_times_layout_factors_plus_control(name: str) -> None:
    tech = resolve(load_accelerator(EXAMPLES / f"{name}.yaml"))
    logic, macros = floorplan.LOGIC_LAYOUT_FACTOR.value, floorplan.SRAM_LAYOUT_FACTOR.value
    assert tech.area["matrix"] == pytest.approx(tech.cell_area["matrix"] * logic)
    assert tech.area["vector"] == pytest.approx(tech.cell_area["vector"] * logic)
    for buffer in load_accelerator(EXAMPLES / f"{name}.yaml").buffers:
        assert tech.area[buffer] == pytest.approx(tech.cell_area[buffer] * macros)
    assert tech.area["control"] == pytest.approx(floorplan.CONTROL_SHARE.value * tech.total_area)


def test_eyeriss_core_area_within_a_quarter_of_the_die(eyeriss) -> None:
    """JSSC 2017 Table IV: core 3.5 mm x 3.5 mm. The model gives 10.39 mm² (-15 %)."""
    area_mm2 = resolve(eyeriss).total_area * 1e6
    assert abs(area_mm2 / 12.25 - 1) < 0.25


def test_eyeriss_scratchpads_are_register_files_of_its_table_iv(eyeriss) -> None:
    tech = resolve(eyeriss)
    for operand in ("input", "output"):
        assert tech.sources[f"pe_storage_energy:{operand}"].startswith("default: register file")
    words = {"input": 12, "output": 24}  # 24 B and 48 B of 16-bit words
    cells = sum(168 * regfile.register_file_40nm(2 * n, 16).area for n in words.values())
    scale = Process(65, 1.0).area_from(pe.ALADDIN_PROCESS)
    assert tech.cell_area["pe_storage"] == pytest.approx(cells * scale)


def test_register_file_threshold_is_sixty_four_words() -> None:
    assert regfile.fits(63 * 2, 16) and not regfile.fits(64 * 2, 16)
    assert regfile.fits(24, 16) and not regfile.fits(448, 16)


def test_register_file_by_hand() -> None:
    store = regfile.register_file_40nm(24, 16)  # 12 words of 16 bits
    assert store.words == 12 and store.bits == 192
    assert store.read_energy == pytest.approx(16 * math.ceil(math.log2(12)) * regfile.GATE_ENERGY_J.value)
    assert store.write_energy == pytest.approx(16 * (pe.REGISTER_WRITE_J.value + pe.REGISTER_CLOCK_J.value))
    assert store.area == pytest.approx(192 * pe.REGISTER_AREA_M2.value + 11 * 16 * regfile.GATE_AREA_M2.value)
    assert store.leakage == pytest.approx(192 * pe.REGISTER_LEAKAGE_W.value + 11 * 16 * regfile.GATE_LEAKAGE_W.value)


def test_deeper_register_files_cost_more_to_read_and_to_build() -> None:
    files = [regfile.register_file_40nm(2 * words, 16) for words in (2, 4, 12, 24, 63)]
    assert all(b.read_energy > a.read_energy for a, b in zip(files, files[1:]))
    assert all(b.area > a.area for a, b in zip(files, files[1:]))


def test_a_moving_stored_operand_is_written_every_mac() -> None:
    assert pe.storage_accesses(Operand.INPUT, Dataflow.WEIGHT_STATIONARY) == (1, 1)
    assert pe.storage_accesses(Operand.INPUT, Dataflow.INPUT_STATIONARY) == (1, 0)
    assert pe.storage_accesses(Operand.WEIGHT, Dataflow.OUTPUT_STATIONARY) == (1, 1)
    assert pe.storage_accesses(Operand.OUTPUT, Dataflow.OUTPUT_STATIONARY) == (1, 1)


def test_stored_input_costs_a_write_more_under_weight_than_input_stationary(tiny) -> None:
    chip = with_overrides(
        tiny, {"matrix.pe_storage": {"input": "8 B"}, "matrix.dataflows": ["weight-stationary", "input-stationary"]}
    )
    tech = resolve(chip)
    store = regfile.register_file_40nm(8, 8)
    scale = Process(45, 0.9).energy_from(pe.ALADDIN_PROCESS)
    ws, is_ = (
        tech.pe_storage_energy_per_mac[Dataflow.WEIGHT_STATIONARY],
        tech.pe_storage_energy_per_mac[Dataflow.INPUT_STATIONARY],
    )
    assert ws - is_ == pytest.approx(store.write_energy * scale)


def test_clock_tree_per_register_bit_from_diannao() -> None:
    bits = 0.26e-6 / (pe.REGISTER_AREA_M2.value * Process(65, 1.0).area_from(pe.ALADDIN_PROCESS))
    assert clock.diannao_register_bits() == pytest.approx(bits)
    assert 21_000 < bits < 23_000
    assert clock.tree_energy_per_bit_65nm() == pytest.approx(271.97e-3 / 0.98e9 / bits)


def test_clock_energy_is_pin_energy_of_pipeline_registers_plus_the_tree_over_every_register(eyeriss) -> None:
    tech = resolve(eyeriss)
    pipeline = 168 * 16  # the weight register; inputs and partial sums live in the register files
    register_files = 168 * (12 + 24) * 16
    scale = Process(65, 1.0)
    pins = pipeline * pe.REGISTER_CLOCK_J.value * scale.energy_from(pe.ALADDIN_PROCESS)
    tree = (pipeline + register_files) * clock.tree_energy_per_bit_65nm() * scale.energy_from(clock.DIANNAO_PROCESS)
    assert tech.clock_energy_per_cycle == pytest.approx(pins + tree)
    assert tech.sources["clock_tree"].startswith(f"default: {pipeline + register_files:,} register bits")


def test_clock_grows_with_registers(tiny) -> None:
    small = resolve(with_overrides(tiny, {"matrix.pe_storage": {"output": "16 B"}}))
    large = resolve(with_overrides(tiny, {"matrix.pe_storage": {"output": "64 B"}}))
    assert large.clock_energy_per_cycle > small.clock_energy_per_cycle


def test_the_energy_area_figure_labels_the_control_block() -> None:
    from reports.energy_area import _AREA_NAMES, component_label

    assert component_label("control", _AREA_NAMES) == "control"
    assert component_label("global_buffer", _AREA_NAMES) == "SRAM global_buffer"
