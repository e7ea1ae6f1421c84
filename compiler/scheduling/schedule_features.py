"""Features of candidate GEMM schedules for the learned ranker (autotvm `feature.py` style).

One row per candidate of one layer on one chip, vectorised over candidates. The rows of a
layer are ranked against each other (`rank:pairwise`), so what matters is how candidates
differ; the layer and chip columns let the trees condition on the situation:

- the schedule: dataflow (one-hot), loop order (one-hot) and the position of the K loop,
  double buffering, packed groups, tile sizes as log2, relative to the GEMM extents and to the
  array side they are spread over, tile counts per dimension;
- the estimate's terms (`compiler.scheduling.estimate.CostTerms`) in cycles at the chip's
  bandwidth: compute, DRAM channel, exposed transfers, latency per iteration, the estimate
  itself, and each relative to the layer's best candidate (log2 ratios), plus the fraction of
  each operand's buffer the candidate fills and whether it spills partial sums;
- the layer and chip: log2 M, K, N, batch, rows, cols, bytes per cycle, DRAM latency.
"""

from __future__ import annotations

import numpy as np

from accel_spec.types import Dataflow, Operand
from compiler.scheduling.candidates import SPATIAL_DIMS, GemmCandidates
from compiler.scheduling.estimate import CostTerms
from compiler.scheduling.footprint import gemm_footprint
from compiler.scheduling.schedule import LOOP_ORDERS, Dim
from compiler.scheduling.tiling import loop_positions, tile_count
from compiler.target import Target
from compiler.workload import Workload

SCHEDULE_FEATURE_NAMES: tuple[str, ...] = (
    *(f"dataflow_{flow.short}" for flow in Dataflow),
    *(f"order_{''.join(d.name for d in order)}" for order in LOOP_ORDERS),
    "k_position", "double_buffer", "log2_groups",
    "log2_tile_m", "log2_tile_k", "log2_tile_n",
    "tile_m_share", "tile_k_share", "tile_n_share",
    "log2_tile_rows_ratio", "log2_tile_cols_ratio",
    "log2_tiles_m", "log2_tiles_k", "log2_tiles_n", "log2_iterations",
    "log2_compute", "log2_dram", "log2_exposed", "log2_latency_total", "log2_estimate", "log2_bound",
    "rel_estimate", "rel_compute", "rel_dram", "estimate_rank",
    "input_fill", "weight_fill", "output_fill", "spill",
    "log2_m", "log2_k", "log2_n", "log2_batch", "log2_rows", "log2_cols", "log2_bytes_per_cycle", "latency",
)


def _log2(values) -> np.ndarray:
    return np.log2(np.maximum(np.asarray(values, dtype=np.float64), 1.0))


def schedule_features(workload: Workload, chip: Target, cands: GemmCandidates, terms: CostTerms) -> np.ndarray:
    """(candidates, len(SCHEDULE_FEATURE_NAMES)) float32 features (module docstring)."""
    gemm = workload.gemm
    assert gemm is not None
    n = len(cands)
    extents = np.array([gemm.m, gemm.k, gemm.n], dtype=np.float64)
    tiles = cands.tiles.astype(np.float64)
    positions = loop_positions(cands.order, LOOP_ORDERS)
    footprint = gemm_footprint(workload, chip, cands.tiles, positions, cands.double_buffer, cands.groups)
    demand = footprint.demand(chip)
    fill = [demand[chip.buffer(op)] / chip.capacity_array[chip.buffer(op)] for op in Operand]
    counts = np.stack([tile_count(int(e), t) for e, t in zip(extents, cands.tiles)])
    spread_rows, spread_cols = np.ones(n), np.ones(n)
    for flow, spatial in SPATIAL_DIMS.items():
        here = cands.dataflow == int(flow)
        for dim, side in spatial.items():
            target = spread_rows if side == "rows" else spread_cols
            target[here] = tiles[dim][here] / getattr(chip, side)
    bpc = chip.dram_bytes_per_cycle
    estimate = terms.cycles(bpc)
    dram = terms.channel_bytes / bpc
    best = max(float(estimate.min()), 1.0)
    columns = [
        *(cands.dataflow == int(flow) for flow in Dataflow),
        *(cands.order == i for i in range(len(LOOP_ORDERS))),
        positions[Dim.K], cands.double_buffer, _log2(cands.groups),
        _log2(tiles[Dim.M]), _log2(tiles[Dim.K]), _log2(tiles[Dim.N]),
        *(tiles[d] / extents[d] for d in Dim),
        np.log2(spread_rows), np.log2(spread_cols),
        *(_log2(counts[d]) for d in Dim), _log2(terms.iterations),
        _log2(terms.compute), _log2(dram), _log2(terms.exposed_bytes / bpc),
        _log2(terms.iterations * terms.latency), _log2(estimate), _log2(terms.lower_bound(bpc)),
        np.log2(np.maximum(estimate, 1.0) / best), _log2(terms.compute) - _log2(terms.compute.min()),
        _log2(dram) - _log2(dram.min()), np.argsort(np.argsort(estimate, kind="stable"), kind="stable") / max(n - 1, 1),
        *fill, footprint.spill,
        *(np.full(n, v) for v in _log2([gemm.m, gemm.k, gemm.n, gemm.batch, chip.rows, chip.cols])),
        np.full(n, np.log2(bpc)), np.full(n, float(chip.latency)),
    ]
    return np.column_stack([np.broadcast_to(np.asarray(c, dtype=np.float64), (n,)) for c in columns]).astype(np.float32)
