"""Property-based tests of the simulator on random valid programs (hypothesis, derandomized).

Hypothesis draws the machine (array, precision, DRAM bandwidth, burst, latency, buffer
ports, pipelined array or not) and the program's shape (length, layers, dependency fan-in and reach, opcode mix);
`programs.random_program` builds the program from a drawn seed. On every draw the Numba
kernel equals the reference simulator exactly, and the counters obey invariants that hold
for any schedule: the run lasts at least as long as each in-order engine is busy, the layers'
cycles add up to the run, and more DRAM bandwidth never makes the run slower.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from programs import ProgramBuilder, make_machine, random_program

from accel_spec.types import Operand, Precision
from compiler.target.isa import Engine, Opcode
from simulator.kernels.engines import COL_BUSY, COL_CYCLES, COL_MACS
from simulator.reference import simulate_reference
from simulator.run import execute, validate

PROPERTY = settings(derandomize=True, max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

machines = st.builds(
    make_machine,
    rows=st.integers(1, 8),
    cols=st.integers(1, 8),
    operand_precision=st.sampled_from([Precision.INT4, Precision.INT8, Precision.FP16]),
    dram_bytes_per_cycle=st.sampled_from([0.25, 1.0, 3.0, 8.0, 34e9 / 7e8, 1e6]),
    burst=st.sampled_from([1, 16, 64]),
    latency=st.integers(0, 40),
    read_port=st.tuples(st.sampled_from([0.5, 4.0, 64.0]), st.sampled_from([1.0, 16.0])),
    write_port=st.tuples(st.sampled_from([2.0, 8.0]), st.sampled_from([0.25, 32.0])),
    pipelined=st.booleans(),
)


@st.composite
def cases(draw: st.DrawFn):
    """(program, machine): a random valid program for a random machine."""
    machine = draw(machines)
    seed = draw(st.integers(0, 2**32 - 1))
    count = draw(st.integers(0, 50))
    cycle = draw(st.one_of(st.none(), st.lists(st.sampled_from(list(Opcode)), min_size=1, max_size=6)))
    program = random_program(
        np.random.default_rng(seed),
        machine,
        count,
        layers=draw(st.integers(1, 4)),
        max_deps=draw(st.integers(0, 4)),
        window=draw(st.integers(1, 16)),
        opcode_cycle=cycle,
    )
    return program, machine


@PROPERTY
@given(cases())
def test_kernel_equals_reference(case) -> None:
    program, machine = case
    validate(program, machine)
    fast, slow = execute(program, machine), simulate_reference(program, machine)
    for field in ("start", "end", "counters", "sram_bits"):
        np.testing.assert_array_equal(getattr(fast, field), getattr(slow, field), err_msg=field)


@PROPERTY
@given(cases())
def test_run_lasts_as_long_as_every_engine_is_busy_and_layers_add_up(case) -> None:
    program, machine = case
    counts = execute(program, machine)
    total = int(counts.end.max(initial=0))
    assert int(counts.counters[:, COL_CYCLES].sum()) == total
    assert (counts.counters[:, COL_CYCLES] >= 0).all()
    busy = counts.counters[:, COL_BUSY : COL_BUSY + len(Engine)].sum(axis=0)
    assert (busy <= total).all(), (busy, total)
    assert (counts.start <= counts.end).all()
    gemm = program.instructions["opcode"] == Opcode.GEMM
    groups = np.maximum(program.instructions["groups"], 1)
    instr = program.instructions
    expected_macs = int((instr["m"] * instr["k"] * instr["n"] * groups)[gemm].sum())
    assert int(counts.counters[:, COL_MACS].sum()) == expected_macs


@PROPERTY
@given(cases(), st.sampled_from([1.5, 2.0, 10.0]))
def test_more_bandwidth_is_never_slower(case, factor: float) -> None:
    program, machine = case
    faster = replace(machine, dram_bytes_per_cycle=machine.dram_bytes_per_cycle * factor)
    base, fast = execute(program, machine), execute(program, faster)
    assert int(fast.end.max(initial=0)) <= int(base.end.max(initial=0))
    assert (fast.end <= base.end).all()


def test_event_times_beyond_int64_are_refused_not_wrapped() -> None:
    machine = make_machine(dram_bytes_per_cycle=1e-28)
    builder = ProgramBuilder(machine)
    builder.load(Operand.INPUT, 100)
    program = builder.build()
    with pytest.raises(ValueError, match="beyond"):
        validate(program, machine)
