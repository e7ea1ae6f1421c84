"""Fused attention chains (QKᵀ → softmax → PV), computed by hand on one small attention.

The network: 2 heads, 256 queries and keys, head dim 16, at int8, built by hand as the three
workloads lowering makes of attention. Q, K, V are network inputs and O its output, so each
is one DRAM transfer; S and P (2 × 256 × 256 = 128 KiB each) do not fit the 64 KiB activation
buffer, so unfused they are written to DRAM and read back. The chip: a 16×16 int8 array, 64
KiB of activations, 16 KiB of weights, 64 KiB of int32 accumulators (one query row of S is
256 × 4 = 1 KiB there).
"""

from __future__ import annotations

import json
from dataclasses import replace
from types import MappingProxyType

import numpy as np
import pytest

from accel_spec import load_accelerator_text
from accel_spec.technology import resolve
from accel_spec.types import Dataflow, OpClass
from compiler.codegen import generate_program
from compiler.memory.chains import Fusion, attention_chains, fused_workload
from compiler.pipeline import CompileOptions
from compiler.scheduling.attention import attention_candidates, attention_footprint
from compiler.scheduling.measure import simulate_layer
from compiler.scheduling.objective import Objective
from compiler.scheduling.schedule import AttentionSchedule
from compiler.target import target_of
from compiler.verify import ProgramError, verify_program
from compiler.workload import GemmShape, Workload, WorkloadKind
from simulator.kernels.engines import COL_MACS
from simulator.reference import simulate_reference
from simulator.run import build_result, execute
from tessera.api import simulate, simulate_workloads
from tessera.errors import InputError

HEADS, LENGTH, DIM = 2, 256, 16
QKV = HEADS * LENGTH * DIM  # elements (= bytes at int8) of each of Q, K, V and O
SCORES = HEADS * LENGTH * LENGTH  # elements of S and of P

CHIP = """\
name: attention
clock: 1 GHz
technology: 28 nm
matrix: {{rows: 16, cols: 16, dataflows: [ws, os], input_precision: int8, accumulator_precision: int32}}
buffers:
  act: {{capacity: 64 KiB, holds: [input]}}
  wgt: {{capacity: {weights}, holds: [weight]}}
  acc: {{capacity: {accumulators}, holds: [output]}}
vector: {{lanes: 16}}
dram: {{type: DDR4, bandwidth: {bandwidth}, latency: 100 ns}}
"""


def chip(weights: str = "16 KiB", accumulators: str = "64 KiB", bandwidth: str = "16 GB/s"):
    text = CHIP.format(weights=weights, accumulators=accumulators, bandwidth=bandwidth)
    return load_accelerator_text(text, "attention.yaml")


def attention() -> tuple[Workload, ...]:
    scores = Workload(
        name="scores", op="MatMul", kind=WorkloadKind.GEMM, input_elements=QKV, weight_elements=QKV,
        output_elements=SCORES, gemm=GemmShape(m=LENGTH, k=DIM, n=LENGTH, batch=HEADS),
        vector_ops=MappingProxyType({OpClass.ELEMENTWISE: SCORES}), weight_is_activation=True,
        input_tensors=("q",), weight_tensor="k", output_tensor="s",
    )
    probs = Workload(
        name="probs", op="Softmax", kind=WorkloadKind.VECTOR, input_elements=SCORES, output_elements=SCORES,
        vector_ops=MappingProxyType({OpClass.ELEMENTWISE: 2 * SCORES, OpClass.TRANSCENDENTAL: SCORES,
                                     OpClass.REDUCTION: 2 * SCORES}),
        input_tensors=("s",), output_tensor="p",
    )
    context = Workload(
        name="context", op="MatMul", kind=WorkloadKind.GEMM, input_elements=SCORES, weight_elements=QKV,
        output_elements=QKV, gemm=GemmShape(m=LENGTH, k=LENGTH, n=DIM, batch=HEADS), weight_is_activation=True,
        input_tensors=("p",), weight_tensor="v", output_tensor="o", graph_output=True,
    )
    return scores, probs, context


