"""Closed-form cycle estimate of schedules, vectorised over all candidates at once.

It charges exactly the simulator's per-instruction costs (`simulator.timing_model`) and
sums them in closed form: compute is Σ gemm_cycles over every tile (edge tiles at their
real size), DRAM occupancy is Σ over every transfer the loop order causes (reloads,
partial-sum spills and refills, the side input and the final store). Only how the engines
overlap is approximated (`pipeline_cycles`).
"""

from __future__ import annotations

import numpy as np

from accel_spec.types import OpClass
from compiler.scheduling.candidates import GemmCandidates
from compiler.scheduling.chip import Chip, nbytes
from compiler.scheduling.footprint import gemm_footprint, vector_chunk_elements
from compiler.scheduling.schedule import LOOP_ORDERS, Dim
from compiler.scheduling.tiling import (
    edge_tile,
    input_tile_elements,
    loop_positions,
    reloads,
    side_tile_elements,
    tile_count,
)
from compiler.workload import Workload
from simulator.timing_model import gemm_cycles, transfer_cycles, vector_cycles


def pipeline_cycles(compute, dram, iterations, prologue, epilogue, latency: int, double_buffer):
    """How compute and DRAM traffic overlap.

    Double buffered: the busier resource sets the pace, max(compute, dram), unless DRAM
    latency does: the load of tile t+2 waits for the compute of tile t, so two iterations
    take at least one compute plus one transfer with its latency. The first loads and the
    last store are not overlapped (prologue, epilogue). Single buffered: everything in
    series, one latency per iteration.
    """
    latency_bound = (compute + dram + iterations * latency) / 2
    overlapped = np.maximum(np.maximum(compute, dram), latency_bound) + prologue + epilogue
    serial = compute + dram + (iterations + 1) * latency
    return np.where(double_buffer, overlapped, serial)


def _classes(extent, tile):
    """Tile sizes and how many tiles have them: full tiles and the edge tile."""
    count = tile_count(extent, tile)
    return (tile, edge_tile(extent, tile)), (count - 1, np.ones_like(count))


def gemm_estimate(workload: Workload, chip: Chip, cands: GemmCandidates) -> np.ndarray:
    """Estimated cycles of every candidate (float64 array)."""
    gemm = workload.gemm
    assert gemm is not None
    extents = (gemm.m, gemm.k, gemm.n)
    tiles = cands.tiles
    counts = np.stack([tile_count(e, t) for e, t in zip(extents, tiles)])
    positions = loop_positions(cands.order, LOOP_ORDERS)
    (sm, sk, sn), (nm, nk, nn) = zip(*(_classes(e, t) for e, t in zip(extents, tiles)))
    footprint = gemm_footprint(workload, chip, tiles, positions, cands.double_buffer)
    batch = gemm.batch

    def occupancy(elements, bits):
        return transfer_cycles(nbytes(elements, bits), chip.burst, chip.dram_bytes_per_cycle)

    compute = np.zeros(len(cands), dtype=np.int64)
    for a in (0, 1):
        for b in (0, 1):
            for c in (0, 1):
                cycles = gemm_cycles(sm[a], sk[b], sn[c], cands.dataflow, chip.rows, chip.cols)
                compute += nm[a] * nk[b] * nn[c] * cycles
    input_occ = weight_occ = output_occ = vector = 0
    total_out = batch * gemm.m * gemm.n
    for a in (0, 1):
        for b in (0, 1):
            input_occ = input_occ + nm[a] * nk[b] * occupancy(input_tile_elements(sm[a], sk[b], workload), chip.operand_bits)
            weight_occ = weight_occ + nk[a] * nn[b] * occupancy(sk[a] * sn[b], chip.operand_bits)
            tiles_ab = nm[a] * nn[b]
            out_elements = sm[a] * sn[b]
            output_occ = output_occ + tiles_ab * (
                occupancy(out_elements, chip.operand_bits)
                + occupancy(side_tile_elements(sm[a], sn[b], workload), chip.operand_bits) * (workload.side_input_elements > 0)
                + np.where(footprint.spill, 2 * (counts[Dim.K] - 1), 0) * occupancy(out_elements, chip.accumulator_bits)
            )
            for op_class, ops in workload.vector_ops.items():
                per_tile = -(-ops * out_elements // total_out)
                vector = vector + tiles_ab * vector_cycles(per_tile, chip.vector_ops_per_cycle[op_class])
    dram = batch * (
        reloads(positions, counts, (Dim.M, Dim.K)) * input_occ
        + reloads(positions, counts, (Dim.K, Dim.N)) * weight_occ
        + output_occ
    )
    vector = batch * vector
    iterations = batch * counts.prod(axis=0)
    prologue = (
        occupancy(input_tile_elements(sm[0], sk[0], workload), chip.operand_bits)
        + occupancy(sk[0] * sn[0], chip.operand_bits)
        + chip.latency
    )
    epilogue = occupancy(sm[1] * sn[1], chip.operand_bits) + chip.latency + vector // np.maximum(iterations, 1)
    return pipeline_cycles(
        np.maximum(compute, vector), dram, iterations, prologue, epilogue, chip.latency, cands.double_buffer
    )


def vector_estimate(workload: Workload, chip: Chip, chunks: np.ndarray, double_buffer: np.ndarray) -> np.ndarray:
    """Estimated cycles of a vector workload split into `chunks` (arrays of candidates)."""
    inputs, side, outputs = vector_chunk_elements(workload, chunks)

    def occupancy(elements):
        return transfer_cycles(nbytes(elements, chip.operand_bits), chip.burst, chip.dram_bytes_per_cycle)

    load = occupancy(inputs) + occupancy(side) * (workload.side_input_elements > 0)
    store = occupancy(outputs)
    compute = 0
    for op_class, ops in vector_lane_ops(workload).items():
        compute = compute + chunks * vector_cycles(-(-ops // chunks), chip.vector_ops_per_cycle[op_class])
    return pipeline_cycles(
        compute, chunks * (load + store), chunks, load + chip.latency, store + chip.latency, chip.latency, double_buffer
    )


def vector_lane_ops(workload: Workload) -> dict[OpClass, int]:
    """Lane operations of a vector workload by class; one with none is a copy (one
    elementwise op per output element), so every chunk has a VEC that produces it."""
    ops = {op: int(count) for op, count in workload.vector_ops.items() if count > 0}
    return ops or {OpClass.ELEMENTWISE: workload.output_elements}
