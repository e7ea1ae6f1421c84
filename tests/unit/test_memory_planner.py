"""The memory planner: what stays on chip, what spills, computed by hand on small networks.

The chip: a 16×16 int8 weight-stationary array with an activation buffer of a chosen size,
1 MiB of weights and 256 KiB of accumulators. The network: an MLP of three 256×256 layers
at batch 16, so every activation is 16 × 256 = 4,096 bytes and every weight matrix 65,536.
"""

from __future__ import annotations

import numpy as np
import pytest
from codegen_cases import example_chip

from accel_spec import load_accelerator_text, with_overrides
from accel_spec.types import Operand
from compiler.lowering import lower
from compiler.memory.planner import WORKING_SETS, WeightResidency, plan_memory, working_sets
from compiler.models import load_model
from compiler.pipeline import CompileOptions, clear_compile_caches
from compiler.target import LEVEL_DRAM, level_of, target_of
from tessera.api import simulate_workloads

CHIP = """\
name: planner
clock: 1 GHz
technology: 28 nm
matrix: {{rows: 16, cols: 16, dataflows: [ws], input_precision: int8, accumulator_precision: int32}}
buffers:
  act: {{capacity: {activations}, holds: [input]}}
  wgt: {{capacity: {weights}, holds: [weight]}}
  acc: {{capacity: 256 KiB, holds: [output]}}
vector: {{lanes: 16}}
dram: {{type: DDR4, bandwidth: 16 GB/s, latency: 100 ns}}
"""
MLP = "mlp:layers=3,hidden=256,batch=16"
ACTIVATION = 16 * 256
WEIGHTS = 256 * 256


def chip(activations: str, weights: str = "1 MiB"):
    return load_accelerator_text(CHIP.format(activations=activations, weights=weights), "planner.yaml")


def run(accel, model: str = MLP, **options):
    return simulate_workloads(accel, lower(load_model(model)), model, CompileOptions(verify=True, **options))


def reads(layer, operand: Operand) -> int:
    """DRAM bytes `layer` loads of `operand`."""
    return layer.dram_read_bytes_by_operand[operand]


def reads_input_whole(layer) -> bool:
    """The layer loads its whole 4 KiB input from DRAM, once or again per column of weight
    tiles (the latency search may trade reloads of a small input for speed)."""
    return reads(layer, Operand.INPUT) >= ACTIVATION and reads(layer, Operand.INPUT) % ACTIVATION == 0


def test_a_network_that_fits_reads_each_weight_once_and_writes_only_its_output():
    """Only fc0 reads activations from DRAM (the network's input: once, or again per column
    of weight tiles where that is faster, the search's choice), the kept ones never."""
    sim = run(chip("1 MiB"))
    fc0, fc1, fc2 = sim.result.layers
    assert [reads(layer, Operand.WEIGHT) for layer in (fc0, fc1, fc2)] == [WEIGHTS] * 3  # weights once
    assert reads_input_whole(fc0)
    assert reads(fc1, Operand.INPUT) == reads(fc2, Operand.INPUT) == 0
    assert sim.result.dram_write_bytes == ACTIVATION  # the network's output only
    plan = sim.compiled.plan
    assert set(plan.kept) == {"relu0", "relu1"}
    assert sum(plan.spill_bytes) == 0
    assert sum(plan.compulsory_bytes) == 3 * WEIGHTS + 2 * ACTIVATION


def test_a_tensor_that_does_not_fit_beside_the_one_still_live_spills_once():
    """6 KiB of activation buffer. fc0's output (4 KiB, live through fc1) fits beside fc0's and
    fc1's working set (a double-buffered 16×16 input tile: 512 B). During fc1 it is still live,
    so fc1's own 4 KiB output no longer fits (8 KiB + 512 B > 6 KiB): fc1 writes it to DRAM and
    fc2 reads it back, 2 × 4,096 bytes of spill."""
    sim = run(chip("6 KiB"))
    plan = sim.compiled.plan
    assert set(plan.kept) == {"relu0"}
    assert plan.spill_bytes == (0, ACTIVATION, ACTIVATION)
    fc0, fc1, fc2 = sim.result.layers
    assert [reads(layer, Operand.WEIGHT) for layer in (fc0, fc1, fc2)] == [WEIGHTS] * 3
    assert reads_input_whole(fc0) and fc0.dram_write_bytes == 0
    assert (reads(fc1, Operand.INPUT), fc1.dram_write_bytes) == (0, ACTIVATION)
    assert reads_input_whole(fc2) and fc2.dram_write_bytes == ACTIVATION