def run(accel, **options):
    return simulate_workloads(accel, attention(), "attention", CompileOptions(verify=True, **options))


def fused_alone(accel, schedule: AttentionSchedule):
    """The fused workload as the plan places it, simulated alone under `schedule`."""
    unfused = run(accel, fusion=Fusion.NONE).compiled
    workload = fused_workload(unfused.workloads, ())
    counts, program = simulate_layer(workload, schedule, unfused.target)
    return workload, counts, program, unfused.target


def test_the_chain_is_found_and_fused_where_it_pays():
    assert attention_chains(attention()) == (0,)
    sim = run(chip())
    (layer,) = sim.compiled.workloads
    assert layer.op == "Attention" and layer.fused == ("probs", "context")
    document = json.loads(json.dumps(sim.to_json(), allow_nan=False))  # as `simulate --json` writes it
    assert document["fusion"] == "auto"
    assert document["layers"][0]["schedule"].startswith("fused ")
    assert document["dram_spill_bytes"] == 0


def test_unfused_dram_traffic_writes_and_rereads_s_and_p():
    sim = run(chip(), fusion=Fusion.NONE)
    assert len(sim.compiled.workloads) == 3
    assert sim.result.dram_write_bytes >= 2 * SCORES + QKV  # S and P out, O out
    assert sim.result.dram_read_bytes >= 3 * QKV + 2 * SCORES  # Q, K, V and S and P back
    assert sum(sim.compiled.plan.spill_bytes) == 4 * SCORES


@pytest.mark.parametrize("query_block, key_block", [(32, 64), (16, 128), (32, 256)])
def test_fused_streamed_traffic_is_q_plus_k_and_v_per_query_block_plus_o(query_block, key_block):
    schedule = AttentionSchedule(Dataflow.WEIGHT_STATIONARY, query_block, key_block, False, False)
    workload, counts, program, target = fused_alone(chip(), schedule)
    query_blocks = LENGTH // query_block
    reads = QKV + (query_blocks if key_block < LENGTH else 1) * 2 * QKV
    assert _totals(counts, program, target) == (reads, QKV)
    assert counts.counters[0, COL_MACS] == 2 * HEADS * LENGTH * LENGTH * DIM == workload.macs
    verify_program(program, (workload,), target)


@pytest.mark.parametrize("pipelined", [False, True])
def test_fused_resident_traffic_reads_q_k_v_once(pipelined):
    schedule = AttentionSchedule(Dataflow.OUTPUT_STATIONARY, 16, 64, True, pipelined)
    workload, counts, program, target = fused_alone(chip(), schedule)
    assert _totals(counts, program, target) == (3 * QKV, QKV)
    assert counts.counters[0, COL_MACS] == workload.macs
    verify_program(program, (workload,), target)


def _totals(counts, program, target) -> tuple[int, int]:
    """(DRAM bytes read, written) of a simulated program."""
    result = build_result(counts.counters, counts.sram_bits, program.layer_names, target, resolve(chip(), target.operand_precision))
    return int(result.dram_read_bytes), int(result.dram_write_bytes)


@pytest.mark.parametrize("resident, pipelined", [(False, False), (False, True), (True, False), (True, True)])
def test_the_footprint_is_what_verify_finds_live(resident, pipelined):
    """Every candidate's program passes verify on a chip exactly its footprint's size, and
    fails with one byte less in any buffer: the footprint is exact. One exception, where it is
    conservative: streamed and pipelined, the in-order load engine brings the next block's K
    tiles, which wait for its QKᵀ, before this block's P tiles, so part of the older P row is
    already free when the newer one loads (verify finds 5,376 B of input live, not 8,448)."""
    accel = chip()
    schedule = AttentionSchedule(Dataflow.WEIGHT_STATIONARY, 16, 64, resident, pipelined)
    workload, _, program, target = fused_alone(accel, schedule)
    demand = attention_footprint(workload, target, 16, 64, resident, pipelined)
    exact = replace(target, capacity=tuple(int(v) for v in demand))
    verify_program(program, (workload,), exact)
    for buffer in range(len(demand)):
        if pipelined and not resident and buffer == target.activation_buffer:
            continue
        smaller = list(exact.capacity)
        smaller[buffer] -= 1
        with pytest.raises(ProgramError):
            verify_program(program, (workload,), replace(exact, capacity=tuple(smaller)))


