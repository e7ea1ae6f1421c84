"""Reduction depth (`compiler.target.timing`, "Reduction depth"): a weight-stationary PE with its
own weight storage reduces several weights in place. The depth the chip gets, the energy its
kept partial sums save, and what it does to a compiled network."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
from simulator_cases import hand_technology, program_of, tiny_accel

from accel_spec import load_accelerator, resolve, with_overrides
from accel_spec.types import Dataflow, Operand, Precision
from compiler.target import TimingMode, target_of
from compiler.target.isa import Opcode
from simulator import run
from simulator.kernels.engines import COL_BUSY, COL_CYCLES
from simulator.run import execute
from tessera.api import simulate

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "accelerators"
WS = Dataflow.WEIGHT_STATIONARY


def with_weights(accel, size: str, **more):
    return with_overrides(accel, {"matrix.pe_storage": {"weight": size}, **more})


def test_the_depth_is_the_weights_the_store_holds() -> None:
    tiny = tiny_accel()  # int8 operands
    assert target_of(tiny).reduction_depth == 1
    assert target_of(with_weights(tiny, "8 B")).reduction_depth == 8
    assert target_of(with_weights(tiny, "8 B"), Precision.FP16).reduction_depth == 4  # 16-bit weights
    assert target_of(with_weights(tiny, "9 B")).reduction_depth == 9
    # the shadow copy of a double-buffered stationary operand takes half the store
    assert target_of(with_weights(tiny, "8 B", **{"matrix.stationary_double_buffer": True})).reduction_depth == 4
    # SCALE-Sim's timing keeps one weight a PE; an input or partial-sum store gives no depth
    assert target_of(with_weights(tiny, "8 B"), timing=TimingMode.SCALESIM).reduction_depth == 1
    assert target_of(with_overrides(tiny, {"matrix.pe_storage": {"input": "8 B", "output": "8 B"}})).reduction_depth == 1


def test_kept_partial_sums_save_their_hop_by_hand() -> None:
    """One 8×32·32×8 WS GEMM on the 4×4 array at depth 4: 8 rows' worth of reduction in two
    passes, so each output's sum hops 4 × 2 = 8 times, not 32: 64 × 24 MACs keep it. With
    0.2 pJ of forwarding per MAC of which a 0.1 pJ hop, forwarding is 2,048 × 0.2 − 1,536 × 0.1 pJ."""
    program = program_of([dict(opcode=Opcode.GEMM, m=8, k=32, n=8, dataflow=WS, layer=0)], [[]], ["fc"])
    machine = dataclasses.replace(target_of(tiny_accel()), reduction_depth=4)
    energy = run(program, machine, hand_technology()).layers[0].energy
    assert energy.forwarding == pytest.approx((2048 * 0.2 - 1536 * 0.1) * 1e-12, rel=1e-12)
    shallow = run(program, dataclasses.replace(machine, reduction_depth=1), hand_technology()).layers[0].energy
    assert shallow.forwarding == pytest.approx(2048 * 0.2e-12, rel=1e-12)
    # the same MACs, registers and storage; fewer partial-sum passes move fewer SRAM bytes and take fewer cycles
    for component in ("mac", "pe_registers", "pe_storage", "dram", "vector"):
        assert getattr(energy, component) == getattr(shallow, component), component
    assert energy.interconnect < shallow.interconnect and energy.clock < shallow.clock


def test_the_hop_is_the_partial_sum_share_of_a_weight_stationary_macs_forwarding() -> None:
    tech = resolve(with_weights(tiny_accel(), "8 B"))
    # WS forwards the input (8 bits) and the partial sum (32): the hop is 32 of those 40 bits
    assert tech.psum_hop_energy == pytest.approx(tech.forwarding_energy_per_mac[WS] * 32 / 40, rel=1e-12)
    stored = resolve(with_overrides(tiny_accel(), {"matrix.pe_storage": {"weight": "8 B", "output": "8 B"}}))
    assert stored.psum_hop_energy == 0.0  # partial sums in per-PE storage are not forwarded


def test_depth_never_slows_the_same_program_and_cuts_partial_sum_traffic() -> None:
    """The program compiled for a weight-stationary chip with 16 weights a PE, simulated at its
    depth and at depth 1: fewer cycles, fewer partial-sum accesses, the same MACs."""
    accel = with_weights(load_accelerator(EXAMPLES / "tiny.yaml"), "16 B", **{"matrix.dataflows": ["weight-stationary"]})
    sim = simulate(accel, "gemm:m=64,k=512,n=16", verify=True)
    deep_target = sim.compiled.target
    assert deep_target.reduction_depth == 16
    deep = execute(sim.compiled.program, deep_target)
    shallow = execute(sim.compiled.program, dataclasses.replace(deep_target, reduction_depth=1))
    assert deep.counters[0, COL_CYCLES] < shallow.counters[0, COL_CYCLES]
    assert deep.counters[0, COL_BUSY + 1] < shallow.counters[0, COL_BUSY + 1]
    output = deep_target.buffer_of[Operand.OUTPUT]
    assert deep.sram_bits[0, output].sum() < shallow.sram_bits[0, output].sum()
    assert sim.result.macs == 64 * 512 * 16


@pytest.mark.parametrize("model", ["mobilenetv2:width=0.5,resolution=96", "bert:layers=1,hidden=128,heads=2,seq=32"])
def test_a_network_on_a_deep_chip_keeps_the_invariants(model: str) -> None:
    """Verified programs, every layer at or above its roofline bound, MACs conserved, and the
    energy equal to the layers' sum."""
    accel = with_weights(load_accelerator(EXAMPLES / "edge.yaml"), "32 B")
    sim = simulate(accel, model, verify=True)
    assert sim.compiled.target.reduction_depth == 32
    for workload, layer, bound in zip(sim.compiled.workloads, sim.result.layers, sim.lower_bounds, strict=True):
        assert layer.cycles >= bound, workload.name
        assert layer.macs == workload.macs, workload.name
    assert sim.result.energy_j == pytest.approx(sum(layer.energy_j for layer in sim.result.layers), rel=1e-9)
    assert np.isfinite(sim.result.energy_j)
