"""Fusion of MLP blocks (`compiler.memory.mlp_chains`), by hand.

x (64 tokens × 8) → MatMul to 32 → ReLU → MatMul back to 8 → + x = y, int8 on a 4×4 array
whose 1 KiB activation buffer cannot hold the 64 × 32 intermediate (2048 B): unfused, it goes
to DRAM and back. The memory plan keeps x (512 B) on chip for the residual: a network input
that two layers read, loaded once. Fused, the block reads x once (512 B), both weights once
(8·32 + 32·8 = 512 B: they fit the 1 KiB weight buffer together) and writes y once (512 B);
the residual reads the kept x, and the intermediate never reaches DRAM. DRAM is slow (20 MB/s
at 100 MHz: 0.2 B per cycle), so the saved traffic is worth more than the bands' fills. The
gated block (ReLU(x·W_g) · x·W_u, then ·W_d: Llama's SwiGLU with ReLU for SiLU) reads three
weights (768 B).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from accel_spec import load_accelerator_text
from accel_spec.types import Dataflow, Operand
from compiler.codegen.layer import layer_code
from compiler.lowering import lower
from compiler.memory.chains import kept_reserved
from compiler.memory.mlp_chains import fused_mlp_workload, mlp_chains
from compiler.models import load_model
from compiler.scheduling.measure import simulate_layer
from compiler.scheduling.mlp import mlp_candidates, mlp_footprint
from compiler.scheduling.schedule import MlpSchedule
from compiler.target.isa import Opcode, Program
from compiler.verify import verify_program
from simulator.reference import simulate_reference
from simulator.run import execute, validate
from tessera.api import simulate

CHIP = """\
name: mlp-bands
clock: 100 MHz
technology: 45 nm
matrix: {{rows: 4, cols: 4, dataflows: [output-stationary, weight-stationary], input_precision: int8, accumulator_precision: int32}}
buffers:
  inputs: {{capacity: {inputs}, holds: [input]}}
  weights: {{capacity: {weights}, holds: [weight]}}
  accumulators: {{capacity: 4 KiB, holds: [output]}}