@pytest.mark.parametrize("resident, pipelined", [(False, True), (True, True), (False, False)])
def test_the_kernel_equals_the_reference_on_a_fused_chain(resident, pipelined):
    schedule = AttentionSchedule(Dataflow.WEIGHT_STATIONARY, 64, 64, resident, pipelined)
    _, _, program, target = fused_alone(chip(weights="64 KiB", accumulators="256 KiB"), schedule)
    fast, slow = execute(program, target), simulate_reference(program, target)
    for field in ("start", "end", "counters", "sram_bits"):
        np.testing.assert_array_equal(getattr(fast, field), getattr(slow, field), err_msg=field)


@pytest.mark.parametrize("objective", list(Objective))
@pytest.mark.parametrize(
    "accel", [chip(), chip(accumulators="4 KiB", bandwidth="1 TB/s"), chip(weights="4 KiB", bandwidth="2 GB/s")]
)
def test_fusion_is_never_chosen_when_worse_on_the_objective(objective, accel):
    fused = run(accel, objective=objective)
    unfused = run(accel, objective=objective, fusion=Fusion.NONE)
    score = {
        Objective.LATENCY: lambda s: s.result.total_cycles,
        Objective.ENERGY: lambda s: s.result.energy_j,
        Objective.EDP: lambda s: s.result.energy_j * s.result.total_cycles,
    }[objective]
    assert score(fused) <= score(unfused)
    if len(fused.compiled.workloads) == 3:  # not fused: the very same program
        assert fused.result.total_cycles == unfused.result.total_cycles


def test_a_small_accumulator_and_a_fast_channel_keep_the_chain_unfused():
    """One or two query rows of S per block leave the 16-row array mostly idle, while a fast
    channel makes S and P cheap to spill."""
    sim = run(chip(accumulators="4 KiB", bandwidth="1 TB/s"))
    assert [w.op for w in sim.compiled.workloads] == ["MatMul", "Softmax", "MatMul"]


def test_more_capacity_never_increases_the_chosen_dram_traffic():
    traffic = []
    for weights, accumulators in (("4 KiB", "8 KiB"), ("8 KiB", "16 KiB"), ("16 KiB", "64 KiB"), ("64 KiB", "256 KiB")):
        sim = run(chip(weights=weights, accumulators=accumulators, bandwidth="2 GB/s"))
        traffic.append(sim.result.dram_read_bytes + sim.result.dram_write_bytes)
    assert traffic == sorted(traffic, reverse=True)
    assert traffic[-1] == 4 * QKV  # Q, K, V in once, O out once


def test_no_blocking_fits_when_one_query_row_of_s_does_not():
    accel = chip(accumulators="1 KiB")
    workload = fused_workload(attention(), ())
    assert attention_candidates(workload, target_of(accel)) == []
    assert len(run(accel).compiled.workloads) == 3


def test_fusion_none_is_the_unfused_program():
    sim = run(chip(), fusion=Fusion.NONE)
    target = sim.compiled.target
    program = generate_program(sim.compiled.workloads, sim.compiled.schedules, target)
    assert np.array_equal(program.instructions, sim.compiled.program.instructions)


def test_the_api_takes_fusion_by_name():
    model = "bert:layers=1,hidden=64,heads=4,ffn=128,seq=512"
    accel = chip(weights="64 KiB", accumulators="256 KiB")
    ops = {fusion: [w.op for w in simulate(accel, model, fusion=fusion).compiled.workloads] for fusion in ("auto", "none")}
    assert "Attention" in ops["auto"] and "Attention" not in ops["none"]
    assert ops["none"].count("Softmax") == 1
    with pytest.raises(InputError, match="fusion"):
        simulate(chip(), model, fusion="always")
