"""verify_program / verify_schedule reject broken programs with a message that says why."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from codegen_cases import chip, conv, gemm

from accel_spec.types import Dataflow, OpClass, Operand, Precision
from compiler.codegen import generate_program
from compiler.scheduling import Dim, Schedule, VectorSchedule
from compiler.target import target_of
from compiler.target.isa import Opcode, Program
from compiler.verify import ProgramError, verify_program, verify_schedule
from compiler.workload import Workload, WorkloadKind

INT8 = Precision.INT8
ACCEL = chip(buffers={"spad": (4096, ["input", "weight"]), "acc": (4096, ["output"])})
WORK = (gemm("g", 64, 64, 64),)
SCHEDULE = Schedule(Dataflow.OUTPUT_STATIONARY, 16, 16, 16, (Dim.M, Dim.N, Dim.K), True)


def _program() -> Program:
    program = generate_program(WORK, (SCHEDULE,), target_of(ACCEL, INT8))
    verify_program(program, WORK, target_of(ACCEL, INT8))
    return program


def _with(program: Program, **changes) -> Program:
    return dataclasses.replace(program, **changes)


def _rejects(program: Program, fragment: str) -> None:
    with pytest.raises(ProgramError) as error:
        verify_program(program, WORK, target_of(ACCEL, INT8))
    assert fragment in str(error.value)


def test_forward_dependency_is_rejected():
    program = _program()
    deps = program.deps.copy()
    deps[0] = len(program) - 1
    _rejects(_with(program, deps=deps), "later or a negative index")


def test_broken_csr_is_rejected():
    program = _program()
    _rejects(_with(program, dep_ptr=program.dep_ptr[:-1]), "dep_ptr")


def test_lost_macs_are_rejected():
    program = _program()
    instr = program.instructions.copy()
    instr["k"][np.flatnonzero(instr["opcode"] == Opcode.GEMM)[0]] -= 1
    _rejects(_with(program, instructions=instr), "MACs")


def test_unsupported_dataflow_and_wrong_buffer_are_rejected():
    program = _program()
    instr = program.instructions.copy()
    instr["dataflow"][instr["opcode"] == Opcode.GEMM] = Dataflow.INPUT_STATIONARY
    ws_only = chip(dataflows=("os",), buffers={"spad": (4096, ["input", "weight"]), "acc": (4096, ["output"])})
    with pytest.raises(ProgramError, match="dataflow"):
        verify_program(_with(program, instructions=instr), WORK, target_of(ws_only, INT8))
    instr = program.instructions.copy()
    instr["buffer"][(instr["opcode"] == Opcode.LOAD) & (instr["operand"] == Operand.WEIGHT)] = 1
    _rejects(_with(program, instructions=instr), "buffer does not hold the operand")


def test_missing_compulsory_traffic_is_rejected():
    program = _program()
    instr = program.instructions.copy()
    instr["bytes"][(instr["opcode"] == Opcode.LOAD) & (instr["operand"] == Operand.WEIGHT)] = 1
    _rejects(_with(program, instructions=instr), "compulsory")


def test_dropping_write_after_read_dependencies_overflows_the_buffer():
    """Without the double-buffering deps, every tile may be loaded at once."""
    program = _program()
    instr = program.instructions
    owner = np.repeat(np.arange(len(instr)), np.diff(program.dep_ptr))
    keep = instr["opcode"][owner] != Opcode.LOAD
    counts = np.bincount(owner[keep], minlength=len(instr))
    dep_ptr = np.concatenate([[0], np.cumsum(counts)])
    _rejects(_with(program, deps=program.deps[keep], dep_ptr=dep_ptr), "live in buffer 'spad'")


def test_schedule_that_does_not_fit_is_rejected():
    big = Schedule(Dataflow.OUTPUT_STATIONARY, 32, 32, 32, (Dim.M, Dim.N, Dim.K), True)
    with pytest.raises(ProgramError, match="of output in buffer 'acc'"):
        verify_schedule(big, WORK[0], target_of(ACCEL, INT8))
    verify_schedule(SCHEDULE, WORK[0], target_of(ACCEL, INT8))


def test_a_vector_layer_that_skips_its_constants_is_rejected():
    rotary = (Workload("mul", "Mul", WorkloadKind.VECTOR, input_elements=1024, output_elements=1024,
                       weight_elements=256, vector_ops={OpClass.ELEMENTWISE: 1024}),)
    accel = chip(buffers={"a": (1 << 20, ["input", "output"]), "w": (1 << 20, ["weight"])})
    program = generate_program(rotary, (VectorSchedule(4, True),), target_of(accel, INT8))
    verify_program(program, rotary, target_of(accel, INT8))
    instr = program.instructions.copy()
    instr["bytes"][(instr["opcode"] == Opcode.LOAD) & (instr["operand"] == Operand.WEIGHT)] = 100
    with pytest.raises(ProgramError, match="reads 100 bytes of constant, less than the compulsory 256"):
        verify_program(_with(program, instructions=instr), rotary, target_of(accel, INT8))


def test_packed_groups_count_in_macs_and_partial_sums():
    grouped = (conv("g", 8, 8, 8, 8, 3, groups=4),)  # per group M=64, K=18, N=2
    schedule = Schedule(Dataflow.OUTPUT_STATIONARY, 64, 18, 2, (Dim.M, Dim.N, Dim.K), True, groups_per_pass=4)
    packed_tile = 4 * 64 * 2 * 4  # the one output tile: 4 groups of 64×2 int32 partial sums
    roomy = chip(buffers={"spad": (1 << 16, ["input", "weight"]), "acc": (packed_tile, ["output"])})
    program = generate_program(grouped, (schedule,), target_of(roomy, INT8))
    verify_program(program, grouped, target_of(roomy, INT8))
    instr = program.instructions.copy()
    instr["groups"][instr["opcode"] == Opcode.GEMM] = 3
    with pytest.raises(ProgramError, match="MACs"):
        verify_program(_with(program, instructions=instr), grouped, target_of(roomy, INT8))
    tight = chip(buffers={"spad": (1 << 16, ["input", "weight"]), "acc": (packed_tile - 1, ["output"])})
    with pytest.raises(ProgramError, match="live in buffer 'acc'"):
        verify_program(program, grouped, target_of(tight, INT8))
    with pytest.raises(ProgramError, match="groups per pass outside 1..4"):
        verify_schedule(dataclasses.replace(schedule, groups_per_pass=5), grouped[0], target_of(roomy, INT8))