def test_placements_follow_the_plan():
    target = target_of(chip("6 KiB"))
    plan = plan_memory(lower(load_model(MLP)), target)
    activation = level_of(target.activation_buffer)
    fc0, fc1, fc2 = plan.workloads
    assert (fc0.placement.input, fc0.placement.output) == (LEVEL_DRAM, activation)
    assert (fc1.placement.input, fc1.placement.output) == (activation, LEVEL_DRAM)
    assert (fc2.placement.input, fc2.placement.output) == (LEVEL_DRAM, LEVEL_DRAM)
    # fc0's output is held in the activation buffer during fc0 and fc1
    assert [w.reserved[target.activation_buffer] for w in plan.workloads] == [ACTIVATION, ACTIVATION, 0]


def test_resident_weights_are_not_read_per_inference():
    sim = run(chip("1 MiB"), weights=WeightResidency.RESIDENT)
    assert sim.result.dram_read_bytes == ACTIVATION
    assert sim.compiled.plan.resident_weights == {"fc0", "fc1", "fc2"}
    # only two of the three 64 KiB weight matrices fit beside the layers' weight tiles
    two = run(chip("1 MiB", weights="160 KiB"), weights=WeightResidency.RESIDENT)
    assert two.compiled.plan.resident_weights == {"fc0", "fc1"}
    assert two.result.dram_read_bytes == WEIGHTS + ACTIVATION


@pytest.mark.parametrize("model", ["mobilenetv2:width=0.5,resolution=96", "resnet18:resolution=64", "bert:layers=2"])
def test_more_activation_buffer_never_plans_more_dram_traffic(model):
    """The plan's DRAM bytes (compulsory and spilled activations) never grow with capacity.
    (A layer's schedule may still trade reloads for speed: its objective is latency.)"""
    base = load_accelerator_text(CHIP.format(activations="1 MiB", weights="1 MiB"), "planner.yaml")
    workloads = lower(load_model(model))
    planned = []
    for size in ("32 KiB", "64 KiB", "128 KiB", "256 KiB", "512 KiB", "1 MiB", "4 MiB"):
        plan = simulate_workloads(with_overrides(base, {"buffers.act.capacity": size}), workloads, model).compiled.plan
        planned.append(sum(plan.compulsory_bytes) + sum(plan.spill_bytes))
    assert planned == sorted(planned, reverse=True)
    assert planned[-1] < planned[0]


def test_a_model_larger_than_dram_is_infeasible_with_the_numbers():
    from compiler.scheduling import InfeasibleSchedule

    small = load_accelerator_text(
        CHIP.format(activations="1 MiB", weights="1 MiB").replace("latency: 100 ns}", "latency: 100 ns, capacity: 128 KiB}"),
        "planner.yaml",
    )
    with pytest.raises(InfeasibleSchedule, match=r"needs 204,800 B of DRAM \(weights 196,608 B"):
        run(small)


def test_what_the_activation_buffer_cannot_keep_an_l2_keeps():
    """The 6 KiB activation buffer spills fc1's output (above); a 16 KiB L2 (a buffer holding
    no operand) keeps it instead: no activation reaches DRAM, and fc2 loads its input from
    the L2 over its read port (16 B/cycle: 4,096 / 16 = 256 cycles of port time)."""
    text = CHIP.format(activations="6 KiB", weights="1 MiB").replace(
        "  acc: {capacity: 256 KiB, holds: [output]}",
        "  acc: {capacity: 256 KiB, holds: [output]}\n  l2: {capacity: 16 KiB, holds: [], read_bytes_per_cycle: 16}",
    )
    sim = run(load_accelerator_text(text, "planner-l2.yaml"))
    target = sim.compiled.target
    l2 = level_of(target.buffer_names.index("l2"))
    assert dict(sim.compiled.plan.kept) == {"relu0": level_of(target.activation_buffer), "relu1": l2}
    assert sum(sim.compiled.plan.spill_bytes) == 0
    fc0, fc1, fc2 = sim.result.layers
    assert [reads(layer, Operand.WEIGHT) for layer in (fc0, fc1, fc2)] == [WEIGHTS] * 3
    assert reads_input_whole(fc0) and reads(fc1, Operand.INPUT) == reads(fc2, Operand.INPUT) == 0
    assert sim.result.dram_write_bytes == ACTIVATION
    assert (fc1.onchip_write_bytes, fc2.onchip_read_bytes) == (ACTIVATION, ACTIVATION)
    assert fc2.sram_read_bytes["l2"] == ACTIVATION and fc1.sram_write_bytes["l2"] == ACTIVATION
    assert sim.compiled.plan.workloads[2].placement.input == l2


