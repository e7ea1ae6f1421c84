"""Design-point features: hand-made workloads, closed forms, overrides of the base chip, speed."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from accel_spec import load_accelerator
from compiler.workload import GemmShape, Workload, WorkloadKind
from explorer.features import FEATURE_NAMES, ChipColumns, layer_table, network_features
from explorer.objectives import Objective
from explorer.space import DesignSpace
from explorer.space_features import SpaceFeatures
from explorer.spec import HardwareAxis, ModelVariant, StrategyKind, SweepSpec

TINY = Path(__file__).resolve().parents[2] / "examples" / "accelerators" / "tiny.yaml"

GEMM = Workload("mm", "MatMul", WorkloadKind.GEMM, input_elements=8 * 4, output_elements=8 * 4, weight_elements=4 * 4,
                gemm=GemmShape(m=8, k=4, n=4))
NET_A, NET_B = "gemm:batch=1,k=4,m=8,n=4", "mlp:batch=1,hidden=8,in=4,layers=2,out=4"
"""Two model variants (valid zoo specs: the space labels each point with the spec that runs);
the tests give their layers by hand."""
SOFTMAX = Workload("sm", "Softmax", WorkloadKind.VECTOR, input_elements=32, output_elements=32)


def chips(**changes) -> ChipColumns:
    base = dict(rows=4.0, cols=4.0, units=1.0, clock=1e8, node_nm=45.0, bandwidth=1e9, latency=1e-7, lanes=4.0,
                input_capacity=1024.0, weight_capacity=8.0, output_capacity=256.0, operand_bytes=1.0,
                accumulator_bytes=4.0, supports_os=0.0, supports_ws=1.0, supports_is=0.0, weight_store_bytes=0.0,
                output_store_bytes=0.0, double_buffered=0.0)
    base.update(changes)
    return ChipColumns(**{k: np.array([v], dtype=np.float64) for k, v in base.items()})


def row(values: np.ndarray) -> dict[str, float]:
    return dict(zip(FEATURE_NAMES, values[0]))


def test_layer_table_of_hand_made_workloads() -> None:
    table = layer_table((GEMM, SOFTMAX))
    assert table.m.tolist() == [8, 0] and table.k.tolist() == [4, 0] and table.batch.tolist() == [1, 0]
    assert table.macs.tolist() == [128, 0] and table.weight_elements.tolist() == [16, 0]


def test_network_features_match_closed_forms() -> None:
    values = network_features(layer_table((GEMM,)), chips())
    assert values.shape == (1, len(FEATURE_NAMES))
    f = row(values)
    cycles = 1 * 1 * (8 + 2 * 4 + 4 - 2)  # weight-stationary: one fold, M rows streamed + fill/drain
    assert f["log2_compute_cycles"] == pytest.approx(math.log2(cycles))
    assert f["fold_efficiency"] == pytest.approx(128 / (cycles * 16))
    assert f["log2_pes"] == pytest.approx(4.0) and f["layers"] == 1 and f["gemm_layers"] == 1
    assert f["log2_macs"] == pytest.approx(7.0)
    assert f["log2_weight_bytes"] == pytest.approx(4.0)  # 16 int8 weights
    assert f["weights_fit_share"] == 0.0 and f["log2_max_weight_over_capacity"] == pytest.approx(1.0)  # 16 B in 8 B
    assert f["inputs_fit_share"] == 1.0 and f["outputs_fit_share"] == 1.0  # 32 B inputs, 128 B int32 sums
    compute_s, dram_s = cycles / 1e8, (32 + 16 + 32) / 1e9 + 1e-7
    assert f["log2_roofline_s"] == pytest.approx(math.log2(max(compute_s, dram_s)))
    assert f["memory_bound_share"] == float(dram_s > compute_s)


def test_bigger_array_and_bandwidth_move_the_right_features() -> None:
    layers = layer_table((GEMM, SOFTMAX))
    small, wide = row(network_features(layers, chips())), row(network_features(layers, chips(rows=8.0, bandwidth=4e9)))
    assert wide["log2_dram_s"] < small["log2_dram_s"]
    assert wide["fold_efficiency"] < small["fold_efficiency"]  # K = 4 fills half of 8 rows
    assert wide["log2_macs"] == small["log2_macs"]


def space(strategy: StrategyKind = StrategyKind.GRID) -> DesignSpace:
    spec = SweepSpec(
        source="test", base=str(TINY), base_hash="h", model_root=".",
        hardware=(
            HardwareAxis(path="matrix.rows", values=(2, 4, 8)),
            HardwareAxis(path="matrix.cols", values=(2, 4, 8), tied_to="matrix.rows"),
            HardwareAxis(path="buffers.weights.capacity", values=(1024, 4096)),
        ),
        models=(ModelVariant(spec=NET_A), ModelVariant(spec=NET_B)), model_axes=(),
        schedulers=("heuristic",), precisions=("int8", "fp16"), batches=(None,), timings=("tessera",), weight_modes=("streamed",), schedule_objectives=("latency",),
        objectives=(Objective.LATENCY,), constraints=(), strategy=strategy, population=8, budget=10, seed=0,
    )
    return DesignSpace(spec)


def test_space_features_apply_overrides_ties_and_precision() -> None:
    design = space()
    networks = {NET_A: layer_table((GEMM,)), NET_B: layer_table((GEMM, GEMM, SOFTMAX))}
    features = SpaceFeatures(design, load_accelerator(TINY), lambda model, batch: networks[model])
    indices = np.array([[2, 1, 0, 0, 1, 0, 0, 0, 0], [0, 0, 1, 0, 0, 0, 0, 0, 0]])
    chip = features.chips(indices)
    assert chip.rows.tolist() == [8, 2] and chip.cols.tolist() == [8, 2]  # cols tied to rows
    assert chip.weight_capacity.tolist() == [4096, 1024] and chip.input_capacity.tolist() == [1024, 1024]
    assert chip.operand_bytes.tolist() == [2.0, 1.0]  # fp16, int8
    rows = features.features(indices)
    assert rows.shape == (2, len(features.names)) and rows.dtype == np.float32
    named = dict(zip(features.names, rows.T))
    assert named["layers"].tolist() == [1, 3] and named["axis:model"].tolist() == [0, 1]
    assert named["axis:matrix.rows"].tolist() == [3.0, 1.0]  # log2 of the raw axis value
    direct = network_features(networks[NET_A], features.chips(indices[:1]))
    assert np.allclose(rows[0, : len(FEATURE_NAMES)], direct[0], rtol=1e-6)


def test_hundred_thousand_points_featurise_to_finite_rows() -> None:
    design = space()
    layers = layer_table(tuple(GEMM for _ in range(60)))
    features = SpaceFeatures(design, load_accelerator(TINY), lambda model, batch: layers)
    rng = np.random.default_rng(0)
    indices = np.column_stack([rng.integers(0, a.size, 100_000) for a in design.axes])
    rows = features.features(indices)  # speed: benchmarks/features_speed.py
    assert rows.shape == (100_000, len(features.names)) and np.isfinite(rows).all()


@pytest.mark.parametrize(
    ("supported", "cycles"),
    [
        # m=8, k=4, n=4 on 4x4. OS: ceil(8/4)·ceil(4/4)·(4+4+4-2) = 20; WS: 1·1·(8+2·4+4-2) = 18;
        # IS: ceil(4/4)·ceil(8/4)·(4+2·4+4-2) = 28. A chip runs each layer at its best supported one.
        ({"supports_os": 1.0, "supports_ws": 0.0}, 20),
        ({"supports_os": 0.0, "supports_ws": 1.0}, 18),
        ({"supports_os": 0.0, "supports_ws": 0.0, "supports_is": 1.0}, 28),
        ({"supports_os": 1.0, "supports_ws": 0.0, "supports_is": 1.0}, 20),
        ({"supports_os": 1.0, "supports_ws": 1.0, "supports_is": 1.0}, 18),
    ],
)
def test_compute_cycles_take_the_best_dataflow_each_chip_supports(supported: dict, cycles: int) -> None:
    f = row(network_features(layer_table((GEMM,)), chips(**supported)))
    assert f["log2_compute_cycles"] == pytest.approx(math.log2(cycles))
    assert [f["supports_os"], f["supports_ws"], f["supports_is"]] == [supported.get(k, 0.0) for k in
                                                                      ("supports_os", "supports_ws", "supports_is")]


WIDE_GEMM = Workload("wide", "MatMul", WorkloadKind.GEMM, input_elements=8 * 8, output_elements=8 * 16,
                     weight_elements=8 * 16, gemm=GemmShape(m=8, k=8, n=16))


@pytest.mark.parametrize(
    ("stores", "cycles"),
    [
        # m=8, k=8, n=16 on 4x4, WS: 2 rows and 4 columns' worth of the GEMM
        ({}, 2 * 4 * (8 + 2 * 4 + 4 - 2)),  # one weight a PE: 8 folds
        ({"weight_store_bytes": 2.0}, 4 * (2 * 8 + 2 * 4 + 4 + 2)),  # 2 weights: 4 folds 2 deep
        ({"weight_store_bytes": 8.0, "output_store_bytes": 16.0}, 8 * 8 + 8 * 4 + 4 + 2),  # 2 deep × 4 wide: 1 fold
        ({"weight_store_bytes": 8.0, "output_store_bytes": 16.0, "double_buffered": 1.0}, 2 * (32 + 16 + 6)),  # 4 weights
    ],
)
def test_compute_cycles_use_the_depth_and_width_of_the_pe_stores(stores: dict, cycles: int) -> None:
    """The same folds `gemm_cycles` times for the chip's `Target` (`Target.reduction_depth`,
    `pe_width`): 4 weights and 4 sums a PE (double-buffered: half the weights) split 2 × 2."""
    f = row(network_features(layer_table((WIDE_GEMM,)), chips(**stores)))
    assert f["log2_compute_cycles"] == pytest.approx(math.log2(cycles))


def test_pe_store_axes_set_the_stores_and_scale_sim_timing_keeps_one_weight() -> None:
    spec = space().spec.model_copy(update={
        "hardware": (HardwareAxis(path="matrix.pe_storage.weight", values=(None, 8)),
                     HardwareAxis(path="matrix.pe_storage.output", values=(None, 16))),
        "timings": ("tessera", "scalesim"),
    })  # fmt: skip
    design = DesignSpace(spec)
    features = SpaceFeatures(design, load_accelerator(TINY), lambda model, batch: layer_table((WIDE_GEMM,)))
    timing = design.position["timing"]
    indices = np.zeros((3, len(design.axes)), dtype=np.int64)
    indices[1, :2] = 1
    indices[2, :2] = 1
    indices[2, timing] = 1
    chip = features.chips(indices)
    assert chip.weight_store_bytes.tolist() == [0.0, 8.0, 0.0] and chip.output_store_bytes.tolist() == [0.0, 16.0, 16.0]
    cycles = dict(zip(features.names, features.features(indices).T))["log2_compute_cycles"]
    assert cycles[1] < cycles[0] == cycles[2]


def test_a_dataflow_axis_sets_each_points_supported_dataflows() -> None:
    spec = space().spec.model_copy(update={"hardware": (
        HardwareAxis(path="matrix.dataflows", values=(["output-stationary"], ["weight-stationary", "input-stationary"])),
    )})
    design = DesignSpace(spec)
    features = SpaceFeatures(design, load_accelerator(TINY), lambda model, batch: layer_table((GEMM,)))
    rows = features.features(np.array([[0, 0, 0, 0, 0, 0, 0, 0], [1, 0, 0, 0, 0, 0, 0, 0]]))
    named = dict(zip(features.names, rows.T))
    assert named["supports_os"].tolist() == [1.0, 0.0] and named["supports_ws"].tolist() == [0.0, 1.0]
    assert named["supports_is"].tolist() == [0.0, 1.0]
    assert named["log2_compute_cycles"].tolist() == pytest.approx([math.log2(20), math.log2(18)])
    assert named["axis:matrix.dataflows"].tolist() == [0.0, 1.0]  # raw axis: the choice index
