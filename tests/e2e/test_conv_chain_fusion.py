"""Depth-first fusion of convolution chains (`compiler.memory.conv_chains`), by hand.

Two convolutions, x (8×16×16) → 1×1 conv to 16 channels → ReLU → 3×3 conv (padding 1) to 8
channels → y, int8 on a 4×4 array whose 3 KiB activation buffer cannot hold the 16×16×16
intermediate (4096 B): unfused, it goes to DRAM and back. Fused, the chain reads x once
(8·16·16 = 2048 B), both weights once (16·8 = 128 B and 8·16·3·3 = 1152 B) and writes y once
(2048 B); the intermediate never reaches DRAM. DRAM is slow (20 MB/s at 100 MHz: 0.2 B per
cycle), so the saved traffic is worth more than the band GEMMs' fills and drains.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from accel_spec import load_accelerator, load_accelerator_text
from accel_spec.technology import resolve
from accel_spec.types import Operand, Precision
from compiler.codegen.layer import layer_code
from compiler.codegen.memo import MeasuredCodes, cached_layer_code, cached_layer_codes
from compiler.codegen.program import assemble
from compiler.lowering import lower
from compiler.memory.chains import unfused_score
from compiler.memory.conv_chains import conv_chains
from compiler.models import load_model
from compiler.pipeline import CompileOptions
from compiler.scheduling.objective import Goal, Objective
from compiler.target.isa import Opcode, Program
from compiler.scheduling.conv_chain import bands, chain_footprint, reads_every_row
from compiler.target import target_of
from compiler.workload import ChainLayer, ConvChain, ConvGeometry, GemmShape, Workload, WorkloadKind
from simulator.reference import simulate_reference
from simulator.run import execute, validate
from tessera.api import simulate, simulate_workloads

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "accelerators"

CHIP = """\
name: line-buffers
clock: 100 MHz
technology: 45 nm
matrix: {{rows: 4, cols: 4, dataflows: [output-stationary, weight-stationary], input_precision: int8, accumulator_precision: int32}}
buffers:
  inputs: {{capacity: {inputs}, holds: [input]}}
  weights: {{capacity: 2 KiB, holds: [weight]}}
  accumulators: {{capacity: 4 KiB, holds: [output]}}
vector: {{lanes: 4, precision: fp32}}
dram: {{type: DDR4, bandwidth: 20 MB/s, latency: 100 ns}}
"""

X, WEIGHTS, Y, INTERMEDIATE = 8 * 16 * 16, 16 * 8 + 8 * 16 * 9, 8 * 16 * 16, 16 * 16 * 16
MACS = 16 * 16 * 8 * 16 + 16 * 16 * 16 * 8 * 9  # 32768 + 294912


def _conv(name, source, weight, out, shape, **attributes):
    return helper.make_node("Conv", [source, weight], [out], name=name, **attributes), numpy_helper.from_array(
        np.zeros(shape, np.float32), weight
    )


def chain_model(path: Path, residual: bool = False) -> Path:
    """x → 1×1 conv → ReLU → 3×3 conv → y; with `residual`, 1×1 to 16 → ReLU → depthwise
    3×3 → ReLU → 1×1 back to 8 → + x (MobileNetV2's inverted residual)."""
    nodes, weights = [], []
    for node, weight in (
        [_conv("conv1", "x", "w1", "a", (16, 8, 1, 1))]
        + (
            [_conv("dw", "b", "w2", "c", (16, 1, 3, 3), pads=[1] * 4, group=16),
             _conv("conv3", "d", "w3", "e", (8, 16, 1, 1))]
            if residual
            else [_conv("conv2", "b", "w2", "y", (8, 16, 3, 3), pads=[1] * 4)]
        )
    ):
        nodes.append(node)
        weights.append(weight)
    nodes.insert(1, helper.make_node("Relu", ["a"], ["b"], name="relu1"))
    if residual:
        nodes.insert(3, helper.make_node("Relu", ["c"], ["d"], name="relu2"))
        nodes.append(helper.make_node("Add", ["e", "x"], ["y"], name="add"))
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 8, 16, 16])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 8, 16, 16])
    graph = helper.make_graph(nodes, "chain", [x], [y], weights)
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), path)
    return path


def run(tmp_path: Path, fusion: str, inputs: str = "3 KiB", residual: bool = False):
    accel = load_accelerator_text(CHIP.format(inputs=inputs), "line-buffers")
    return simulate(accel, str(chain_model(tmp_path / "chain.onnx", residual)), fusion=fusion, verify=True)


