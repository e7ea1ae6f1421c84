"""Channel width (`compiler.target.timing`, "Channel width"): a weight-stationary PE with
weight and partial-sum storage spreads its weights over several output channels and uses
each input it receives once per channel. The width the chip gets, the split the compiler
picks, the folds, accesses and held MACs by hand, and the energy held inputs save."""

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
from compiler.target.timing import (
    gemm_cycles,
    gemm_held_macs,
    gemm_local_macs,
    gemm_occupancy,
    gemm_sram_accesses,
    pe_split,
)
from simulator import run
from simulator.kernels.engines import COL_CYCLES, COL_HELD_MACS
from simulator.run import execute
from tessera.api import simulate

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "accelerators"
OS, WS, IS = Dataflow.OUTPUT_STATIONARY, Dataflow.WEIGHT_STATIONARY, Dataflow.INPUT_STATIONARY


def with_storage(accel, weight: str, output: str, **more):
    return with_overrides(accel, {"matrix.pe_storage": {"weight": weight, "output": output}, **more})


def test_the_width_is_the_partial_sums_the_store_holds() -> None:
    tiny = tiny_accel()  # int32 accumulators
    assert target_of(tiny).pe_width == 1
    assert target_of(with_storage(tiny, "8 B", "16 B")).pe_width == 4
    assert target_of(with_storage(tiny, "8 B", "18 B")).pe_width == 4  # whole sums only
    assert target_of(with_storage(tiny, "8 B", "16 B"), Precision.FP16).pe_width == 4  # fp32 sums
    assert target_of(with_overrides(tiny, {"matrix.pe_storage": {"weight": "8 B"}})).pe_width == 1
    assert target_of(with_storage(tiny, "8 B", "16 B"), timing=TimingMode.SCALESIM).pe_width == 1


def test_the_split_needing_the_fewest_folds_by_hand() -> None:
    """2 rows' worth of reduction, 4 columns' worth of outputs, 8 weights and 4 sums a PE:
    width 1 takes 1 pass × 4 column folds, width 2 (4 deep) 1 × 2, width 4 (2 deep) 1 × 1."""
    split = pe_split(WS, 2, 4, 1, 8, 4)
    assert tuple(int(v) for v in split) == (1, 2, 2, 1, 4, 4)
    # the width stops at the partial sums a PE holds and at the columns' worth
    assert tuple(int(v) for v in pe_split(WS, 2, 4, 1, 8, 2)) == (1, 2, 2, 2, 2, 2)
    # 2 weights a PE: width 2 (1 deep) needs 2 × 2 folds, no fewer than width 1's 1 × 4
    assert tuple(int(v) for v in pe_split(WS, 2, 4, 1, 2, 4)) == (1, 2, 2, 4, 1, 1)
    assert tuple(int(v) for v in pe_split(WS, 2, 1, 1, 8, 4)) == (1, 2, 2, 1, 1, 1)
    # a tie keeps the deeper split: 4 rows, 3 columns, 8 weights: width 2 (4 deep) 1 × 2 = 2
    # folds, width 3 (2 deep) 2 × 1 = 2
    assert tuple(int(v) for v in pe_split(WS, 4, 3, 1, 8, 4)) == (1, 4, 4, 2, 2, 1)
    # packed groups, other dataflows: width 1
    assert int(pe_split(WS, 2, 4, 2, 8, 4).wide) == 1
    for dataflow in (OS, IS):
        assert tuple(int(v) for v in pe_split(dataflow, 2, 4, 1, 8, 4)) == (2, 1, 1, 4, 1, 1)


