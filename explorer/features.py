"""Features of design points for learned cost models: pure numpy functions, vectorised over chips.

A design point is a chip and a network (autotvm's `feature.py` plays this role for programs).
Its feature row joins three kinds of numbers, all as log2 where they are scales:

- chip parameters (`ChipColumns`): array rows, cols and PEs, buffer capacity per operand,
  DRAM bandwidth and latency, clock, process node, vector lanes, operand and accumulator width;
- network statistics that do not depend on the chip (`LayerTable`): layers, MACs, vector ops,
  operand bytes, arithmetic intensity;
- chip × network interactions, the quantities a roofline model reasons with: compute cycles
  of every GEMM on the array (`compiler.target.timing.gemm_cycles` with the whole layer as one
  tile, best supported dataflow, at the reduction depth and channel width the chip's per-PE
  stores give), array-fold efficiency macs / (cycles · R · C), compute
  and DRAM time of every layer and their per-layer roofline sum, and how each operand's
  bytes compare with the capacity of the buffer holding it (layers that fit, spill ratio).

`network_features(layers, chips)` computes every row of one network against n chips at once:
(layers × n) arrays, no Python loop over points. Callers evaluate it on the distinct chips of
a network only (`explorer.space_features`), so featurising a large candidate pool costs the
number of distinct (network, chip) pairs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from accel_spec.components import pe
from accel_spec.types import Dataflow
from compiler.target.timing import gemm_cycles
from compiler.workload import Workload


@dataclass(frozen=True)
class LayerTable:
    """Per-layer numbers of one network, as int64 arrays over its layers.

    Attributes:
        m, k, n, batch: the GEMM view of each layer (all 0 for vector layers).
        input_elements, weight_elements, output_elements: operand sizes in elements
            (a residual side input is counted with the input).
        vector_ops: lane operations on the vector unit.
    """

    m: np.ndarray
    k: np.ndarray
    n: np.ndarray
    batch: np.ndarray
    input_elements: np.ndarray
    weight_elements: np.ndarray
    output_elements: np.ndarray
    vector_ops: np.ndarray

    @property
    def macs(self) -> np.ndarray:
        """Multiply-accumulates per layer."""
        return self.batch * self.m * self.k * self.n


def layer_table(workloads: tuple[Workload, ...]) -> LayerTable:
    """The `LayerTable` of lowered workloads."""

    def column(values) -> np.ndarray:
        return np.fromiter(values, dtype=np.int64, count=len(workloads))

    def gemm(attribute: str):
        return (getattr(w.gemm, attribute) if w.gemm is not None else 0 for w in workloads)

    return LayerTable(
        m=column(gemm("m")),
        k=column(gemm("k")),
        n=column(gemm("n")),
        batch=column(gemm("batch")),
        input_elements=column(w.input_elements + w.side_input_elements for w in workloads),
        weight_elements=column(w.weight_elements for w in workloads),
        output_elements=column(w.output_elements for w in workloads),
        vector_ops=column(w.total_vector_ops for w in workloads),
    )


@dataclass(frozen=True)
class ChipColumns:
    """Chip parameters of n points as float64 arrays (SI units and 0/1 flags).

    `cols` are one matrix unit's, `units` how many sit side by side (`MatrixEngine.units`).
    `*_capacity` is the capacity of the buffer holding that operand (the same buffer for
    operands that share one); `operand_bytes` the width of one input/weight element at the
    point's precision, `accumulator_bytes` of one partial sum; `supports_os`, `_ws`, `_is`
    are 1.0 where the array supports that dataflow (the dataflows can be a sweep axis);
    `weight_store_bytes` and `output_store_bytes` are each PE's weight and partial-sum storage
    (`matrix.pe_storage`, 0 for none, and 0 for weights under SCALE-Sim's timing, which keeps one
    weight a PE) and `double_buffered` is 1.0 where the stationary operand is double-buffered.
    """

    rows: np.ndarray
    cols: np.ndarray
    units: np.ndarray
    clock: np.ndarray
    node_nm: np.ndarray
    bandwidth: np.ndarray
    latency: np.ndarray
    lanes: np.ndarray
    input_capacity: np.ndarray
    weight_capacity: np.ndarray
    output_capacity: np.ndarray
    operand_bytes: np.ndarray
    accumulator_bytes: np.ndarray
    supports_os: np.ndarray
    supports_ws: np.ndarray
    supports_is: np.ndarray
    weight_store_bytes: np.ndarray
    output_store_bytes: np.ndarray
    double_buffered: np.ndarray

    def supported(self) -> np.ndarray:
        """(len(Dataflow), n) booleans: whether each chip supports each dataflow, in enum order."""
        return np.vstack([getattr(self, support_field(flow)) for flow in Dataflow]) > 0


def support_field(dataflow: Dataflow) -> str:
    """The `ChipColumns` flag of a dataflow (``supports_ws``)."""
    return f"supports_{dataflow.short.lower()}"

FEATURE_NAMES: tuple[str, ...] = (
    # chip
    "log2_rows", "log2_cols", "log2_pes", "log2_clock", "log2_node_nm", "log2_bandwidth",
    "log2_dram_bytes_per_cycle", "log2_latency", "log2_lanes", "log2_input_capacity",
    "log2_weight_capacity", "log2_output_capacity", "operand_bytes", "log2_onchip_bytes",
    "supports_os", "supports_ws", "supports_is",
    # network
    "layers", "gemm_layers", "log2_macs", "log2_vector_ops", "log2_input_bytes", "log2_weight_bytes",
    "log2_output_bytes", "log2_arithmetic_intensity", "log2_max_layer_weight_bytes",
    "log2_max_layer_input_bytes",
    # chip x network
    "log2_compute_cycles", "fold_efficiency", "min_layer_fold_efficiency", "log2_compute_s",
    "log2_dram_s", "log2_vector_s", "log2_roofline_s", "memory_bound_share",
    "weights_fit_share", "inputs_fit_share", "outputs_fit_share", "log2_weight_spill", "log2_input_spill",
    "log2_output_spill", "log2_max_weight_over_capacity", "log2_max_input_over_capacity",
)
"""Column names of `network_features` rows, in order."""


def _log2(values) -> np.ndarray:
    return np.log2(np.maximum(np.asarray(values, dtype=np.float64), 1e-30))


def pe_depth_and_width(chips: ChipColumns) -> tuple[np.ndarray, np.ndarray]:
    """(reduction depth, channel width) of each chip (int64), by the rules the compiler's
    `Target` uses (`pe.reduction_depth`, `pe.channel_width`)."""
    depth = np.ones(len(chips.rows), dtype=np.int64)
    width = np.ones(len(chips.rows), dtype=np.int64)
    stores = chips.weight_store_bytes > 0
    if stores.any():
        depth[stores] = np.vectorize(pe.reduction_depth, otypes=[np.int64])(
            chips.weight_store_bytes[stores].astype(np.int64),
            np.rint(chips.operand_bytes[stores] * 8).astype(np.int64),
            chips.double_buffered[stores] > 0,
        )
        width[stores] = np.vectorize(pe.channel_width, otypes=[np.int64])(
            chips.output_store_bytes[stores].astype(np.int64), np.rint(chips.accumulator_bytes[stores] * 8).astype(np.int64)
        )
    return depth, width


def compute_cycles(layers: LayerTable, chips: ChipColumns) -> np.ndarray:
    """(layers, n) cycles of each GEMM layer as one tile, at the best dataflow each chip supports."""
    rows, unit_cols = chips.rows.astype(np.int64)[None, :], chips.cols.astype(np.int64)[None, :]
    cols = unit_cols * chips.units.astype(np.int64)[None, :]
    depth, width = (a[None, :] for a in pe_depth_and_width(chips))
    m, k, n, batch = (a[:, None] for a in (layers.m, layers.k, layers.n, layers.batch))
    per_dataflow = np.stack([
        np.broadcast_to(
            gemm_cycles(m, k, n, int(flow), rows, cols, unit_cols=unit_cols, depth=depth, width=width),
            (len(layers.m), len(chips.rows)),
        ).astype(np.float64)
        for flow in Dataflow
    ])
    best = np.where(chips.supported()[:, None, :], per_dataflow, np.inf).min(axis=0, initial=np.inf)
    return np.where(m > 0, best * batch, 0.0)


def network_features(layers: LayerTable, chips: ChipColumns) -> np.ndarray:
    """(n, len(FEATURE_NAMES)) features of one network on each of n chips (module docstring)."""
    n = len(chips.rows)
    width = chips.operand_bytes[None, :]
    in_bytes = layers.input_elements[:, None] * width
    w_bytes = layers.weight_elements[:, None] * width
    out_bytes = layers.output_elements[:, None] * width
    acc_bytes = layers.output_elements[:, None] * chips.accumulator_bytes[None, :]
    macs = layers.macs.astype(np.float64)
    is_gemm = macs > 0
    cycles = compute_cycles(layers, chips)
    pes = chips.rows * chips.cols * chips.units
    efficiency = np.where(is_gemm[:, None], macs[:, None] / np.maximum(cycles * pes[None, :], 1.0), 1.0)
    vector_s = layers.vector_ops[:, None] / (chips.lanes * chips.clock)[None, :]
    compute_s = cycles / chips.clock[None, :] + vector_s
    layer_bytes = in_bytes + w_bytes + out_bytes
    dram_s = layer_bytes / chips.bandwidth[None, :] + chips.latency[None, :]
    roofline = np.maximum(compute_s, dram_s)
    total_bytes = layer_bytes.sum(axis=0)
    onchip = chips.input_capacity + chips.weight_capacity + chips.output_capacity

    def over(operand: np.ndarray, capacity: np.ndarray) -> np.ndarray:
        return operand / capacity[None, :]

    w_over, in_over, out_over = over(w_bytes, chips.weight_capacity), over(in_bytes, chips.input_capacity), over(
        acc_bytes, chips.output_capacity
    )
    gemm_count = max(int(is_gemm.sum()), 1)
    columns = [
        _log2(chips.rows), _log2(chips.cols), _log2(pes), _log2(chips.clock), _log2(chips.node_nm),
        _log2(chips.bandwidth), _log2(chips.bandwidth / chips.clock), _log2(chips.latency), _log2(chips.lanes),
        _log2(chips.input_capacity), _log2(chips.weight_capacity), _log2(chips.output_capacity),
        chips.operand_bytes, _log2(onchip), chips.supports_os, chips.supports_ws, chips.supports_is,
        np.full(n, float(len(macs))), np.full(n, float(is_gemm.sum())), np.full(n, _log2(macs.sum())),
        np.full(n, _log2(layers.vector_ops.sum())), _log2(in_bytes.sum(axis=0)), _log2(w_bytes.sum(axis=0)),
        _log2(out_bytes.sum(axis=0)), _log2(macs.sum() / np.maximum(total_bytes, 1.0)),
        _log2(w_bytes.max(axis=0, initial=0)), _log2(in_bytes.max(axis=0, initial=0)),
        _log2(cycles.sum(axis=0)), macs.sum() / np.maximum(cycles.sum(axis=0) * pes, 1.0),
        np.where(is_gemm[:, None], efficiency, np.inf).min(axis=0, initial=np.inf).clip(max=1.0),
        _log2(compute_s.sum(axis=0)), _log2(dram_s.sum(axis=0)), _log2(vector_s.sum(axis=0)),
        _log2(roofline.sum(axis=0)), (dram_s > compute_s).mean(axis=0),
        ((w_over <= 1) | ~is_gemm[:, None]).mean(axis=0), (in_over <= 1).mean(axis=0), (out_over <= 1).mean(axis=0),
        _log2(1.0 + np.maximum(w_over - 1, 0).sum(axis=0) / gemm_count),
        _log2(1.0 + np.maximum(in_over - 1, 0).sum(axis=0) / len(macs)),
        _log2(1.0 + np.maximum(out_over - 1, 0).sum(axis=0) / len(macs)),
        _log2(w_over.max(axis=0, initial=0)), _log2(in_over.max(axis=0, initial=0)),
    ]
    return np.column_stack(columns)
