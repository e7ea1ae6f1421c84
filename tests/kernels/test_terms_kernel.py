"""`estimate._pass_inputs(...).terms` (the `terms_kernel` kernel) equals the numpy formulas it replaces,
written here with the project's shared numpy helpers (`tiling`, `timing`, `nbytes`): every
field, on the tilings of real networks' layers, on chips that exercise every branch
(weight/output/input stationary, pipelined folds, row-stationary active PEs, units narrower
than the array, a burst that is not a power of two, operands kept on chip)."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

import numpy as np
import pytest

from accel_spec import load_accelerator, with_overrides
from accel_spec.types import Dataflow
from compiler.lowering import lower
from compiler.memory.planner import WeightResidency, plan_memory
from compiler.models import load_model
from compiler.scheduling.batched import Spaces
from compiler.scheduling.candidates import gemm_space
from compiler.scheduling.columns import WorkloadColumns
from compiler.scheduling.estimate import _Pass, _pass_inputs, tiling_terms
from compiler.scheduling.roles import roles
from compiler.scheduling.terms_kernel import chain_array_floor
from compiler.scheduling.schedule import SchedulerKind
from compiler.scheduling.tiling import (
    active_pes,
    edge_tile,
    input_window_channels,
    input_window_pixels,
    pass_groups,
    side_tile_elements,
    tile_count,
)
from compiler.target import nbytes, target_of

from compiler.target.timing import (
    FoldTimes,
    burst_bytes,
    fill_drain_cycles,
    fold_count,
    fold_occupancy,
    fold_shift,
    gemm_occupancy,
    pe_split,
    stationary_load_cycles,
    streamed_length,
    stretched,
    vector_cycles,
)

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "accelerators"


def numpy_pass_terms(workload, chip, dataflow, tiles, groups) -> _Pass:
    """The terms of one pass, one numpy expression over all tilings per formula."""
    gemm = workload.gemm
    extents = (gemm.m, gemm.k, gemm.n)
    classes = [
        ((t, edge_tile(e, t)), (tile_count(e, t) - 1, np.ones_like(tile_count(e, t)))) for e, t in zip(extents, tiles)
    ]
    (sm, sk, sn), (nm, nk, nn) = zip(*classes)
    fm, fk, fn = (np.minimum(t, e) for e, t in zip(extents, tiles))
    pixels = [input_window_pixels(size, workload) for size in (*sm, fm)]
    channels = [input_window_channels(size, workload) for size in (*sk, fk)]
    flags = roles(workload, chip)

    def channel(elements, bits, over_dram=True):
        return over_dram * burst_bytes(nbytes(groups * elements, bits), chip.burst)

    active = active_pes(workload, chip)
    matrix = matrix_floor = 0
    packed = np.asarray(groups, dtype=np.int64)
    pk, pn = [size * packed for size in sk], [size * packed for size in sn]
    m_rows, m_cols = [tile_count(size, chip.rows) for size in sm], [tile_count(size, chip.cols) for size in sm]
    k_rows, n_cols = [tile_count(size, chip.rows) for size in pk], [tile_count(size, chip.cols) for size in pn]
    fill_drain = fill_drain_cycles(chip.rows, chip.cols, chip.unit_cols)
    is_ws = np.asarray(dataflow) == Dataflow.WEIGHT_STATIONARY
    for a in (0, 1):
        for b in (0, 1):
            for c in (0, 1):
                count = nm[a] * nk[b] * nn[c]
                split = pe_split(dataflow, k_rows[b], n_cols[c], packed, chip.reduction_depth, chip.pe_width)
                folds = fold_count(dataflow, m_rows[a], m_cols[a], split.passes, split.column_folds)
                cells = np.where(is_ws, n_cols[c] * k_rows[b], folds)
                stream = streamed_length(dataflow, sm[a], pk[b], pn[c])
                load = stationary_load_cycles(dataflow, chip.rows)
                first, last = split.deep * split.wide, split.shallow * split.narrow
                times = FoldTimes(folds, stream * cells, load * cells, load * first, stream * last,
                                  fold_shift(load * last, chip.rows))  # fmt: skip
                occupancy, floor = fold_occupancy(times, fill_drain, chip.rows, chip.pipelined)
                matrix = matrix + count * stretched(occupancy, chip.pes, active)
                if chip.pipelined:
                    matrix_floor = matrix_floor + count * stretched(floor, chip.pes, active)
    if not chip.pipelined:
        matrix_floor = matrix
    input_bytes = weight_bytes = output_bytes = psum_bytes = vector = 0
    total_out = gemm.batch * gemm.m * gemm.n
    vector_ops = [(chip.vector_ops_per_cycle[op], ops) for op, ops in workload.vector_ops.items() if np.any(ops)]
    for a in (0, 1):
        for b in (0, 1):
            input_bytes = input_bytes + nm[a] * nk[b] * channel(pixels[a] * channels[b], flags.input_bits, flags.input_dram)
            weight_bytes = weight_bytes + nk[a] * nn[b] * channel(sk[a] * sn[b], flags.weight_bits, flags.weight_dram)
            tiles_ab = nm[a] * nn[b]
            out_elements = sm[a] * sn[b]
            output_bytes = output_bytes + tiles_ab * (
                channel(out_elements, flags.output_bits, flags.output_dram)
                + channel(side_tile_elements(sm[a], sn[b], workload), flags.side_bits, flags.side_dram)
            )
            psum_bytes = psum_bytes + tiles_ab * channel(out_elements, chip.accumulator_bits)
            for rate, ops in vector_ops:
                per_tile = -(-ops * groups * out_elements // total_out)
                vector = vector + tiles_ab * vector_cycles(per_tile, rate)
    return _Pass(
        matrix=matrix,
        matrix_floor=matrix_floor,
        vector=vector + np.zeros_like(matrix),
        input_bytes=input_bytes,
        weight_bytes=weight_bytes,
        output_bytes=output_bytes,
        psum_bytes=psum_bytes,
        prologue_bytes=channel(pixels[0] * channels[0], flags.input_bits, flags.input_dram)
        + channel(sk[0] * sn[0], flags.weight_bits, flags.weight_dram),
        epilogue_bytes=channel(sm[1] * sn[1], flags.output_bits, flags.output_dram),
        first_loads=np.stack(
            np.broadcast_arrays(
                channel(pixels[2] * channels[2], flags.input_bits, flags.input_dram),
                channel(fk * fn, flags.weight_bits, flags.weight_dram),
            )
        ),
    )


def assert_equal_terms(kernel: _Pass, reference: _Pass, size: int) -> None:
    for field in fields(_Pass):
        expected = np.broadcast_to(getattr(reference, field.name), np.shape(getattr(kernel, field.name)))
        assert np.shape(getattr(kernel, field.name))[-1] == size, field.name
        assert np.array_equal(getattr(kernel, field.name), expected), field.name


CHIPS = {
    "edge": {},  # weight-stationary, one unit
    "tpu_v1": {},  # pipelined weight-stationary folds, input/weight/output all over DRAM
    "eyeriss": {},  # row-stationary mapping: active PEs below the array's
    "datacenter_bf16": {},
    "tpu_v5e": {},  # four matrix units: fill and drain across one unit's columns
    "gemmini": {"dram.burst": "48 B"},  # a burst that is not a power of two
    # weight-stationary PEs reducing up to 16 weights in place, folds back to back and pipelined
    "edge-deep": {"matrix.pe_storage": {"weight": "16 B"}},
    "tpu_v1-deep": {"matrix.pe_storage": {"weight": "16 B"}},
    # and spreading them over up to 4 output channels (4 partial sums a PE)
    "edge-wide": {"matrix.pe_storage": {"weight": "16 B", "output": "16 B"}},
    "tpu_v1-wide": {"matrix.pe_storage": {"weight": "16 B", "output": "16 B"}},
}


@pytest.mark.parametrize("chip_name", sorted(CHIPS))
@pytest.mark.parametrize("model", ["resnet18", "bert:layers=1,hidden=128,heads=2,seq=32,batch=3"])
def test_kernel_equals_the_numpy_formulas_on_a_planned_network(chip_name: str, model: str) -> None:
    accel = with_overrides(load_accelerator(EXAMPLES / f"{chip_name.split('-')[0]}.yaml"), CHIPS[chip_name])
    chip = target_of(accel, None)
    assert (chip.reduction_depth > 1) == chip_name.endswith(("-deep", "-wide"))
    assert (min(chip.reduction_depth, chip.pe_width) > 1) == chip_name.endswith("-wide")
    workloads = plan_memory(lower(load_model(model)), chip, WeightResidency.STREAMED).workloads
    gemms = list({w.shape_key: w for w in workloads if w.gemm is not None}.values())
    grid = Spaces.of(gemms, chip).grid
    columns = WorkloadColumns.of(gemms, grid.sizes)
    size = len(grid.dataflow)
    assert size > 100
    inputs = _pass_inputs(columns, chip, grid.dataflow, grid.tiles)
    last = np.broadcast_to(pass_groups(columns.gemm.batch, grid.groups)[1], (size,))
    for groups in (grid.groups, last):
        kernel = _Pass.of(inputs.terms(groups))
        assert_equal_terms(kernel, numpy_pass_terms(columns, chip, grid.dataflow, grid.tiles, groups), size)
    # `tiling_terms` runs the last pass only on the tilings it packs fewer products in
    short = np.flatnonzero(last != grid.groups)
    assert np.array_equal(inputs.taken(short).terms(last[short]), inputs.terms(last)[:, short])
    # one workload's space with its own (scalar) fields: plain GEMMs take the kernel's non-conv path
    for workload in gemms[:: max(1, len(gemms) // 4)]:
        space = gemm_space(workload.gemm, chip, SchedulerKind.EXHAUSTIVE)
        kernel = _Pass.of(_pass_inputs(workload, chip, space.dataflow, space.tiles).terms(space.groups))
        reference = numpy_pass_terms(workload, chip, space.dataflow, space.tiles, space.groups)
        assert_equal_terms(kernel, reference, len(space.dataflow))


@pytest.mark.parametrize("chip_name", sorted(CHIPS))
def test_grid_channel_bytes_equal_the_numpy_reloads(chip_name: str) -> None:
    """Every arrangement of every tiling of a planned network moves the bytes
    `TilingTerms.channel_bytes` counts (`tiling.reloads`), spilling or not."""
    accel = with_overrides(load_accelerator(EXAMPLES / f"{chip_name.split('-')[0]}.yaml"), CHIPS[chip_name])
    chip = target_of(accel, None)
    workloads = plan_memory(lower(load_model("resnet18")), chip, WeightResidency.STREAMED).workloads
    gemms = list({w.shape_key: w for w in workloads if w.gemm is not None}.values())
    grid = Spaces.of(gemms, chip).grid
    terms = tiling_terms(WorkloadColumns.of(gemms, grid.sizes), chip, grid.dataflow, grid.tiles, grid.groups)
    spill = np.random.default_rng(5).random((len(grid.order), len(grid.groups))) < 0.5
    expected = terms.channel_bytes(grid.positions, spill)
    assert np.array_equal(terms.grid_channel_bytes(grid.positions[:, :, 0], spill), expected)
    assert (terms.counts > 1).any(axis=1).all()  # every dim reloads somewhere


def test_the_last_pass_is_run_again_only_on_the_tilings_it_packs_fewer_products_in() -> None:
    """MobileNetV2's depthwise layers pack channels whose count some packings do not divide:
    the kernel's terms of those tilings alone equal theirs among all tilings, and every
    other tiling's last pass is its full one (the same inputs)."""
    chip = target_of(load_accelerator(EXAMPLES / "edge.yaml"), None)
    workloads = plan_memory(lower(load_model("mobilenetv2")), chip, WeightResidency.STREAMED).workloads
    gemms = list({w.shape_key: w for w in workloads if w.gemm is not None}.values())
    grid = Spaces.of(gemms, chip).grid
    columns = WorkloadColumns.of(gemms, grid.sizes)
    inputs = _pass_inputs(columns, chip, grid.dataflow, grid.tiles)
    last = np.broadcast_to(pass_groups(columns.gemm.batch, grid.groups)[1], grid.groups.shape)
    short = np.flatnonzero(last != grid.groups)
    assert 0 < short.size < grid.groups.size // 10
    all_tilings = inputs.terms(last)
    assert np.array_equal(inputs.taken(short).terms(last[short]), all_tilings[:, short])
    others = np.setdiff1d(np.arange(grid.groups.size), short)
    assert np.array_equal(all_tilings[:, others], inputs.terms(grid.groups)[:, others])


