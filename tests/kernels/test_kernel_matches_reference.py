"""The Numba kernel equals the reference simulator exactly, and its formulas equal timing_model."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from programs import ProgramBuilder, make_machine, random_program

from accel_spec.types import Dataflow, OpClass, Operand, Precision
from compiler.target import LEVEL_DRAM, level_of
from compiler.target import timing as timing_model
from compiler.target.isa import ENGINE_OF_OPCODE, Opcode
from simulator.kernels import engines
from simulator.reference import simulate_reference
from simulator.result import StallCause
from simulator.run import execute, validate

FIELDS = ("start", "end", "counters", "sram_bits")


def assert_same(program, machine) -> None:
    validate(program, machine)
    fast, slow = execute(program, machine), simulate_reference(program, machine)
    for field in FIELDS:
        np.testing.assert_array_equal(getattr(fast, field), getattr(slow, field), err_msg=field)


def test_layout_constants_match_enums():
    assert [engines.OP_LOAD, engines.OP_GEMM, engines.OP_VEC, engines.OP_STORE] == [
        Opcode.LOAD, Opcode.GEMM, Opcode.VEC, Opcode.STORE
    ]
    assert all(int(ENGINE_OF_OPCODE[op]) == int(op) for op in Opcode)
    assert (engines.DATAFLOW_OS, engines.DATAFLOW_WS) == (
        Dataflow.OUTPUT_STATIONARY, Dataflow.WEIGHT_STATIONARY
    )
    assert [engines.CAUSE_DRAM, engines.CAUSE_BUFFER, engines.CAUSE_DEPENDENCY] == list(StallCause)
    assert (engines.N_OPERANDS, engines.N_OP_CLASSES) == (len(Operand), len(OpClass))
    assert engines.CEIL_SLACK == timing_model.CEIL_SLACK
    assert engines.LEVEL_DRAM == LEVEL_DRAM


def test_kernel_formulas_match_timing_model():
    rng = np.random.default_rng(7)
    for _ in range(300):
        m, k, n = (int(v) for v in rng.integers(0, 70, 3))
        rows, cols = (int(v) for v in rng.integers(1, 9, 2))
        dataflow, accumulate = int(rng.integers(0, 3)), int(rng.integers(0, 2))
        groups, continues = int(rng.integers(1, 6)), int(rng.integers(0, 2))
        depth = int(rng.choice([1, 1, 2, 3, 8]))
        width = int(rng.choice([1, 1, 2, 3, 8]))
        split = (rows, cols, groups, depth, width)
        times = timing_model.fold_times(m, k, n, dataflow, *split)
        expected = (
            tuple(times)
            + tuple(
                timing_model.gemm_sram_accesses(m, k, n, dataflow, accumulate, rows, cols, groups, continues, depth, width)
            )
            + (timing_model.gemm_local_macs(m, k, n, dataflow, *split),)
            + (timing_model.gemm_held_macs(m, k, n, dataflow, *split),)
        )
        got = engines._gemm(m, k, n, groups, dataflow, accumulate, continues, rows, cols, depth, width)
        assert got == tuple(int(e) for e in expected)
        if depth == 1:  # every fold alike: F·(T + L + R + C − 2)
            assert times.streamed == times.folds * times.last_stream and times.loaded == times.folds * times.first_load
        folds, streamed, loaded = times.folds, times.streamed, times.loaded
        cycles = timing_model.gemm_cycles(m, k, n, dataflow, rows, cols, groups, depth=depth, width=width)
        assert streamed + loaded + folds * (rows + cols - 2) == cycles
        unit_cols = max(1, cols // int(rng.integers(1, 4)))
        assert streamed + loaded + folds * (rows + unit_cols - 2) == timing_model.gemm_cycles(
            m, k, n, dataflow, rows, cols, groups, unit_cols, depth, width
        )

        nbytes, burst = int(rng.integers(0, 5000)), int(rng.choice([1, 16, 64]))
        assert engines._burst_bytes(nbytes, burst) == timing_model.burst_bytes(nbytes, burst)
        elements, lane_ops = int(rng.integers(0, 5000)), float(rng.choice([1.0, 4 * 0.25, 16 * 0.5, 3.0]))
        assert engines._vector_cycles(elements, lane_ops) == timing_model.vector_cycles(elements, lane_ops)


def _hand_programs():
    machine = make_machine()
    yield "empty", ProgramBuilder(machine).build(), machine

    b = ProgramBuilder(machine, ("conv", "relu"))
    x = b.load(Operand.INPUT, 100)
    w = b.load(Operand.WEIGHT, 300)
    g = b.gemm(9, 13, 5, Dataflow.WEIGHT_STATIONARY, deps=[x, w])
    g2 = b.gemm(9, 13, 5, Dataflow.WEIGHT_STATIONARY, accumulate=True, deps=[g])
    x2 = b.load(Operand.INPUT, 100, deps=[g])
    v = b.vec(OpClass.TRANSCENDENTAL, 45, deps=[g2], layer=1)
    b.store(Operand.OUTPUT, 180, deps=[v, x2], layer=1)
    yield "conv-relu", b.build(), machine

    slow = make_machine(latency=40, dram_bytes_per_cycle=34e9 / 7e8, burst=64)
    b = ProgramBuilder(slow, ("a", "b", "c"))
    loads = [b.load(Operand.WEIGHT, 64 * (i + 1), layer=i % 2) for i in range(5)]
    b.gemm(3, 70, 2, Dataflow.INPUT_STATIONARY, deps=loads[:2], layer=2)
    b.store(Operand.OUTPUT, 1, deps=loads[3:], layer=2)
    yield "interleaved-layers", b.build(), slow

    pipelined = make_machine(pipelined=True)
    b = ProgramBuilder(pipelined, ("fc", "next"))
    w = b.load(Operand.WEIGHT, 64)
    x = b.load(Operand.INPUT, 40, level=level_of(1))
    g = b.gemm(3, 9, 6, Dataflow.WEIGHT_STATIONARY, deps=[x, w])
    g2 = b.gemm(7, 4, 4, Dataflow.WEIGHT_STATIONARY, accumulate=True, deps=[w])
    o = b.gemm(2, 5, 9, Dataflow.OUTPUT_STATIONARY, deps=[g])
    s = b.store(Operand.OUTPUT, 28, deps=[g2, o], level=level_of(1))
    b.gemm(8, 8, 8, Dataflow.INPUT_STATIONARY, deps=[s], layer=1)
    yield "pipelined-onchip", b.build(), pipelined

    for flow in (False, True):
        chip = make_machine(rows=4, cols=12, unit_cols=4, pipelined=flow)  # three 4×4 units side by side
        b = ProgramBuilder(chip, ("wide",))
        w = b.load(Operand.WEIGHT, 4 * 12)
        g = b.gemm(5, 4, 12, Dataflow.WEIGHT_STATIONARY, deps=[w])
        o = b.gemm(3, 7, 20, Dataflow.OUTPUT_STATIONARY, deps=[g])
        b.gemm(6, 9, 2, Dataflow.INPUT_STATIONARY, deps=[o])
        yield f"three-units{'-pipelined' if flow else ''}", b.build(), chip

    b = ProgramBuilder(machine, ("depthwise",))
    x = b.load(Operand.INPUT, 7 * 9 * 3)
    w = b.load(Operand.WEIGHT, 9 * 3)
    packed = b.gemm(7, 9, 1, Dataflow.OUTPUT_STATIONARY, groups=3, deps=[x, w])
    plain = b.gemm(7, 9, 1, Dataflow.WEIGHT_STATIONARY, groups=1, deps=[packed])
    unset = b.gemm(5, 2, 3, Dataflow.INPUT_STATIONARY, deps=[plain])
    b.store(Operand.OUTPUT, 7 * 3, deps=[unset])
    yield "packed-groups", b.build(), machine

    for flow in (False, True):
        deep = make_machine(reduction_depth=3, pipelined=flow)  # each PE reduces up to 3 weights
        b = ProgramBuilder(deep, ("deep", "shallow"))
        w = b.load(Operand.WEIGHT, 12 * 8)
        g = b.gemm(5, 12, 8, Dataflow.WEIGHT_STATIONARY, deps=[w])  # one fold, 3 weights a PE
        g2 = b.gemm(6, 13, 8, Dataflow.WEIGHT_STATIONARY, accumulate=True, deps=[w])  # two folds of 2
        g3 = b.gemm(4, 9, 3, Dataflow.WEIGHT_STATIONARY, groups=2, deps=[g])  # packed: 18 deep
        o = b.gemm(3, 30, 4, Dataflow.OUTPUT_STATIONARY, deps=[g2])  # depth is weight stationary's
        s = b.store(Operand.OUTPUT, 32, deps=[g3, o])
        b.gemm(2, 4, 4, Dataflow.WEIGHT_STATIONARY, deps=[s], layer=1)  # k ≤ R: one weight a PE
        yield f"reduction-depth{'-pipelined' if flow else ''}", b.build(), deep

    for flow in (False, True):
        wide = make_machine(reduction_depth=8, pe_width=4, pipelined=flow)  # 8 weights, 4 sums a PE
        b = ProgramBuilder(wide, ("wide", "narrow"))
        w = b.load(Operand.WEIGHT, 8 * 16)
        g = b.gemm(5, 8, 16, Dataflow.WEIGHT_STATIONARY, deps=[w])  # 2 deep × 4 wide: one fold
        g2 = b.gemm(6, 13, 9, Dataflow.WEIGHT_STATIONARY, accumulate=True, deps=[w])  # 4 × 2, uneven
        g3 = b.gemm(4, 9, 3, Dataflow.WEIGHT_STATIONARY, groups=2, deps=[g])  # packed: width 1
        s = b.store(Operand.OUTPUT, 32, deps=[g2, g3])
        b.gemm(2, 40, 4, Dataflow.WEIGHT_STATIONARY, deps=[s], layer=1)  # 10 rows deep: width 1
        yield f"channel-width{'-pipelined' if flow else ''}", b.build(), wide


HAND_PROGRAMS = {name: (program, machine) for name, program, machine in _hand_programs()}


@pytest.mark.parametrize("name", HAND_PROGRAMS)
def test_hand_programs_match(name):
    assert_same(*HAND_PROGRAMS[name])


def _random_case(seed: int):
    rng = np.random.default_rng(seed)
    unit_cols, units = int(rng.integers(1, 9)), int(rng.integers(1, 4))
    machine = make_machine(
        rows=int(rng.integers(1, 9)),
        cols=unit_cols * units,
        unit_cols=unit_cols,
        operand_precision=rng.choice([Precision.INT4, Precision.INT8, Precision.FP16]),
        dram_bytes_per_cycle=float(rng.choice([0.25, 3.0, 8.0, 34e9 / 7e8, 1e9])),
        burst=int(rng.choice([1, 16, 64])),
        latency=int(rng.integers(0, 30)),
        read_port=(float(rng.choice([1.0, 6.0, 64.0])), float(rng.choice([0.5, 32.0]))),
        write_port=(float(rng.choice([2.0, 16.0])), float(rng.choice([3.0, 64.0]))),
        pipelined=bool(rng.integers(0, 2)),
        reduction_depth=int(np.random.default_rng(seed + 1000).choice([1, 2, 4, 7])),
        pe_width=int(np.random.default_rng(seed + 2000).choice([1, 1, 2, 3, 8])),
    )
    program = random_program(rng, machine, int(rng.integers(1, 60)), layers=int(rng.integers(1, 5)))
    return program, machine


@pytest.mark.parametrize("chunk", range(8))
def test_random_programs_match(chunk):
    for seed in range(chunk * 30, chunk * 30 + 30):
        program, machine = _random_case(seed)
        assert_same(program, machine)


_FALLBACK_SCRIPT = """
import numpy as np
from test_kernel_matches_reference import _random_case, assert_same
from simulator.kernels import engines
assert not hasattr(engines._simulate, "py_func"), "jit is still enabled"
for seed in range(12):
    assert_same(*_random_case(seed))
"""


def test_python_fallback_matches_reference():
    """With NUMBA_DISABLE_JIT=1 the kernel runs as plain Python and must still agree."""
    env = {**os.environ, "NUMBA_DISABLE_JIT": "1"}
    here = Path(__file__).parent
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(here), env.get("PYTHONPATH")]))
    command = [sys.executable, "-c", _FALLBACK_SCRIPT]
    done = subprocess.run(command, env=env, cwd=here.parents[1], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