DECODER = "llama:layers=1,hidden=256,heads=4,kv_heads=2,ffn=512,vocab=1000,phase=decode,kv_len=64"


def test_a_network_input_several_layers_read_is_loaded_once_and_kept():
    """The decoder's hidden state (256 int8 values) is read by the first norm's Pow, its
    division and, as the residual, by o_proj. Kept from the Pow, which loads it with its
    exponent (256 + 1 B), the division reads only its scale (256 B) and o_proj only its
    weights (65,536 B); with a buffer too small to keep it, each reader loads it again."""
    target = target_of(chip("1 MiB"))
    plan = plan_memory(lower(load_model(DECODER)), target)
    activation = level_of(target.activation_buffer)
    assert plan.kept["hidden_states"] == activation
    readers = [i for i, w in enumerate(plan.workloads) if "hidden_states" in (*w.input_tensors, *w.side_tensors)]
    pow_, div, o_proj = (plan.workloads[i] for i in readers)
    assert (pow_.name, div.name, o_proj.name) == ("layer0.attention_norm.pow", "layer0.attention_norm.div", "layer0.o_proj")
    assert (pow_.placement.input, div.placement.input, o_proj.placement.side) == (LEVEL_DRAM, activation, activation)
    assert [plan.compulsory_bytes[i] for i in readers] == [256 + 1, 256, 256 * 256]
    assert all(plan.workloads[i].reserved[target.activation_buffer] >= 256 for i in range(readers[0], readers[-1] + 1))
    small = plan_memory(lower(load_model(DECODER)), target_of(chip("1 KiB")))
    assert "hidden_states" not in small.kept
    assert [small.compulsory_bytes[i] for i in readers] == [256 + 1, 256 + 256, 256 * 256 + 256]


def test_a_placed_workload_equals_its_replace_and_keys_its_new_placement():
    """`Workload.placed` copies fields, not cached properties: the shape key it gives memo
    lookups is that of its own placement."""
    from dataclasses import replace

    from compiler.memory.placement import Placement

    for workload in lower(load_model("bert:layers=1")):
        workload.shape_key  # noqa: B018 (cached on the unplaced workload)
        placed = workload.placed(Placement(input=1, output=1), (64, 0, 0))
        assert placed == replace(workload, placement=Placement(input=1, output=1), reserved=(64, 0, 0))
        assert placed.shape_key == replace(workload, placement=Placement(input=1, output=1)).shape_key != workload.shape_key


@pytest.mark.parametrize("activations", ["6 KiB", "64 KiB", "1 MiB"])
def test_the_plans_dram_bytes_are_each_planned_workloads_own(activations: str):
    """The planner sums its per-operand DRAM bytes over whole networks at once; `dram_bytes`,
    which the fusion passes use, derives them for one workload: the two agree, layer by layer,
    on a network with residual branches whose tensors stay, spill or mix."""
    from compiler.memory.planner import dram_bytes

    target = target_of(chip(activations), CompileOptions().precision)
    workloads = lower(load_model("resnet18"))
    plan = plan_memory(workloads, target)
    produced = {w.output_tensor: w.output_elements for w in workloads}
    assert [dram_bytes(w, produced, target) for w in plan.workloads] == list(
        zip(plan.compulsory_bytes, plan.spill_bytes, strict=True)
    )