def test_fused_chain_moves_input_weights_and_output_once(tmp_path: Path) -> None:
    fused = run(tmp_path, "auto")
    (layer,) = fused.result.layers
    assert [w.op for w in fused.compiled.workloads] == ["FusedConv"]
    assert layer.dram_read_bytes_by_operand[Operand.INPUT] == X
    assert layer.dram_read_bytes_by_operand[Operand.WEIGHT] == WEIGHTS
    assert (fused.result.dram_read_bytes, fused.result.dram_write_bytes) == (X + WEIGHTS, Y)  # 3328, 2048
    assert layer.macs == MACS == 327680


def test_fused_chain_beats_its_layers_and_respects_the_roofline(tmp_path: Path) -> None:
    fused, unfused = run(tmp_path, "auto"), run(tmp_path, "none")
    # max(MACs / 16 PEs = 20480, (2048 + 1280 + 2048) B / 0.2 B per cycle = 26880)
    assert fused.lower_bounds == (26880,)
    assert fused.result.total_cycles >= 26880
    assert fused.result.total_cycles < unfused.result.total_cycles
    assert fused.result.energy_j < unfused.result.energy_j


def test_a_fused_chains_code_is_its_own_arrays(tmp_path: Path) -> None:
    """A chain's GEMMs tile n at the array's width, so its code depends on the array: the code
    memo must not hand a 4-wide chip's code to an 8-wide one (a sweep compiles many arrays in
    one worker). The 8-wide chip's code after the 4-wide one's equals it generated afresh."""
    narrow = run(tmp_path, "auto").compiled
    (workload,), (schedule,) = narrow.workloads, narrow.schedules
    wide = dataclasses.replace(narrow.target, cols=8, unit_cols=8)
    cached_layer_code(workload, schedule, narrow.target)
    memoised = cached_layer_code(workload, schedule, wide)
    fresh = layer_code(workload, schedule, wide, 0)
    assert not np.array_equal(fresh.instructions, cached_layer_code(workload, schedule, narrow.target).instructions)
    assert np.array_equal(memoised.instructions, fresh.instructions)
    assert np.array_equal(memoised.deps, fresh.deps)


def test_fusion_none_runs_the_layers_and_spills_the_intermediate(tmp_path: Path) -> None:
    unfused = run(tmp_path, "none")
    assert [(w.name, w.op) for w in unfused.compiled.workloads] == [("conv1", "Conv"), ("conv2", "Conv")]
    assert all(w.conv_chain is None for w in unfused.compiled.workloads)
    assert unfused.result.macs == MACS
    # the intermediate is written once and read back at least once
    assert unfused.result.dram_write_bytes == INTERMEDIATE + Y
    assert unfused.result.dram_read_bytes >= X + WEIGHTS + INTERMEDIATE


def test_chain_whose_intermediate_fits_on_chip_stays_unfused(tmp_path: Path) -> None:
    roomy, none = run(tmp_path, "auto", inputs="64 KiB"), run(tmp_path, "none", inputs="64 KiB")
    assert [w.op for w in roomy.compiled.workloads] == ["Conv", "Conv"]
    assert roomy.result.total_cycles == none.result.total_cycles
    assert roomy.result.dram_read_bytes == none.result.dram_read_bytes
    assert roomy.result.dram_write_bytes == Y  # the intermediate stays in the activation buffer


def test_inverted_residual_fuses_with_its_side_input(tmp_path: Path) -> None:
    fused = run(tmp_path, "auto", residual=True)
    assert [w.op for w in fused.compiled.workloads] == ["FusedConv"]
    (workload,) = fused.compiled.workloads
    assert workload.fused == ("relu1", "dw", "relu2", "conv3", "add")
    weights = 16 * 8 + 16 * 9 + 8 * 16
    # x is read as the chain's input and again, band by band, as the residual
    assert (fused.result.dram_read_bytes, fused.result.dram_write_bytes) == (X + weights + X, Y)
    # unfused, x would be kept from conv1 to the add; only the chain reads it, so the fused
    # chain reads it from DRAM and the plan no longer keeps it
    assert "x" in run(tmp_path, "none", residual=True).compiled.plan.kept
    assert "x" not in fused.compiled.plan.kept
    assert sum(fused.compiled.plan.compulsory_bytes) == X + weights + X + Y
    assert fused.result.macs == 16 * 16 * (8 * 16 + 16 * 9 + 16 * 8)


