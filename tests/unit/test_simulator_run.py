"""simulator.run: validation at the boundary, result assembly, energy and composability."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from simulator_cases import ACT, hand_technology, program_of, tiny_accel, two_layer_program

from accel_spec.types import Dataflow, Operand, Precision
from accel_spec.technology import resolve
from compiler.target import target_of
from compiler.target.isa import Engine, Opcode
from simulator import LayerResult, StallCause, run
from simulator.reference import simulate_reference
from simulator.kernels.engines import N_CHECKS
from simulator.run import PROBLEMS


def test_target_of_reduces_the_chip():
    machine = target_of(tiny_accel(latency="70 ns"), Precision.FP16)
    assert (machine.rows, machine.cols, machine.clock) == (4, 4, 1e9)
    assert machine.buffer_names == ("act", "wgt")
    assert machine.buffer_of == (0, 1, 0)
    assert machine.capacity == (64 * 1024, 32 * 1024)
    # no `outstanding`: enough bursts for the bandwidth-delay product, 8 B/cycle × 70 / 16 B
    assert (machine.burst, machine.latency, machine.outstanding) == (16, 70, 35)
    assert machine.dram_peak_bytes_per_cycle == machine.dram_bytes_per_cycle == 8.0
    assert machine.operand_bits == 16
    assert machine.accumulator_bits == 32  # int32 array, fp16 operands: fp32 accumulators
    assert machine.vector_lane_ops_per_cycle.tolist() == [4.0, 1.0, 4.0]
    # ports wide enough for the array: 4 elements of the fp32 accumulator per cycle
    assert machine.read_port == machine.write_port == (16.0, 16.0)
    assert not machine.pipelined


def test_littles_law_bounds_the_sustained_dram_bandwidth():
    """16 bursts of 64 B in flight at 100 ns deliver 10.24 GB/s of a 12.8 GB/s channel; at 1 µs,
    1.024 GB/s (at 1 GHz, bytes per cycle = GB/s)."""
    near = target_of(tiny_accel(bandwidth="12.8 GB/s", latency="100 ns", burst=64, outstanding=16))
    assert near.dram_peak_bytes_per_cycle == pytest.approx(12.8)
    assert near.dram_bytes_per_cycle == pytest.approx(16 * 64 / 100)
    far = target_of(tiny_accel(bandwidth="12.8 GB/s", latency="1 us", burst=64, outstanding=16))
    assert far.dram_bytes_per_cycle == pytest.approx(16 * 64 / 1000)
    deep = target_of(tiny_accel(bandwidth="12.8 GB/s", latency="100 ns", burst=64, outstanding=64))
    assert deep.dram_bytes_per_cycle == pytest.approx(12.8)  # the peak binds


def test_run_reports_the_reference_cycles_per_layer():
    accel, program = tiny_accel(), two_layer_program()
    result = run(program, target_of(accel), hand_technology(), trace=True)
    reference = simulate_reference(program, target_of(accel))
    assert result.total_cycles == reference.end.max()
    assert [layer.name for layer in result.layers] == ["conv", "act"]
    assert sum(layer.cycles for layer in result.layers) == result.total_cycles
    np.testing.assert_array_equal(result.trace.end, reference.end)
    assert result.latency_s == result.total_cycles / 1e9


def test_layer_figures_by_hand():
    result = run(two_layer_program(), target_of(tiny_accel()), hand_technology())
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
    assert act.compute_engine == Engine.VECTOR and conv.compute_engine == Engine.MATRIX
    assert act.compute_cycles == act.busy[Engine.VECTOR] == 64  # 64 exp on 4 lanes × 0.25/cycle
    # the VEC starts with its layer; after it, the store's 80 B at 8 B/cycle and 5 cycles of latency
    assert act.stall_by_cause == {"dram": 10 + 5, "buffer": 0, "dependency": 0}
    assert act.cycles == act.compute_cycles + sum(act.stall_by_cause.values())
    # the matrix engine waits for both loads (14 + 8 cycles on the channel, 5 of latency)
    assert conv.stall[Engine.MATRIX][StallCause.DRAM] == 14 + 8 + 5
    assert conv.cycles == conv.compute_cycles + sum(conv.stall_by_cause.values())


def test_energy_is_events_times_constants():
    tech = hand_technology()
    result = run(two_layer_program(), target_of(tiny_accel()), tech)
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
            + (layer.channel_read_bytes + layer.channel_write_bytes) * 10e-12
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
    result = run(two_layer_program(), target_of(tiny_accel()), hand_technology())
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
    layer = run(two_layer_program(), target_of(tiny_accel()), hand_technology()).layers[0]
    with pytest.raises(ValueError, match="PEs"):
        layer + dataclasses.replace(layer, pes=64)
    assert (layer + layer).name == layer.name
    assert isinstance(sum([layer]), LayerResult)


def test_default_technology_comes_from_the_tables():
    accel = tiny_accel()
    result = run(two_layer_program(), target_of(accel), resolve(accel))
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
        run(program, target_of(tiny_accel()), hand_technology())


def test_every_rule_of_the_kernel_has_its_words():
    """`simulator.run.PROBLEMS` words the `_problems` kernel's rules, one each, in order."""
    assert len(PROBLEMS) == N_CHECKS