def test_the_workloads_cover_side_inputs_vector_work_and_kept_operands() -> None:
    """The networks above reach every branch the kernel has: a fused residual, epilogue work,
    an operand not over DRAM, a convolution and a plain GEMM."""
    chip = target_of(load_accelerator(EXAMPLES / "edge.yaml"), None)
    workloads = plan_memory(lower(load_model("resnet18")), chip, WeightResidency.STREAMED).workloads
    gemms = [w for w in workloads if w.gemm is not None]
    assert any(w.side_input_elements for w in gemms)
    assert any(any(w.vector_ops.values()) for w in gemms)
    assert any(not roles(w, chip).input_dram for w in gemms)
    assert any(w.conv is not None for w in gemms) and any(w.conv is None for w in gemms)


def numpy_chain_array_floor(m, k, n, batch, dataflows, groups, chip) -> np.ndarray:
    """`terms_kernel.chain_array_floor` as numpy over (dataflows, bands, packings), with
    `timing.gemm_occupancy`."""
    groups = np.asarray(groups, dtype=np.int64)[None, None, :]
    dataflow = np.asarray(dataflows, dtype=np.int64)[:, None, None]
    m = np.asarray(m, dtype=np.int64)[None, :, None]

    def busy(n, packed):
        return gemm_occupancy(m, k, n, dataflow, chip.rows, chip.cols, packed, chip.pipelined, unit_cols=chip.unit_cols,
                              depth=chip.reduction_depth, width=chip.pe_width)[1]  # fmt: skip

    if batch == 1:
        count = int(tile_count(n, chip.cols))
        full, edge = busy(chip.cols, 1), busy(edge_tile(n, chip.cols), 1)
        return np.broadcast_to(np.sum((count - 1) * full + edge, axis=1), (dataflow.shape[0], groups.shape[2]))
    count, last = pass_groups(batch, groups)
    return np.sum((count - 1) * busy(n, groups) + busy(n, last), axis=1)