@pytest.mark.parametrize("band_rows", [1, 2, 4])
def test_a_gemm_waits_for_every_move_whose_rows_it_reads_last(tmp_path: Path, band_rows: int) -> None:
    """Each move of a layer's output into the next layer's line buffer (a LOAD of INPUT from
    the accumulators' level) is a dependency of a GEMM of the next layer: the last to read
    its rows (`codegen.conv_chain`). Until 2026-12-06 only the last move of each band was,
    the others reached only through the engine's program order."""
    compiled = run(tmp_path, "auto", residual=True).compiled
    (workload,), (schedule,) = compiled.workloads, compiled.schedules
    code = layer_code(workload, dataclasses.replace(schedule, band_rows=band_rows), compiled.target, 0)
    instructions, dep_ptr, deps = code.instructions, code.dep_ptr, code.deps
    gemm_of = {}  # each move's own GEMM: its dependency through the epilogue
    for index, record in enumerate(instructions):
        own = deps[dep_ptr[index] : dep_ptr[index + 1]]
        while len(own) and instructions[own[0]]["opcode"] == Opcode.VEC:
            own = deps[dep_ptr[own[0]] : dep_ptr[own[0] + 1]]
        if record["opcode"] == Opcode.LOAD and record["operand"] == Operand.INPUT and record["level"] != 0:
            gemm_of[index] = own[0]
    assert len(gemm_of) > 2 * 16 // band_rows  # moves out of conv1 and dw, several a band
    for move, own in gemm_of.items():
        readers = [i for i in range(move + 1, len(instructions)) if instructions[i]["opcode"] == Opcode.GEMM
                   and move in deps[dep_ptr[i] : dep_ptr[i + 1]] and instructions[i]["k"] != instructions[own]["k"]]
        assert readers, f"move {move} is no next-layer GEMM's dependency"


def test_kernel_equals_reference_on_a_fused_program(tmp_path: Path) -> None:
    for residual in (False, True):
        compiled = run(tmp_path, "auto", residual=residual).compiled
        validate(compiled.program, compiled.target)
        fast, slow = execute(compiled.program, compiled.target), simulate_reference(compiled.program, compiled.target)
        for field in ("start", "end", "counters", "sram_bits"):
            np.testing.assert_array_equal(getattr(fast, field), getattr(slow, field), err_msg=field)


