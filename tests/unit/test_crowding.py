"""Kept tensors that crowd a layer's streamed input (`compiler.memory.crowding`).

The case that made the challenger: on the `tiny` chip, MobileNetV2 (width 0.5, 128 px) with
a 3,246 B input buffer kept block10.project's 3,072 B output across block 11 for its residual
add (block11.project's side input), beside block11.project's streamed input, whose tiles then
had 174 B: the layer went from 60,177 cycles (1,266 B buffer) to 131,367 and the network from
3,618,190 to 3,782,566 cycles with more memory.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path

import pytest

import compiler.memory.conv_chains
import compiler.pipeline
from accel_spec import load_accelerator, with_overrides
from compiler.codegen.memo import MeasuredCodes
from compiler.lowering import lower
from compiler.memory.crowding import crowded_layers, slowed_layers
from compiler.models import load_model
from compiler.pipeline import CompileOptions, clear_compile_caches, compile_workloads
from compiler.scheduling import schedule_workloads
from compiler.scheduling.objective import Goal
from compiler.target import LEVEL_DRAM
from tessera.api import simulate_workloads

TINY = Path(__file__).resolve().parents[2] / "examples" / "accelerators" / "tiny.yaml"
MODEL = "mobilenetv2:width=0.5,resolution=128"


def greedy_plan(plan, *args, schedule, finish, **kwargs):
    """The greedy plan alone, fused: `uncrowd` without its challenger."""
    return finish(plan, schedule(plan.workloads))


def tiny(inputs: int):
    """The tiny chip with an `inputs`-byte input buffer, 1,399 B of weights, 253 B of sums."""
    capacities = {"buffers.inputs.capacity": inputs, "buffers.weights.capacity": 1399, "buffers.accumulators.capacity": 253}
    return with_overrides(load_accelerator(TINY), capacities)


@pytest.fixture(scope="module")
def workloads():
    return lower(load_model(MODEL))


def _layers(simulation) -> dict[str, int]:
    return {layer.name: layer.cycles for layer in simulation.result.layers}


def test_a_larger_input_buffer_no_longer_slows_the_layer_its_kept_output_crowds(workloads) -> None:
    small = simulate_workloads(tiny(1266), workloads, MODEL, CompileOptions())
    large = simulate_workloads(tiny(3246), workloads, MODEL, CompileOptions())
    assert large.result.total_cycles <= small.result.total_cycles
    assert _layers(large)["block11.project"] <= _layers(small)["block11.project"]


def test_the_challenger_replaces_the_greedy_plan_only_when_it_is_faster_and_spends_less(workloads, monkeypatch) -> None:
    """With the challenger the network takes fewer cycles and less energy than the greedy plan
    alone, which keeps block11.project's residual operand across it (asserted)."""
    chip = tiny(3246)
    challenged = simulate_workloads(chip, workloads, MODEL, CompileOptions())
    monkeypatch.setattr(compiler.pipeline, "uncrowd", greedy_plan)
    greedy = simulate_workloads(chip, workloads, MODEL, CompileOptions())
    project = next(w for w in greedy.compiled.workloads if w.name == "block11.project")
    assert project.side_tensors == ("block10.project",)
    assert "block10.project" in greedy.compiled.plan.kept
    assert challenged.result.total_cycles < greedy.result.total_cycles
    assert challenged.result.energy_j < greedy.result.energy_j
    assert _layers(challenged)["block11.project"] < _layers(greedy)["block11.project"] / 2


def test_a_slowed_layer_streams_its_input_beside_kept_tensors_and_wants_more_room_than_they_leave(workloads, monkeypatch) -> None:
    monkeypatch.setattr(compiler.pipeline, "uncrowd", greedy_plan)
    compiled = compile_workloads(workloads, MODEL, tiny(3246))
    plan, target = compiled.plan, compiled.target
    buffer = target.activation_buffer
    crowded = crowded_layers(plan.workloads, target)
    for index in crowded:
        workload = plan.workloads[index]
        assert workload.placement.input == LEVEL_DRAM and workload.reserved[buffer] > 0
    slowed = slowed_layers(plan, compiled.schedules, target, Goal(), partial(schedule_workloads, chip=target), MeasuredCodes())
    assert {index for index, _ in slowed} <= set(crowded)
    index, room = next((i, r) for i, r in slowed if plan.workloads[i].name == "block11.project")
    assert room[buffer] > target.capacity[buffer] - plan.workloads[index].reserved[buffer]
    assert room[buffer] <= target.capacity[buffer]


class _Forgetful:
    """`chains.Decisions` that forgets between fusions: every plan searches its chains anew."""

    def __init__(self, measured: MeasuredCodes) -> None:
        self.measured = measured

    @property
    def chains(self) -> dict:
        return {}

    @property
    def attention(self) -> dict:
        return {}


def test_the_plan_and_its_challengers_share_their_fusion_decisions(monkeypatch) -> None:
    """A never-seen edge chip whose plan meets four challengers (the slowest point of
    `benchmarks/sweep_throughput.py`'s never-seen sweep): each chain the plans share is
    searched once per compile, and the result is the one a search per plan finds."""
    edge = Path(__file__).resolve().parents[2] / "examples" / "accelerators" / "edge.yaml"
    chip = with_overrides(load_accelerator(edge), {
        "matrix.rows": 128, "matrix.cols": 32, "buffers.activations.capacity": "192512 B",
        "buffers.weights.capacity": "2838528 B", "buffers.accumulators.capacity": "1013760 B", "dram.bandwidth": "26.25 GB/s",
    })  # fmt: skip
    network = lower(load_model("mobilenetv2"))
    searched: list[str] = []
    search = compiler.memory.conv_chains.best_conv_chain
    monkeypatch.setattr(compiler.memory.conv_chains, "best_conv_chain", lambda w, *a: searched.append(w.name) or search(w, *a))
    shared = simulate_workloads(chip, network, "mobilenetv2", CompileOptions())
    shared_searches = len(searched)
    searched.clear()
    clear_compile_caches()
    monkeypatch.setattr(compiler.pipeline, "Decisions", _Forgetful)
    alone = simulate_workloads(chip, network, "mobilenetv2", CompileOptions())
    assert shared_searches < len(searched) / 2
    assert shared.compiled.schedules == alone.compiled.schedules
    assert (shared.result.total_cycles, shared.result.energy_j) == (alone.result.total_cycles, alone.result.energy_j)