@pytest.mark.parametrize("pipelined", [False, True])
@pytest.mark.parametrize(("depth_bytes", "width_bytes"), [(0, 0), (32, 32)])
def test_chain_array_floor_equals_gemm_occupancy(pipelined: bool, depth_bytes: int, width_bytes: int) -> None:
    """A fused chain's busy floor per dataflow and packing, by the kernel and by
    `timing.gemm_occupancy`, on random layers (single products split into array-wide
    tiles, batches packed in passes) on chips with and without pipelined folds and per-PE
    stores."""
    rng = np.random.default_rng(11)
    base = load_accelerator(EXAMPLES / "edge.yaml")
    dataflows = np.array([int(d) for d in Dataflow], dtype=np.int64)
    for rows, cols in ((8, 8), (16, 12), (32, 64)):
        overrides = {"matrix.rows": rows, "matrix.cols": cols, "matrix.stationary_double_buffer": pipelined}
        if depth_bytes:
            overrides |= {"matrix.pe_storage": {"weight": f"{depth_bytes} B", "output": f"{width_bytes} B"}}
        chip = target_of(with_overrides(base, overrides))
        assert chip.pipelined == pipelined and (chip.reduction_depth > 1 and chip.pe_width > 1) == bool(depth_bytes)
        for _ in range(15):
            m = rng.integers(1, 500, size=int(rng.integers(1, 5)))
            k, n, batch = (int(v) for v in rng.integers(1, 300, size=3))
            batch = 1 if rng.random() < 0.4 else int(rng.integers(2, 40))
            groups = np.unique(rng.integers(1, batch + 1, size=3))
            expected = numpy_chain_array_floor(m, k, n, batch, dataflows, groups, chip)
            got = chain_array_floor(m.astype(np.int64), k, n, batch, dataflows, groups.astype(np.int64), chip.rows,
                                    chip.cols, chip.reduction_depth, chip.pe_width, chip.fill_drain, chip.pipelined)  # fmt: skip
            assert got.tolist() == expected.tolist()