def test_a_wide_fold_by_hand() -> None:
    """5×4·4×8 on 2×2, 8 weights and 4 sums a PE: one fold 2 deep and 4 wide, T = 5·2·4 = 40,
    L = 2·2·4 = 16, plus R + C − 2 = 2; width 1 takes four folds of 10 + 4 + 2. The input is
    read once, not four times; each of the 2 columns takes an input once for its 4 channels,
    so 6 of every input's 8 MACs hold it."""
    assert gemm_cycles(5, 4, 8, WS, 2, 2, depth=8, width=4) == 40 + 16 + 2
    assert gemm_cycles(5, 4, 8, WS, 2, 2, depth=8) == 4 * (10 + 4 + 2)
    assert tuple(int(v) for v in gemm_sram_accesses(5, 4, 8, WS, 0, 2, 2, depth=8, width=4)) == (20, 32, 0, 40)
    assert tuple(int(v) for v in gemm_sram_accesses(5, 4, 8, WS, 0, 2, 2, depth=8)) == (80, 32, 0, 40)
    assert gemm_held_macs(5, 4, 8, WS, 2, 2, depth=8, width=4) == 20 * 6
    assert gemm_held_macs(5, 4, 8, WS, 2, 2, depth=8) == 0
    # 7 channels: the columns hold 4 and 3; 5 of each input's 7 MACs hold it
    assert gemm_held_macs(5, 4, 7, WS, 2, 2, depth=8, width=4) == 20 * 5
    # the partial sums stay local as at width 1 (one pass of 2 rows: 4 − 2 of 4 products)
    assert gemm_local_macs(5, 4, 8, WS, 2, 2, depth=8, width=4) == 40 * 2


def test_uneven_column_folds_by_hand() -> None:
    """6×13·13×9 on 4×4, 8 weights and 4 sums a PE: 4 rows and 3 columns' worth; width 2 (4
    deep) needs 1 × 2 folds: 2 columns' worth wide, then 1. T = 6·4·2 and 6·4·1, L = 4·4·2 and
    4·4·1. Inputs arrive at 4 columns in the first fold and at 1 in the second (9 − 8 = 1
    channel): 5 arrivals for 9 MACs."""
    assert gemm_cycles(6, 13, 9, WS, 4, 4, depth=8, width=4) == (48 + 32 + 6) + (24 + 16 + 6)
    assert gemm_held_macs(6, 13, 9, WS, 4, 4, depth=8, width=4) == 6 * 13 * (9 - 5)
    occupancy, floor = gemm_occupancy(6, 13, 9, WS, 4, 4, pipelined=True, depth=8, width=4)
    assert (int(occupancy), int(floor)) == (48 + 24, 48 + 24)


def test_width_never_slows_a_gemm_nor_adds_accesses() -> None:
    """The folds of a tile stream and load the same cycles at every split, so fewer folds pay
    fewer fills and drains; inputs are read once per column fold; held MACs never exceed the MACs."""
    rng = np.random.default_rng(5)
    m, k, n = (rng.integers(1, 300, 2000) for _ in range(3))
    groups = rng.integers(1, 3, 2000)
    for depth in (2, 8, 64):
        for pipelined in (False, True):
            narrow = gemm_occupancy(m, k, n, WS, 8, 6, groups, pipelined, depth=depth)[0]
            for width in (2, 3, 8):
                wide = gemm_occupancy(m, k, n, WS, 8, 6, groups, pipelined, depth=depth, width=width)[0]
                assert np.all(wide <= narrow)
        for width in (2, 3, 8):
            wide_reads = gemm_sram_accesses(m, k, n, WS, 0, 8, 6, groups, 0, depth, width)[0]
            assert np.all(wide_reads <= gemm_sram_accesses(m, k, n, WS, 0, 8, 6, groups, 0, depth)[0])
            held = gemm_held_macs(m, k, n, WS, 8, 6, groups, depth, width)
            assert np.all((held >= 0) & (held < groups * m * k * n))
            assert np.all(held[groups > 1] == 0)


