"""simulator.run: validation at the boundary, result assembly, energy and composability."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from simulator_cases import ACT, hand_technology, program_of, tiny_accel, two_layer_program

from accel_spec.types import Dataflow, Operand, Precision
from compiler.isa import Engine, Opcode
from simulator import LayerResult, StallCause, run
from simulator.machine import machine_of
from simulator.reference import simulate_reference


def test_machine_of_reduces_the_chip():
    machine = machine_of(tiny_accel(latency="70 ns"), Precision.FP16)
    assert (machine.rows, machine.cols, machine.clock) == (4, 4, 1e9)
    assert machine.buffer_names == ("act", "wgt")
    assert machine.operand_buffer == (0, 1, 0)
    assert machine.dram_bytes_per_cycle == 8.0
    assert (machine.burst, machine.latency_cycles, machine.outstanding) == (16, 70, 16)
    assert machine.input_bits == 16
    assert machine.accumulator_bits == 32  # int32 array, fp16 operands: fp32 accumulators
    assert machine.vector_lane_ops_per_cycle.tolist() == [4.0, 1.0, 4.0]


def test_run_reports_the_reference_cycles_per_layer():
    accel, program = tiny_accel(), two_layer_program()
    result = run(program, accel, technology=hand_technology(), trace=True)
    reference = simulate_reference(program, machine_of(accel))
    assert result.total_cycles == reference.end.max()
    assert [layer.name for layer in result.layers] == ["conv", "act"]
    assert sum(layer.cycles for layer in result.layers) == result.total_cycles
    np.testing.assert_array_equal(result.trace.end, reference.end)
    assert result.latency_s == result.total_cycles / 1e9


def test_layer_figures_by_hand():
    result = run(two_layer_program(), tiny_accel(), technology=hand_technology())
    conv, act = result.layers
    assert conv.macs == 2 * 8**3 and act.macs == 0
    assert conv.dram_read_bytes_by_operand == (100, 64, 0) and conv.dram_write_bytes == 0
    assert act.dram_write_bytes_by_operand[Operand.OUTPUT] == 70
    assert (conv.channel_read_bytes, act.channel_write_bytes) == (112 + 64, 80)
    assert act.vector_ops == (0, 64, 0)
    # WS: ceil(8/4)=2 k-folds, ceil(8/4)=2 n-folds; OS: 2 m-folds and 2 n-folds, accumulating
    assert conv.sram_read_bytes["wgt"] == 8 * 8 + 8 * 8 * 2
    assert conv.sram_write_bytes["wgt"] == 64
    assert conv.busy[Engine.MATRIX] == 2 * 2 * (8 + 8 + 4 - 2) + 2 * 2 * (8 + 4 + 4 - 2)
    assert conv.utilization == pytest.approx(conv.macs / (conv.cycles * 16))
    assert act.stall[Engine.VECTOR][StallCause.DEPENDENCY] > 0
    assert act.compute_engine == Engine.VECTOR and conv.compute_engine == Engine.MATRIX
    assert act.compute_cycles == act.busy[Engine.VECTOR] == 64  # 64 exp on 4 lanes × 0.25/cycle
    assert act.stall_by_cause == {
        "dram": 0, "buffer": 0, "dependency": act.stall[Engine.VECTOR][StallCause.DEPENDENCY]
    }


def test_energy_is_events_times_constants():
    tech = hand_technology()
    result = run(two_layer_program(), tiny_accel(), technology=tech)
    for layer in result.layers:
        sram = {
            name: layer.sram_read_bytes[name] * tech.sram_read_energy_per_byte[name]
            + layer.sram_write_bytes[name] * tech.sram_write_energy_per_byte[name]
            for name in tech.sram_read_energy_per_byte
        }
        moved = sum(layer.sram_read_bytes.values()) + sum(layer.sram_write_bytes.values())
        expected = (
            layer.macs * (1e-12 + 0.1e-12 + 0.2e-12)
            + sum(sram.values())
            + moved * 0.5e-12
            + layer.channel_read_bytes * 100e-12
            + layer.channel_write_bytes * 200e-12
            + sum(layer.vector_ops) * 0.5e-12
            + layer.cycles * 0.01e-12
            + 0.25 * layer.cycles / 1e9
        )
        assert layer.energy_j == pytest.approx(expected, rel=1e-12)
        assert layer.energy.components()["sram:wgt"] == pytest.approx(sram["wgt"])
    assert sum(result.energy_breakdown.values()) == pytest.approx(result.energy_j)
    assert result.energy_j == pytest.approx(sum(layer.energy_j for layer in result.layers))
    assert result.area_mm2 == pytest.approx(4.5)
    assert result.technology_sources == {"mac_energy": "override"}


def test_layers_sum_to_the_total():
    result = run(two_layer_program(), tiny_accel(), technology=hand_technology())
    summed = sum(result.layers)
    assert summed.name == "total"
    fields = ("cycles", "busy", "stall", "macs", "dram_read_bytes_by_operand", "vector_ops")
    for field in fields:
        assert getattr(summed, field) == getattr(result.total, field)
    assert dict(summed.sram_read_bytes) == dict(result.total.sram_read_bytes)
    assert summed.energy_j == pytest.approx(result.energy_j)
    assert result.utilization == pytest.approx(result.macs / (result.total_cycles * 16))
    assert (result.dram_read_bytes, result.dram_write_bytes) == (164, 70)


def test_adding_results_of_different_arrays_is_refused():
    layer = run(two_layer_program(), tiny_accel(), technology=hand_technology()).layers[0]
    with pytest.raises(ValueError, match="PEs"):
        layer + dataclasses.replace(layer, pes=64)
    assert (layer + layer).name == layer.name
    assert isinstance(sum([layer]), LayerResult)


def test_default_technology_comes_from_the_tables():
    result = run(two_layer_program(), tiny_accel())
    assert result.energy_j > 0 and result.area_mm2 > 0
    assert set(result.technology_sources) >= {"mac_energy"}


def _bad(change: dict, deps=None):
    program = two_layer_program()
    instructions = program.instructions.copy()
    for index, fields in change.items():
        for name, value in fields.items():
            instructions[index][name] = value
    deps = program.deps if deps is None else deps
    return dataclasses.replace(program, instructions=instructions, deps=np.asarray(deps, dtype=np.int64))


@pytest.mark.parametrize(
    "program, message",
    [
        (_bad({}, deps=[0, 1, 2, 5, 4]), "later"),
        (_bad({1: {"buffer": ACT}}), "does not hold its operand"),
        (_bad({2: {"dataflow": Dataflow.INPUT_STATIONARY}}), "dataflow"),
        (_bad({4: {"op_class": 7}}), "op class"),
        (_bad({5: {"layer": 2}}), "layer"),
        (_bad({0: {"opcode": 9}}), "opcode"),
        (_bad({0: {"bytes": -1}}), "negative"),
    ],
)
def test_malformed_programs_are_rejected(program, message):
    with pytest.raises(ValueError, match=message):
        run(program, tiny_accel(), technology=hand_technology())


def test_malformed_containers_are_rejected():
    program = two_layer_program()
    wrong_dtype = dataclasses.replace(program, instructions=np.zeros(6, dtype=np.int64))
    with pytest.raises(ValueError, match="INSTRUCTION_DTYPE"):
        run(wrong_dtype, tiny_accel(), technology=hand_technology())
    short_ptr = dataclasses.replace(program, dep_ptr=program.dep_ptr[:-1])
    with pytest.raises(ValueError, match="shape"):
        run(short_ptr, tiny_accel(), technology=hand_technology())


def test_empty_program():
    empty = program_of([], [], [])
    result = run(empty, tiny_accel(), technology=hand_technology())
    assert result.total_cycles == 0 and result.layers == () and result.utilization == 0.0
    assert result.energy_j == 0.0


def test_a_store_reads_its_buffer():
    rows = [dict(opcode=Opcode.STORE, operand=Operand.OUTPUT, buffer=ACT, bytes=33, layer=0)]
    result = run(program_of(rows, [[]], ["s"]), tiny_accel(), technology=hand_technology())
    assert result.total.sram_read_bytes["act"] == 33
    assert result.total_cycles == 48 // 8 + 5  # 33 bytes occupy 3 bursts of 16 bytes, then 5 ns