vector: {{lanes: 4, precision: fp32}}
dram: {{type: DDR4, bandwidth: 20 MB/s, latency: 100 ns}}
"""

T, H, F = 64, 8, 32
X = Y = T * H  # 512 B at int8
INTERMEDIATE = T * F  # 2048 B


def mlp_model(path: Path, gated: bool = False) -> Path:
    """x → fc1 → ReLU → fc2 → + x; with `gated`, x → gate → ReLU, times x → up, → down → + x."""

    def weight(name: str, shape: tuple[int, int]):
        return numpy_helper.from_array(np.zeros(shape, np.float32), name)

    if gated:
        nodes = [
            helper.make_node("MatMul", ["x", "wg"], ["g"], name="gate"),
            helper.make_node("Relu", ["g"], ["r"], name="act"),
            helper.make_node("MatMul", ["x", "wu"], ["u"], name="up"),
            helper.make_node("Mul", ["r", "u"], ["h"], name="product"),
            helper.make_node("MatMul", ["h", "wd"], ["d"], name="down"),
        ]
        weights = [weight("wg", (H, F)), weight("wu", (H, F)), weight("wd", (F, H))]
    else:
        nodes = [
            helper.make_node("MatMul", ["x", "w1"], ["a"], name="fc1"),
            helper.make_node("Relu", ["a"], ["h"], name="act"),
            helper.make_node("MatMul", ["h", "w2"], ["d"], name="fc2"),
        ]
        weights = [weight("w1", (H, F)), weight("w2", (F, H))]
    nodes.append(helper.make_node("Add", ["d", "x"], ["y"], name="residual"))
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, T, H])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, T, H])
    graph = helper.make_graph(nodes, "mlp", [x], [y], weights)
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), path)
    return path


def run(tmp_path: Path, fusion: str, gated: bool = False, inputs: str = "1 KiB", weights: str = "1 KiB"):
    accel = load_accelerator_text(CHIP.format(inputs=inputs, weights=weights), "mlp-bands")
    return simulate(accel, str(mlp_model(tmp_path / "mlp.onnx", gated)), fusion=fusion, verify=True)


def test_fused_block_moves_input_weights_side_and_output_once(tmp_path: Path) -> None:
    for gated, weights, macs in ((False, 2 * H * F, T * F * 2 * H), (True, 3 * H * F, T * F * 3 * H)):
        fused = run(tmp_path, "auto", gated)
        (layer,) = fused.result.layers
        assert [w.op for w in fused.compiled.workloads] == ["FusedMLP"]
        assert layer.dram_read_bytes_by_operand[Operand.INPUT] == X
        assert layer.dram_read_bytes_by_operand[Operand.WEIGHT] == weights
        # reads: x and the weights (the residual reads x where the plan keeps it); writes: y
        assert (fused.result.dram_read_bytes, fused.result.dram_write_bytes) == (X + weights, Y)
        assert layer.macs == fused.result.macs == macs  # 32768, 49152


def test_fused_block_beats_its_layers_and_respects_the_roofline(tmp_path: Path) -> None:
    for gated in (False, True):
        fused, unfused = run(tmp_path, "auto", gated), run(tmp_path, "none", gated)
        (bound,) = fused.lower_bounds
        # max(MACs / 16 PEs, (x + weights + y) B / 0.2 B per cycle)
        assert bound == (X + (3 if gated else 2) * H * F + Y) * 5
        assert fused.result.total_cycles >= bound
        assert fused.result.total_cycles < unfused.result.total_cycles
        assert fused.result.macs == unfused.result.macs


def test_fusion_none_runs_the_layers_and_spills_the_intermediate(tmp_path: Path) -> None:
    unfused = run(tmp_path, "none")
    assert [(w.name, w.op) for w in unfused.compiled.workloads] == [("fc1", "MatMul"), ("fc2", "MatMul")]
    assert all(w.mlp is None for w in unfused.compiled.workloads)
    # the intermediate is written once and read back at least once
    assert unfused.result.dram_write_bytes == INTERMEDIATE + Y
    assert unfused.result.dram_read_bytes >= X + 2 * H * F + INTERMEDIATE


def test_block_whose_intermediate_fits_on_chip_stays_unfused(tmp_path: Path) -> None:
    for gated in (False, True):
        roomy, none = run(tmp_path, "auto", gated, inputs="8 KiB"), run(tmp_path, "none", gated, inputs="8 KiB")
        assert all(w.mlp is None for w in roomy.compiled.workloads)
        assert roomy.result.total_cycles == none.result.total_cycles
        assert roomy.result.dram_read_bytes == none.result.dram_read_bytes
        assert roomy.result.dram_write_bytes == Y  # the intermediate stays in the activation buffer


def test_streamed_weights_are_read_once_per_band(tmp_path: Path) -> None:
    """Streamed, chunks of 4 intermediate columns hold 2 × (8·4 + 4·8) = 128 B of weights
    double buffered (what a weight buffer under the 512 B of both weights must do), and every
    band of 16 tokens reads both weights again."""
    fused = run(tmp_path, "auto")
    (workload,) = fused.compiled.workloads
    chip = fused.compiled.target
    streamed = MlpSchedule(Dataflow.OUTPUT_STATIONARY, band=16, chunk=4, weights_resident=False)
    assert mlp_footprint(workload, chip, 16, 4, False)[chip.buffer(Operand.WEIGHT)] == 128
    counts, program = simulate_layer(workload, streamed, chip)
    verify_program(program, (workload,), chip)
    instr = program.instructions
    loads = (instr["opcode"] == Opcode.LOAD) & (instr["level"] == 0)
    weights = instr["bytes"][loads & (instr["operand"] == Operand.WEIGHT)].sum()
    assert weights == 2 * H * F * (T // 16)  # four bands
    assert instr["bytes"][loads].sum() == X + weights
    assert instr["bytes"][instr["opcode"] == Opcode.STORE].sum() == Y


def test_every_candidate_that_fits_verifies_and_measures_at_least_its_estimate(tmp_path: Path) -> None:
    """`mlp_footprint` counts at least what `compiler.verify` finds live in the code, and
    `mlp_estimate` is a lower bound of the simulated cycles (the search prunes by it)."""
    for gated, weights in ((False, "1 KiB"), (True, "1 KiB"), (False, "256 B")):
        fused = run(tmp_path, "none", gated, weights=weights)
        chain = fused.compiled.workloads
        workload = fused_mlp_workload(chain, kept_reserved(chain, fused.compiled.plan, fused.compiled.target))
        chip = fused.compiled.target
        candidates = mlp_candidates(workload, chip)
        assert len(candidates) > 10
        assert any(not schedule.weights_resident for schedule, _ in candidates)
        for schedule, estimate in candidates:
            code = layer_code(workload, schedule, chip, 0)
            program = Program(code.instructions, code.dep_ptr, code.deps, (workload.name,))
            verify_program(program, (workload,), chip)
            assert execute(program, chip).end.max() >= estimate


def test_kernel_equals_reference_on_a_fused_program(tmp_path: Path) -> None:
    for gated in (False, True):
        compiled = run(tmp_path, "auto", gated).compiled
        validate(compiled.program, compiled.target)
        fast, slow = execute(compiled.program, compiled.target), simulate_reference(compiled.program, compiled.target)
        for field in ("start", "end", "counters", "sram_bits"):
            np.testing.assert_array_equal(getattr(fast, field), getattr(slow, field), err_msg=field)


def test_blocks_found_in_the_zoo_and_by_hand(tmp_path: Path) -> None:
    bert = lower(load_model("bert:layers=2,hidden=64,heads=2,seq=8"))
    assert [(bert[i].name, n) for i, n in mlp_chains(bert)] == [("layer0.fc1", 2), ("layer1.fc1", 2)]
    llama = lower(load_model("llama:layers=1,hidden=64,heads=2,seq=8,vocab=16"))
    assert [(llama[i].name, n) for i, n in mlp_chains(llama)] == [("layer0.up_proj", 3)]
    gated = lower(load_model(str(mlp_model(tmp_path / "gated.onnx", gated=True))))
    assert mlp_chains(gated) == ((0, 3),)


def test_an_intermediate_read_twice_or_kept_as_a_network_output_ends_the_block(tmp_path: Path) -> None:
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, T, H])
    outputs = [helper.make_tensor_value_info(name, TensorProto.FLOAT, [1, T, H]) for name in ("y", "z")]
    weights = [numpy_helper.from_array(np.zeros(shape, np.float32), name)
               for name, shape in (("w1", (H, F)), ("w2", (F, H)), ("w3", (F, H)))]
    nodes = [helper.make_node("MatMul", ["x", "w1"], ["a"], name="fc1"),
             helper.make_node("MatMul", ["a", "w2"], ["y"], name="fc2"),
             helper.make_node("MatMul", ["a", "w3"], ["z"], name="fc3")]
    path = tmp_path / "branch.onnx"
    graph = helper.make_graph(nodes, "branch", [x], outputs, weights)
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), path)
    assert mlp_chains(lower(load_model(str(path)))) == ()  # `a` has two readers
