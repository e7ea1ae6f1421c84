"""Physical invariants of `simulate` on every example chip × five networks.

For each chip and network: no layer beats its roofline lower bound, MACs and the DRAM
traffic the memory plan leaves are conserved, doubling the DRAM bandwidth never adds cycles, the energy is
the program's events times the technology's constants, each layer's result (its counts kept
from the search) is its share of the whole program's run, and `compiler.verify` accepts the
program. Every example chip holds every one of these networks (the 4×4 `tiny` chip's 1 KiB
weight buffer too: BERT's LayerNorm constants and LLaMA's rotary tables are sliced per
chunk, `scheduling.footprint`), so an infeasible case fails; one that a chip could not
hold would be reported as infeasible with the layer and the buffer that overflows.

Each (chip, network) is compiled and simulated once per module (`Runs`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from accel_spec import load_accelerator, resolve, with_overrides
from accel_spec.schema import Accelerator
from accel_spec.types import Dataflow
from compiler.lowering import lower
from compiler.models import load_model
from compiler.pipeline import CompileOptions
from compiler.roofline import planned_dram_bytes
from compiler.scheduling import InfeasibleSchedule
from compiler.target import LEVEL_DRAM, target_of
from compiler.target.isa import Opcode, Program
from compiler.target.timing import burst_bytes, gemm_held_macs, gemm_local_macs, gemm_sram_accesses
from compiler.workload import Workload
from simulator import run
from tessera.api import Simulation, simulate_workloads

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "accelerators"
VARIANTS = {"edge-pe-storage": ("edge", {"matrix.pe_storage": {"weight": "32 B", "output": "32 B"}})}
"""Example chips changed by overrides: edge's PEs with 32 weights and 8 partial sums each, so its
weight-stationary folds reduce in place and spread over output channels (`compiler.target.timing`,
"Reduction depth", "Channel width"), which no example chip does."""
CHIPS = sorted(path.stem for path in EXAMPLES.glob("*.yaml")) + sorted(VARIANTS)
LLAMA = "llama:layers=2,hidden=512,heads=8,kv_heads=2,seq=128"
MODELS = ("resnet50", "mobilenetv2", "bert:layers=2", LLAMA, f"{LLAMA},phase=decode,kv_len=256")
TOO_LARGE = {("tiny", "resnet50")}
"""More than 2 M instructions (20.5 M on the 4×4 array): seconds each, not for this file."""
SMALLER_ON_TINY = {"bert:layers=2": "bert:layers=1,seq=16", LLAMA: "llama:layers=1,hidden=512,heads=8,kv_heads=2,seq=32"}
"""On the 4×4 chip the full variants take 10-12 M instructions; these keep the constants that
overflow its 1 KiB weight buffer (768-wide LayerNorm scales, a 32×64 rotary table), so they
still exercise per-chunk constant slicing, at a fraction of the time."""
CASES = [
    (chip, SMALLER_ON_TINY.get(model, model) if chip == "tiny" else model)
    for chip in CHIPS
    for model in MODELS
    if (chip, model) not in TOO_LARGE
]


class Runs:
    """Compiles and simulates each (chip, network, bandwidth factor) once."""

    def __init__(self) -> None:
        self._workloads: dict[str, tuple[Workload, ...]] = {}
        self._runs: dict[tuple[str, str, int], Simulation | InfeasibleSchedule] = {}

    def chip(self, name: str, bandwidth_factor: int = 1) -> Accelerator:
        example, overrides = VARIANTS.get(name, (name, {}))
        accel = with_overrides(load_accelerator(EXAMPLES / f"{example}.yaml"), overrides)
        if bandwidth_factor == 1:
            return accel
        return with_overrides(accel, {"dram.bandwidth": f"{bandwidth_factor * accel.dram.bandwidth!r} B/s"})

    def get(self, chip: str, model: str, bandwidth_factor: int = 1) -> Simulation | InfeasibleSchedule:
        key = (chip, model, bandwidth_factor)
        if key not in self._runs:
            if model not in self._workloads:
                self._workloads[model] = lower(load_model(model))
            options = CompileOptions(verify=bandwidth_factor == 1)
            try:
                self._runs[key] = simulate_workloads(
                    self.chip(chip, bandwidth_factor), self._workloads[model], model, options
                )
            except InfeasibleSchedule as infeasible:
                self._runs[key] = infeasible
        return self._runs[key]

    def feasible(self, chip: str, model: str, bandwidth_factor: int = 1) -> Simulation:
        run = self.get(chip, model, bandwidth_factor)
        if isinstance(run, InfeasibleSchedule):
            pytest.fail(f"{model} does not fit {chip}: {run}")
        return run


@pytest.fixture(scope="module")
def runs() -> Runs:
    return Runs()


@pytest.mark.parametrize(("chip", "model"), CASES)
def test_no_layer_beats_its_roofline(runs, chip, model):
    sim = runs.feasible(chip, model)
    for workload, layer, bound in zip(sim.compiled.workloads, sim.result.layers, sim.lower_bounds, strict=True):
        assert layer.cycles >= bound, workload.name


@pytest.mark.parametrize(("chip", "model"), CASES)
def test_macs_are_conserved(runs, chip, model):
    sim = runs.feasible(chip, model)
    layers = sim.result.layers
    assert [layer.macs for layer in layers] == [w.macs for w in sim.compiled.workloads]
    assert sim.result.macs == sum(w.macs for w in sim.compiled.workloads)


@pytest.mark.parametrize(("chip", "model"), CASES)
def test_dram_traffic_covers_the_planned_bytes(runs, chip, model):
    sim = runs.feasible(chip, model)
    precision = sim.compiled.precision
    for workload, layer in zip(sim.compiled.workloads, sim.result.layers, strict=True):
        moved = layer.dram_read_bytes + layer.dram_write_bytes
        assert moved >= planned_dram_bytes(workload, precision), workload.name


def _segments(sim: Simulation) -> list[tuple[frozenset[str], int]]:
    """(nodes, cycles) of each layer: the ONNX nodes it runs (a fused chain runs those of
    all its layers)."""
    return [
        (frozenset((w.name, *w.fused)), layer.cycles)
        for w, layer in zip(sim.compiled.workloads, sim.result.layers, strict=True)
    ]


def _aligned(a: list[tuple[frozenset[str], int]], b: list[tuple[frozenset[str], int]]) -> list[tuple[int, int, int]]:
    """Cycles of the shortest runs of consecutive layers that cover the same nodes in `a`
    and `b` (a layer, or where fusion chose differently, the chains and layers between),
    each with the index of its first layer in `a`."""
    pairs, i, j = [], 0, 0
    while i < len(a) and j < len(b):
        start = i
        nodes_a, cycles_a = set(a[i][0]), a[i][1]
        nodes_b, cycles_b = set(b[j][0]), b[j][1]
        i, j = i + 1, j + 1
        while nodes_a != nodes_b:
            if nodes_a - nodes_b:
                nodes_b |= b[j][0]
                cycles_b += b[j][1]
                j += 1
            else:
                nodes_a |= a[i][0]
                cycles_a += a[i][1]
                i += 1
        pairs.append((cycles_a, cycles_b, start))
    assert (i, j) == (len(a), len(b))
    return pairs


@pytest.mark.parametrize(("chip", "model"), CASES)
def test_doubling_dram_bandwidth_never_adds_cycles(runs, chip, model):
    """The network; per layer where both bandwidths planned it alike, and where the search
    fuses differently at the two, per run of layers that covers the same nodes (fusion is a
    DRAM trade, so it may). Where the two plans keep different tensors (the crowding
    challenger judges plans at the chip's bandwidth, `compiler.memory.crowding`), a layer
    planned differently is not compared on its own."""
    sim = runs.feasible(chip, model)
    doubled = runs.feasible(chip, model, bandwidth_factor=2)
    assert doubled.result.total_cycles <= sim.result.total_cycles
    alike = doubled.compiled.plan.kept == sim.compiled.plan.kept
    planned = {w.name: w for w in sim.compiled.workloads}
    comparable = [alike or planned.get(w.name) == w for w in doubled.compiled.workloads]
    assert all(fast <= slow for fast, slow, start in _aligned(_segments(doubled), _segments(sim)) if comparable[start])
    assert alike or sum(comparable) >= len(comparable) // 2


@pytest.mark.parametrize(("chip", "model"), CASES)
def test_the_layers_counts_are_the_whole_programs(runs, chip, model):
    """`simulate` takes each layer's counts from the search, which simulated every layer
    apart (`compiler.scheduling.simulated`): the whole program in one run, layers after
    layers, gives every layer the same result (the barrier between layers)."""
    sim = runs.feasible(chip, model)
    whole = run(sim.compiled.program, sim.compiled.target, resolve(sim.accel, sim.compiled.precision))
    assert whole.layers == sim.result.layers
    assert whole.total == sim.result.total


@pytest.mark.parametrize(("chip", "model"), CASES)
def test_energy_is_the_programs_events_times_the_constants(runs, chip, model):
    sim = runs.feasible(chip, model)
    expected = _energy_of(sim.compiled.program, sim.accel, sim.compiled.precision, sim.result.total_cycles)
    assert sim.result.energy_j == pytest.approx(expected, rel=1e-9)
    assert sum(layer.energy_j for layer in sim.result.layers) == pytest.approx(expected, rel=1e-9)


@pytest.mark.parametrize(("chip", "model"), CASES)
def test_verified_or_infeasible_with_the_layer_and_buffer(runs, chip, model):
    """Compiled with `verify=True` (a ProgramError would fail here), or infeasible."""
    run = runs.get(chip, model)
    if isinstance(run, Simulation):
        assert len(run.result.layers) == len(run.compiled.workloads)
        return
    names = {w.name for w in lower(load_model(model))}
    assert run.workload_name in names
    assert str(run).startswith(f"layer {run.workload_name}: ")
    buffers = runs.chip(chip).buffer_names()
    assert any(f"buffer '{buffer}'" in run.reason for buffer in buffers), run.reason


def _energy_of(program: Program, accel: Accelerator, precision, cycles: int) -> float:
    """Σ events × constants, with every event counted from the program's instructions."""
    technology = resolve(accel, precision)
    machine = target_of(accel, precision)
    instr = program.instructions
    opcode = instr["opcode"]
    reads, writes = np.zeros(len(machine.buffer_names)), np.zeros(len(machine.buffer_names))
    load, store = opcode == Opcode.LOAD, opcode == Opcode.STORE
    np.add.at(writes, instr["buffer"][load], instr["bytes"][load])
    np.add.at(reads, instr["buffer"][store], instr["bytes"][store])
    onchip = (load | store) & (instr["level"] != LEVEL_DRAM)
    far = instr["level"].astype(np.int64) - 1
    np.add.at(reads, far[load & onchip], instr["bytes"][load & onchip])
    np.add.at(writes, far[store & onchip], instr["bytes"][store & onchip])
    gemm = instr[opcode == Opcode.GEMM]
    groups = np.maximum(gemm["groups"].astype(np.int64), 1)
    m, k, n = (gemm[d].astype(np.int64) for d in "mkn")
    reads_in, reads_w, reads_out, writes_out = gemm_sram_accesses(
        m, k, n, gemm["dataflow"], gemm["accumulate"], machine.rows, machine.cols, groups, gemm["continues"],
        machine.reduction_depth, machine.pe_width,
    )
    split = (machine.rows, machine.cols, groups, machine.reduction_depth, machine.pe_width)
    local = gemm_local_macs(m, k, n, gemm["dataflow"], *split).sum()
    held = gemm_held_macs(m, k, n, gemm["dataflow"], *split).sum()
    input_buffer, weight_buffer, output_buffer = machine.buffer_of
    reads[input_buffer] += reads_in.sum() * machine.operand_bits / 8
    reads[weight_buffer] += reads_w.sum() * machine.operand_bits / 8
    vector_elements = instr["elements"][opcode == Opcode.VEC].astype(np.int64).sum()
    reads[output_buffer] += (reads_out.sum() + vector_elements) * machine.accumulator_bits / 8
    writes[output_buffer] += (writes_out.sum() + vector_elements) * machine.accumulator_bits / 8
    channel_read = burst_bytes(instr["bytes"][load & ~onchip], machine.burst).sum()
    channel_write = burst_bytes(instr["bytes"][store & ~onchip], machine.burst).sum()
    names = machine.buffer_names
    read_j = np.array([technology.sram_read_energy_per_byte[b] for b in names])
    write_j = np.array([technology.sram_write_energy_per_byte[b] for b in names])
    wire_j = np.array([technology.interconnect_energy_per_byte[b] for b in names])
    macs = groups * m * k * n
    per_mac = sum(
        macs[gemm["dataflow"] == d].sum()
        * (technology.mac_energy + technology.register_energy_per_mac[d] + technology.forwarding_energy_per_mac[d]
           + technology.pe_storage_energy_per_mac[d])
        for d in Dataflow
    )  # fmt: skip
    return float(
        per_mac
        - local * technology.psum_hop_energy
        - held * sum(technology.held_input_energy)
        + reads @ read_j
        + writes @ write_j
        + (reads + writes) @ wire_j
        + channel_read * technology.dram_read_energy_per_byte
        + channel_write * technology.dram_write_energy_per_byte
        + (channel_read + channel_write) * technology.dram_phy_energy_per_byte
        + vector_elements * technology.vector_op_energy
        + cycles * technology.clock_energy_per_cycle
        + technology.leakage_power * cycles / accel.clock
    )