def test_held_inputs_save_their_register_write_and_hop_by_hand() -> None:
    """One 8×8·8×16 WS GEMM on the 4×4 array, 8 weights and 4 sums a PE: 2 rows and 4 columns'
    worth, one fold 2 deep and 4 wide; each input reaches the 4 columns once for 16 channels,
    so 64 × 12 of the 1,024 MACs hold it, each saving 0.05 pJ of register and 0.02 pJ of wire."""
    program = program_of([dict(opcode=Opcode.GEMM, m=8, k=8, n=16, dataflow=WS, layer=0)], [[]], ["fc"])
    machine = dataclasses.replace(target_of(tiny_accel()), reduction_depth=8, pe_width=4)
    result = run(program, machine, hand_technology())
    energy = result.layers[0].energy
    narrow = run(program, dataclasses.replace(machine, pe_width=1), hand_technology()).layers[0].energy
    assert execute(program, machine).counters[0, COL_HELD_MACS] == 768
    assert energy.pe_registers == pytest.approx((1024 * 0.1 - 768 * 0.05) * 1e-12, rel=1e-12)
    assert energy.forwarding == pytest.approx((1024 * 0.2 - 512 * 0.1 - 768 * 0.02) * 1e-12, rel=1e-12)
    assert narrow.pe_registers == pytest.approx(1024 * 0.1e-12, rel=1e-12)
    for component in ("mac", "pe_storage", "dram", "vector"):
        assert getattr(energy, component) == getattr(narrow, component), component


def test_the_held_input_energy_is_the_inputs_share_of_a_weight_stationary_mac() -> None:
    plain = resolve(with_storage(tiny_accel(), "8 B", "16 B"))
    # WS writes the input (8 bits) into its register and forwards it; partial sums live in the store
    assert plain.held_input_energy.pe_registers == pytest.approx(plain.register_energy_per_mac[WS], rel=1e-12)
    assert plain.held_input_energy.forwarding == pytest.approx(plain.forwarding_energy_per_mac[WS], rel=1e-12)
    assert plain.held_input_energy.pe_storage == 0.0
    stored = resolve(
        with_overrides(tiny_accel(), {"matrix.pe_storage": {"weight": "8 B", "output": "16 B", "input": "8 B"},
                                      "overrides.pe_storage_energy_per_byte": {"input": "1 pJ"}})
    )  # fmt: skip
    # an input kept in the store is written and read there (1 pJ a byte each), not forwarded
    assert stored.held_input_energy == (0.0, 0.0, pytest.approx(2e-12, rel=1e-12))


def test_width_never_slows_the_same_program_and_holds_inputs() -> None:
    """The program compiled for a weight-stationary chip with 16 weights and 4 sums a PE,
    simulated at its width and at width 1: no more cycles, held MACs, the same MACs."""
    accel = with_storage(load_accelerator(EXAMPLES / "tiny.yaml"), "16 B", "16 B", **{"matrix.dataflows": ["weight-stationary"]})
    sim = simulate(accel, "gemm:m=64,k=16,n=64", verify=True)
    wide_target = sim.compiled.target
    assert (wide_target.reduction_depth, wide_target.pe_width) == (16, 4)
    wide = execute(sim.compiled.program, wide_target)
    narrow = execute(sim.compiled.program, dataclasses.replace(wide_target, pe_width=1))
    assert wide.counters[0, COL_CYCLES] <= narrow.counters[0, COL_CYCLES]
    assert wide.counters[0, COL_HELD_MACS] > 0 and narrow.counters[0, COL_HELD_MACS] == 0
    assert (
        wide.sram_bits[0, wide_target.buffer_of[Operand.INPUT]].sum()
        < narrow.sram_bits[0, wide_target.buffer_of[Operand.INPUT]].sum()
    )
    assert sim.result.macs == 64 * 16 * 64


@pytest.mark.parametrize("model", ["resnet18:width=0.25,resolution=64", "bert:layers=1,hidden=128,heads=2,seq=32"])
def test_a_network_on_a_wide_chip_keeps_the_invariants(model: str) -> None:
    """Verified programs, every layer at or above its roofline bound, MACs conserved, and the
    energy equal to the layers' sum."""
    accel = with_storage(load_accelerator(EXAMPLES / "edge.yaml"), "32 B", "32 B")
    sim = simulate(accel, model, verify=True)
    assert (sim.compiled.target.reduction_depth, sim.compiled.target.pe_width) == (32, 8)
    for workload, layer, bound in zip(sim.compiled.workloads, sim.result.layers, sim.lower_bounds, strict=True):
        assert layer.cycles >= bound, workload.name
        assert layer.macs == workload.macs, workload.name
    assert sim.result.energy_j == pytest.approx(sum(layer.energy_j for layer in sim.result.layers), rel=1e-9)
    assert np.isfinite(sim.result.energy_j)
