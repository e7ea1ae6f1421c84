"""Schedules for an objective: latency, energy or EDP, each measured on the simulator.

Every objective measures the same finalists, so the layer it picks is the finalist best on
its own score: a network scheduled for energy never uses more energy than one scheduled for
latency (layer energies add up), and one scheduled for latency is never slower.
"""

from __future__ import annotations

import pytest

from accel_spec import load_accelerator, with_overrides
from compiler.lowering import lower
from compiler.models import load_model
from compiler.pipeline import CompileOptions
from compiler.scheduling import SchedulerKind
from compiler.scheduling.objective import Goal, Objective
from tessera.api import simulate_workloads

EXAMPLES = "examples/accelerators"
CASES = [("edge", "mobilenetv2:width=0.5,resolution=96"), ("gemmini", "resnet18:resolution=64"), ("edge", "bert:layers=1,seq=64")]


def run(chip: str, model: str, objective: Objective, kind: SchedulerKind = SchedulerKind.HEURISTIC, bandwidth: float = 1.0):
    accel = load_accelerator(f"{EXAMPLES}/{chip}.yaml")
    if bandwidth != 1.0:
        accel = with_overrides(accel, {"dram.bandwidth": f"{bandwidth * accel.dram.bandwidth!r} B/s"})
    return simulate_workloads(accel, lower(load_model(model)), model, CompileOptions(scheduler=kind, objective=objective))


@pytest.mark.parametrize(("chip", "model"), CASES)
def test_each_objective_wins_on_its_own_score(chip, model):
    fastest = run(chip, model, Objective.LATENCY).result
    frugal = run(chip, model, Objective.ENERGY).result
    assert frugal.energy_j <= fastest.energy_j * (1 + 1e-12)
    assert fastest.total_cycles <= frugal.total_cycles
    per_layer = zip(frugal.layers, fastest.layers, strict=True)
    assert all(f.energy_j <= s.energy_j * (1 + 1e-12) for f, s in per_layer)


@pytest.mark.parametrize(("chip", "model"), CASES[:2])
@pytest.mark.parametrize("objective", list(Objective))
def test_the_heuristic_is_within_five_percent_of_the_exhaustive_search(chip, model, objective):
    def score(result) -> float:
        return {
            Objective.LATENCY: result.total_cycles,
            Objective.ENERGY: result.energy_j,
            Objective.EDP: result.energy_j * result.latency_s,
        }[objective]

    heuristic = score(run(chip, model, objective).result)
    exhaustive = score(run(chip, model, objective, SchedulerKind.EXHAUSTIVE).result)
    assert heuristic <= 1.05 * exhaustive


@pytest.mark.parametrize(("chip", "model"), CASES[:2])
def test_more_bandwidth_never_costs_energy_when_scheduling_for_energy(chip, model):
    base = run(chip, model, Objective.ENERGY).result
    doubled = run(chip, model, Objective.ENERGY, bandwidth=2.0).result
    assert doubled.energy_j <= base.energy_j * (1 + 1e-12)


def test_energy_needs_the_technology():
    with pytest.raises(ValueError, match="technology"):
        Goal(Objective.ENERGY)
