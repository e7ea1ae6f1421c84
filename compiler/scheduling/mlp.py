"""Schedules of a fused MLP block (up-projection → activation → down-projection), and their search.

A fused block (`Workload.mlp`, made by `compiler.memory.mlp_chains`) runs its tokens in bands
of `band` rows. For each band, like the two phases of fused attention (`scheduling.attention`):

  1. H = X·W_up, one GEMM per chunk of `chunk` intermediate columns (a gated block's gate and
     up columns side by side, as one merged weight): the band's whole row of H (band × ffn
     partial sums, twice that gated) stays in the accumulator (OUTPUT) buffer, and each
     chunk goes through the activation (the gate's product) on the vector unit in place;
  2. each activated chunk moves over the OUTPUT buffer's read port into the INPUT buffer (an
     on-chip LOAD) and Y += H_chunk·W_down[chunk] accumulates the band's output, which gets
     the down-projection's epilogue (bias, residual) and is stored once.

The intermediate never reaches DRAM. Weights go to the WEIGHT buffer: either every weight
stays there, loaded in the first band (`weights_resident`: read once), or chunks stream double
buffered and are read again for every band: ceil(tokens / band) reads of both projections'
weights. This is the trade Chimera weighs for a chain of GEMMs (Zheng et al., "Chimera: An
Analytical Optimizing Framework for Effective Compute-intensive Operators Fusion", HPCA 2023:
the order of a fused chain's blocks chosen by the data each moves), and flash attention's for
K and V (`scheduling.attention`): a tall band reads the weights few times but needs a tall row
of H on chip. A gated block's gate and up weights are one merged weight of 2·ffn columns, as
serving engines store them (vLLM's Llama `gate_up_proj`), so each chunk is one GEMM.

Buffers hold (`mlp_footprint`, what `compiler.verify` finds live in `codegen.mlp`):
  INPUT   the band of X (unless the plan keeps X in that buffer) and two activated chunks;
  WEIGHT  every weight (resident), or two up chunks and two down chunks (streamed);
  OUTPUT  the band's row of H and one band of Y at accumulator precision (the next band's
          H opens while the previous Y is being stored), and the band's side-input tile;
plus the bytes the memory plan keeps on chip (`Workload.reserved`).

The search enumerates bands (powers of two and all tokens), chunks (the array's width times
powers of two, and the whole intermediate), both weight modes and every dataflow of the chip;
keeps those that fit; orders them by a closed-form lower bound of their cycles (`mlp_estimate`)
and measures the best `MEASURED` with the simulator, keeping the lowest score on the search's
`Goal`. For latency, a candidate whose bound is not below the unfused layers' score is never
simulated, so a block that cannot win costs no simulation of the fused code.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from accel_spec.types import Dataflow, OpClass, Operand, TensorClass
from compiler.roofline import lower_bound_cycles, planned_dram_bytes
from compiler.scheduling.footprint import Footprint
from compiler.scheduling.objective import Goal
from compiler.scheduling.roles import roles
from compiler.scheduling.schedule import MlpSchedule
from compiler.scheduling.tiling import edge_tile, ladder, tile_count
from compiler.target import Target, nbytes
from compiler.target.timing import gemm_occupancy
from compiler.workload import MlpShape, Workload

MEASURED = 3
"""Finalists of a fused block simulated by the search, best estimate first."""


def weight_bytes(shape: MlpShape, bits: int):
    """Bytes of the up (every chunk's gate and up columns) and down weights of `columns`
    intermediate columns, as a function of the column count."""
    return lambda columns: nbytes(shape.hidden * columns * (1 + int(shape.gated)), bits) + nbytes(columns * shape.out, bits)


def mlp_footprint(workload: Workload, chip: Target, band, chunk, resident) -> np.ndarray:
    """(buffers, candidates) bytes each buffer holds for candidates (arrays; module doc)."""
    shape = workload.mlp
    assert shape is not None
    band, chunk = np.asarray(band, dtype=np.int64), np.asarray(chunk, dtype=np.int64)
    resident = np.asarray(resident, dtype=bool)
    flags = roles(workload, chip)
    act_bits, acc_bits = int(chip.bits_of(TensorClass.ACTIVATION)), chip.accumulator_bits
    slots = np.minimum(tile_count(shape.tokens, band) * tile_count(shape.ffn, chunk), 2)  # refills cross bands
    weights = weight_bytes(shape, int(flags.weight_bits))
    shapes = np.broadcast_shapes(band.shape, chunk.shape, resident.shape)
    by_operand = np.zeros((len(Operand),) + shapes, dtype=np.int64)
    by_operand[Operand.INPUT] = bool(flags.input_tile) * nbytes(band * shape.hidden, int(flags.input_bits)) + slots * nbytes(band * chunk, act_bits)
    by_operand[Operand.WEIGHT] = bool(flags.weight_tile) * np.where(resident, weights(shape.ffn), slots * weights(chunk))
    side = bool(workload.side_input_elements) * bool(flags.side_tile) * nbytes(band * shape.out, int(flags.side_bits))
    by_operand[Operand.OUTPUT] = nbytes(band * shape.up_width, acc_bits) + nbytes(band * shape.out, acc_bits) + side
    reserved = flags.reserved.reshape((-1,) + (1,) * len(shapes))
    return Footprint(by_operand, np.zeros(shapes, dtype=bool), reserved).demand(chip)


def _gemm_busy(chip: Target, m, k, n, dataflow) -> np.ndarray:
    """Cycles the array is certainly busy with one GEMM (`timing.gemm_occupancy`'s floor)."""
    return gemm_occupancy(
        m, k, n, dataflow, chip.rows, chip.cols, 1, chip.pipelined, unit_cols=chip.unit_cols, depth=chip.reduction_depth,
        width=chip.pe_width,
    )[1]


def _busy(shape: MlpShape, chip: Target, band, chunk, dataflow) -> np.ndarray:
    """Cycles the array is certainly busy with every GEMM of candidates (arrays): each band ×
    chunk's up and down GEMM, full and edge tiles."""
    up = 1 + int(shape.gated)
    total = np.zeros(np.broadcast_shapes(np.shape(band), np.shape(chunk), np.shape(dataflow)), dtype=np.int64)
    for m, bands in ((band, tile_count(shape.tokens, band) - 1), (edge_tile(shape.tokens, band), 1)):
        for f, chunks in ((chunk, tile_count(shape.ffn, chunk) - 1), (edge_tile(shape.ffn, chunk), 1)):
            per = _gemm_busy(chip, m, shape.hidden, up * f, dataflow) + _gemm_busy(chip, m, f, shape.out, dataflow)
            total = total + bands * chunks * per
    return total


def _critical_path(workload: Workload, chip: Target, band, chunk, dataflow) -> np.ndarray:
    """Cycles of the chain the bands wait on (`codegen.mlp`'s dependencies and in-order
    engines): each band's first up GEMM, then its vector work (its chunks' activations, the
    previous band's epilogue), then its last down GEMM, before the array starts the next
    band's first up GEMM."""
    shape = workload.mlp
    assert shape is not None
    rates = chip.vector_ops_per_cycle
    activation = sum(ops / rates[OpClass(op_class)] for op_class, ops in workload.vector_ops.items())
    first, last = np.minimum(chunk, shape.ffn), edge_tile(shape.ffn, chunk)
    up = 1 + int(shape.gated)
    total = activation
    for m, bands in ((band, tile_count(shape.tokens, band) - 1), (edge_tile(shape.tokens, band), 1)):
        per = _gemm_busy(chip, m, shape.hidden, up * first, dataflow) + _gemm_busy(chip, m, last, shape.out, dataflow)
        total = total + bands * per
    return total


def mlp_estimate(workload: Workload, chip: Target, band, chunk, resident, dataflow) -> np.ndarray:
    """A lower bound of candidates' cycles: the largest of the array's busy time (`_busy`),
    the bands' critical path (`_critical_path`), the block's roofline bound
    (`roofline.lower_bound_cycles`: its MACs, vector work and planned DRAM bytes, weights
    once) and its DRAM bytes with the weights read once per band when they stream."""
    shape = workload.mlp
    assert shape is not None
    flags = roles(workload, chip)
    rereads = np.where(resident, 0, tile_count(shape.tokens, band) - 1)
    weights = bool(flags.weight_dram) * weight_bytes(shape, int(flags.weight_bits))(shape.ffn)
    floor = lower_bound_cycles(workload, chip)
    dram = (planned_dram_bytes(workload, chip.formats) + rereads * weights) / chip.dram_bytes_per_cycle
    engines = np.maximum(_busy(shape, chip, band, chunk, dataflow), _critical_path(workload, chip, band, chunk, dataflow))
    return np.maximum(np.maximum(engines, floor), dram)


def mlp_candidates(workload: Workload, chip: Target) -> list[tuple[MlpSchedule, float]]:
    """Bands × chunks × weight modes × dataflows that fit the chip's buffers, with their
    estimates, best first (taller bands, then wider chunks, first among equal estimates)."""
    shape = workload.mlp
    assert shape is not None
    modes = [True, False] if roles(workload, chip).weight_tile else [True]
    grid = np.array(
        [
            (band, chunk, resident, int(dataflow))
            for band in ladder(1, shape.tokens).tolist()
            for chunk in ladder(chip.cols, shape.ffn).tolist()
            for resident in modes
            for dataflow in chip.dataflows
        ],
        dtype=np.int64,
    ).T
    band, chunk, resident, dataflow = grid
    fits = np.all(mlp_footprint(workload, chip, band, chunk, resident.astype(bool)) <= chip.capacity_array[:, None], axis=0)
    estimate = mlp_estimate(workload, chip, band, chunk, resident.astype(bool), dataflow)
    order = np.lexsort((-chunk, -band, estimate))
    return [
        (MlpSchedule(Dataflow(int(dataflow[i])), int(band[i]), int(chunk[i]), bool(resident[i])), float(estimate[i]))
        for i in order
        if fits[i]
    ]


def best_mlp(
    workload: Workload, chip: Target, goal: Goal, unfused: Callable[[], float]
) -> tuple[MlpSchedule, float] | None:
    """The measured best of the first `MEASURED` candidates on `goal`, and its score, if it
    scores below `unfused()` (the layers' score, asked for only when a candidate fits: it
    costs a simulation); None otherwise or when nothing fits. For latency, a candidate whose
    estimate (a lower bound) is not below it is not simulated."""
    from compiler.scheduling.measure import best_below

    finalists = mlp_candidates(workload, chip)[:MEASURED]
    return best_below(workload, finalists, chip, goal, unfused()) if finalists else None
