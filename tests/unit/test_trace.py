"""Chrome / Perfetto trace export: tracks, one event per instruction, layer slices."""

from __future__ import annotations

import json

import pytest
from simulator_cases import hand_technology, tiny_accel, two_layer_program

from compiler.target import target_of
from compiler.target.isa import Opcode
from simulator import run
from simulator.trace import to_chrome_trace, write_chrome_trace


@pytest.fixture(scope="module")
def traced():
    target, program = target_of(tiny_accel()), two_layer_program()
    result = run(program, target, hand_technology(), trace=True)
    return result, program, target


def test_tracks_are_named(traced):
    trace = to_chrome_trace(*traced)
    names = {e["tid"]: e["args"]["name"] for e in trace["traceEvents"] if e.get("name") == "thread_name"}
    assert names == {0: "load", 1: "matrix", 2: "vector", 3: "store", 4: "layers"}


def test_one_event_per_instruction_in_microseconds(traced):
    result, program, _ = traced
    events = [e for e in to_chrome_trace(*traced)["traceEvents"] if e["ph"] == "X" and e["tid"] < 4]
    assert len(events) == len(program)
    opcodes = program.instructions["opcode"]
    for event, opcode, start, end in zip(events, opcodes, result.trace.start, result.trace.end):
        assert event["name"] == Opcode(opcode).name
        assert event["tid"] == Opcode(opcode).engine
        assert event["ts"] == pytest.approx(start / 1e3)  # 1 GHz: 1000 cycles per microsecond
        if Opcode(opcode) in (Opcode.LOAD, Opcode.STORE):
            assert event["args"]["done_us"] == pytest.approx(end / 1e3)
            assert event["dur"] == pytest.approx((end - start - 5) / 1e3)  # occupancy: no latency
        else:
            assert event["dur"] == pytest.approx((end - start) / 1e3)
    gemm = events[2]
    assert gemm["args"] == {"layer": 0, "m": 8, "k": 8, "n": 8}
    assert events[0]["args"]["bytes"] == 100


def test_layer_slices_tile_the_run(traced):
    result = traced[0]
    slices = [e for e in to_chrome_trace(*traced)["traceEvents"] if e["ph"] == "X" and e["tid"] == 4]
    assert [s["name"] for s in slices] == ["conv", "act"]
    assert slices[0]["ts"] == 0
    assert slices[1]["ts"] == pytest.approx(slices[0]["dur"])
    assert slices[1]["ts"] + slices[1]["dur"] == pytest.approx(result.total_cycles / 1e3)


def test_write_round_trips(traced, tmp_path):
    path = tmp_path / "run.json"
    write_chrome_trace(path, *traced)
    assert json.loads(path.read_text()) == json.loads(json.dumps(to_chrome_trace(*traced)))


def test_a_result_without_trace_is_refused():
    target, program = target_of(tiny_accel()), two_layer_program()
    result = run(program, target, hand_technology())
    with pytest.raises(ValueError, match="trace=True"):
        to_chrome_trace(result, program, target)