def test_a_decreasing_dependency_pointer_is_rejected():
    program = two_layer_program()
    dep_ptr = program.dep_ptr.copy()
    dep_ptr[2], dep_ptr[3] = dep_ptr[3], dep_ptr[2]
    assert dep_ptr[2] > dep_ptr[3]
    with pytest.raises(ValueError, match="never decrease"):
        run(dataclasses.replace(program, dep_ptr=dep_ptr), target_of(tiny_accel()), hand_technology())


def test_malformed_containers_are_rejected():
    program = two_layer_program()
    wrong_dtype = dataclasses.replace(program, instructions=np.zeros(6, dtype=np.int64))
    with pytest.raises(ValueError, match="INSTRUCTION_DTYPE"):
        run(wrong_dtype, target_of(tiny_accel()), hand_technology())
    short_ptr = dataclasses.replace(program, dep_ptr=program.dep_ptr[:-1])
    with pytest.raises(ValueError, match="shape"):
        run(short_ptr, target_of(tiny_accel()), hand_technology())


@pytest.mark.parametrize(
    ("fields", "overflows"),
    [({"m": 2**31 - 1, "k": 2**31 - 1, "n": 2**31 - 1}, True),  # ~2^93 folds × stream: past int64
     ({"elements": 2**62}, True),  # one vector op of 2^62 elements over 1 lane-cycle each
     ({}, False)],
)
def test_a_program_whose_serial_time_could_overflow_the_counters_is_refused(fields: dict, overflows: bool):
    """The makespan bound (every instruction one after another) must stay below 2^62 cycles;
    the two-layer program's GEMM (instruction 2) or vector op (4) is made huge."""
    index = 4 if "elements" in fields else 2
    program = _bad({index: fields}) if fields else two_layer_program()
    if overflows:
        with pytest.raises(ValueError, match="beyond the"):
            run(program, target_of(tiny_accel()), hand_technology())
    else:
        run(program, target_of(tiny_accel()), hand_technology())


def test_empty_program():
    empty = program_of([], [], [])
    result = run(empty, target_of(tiny_accel()), hand_technology())
    assert result.total_cycles == 0 and result.layers == () and result.utilization == 0.0
    assert result.energy_j == 0.0


def test_a_store_reads_its_buffer():
    rows = [dict(opcode=Opcode.STORE, operand=Operand.OUTPUT, buffer=ACT, bytes=33, layer=0)]
    result = run(program_of(rows, [[]], ["s"]), target_of(tiny_accel()), hand_technology())
    assert result.total.sram_read_bytes["act"] == 33
    assert result.total_cycles == 48 // 8 + 5  # 33 bytes occupy 3 bursts of 16 bytes, then 5 ns