def test_a_network_planned_again_reuses_its_tensor_facts_and_plans_the_same():
    """`NetworkTensors` are derived once per workloads tuple and storage formats: a second plan
    of the same tuple reuses them, an equal but distinct tuple derives its own, and both plan
    alike."""
    from compiler.memory.tensors import NetworkTensors

    target = target_of(chip("64 KiB"), CompileOptions().precision)
    workloads = lower(load_model("resnet18"))
    facts = NetworkTensors.of(workloads, target.storage_bits, target.bits_of)
    assert NetworkTensors.of(workloads, target.storage_bits, target.bits_of) is facts
    copy = tuple(list(workloads))
    assert NetworkTensors.of(copy, target.storage_bits, target.bits_of) is not facts
    assert plan_memory(copy, target) == plan_memory(workloads, target)


def test_plans_that_place_a_layer_alike_share_its_placed_copy():
    """`planner.PLACED`: a network planned again on another chip gets, for each layer placed
    at the same levels beside the same reserved bytes, the copy the first plan made (its
    cached shape key and all), for the others new copies, and the plan a cold planner makes;
    a network of equal but distinct layers gets copies of its own."""
    from dataclasses import replace

    target = target_of(chip("64 KiB"), CompileOptions().precision)
    other = target_of(chip("6 KiB"), CompileOptions().precision)
    workloads = lower(load_model("resnet18"))
    clear_compile_caches()
    cold = plan_memory(workloads, other)
    clear_compile_caches()
    first = plan_memory(workloads, target).workloads
    again, elsewhere = plan_memory(workloads, target).workloads, plan_memory(workloads, other)
    assert all(a is b for a, b in zip(again, first, strict=True))
    assert elsewhere == cold
    alike = [(a.placement, a.reserved) == (b.placement, b.reserved) for a, b in zip(elsewhere.workloads, first, strict=True)]
    assert any(alike) and not all(alike)
    assert [a is b for a, b in zip(elsewhere.workloads, first, strict=True)] == alike
    copy = plan_memory(tuple(replace(w) for w in workloads), target).workloads
    assert copy == first and not any(a is b for a, b in zip(copy, first, strict=True))


def test_working_sets_are_kept_per_array_and_found_again_alike() -> None:
    """`planner.WORKING_SETS`: chips that differ in capacities and bandwidth share an entry
    and get what a cold computation gives; another array gets its own; a caller may change
    its copy."""
    base = example_chip("edge")
    network = lower(load_model("mobilenetv2"))
    variants = [{}, {"buffers.activations.capacity": "96 KiB", "dram.bandwidth": "7 GB/s"}, {"matrix.rows": 16}]
    targets = [target_of(with_overrides(base, o), base.matrix.input_precision) for o in variants]
    cold = []
    for target in targets:
        clear_compile_caches()
        cold.append(working_sets(network, target))
    clear_compile_caches()
    warm = [working_sets(network, target) for target in targets]
    assert all(np.array_equal(a, b) for a, b in zip(cold, warm, strict=True))
    assert len(WORKING_SETS) == 2 and not np.array_equal(cold[0], cold[2])
    warm[0][:] = 0
    assert np.array_equal(working_sets(network, targets[0]), cold[0])
    assert np.array_equal(working_sets(list(network), targets[1]), cold[1])  # the same layers in another sequence


@pytest.mark.parametrize(
    ("model", "find"),
    [("bert:layers=2,hidden=64,heads=2,seq=8", "attention"), ("llama:layers=2,hidden=64,heads=2,seq=8,vocab=16", "mlp"),
     ("mobilenetv2", "conv")],
)  # fmt: skip
def test_a_networks_chains_are_found_once_for_every_plan_of_it(model: str, find: str) -> None:
    """`chains.ATTENTION_CHAINS`, `mlp_chains.MLP_CHAINS`, `conv_chains.CHAIN_RUNS`: the
    chains of a plan's layers (copies of the network's at their placements) are those found
    for the network, not found again; a network of equal but distinct layers finds its own,
    equal ones."""
    from dataclasses import replace

    from compiler.memory.chains import attention_chains
    from compiler.memory.conv_chains import conv_chains
    from compiler.memory.mlp_chains import mlp_chains

    chains = {"attention": attention_chains, "mlp": mlp_chains, "conv": conv_chains}[find]
    clear_compile_caches()
    workloads = lower(load_model(model))
    found = chains(workloads)
    assert found
    for activations in ("6 KiB", "64 KiB"):
        plan = plan_memory(workloads, target_of(chip(activations), CompileOptions().precision))
        assert chains(plan.workloads) is found
    again = chains(tuple(replace(w) for w in workloads))
    assert again == found and again is not found