def _chain(*convs: ConvGeometry) -> ConvChain:
    return ConvChain(tuple(
        ChainLayer(GemmShape(c.images * c.out_h * c.out_w, c.in_c // c.groups * 9 if c.kernel_h == 3 else c.in_c,
                             c.out_c // c.groups, c.groups), c, ())
        for c in convs
    ))


def test_band_rows_by_hand() -> None:
    expand = ConvGeometry(1, 8, 8, 4, 8, 8, 16, 1, 1)
    depthwise = ConvGeometry(1, 8, 8, 16, 4, 4, 16, 3, 3, 2, 2, groups=16)
    # the 3×3 stride-2 layer pads (4 − 1)·2 + 3 − 8 = 1 row in all, none on top: output rows
    # 0..d−1 read input rows 0..(d − 1)·2 + 2, so one output row per band needs 3, 5, 7, 8
    plan = bands(_chain(expand, depthwise), 1)
    assert plan.need.tolist() == [[3, 5, 7, 8], [3, 5, 7, 8]]
    assert plan.rows.tolist() == [[3, 2, 2, 1], [1, 1, 1, 1]]
    # band j reads rows 2j..2j+2 of the expand's output: row 2j was computed in band j − 1
    assert plan.first[1].tolist() == [0, 2, 4, 6]
    assert plan.last_reader[1].tolist() == [1, 2, 3, 3]
    assert plan.lookback == 1
    # two rows per band of a 3×3 stride-1 layer (padding 1): 3, 5, 7, 8 rows of its input
    same = ConvGeometry(1, 8, 8, 16, 8, 8, 16, 3, 3)
    assert bands(_chain(expand, same), 2).rows.tolist() == [[3, 2, 2, 1], [2, 2, 2, 2]]
    # kept per geometry (they do not depend on the chip), read-only since shared
    assert bands(_chain(expand, depthwise), 1) is plan and not plan.need.flags.writeable


def test_a_chains_footprint_by_hand() -> None:
    """`chain_footprint` of the expand and stride-2 depthwise chain above, one output row a
    band, on the line-buffer chip (int8 operands, int32 partial sums, 4 columns)."""
    expand = ConvGeometry(1, 8, 8, 4, 8, 8, 16, 1, 1)
    depthwise = ConvGeometry(1, 8, 8, 16, 4, 4, 16, 3, 3, 2, 2, groups=16)
    chip = target_of(load_accelerator_text(CHIP.format(inputs="3 KiB"), "line-buffers"), Precision.INT8)
    fused = Workload("fused", "FusedConv", WorkloadKind.GEMM, input_elements=8 * 8 * 4, output_elements=4 * 4 * 16,
                     weight_elements=4 * 16 + 16 * 9, conv_chain=_chain(expand, depthwise), reserved=(100, 200, 300))
    # line buffers: each layer holds at most 7 input rows (band 1 reads up to row 7 and
    # nothing is freed before band 2: its lookback is one band): 7·8·4 + 7·8·16 bytes
    # weights: 4·16 + 16·9; partial sums: the expand's tallest band, 3 rows of 8 pixels, a
    # column tile 4 wide, at 4 bytes, twice (the depthwise packs 4 groups of 4 pixels: less)
    expected = [100 + 7 * 8 * 4 + 7 * 8 * 16, 200 + 4 * 16 + 16 * 9, 300 + 2 * 3 * 8 * 4 * 4]
    assert chain_footprint(fused, chip, 1, (1, 4)).tolist() == expected
    unreserved = dataclasses.replace(fused, reserved=(0, 0, 0))
    assert chain_footprint(unreserved, chip, 1, (1, 4)).tolist() == [e - r for e, r in zip(expected, (100, 200, 300))]


def test_a_convolution_that_skips_its_last_rows_is_not_chained() -> None:
    # 1×1 stride 2 over 8 rows reads rows 0, 2, 4, 6: row 7 would be computed for nothing
    assert not reads_every_row(ConvGeometry(1, 8, 8, 4, 4, 4, 4, 1, 1, 2, 2))
    assert reads_every_row(ConvGeometry(1, 8, 8, 4, 4, 4, 4, 3, 3, 2, 2))


def test_an_intermediate_read_twice_or_kept_as_a_network_output_ends_the_chain(tmp_path: Path) -> None:
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 8, 16, 16])
    outputs = [helper.make_tensor_value_info(name, TensorProto.FLOAT, [1, 8, 16, 16]) for name in ("y", "z")]
    weights = [numpy_helper.from_array(np.zeros(shape, np.float32), name)
               for name, shape in (("w1", (8, 8, 1, 1)), ("w2", (8, 8, 1, 1)), ("w3", (8, 8, 1, 1)))]
    nodes = [helper.make_node("Conv", ["x", "w1"], ["a"], name="conv1"),
             helper.make_node("Conv", ["a", "w2"], ["y"], name="conv2"),
             helper.make_node("Conv", ["a", "w3"], ["z"], name="conv3")]
    path = tmp_path / "branch.onnx"
    graph = helper.make_graph(nodes, "branch", [x], outputs, weights)
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), path)
    assert conv_chains(lower(load_model(str(path)))) == ()  # `a` has two readers; y is an output
    assert conv_chains(lower(load_model(str(chain_model(tmp_path / "chain.onnx", residual=True))))) == ((0, 3),)


@pytest.mark.parametrize("chip", ["edge", "eyeriss", "gemmini"])
@pytest.mark.parametrize("objective", [Objective.LATENCY, Objective.ENERGY])
def test_the_unfused_score_is_the_layers_run_as_one_program(chip: str, objective: Objective) -> None:
    """`unfused_score` reads the layers' own counts: it equals the chain's layers assembled
    into one program, every instruction in one layer, simulated and scored on the goal."""
    accel = load_accelerator(EXAMPLES / f"{chip}.yaml")
    compiled = simulate_workloads(accel, lower(load_model("mobilenetv2")), "mobilenetv2", CompileOptions()).compiled
    target, workloads, schedules = compiled.target, compiled.plan.workloads, compiled.schedules
    goal = Goal(objective, None if objective is Objective.LATENCY else resolve(accel, target.operand_precision))
    for first in range(0, 24, 3):
        chain, chosen = workloads[first : first + 3], schedules[first : first + 3]
        joined = assemble(cached_layer_codes(chain, chosen, target), tuple(w.name for w in chain))
        instructions = joined.instructions.copy()
        instructions["layer"] = 0
        program = Program(instructions, joined.dep_ptr, joined.deps, (chain[0].name,))
        expected = goal.score(execute(program, target), program, target)
        assert unfused_score(chain, chosen, target, goal, MeasuredCodes()) == expected
