"""Zero-input gating (`matrix.gates_zero_inputs`, `activation_zeros`): a gated zero saves its MAC
and its weight's per-PE storage read, nothing else, and only on a chip that gates."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import pytest
from simulator_cases import hand_technology, tiny_accel, two_layer_program

from accel_spec import load_accelerator, with_overrides
from accel_spec.technology import resolve
from accel_spec.types import Dataflow
from compiler.target import target_of
from simulator import run
from tessera.api import simulate
from tessera.errors import InputError

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "accelerators"
CONV = "conv2d:h=13,w=13,c=16,k=16,r=3,s=3,pad=1"
GATED_COMPONENTS = {"mac", "pe_storage"}


def test_gated_energy_by_hand() -> None:
    """1,024 MACs (the conv layer), 1 pJ per MAC, 0.3 pJ of per-PE storage per MAC of which a
    0.1 pJ weight read is gated; at 75 % zeros the MAC costs 0.25 pJ and the storage 0.225 pJ."""
    gating = dataclasses.replace(
        hand_technology(),
        pe_storage_energy_per_mac={d: 0.3e-12 for d in Dataflow},
        gates_zero_inputs=True,
        gated_storage_energy_per_mac=0.1e-12,
    )
    machine = target_of(tiny_accel())
    dense = run(two_layer_program(), machine, gating).layers[0].energy
    gated = run(two_layer_program(), machine, gating, activation_zeros=0.75).layers[0].energy
    assert gated.mac == pytest.approx(1024 * 0.25e-12, rel=1e-12)
    assert gated.pe_storage == pytest.approx(1024 * (0.3e-12 - 0.75 * 0.1e-12), rel=1e-12)
    assert dense.total - gated.total == pytest.approx(1024 * 0.75 * (1e-12 + 0.1e-12), rel=1e-12)
    unchanged = {k: v for k, v in gated.components().items() if k not in GATED_COMPONENTS}
    assert unchanged == {k: v for k, v in dense.components().items() if k not in GATED_COMPONENTS}


def test_only_the_weights_per_pe_read_is_gated() -> None:
    """A weight-stationary PE storing only its weight reads it once per MAC, all of it gated; a
    chip storing input and partial sums (Eyeriss) has no per-PE weight read to gate."""
    tiny = tiny_accel()
    weight = resolve(with_overrides(tiny, {"matrix.pe_storage": {"weight": "8 B"}}))
    assert weight.gated_storage_energy_per_mac == weight.pe_storage_energy_per_mac[Dataflow.WEIGHT_STATIONARY] > 0
    # output-stationary moves the weight: it is also written into the store, which is not gated
    assert weight.pe_storage_energy_per_mac[Dataflow.OUTPUT_STATIONARY] > weight.gated_storage_energy_per_mac
    eyeriss = resolve(load_accelerator(EXAMPLES / "eyeriss.yaml"))
    assert eyeriss.gates_zero_inputs and eyeriss.gated_storage_energy_per_mac == 0.0
    assert "zero_gating" in eyeriss.sources and "zero_gating" not in resolve(tiny).sources
    assert not resolve(tiny).gates_zero_inputs


@pytest.mark.parametrize(
    ("chip", "model"),
    [("eyeriss.yaml", CONV), ("tiny.yaml", "gemm:m=16,k=8,n=8")],
)
def test_more_zeros_never_cost_more_and_never_change_cycles(chip: str, model: str) -> None:
    accel = load_accelerator(EXAMPLES / chip)
    runs = [simulate(accel, model, activation_zeros=z) for z in (0.0, 0.25, 0.5, 0.9)]
    energies = [r.result.energy_j for r in runs]
    assert len({r.result.total_cycles for r in runs}) == 1
    if accel.matrix.gates_zero_inputs:
        assert all(later < earlier for earlier, later in zip(energies, energies[1:]))
    else:
        assert len(set(energies)) == 1  # no gating: zeros save nothing
    dense = runs[0].result.energy_breakdown
    for other in runs[1:]:
        for component, value in other.result.energy_breakdown.items():
            if component not in GATED_COMPONENTS:
                assert value == dense[component], component
    assert [r.to_json()["activation_zeros"] for r in runs] == [0.0, 0.25, 0.5, 0.9]


def test_a_gating_chip_that_stores_its_weights_saves_the_read_too() -> None:
    accel = with_overrides(
        load_accelerator(EXAMPLES / "tiny.yaml"),
        {"matrix.gates_zero_inputs": True, "matrix.pe_storage": {"weight": "8 B"}},
    )
    dense, gated = (simulate(accel, "gemm:m=16,k=8,n=8", activation_zeros=z).result for z in (0.0, 0.5))
    assert gated.energy_breakdown["mac"] == pytest.approx(dense.energy_breakdown["mac"] / 2)
    assert gated.energy_breakdown["pe_storage"] < dense.energy_breakdown["pe_storage"]


@pytest.mark.parametrize("value", [1.0, -0.1, math.nan, math.inf, "0.5", True, None])
def test_a_bad_fraction_is_an_input_error_naming_the_keyword(value: object) -> None:
    with pytest.raises(InputError) as raised:
        simulate(EXAMPLES / "tiny.yaml", "gemm:m=8,k=8,n=8", activation_zeros=value)
    assert raised.value.source == "activation_zeros" and "[0, 1)" in raised.value.render()


def test_run_refuses_a_fraction_outside_zero_to_one() -> None:
    with pytest.raises(ValueError, match="activation_zeros"):
        run(two_layer_program(), target_of(tiny_accel()), hand_technology(), activation_zeros=1.0)
