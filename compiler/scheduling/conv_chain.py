"""Depth-first schedules of a fused chain of convolutions, and their search.

A fused chain (`Workload.conv_chain`, made by `compiler.memory.conv_chains`) produces its
last layer's output in bands of `band_rows` output rows (all images and columns of those
rows at once). For each band, from the last layer backwards, every layer computes the
output rows the next layer's band reads that it has not computed in an earlier band, and
keeps the input rows a later band still reads on chip between bands: the "fully cached"
depth-first schedule of DeFiNES (Mei et al., "DeFiNES: Enabling Fast Exploration of the
Depth-first Scheduling Space for DNN Accelerators through Analytical Modeling", HPCA 2023),
with line buffers as in Alwani et al., "Fused-Layer CNN Accelerators" (MICRO 2016). No row
is computed twice and no intermediate row reaches DRAM: the chain reads its input once, its
weights once and writes its output once.

Row arithmetic (`bands`). A layer of stride s, effective kernel height e = (k − 1)·d + 1 and
top padding p (half the total padding, rounded down, as `tiling` pads) reads input rows
[a·s − p, (o − 1)·s − p + e) for output rows [a, o), clipped to the input. Walking the chain
backwards from the last layer's rows done after band j gives each layer's rows done after
band j, and so the rows it computes in band j. A chain whose layer leaves its last input rows
unread (a valid convolution that skips them) is not offered fusion: those rows would have to
be computed for nothing.

Buffers hold (`chain_footprint`, what `compiler.verify` finds live in `codegen.conv_chain`):
  WEIGHT  every layer's weights, loaded once before the first band (a chain whose weights do
          not fit beside what the plan keeps there is not offered fusion);
  INPUT   each layer's input line buffer: the rows still read by the band being computed or
          the next, from the first row of the oldest band any line buffer still holds (its
          `lookback`) to the last row the next band reads;
  OUTPUT  two GEMMs' partial sums at accumulator precision (each GEMM waits for the store
          or on-chip move that closes the one two before it), and two side-input tiles;
plus the bytes the memory plan keeps on chip (`Workload.reserved`).

The search tries band heights 1, 2, 4, ... and the whole output height with every dataflow
of the chip, each layer's groups packed per GEMM for its short bands (`packing`), keeps
those that fit, orders them by a closed-form estimate (array time, vector
time, DRAM bytes over the channel) and measures the best `MEASURED` with the simulator,
keeping the lowest score on the search's `Goal`. The estimate is a lower bound of the
measured cycles, so for latency a chain none of whose band heights could beat its unfused
layers (`chain_floor`) is not searched at all.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from accel_spec.types import Dataflow, Operand, TensorClass
from compiler.roofline import lower_bound_cycles
from compiler.scheduling.objective import Goal, Objective
from compiler.scheduling.roles import Roles, roles
from compiler.scheduling.schedule import ConvChainSchedule
from compiler.scheduling.chain_kernel import chain_packing, chain_tile_bytes
from compiler.scheduling.tiling import ladder, pass_groups, tile_count, tile_sizes
from compiler.target import Target
from compiler.workload import ChainLayer, ConvChain, ConvGeometry, Workload

MEASURED = 3
"""Finalists of a fused chain simulated by the search, best estimate first."""


def _effective_kernel(conv: ConvGeometry) -> int:
    return (conv.kernel_h - 1) * conv.dilation_h + 1


def _pad_top(conv: ConvGeometry) -> int:
    total = (conv.out_h - 1) * conv.stride_h + _effective_kernel(conv) - conv.in_h
    return max(total, 0) // 2


def rows_needed(conv: ConvGeometry, done) -> np.ndarray:
    """Input rows [0, n) read by the first `done` output rows (module doc)."""
    done = np.asarray(done, dtype=np.int64)
    last = (done - 1) * conv.stride_h - _pad_top(conv) + _effective_kernel(conv)
    return np.where(done > 0, np.clip(last, 0, conv.in_h), 0)


def first_row_read(conv: ConvGeometry, start) -> np.ndarray:
    """The first input row output row `start` reads."""
    return np.clip(np.asarray(start, dtype=np.int64) * conv.stride_h - _pad_top(conv), 0, conv.in_h)


def reads_every_row(conv: ConvGeometry) -> bool:
    """The convolution's last output row reads its last input row (module doc)."""
    return (conv.out_h - 1) * conv.stride_h - _pad_top(conv) + _effective_kernel(conv) >= conv.in_h


@dataclass(frozen=True)
class Bands:
    """The rows of every layer of a chain, band by band (arrays indexed [layer, band]).

    Attributes:
        done: output rows of the layer computed by the end of the band (cumulative).
        rows: output rows the layer computes in the band.
        need: rows of the layer's input that exist on chip by the end of the band
            (cumulative: loaded for the first layer, computed by the previous one).
        first: the first input row the layer reads in the band (where `rows` > 0).
        last_reader: for a band that brings new input rows of the layer, the last band
            whose GEMMs of the layer read any of them (-1 where it brings none).
        lookback: the most bands, over layers, between a band and the oldest band whose
            rows it reads.
    """

    done: np.ndarray
    rows: np.ndarray
    need: np.ndarray
    first: np.ndarray
    last_reader: np.ndarray
    lookback: int

    @property
    def new_input(self) -> np.ndarray:
        """Rows of each layer's input that arrive in each band."""
        return np.diff(self.need, axis=1, prepend=0)


def bands(chain: ConvChain, band_rows: int) -> Bands:
    """The rows each layer computes and reads in each band of `band_rows` output rows
    (read-only arrays)."""
    return layer_bands(tuple(layer.conv for layer in chain.layers), int(band_rows))


def clear_chain_caches() -> None:
    """Forget the bands, packings and footprints kept per process (`layer_bands`, `packing`,
    `chain_footprint`'s tiles)."""
    layer_bands.cache_clear()
    _packing.cache_clear()
    _chain_tiles.cache_clear()


@functools.lru_cache(maxsize=4096)
def layer_bands(convs: tuple[ConvGeometry, ...], band_rows: int) -> Bands:
    """`bands` of the layers' geometry, kept per process: the rows depend on the chain alone,
    not the chip, and a sweep searches every band height of every chain at every point."""
    count = int(tile_count(convs[-1].out_h, band_rows))
    done = np.zeros((len(convs), count), dtype=np.int64)
    need = np.zeros_like(done)
    done[-1] = np.minimum((np.arange(count) + 1) * band_rows, convs[-1].out_h)
    for i in range(len(convs) - 1, -1, -1):
        need[i] = rows_needed(convs[i], done[i])
        if i > 0:
            done[i - 1] = need[i]
    rows = np.diff(done, axis=1, prepend=0)
    started = np.concatenate([np.zeros((len(convs), 1), dtype=np.int64), done[:, :-1]], axis=1)
    first = np.stack([first_row_read(conv, started[i]) for i, conv in enumerate(convs)])
    last_reader = np.full_like(done, -1)
    lookback = 0
    new = np.diff(need, axis=1, prepend=0)
    for i in range(len(convs)):
        active = np.flatnonzero(rows[i] > 0)
        brings = new[i] > 0
        reader = active[np.searchsorted(first[i, active], need[i], side="left") - 1]
        last_reader[i] = np.where(brings, reader, -1)
        # the band holding a reader's first row: the first band whose cumulative rows pass it
        oldest = np.searchsorted(need[i], first[i, active], side="right")
        lookback = max(lookback, int(np.max(active - oldest)))
    for array in (done, rows, need, first, last_reader):
        array.flags.writeable = False  # shared by every search that finds it
    return Bands(done, rows, need, first, last_reader, lookback)


def pieces(chain: ConvChain, groups_per_pass: tuple[int, ...], cols: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per layer, (groups, n) of each of its GEMMs in a band, in order: a grouped layer's
    passes of `groups_per_pass` groups (the last packs the rest), each with its whole n; a
    layer of one group in tiles of n as wide as the array, which costs no extra fold
    (`timing`: folds are ceil(n / C) either way for OS and WS) and keeps each GEMM's partial
    sums small enough for taller bands."""
    found = []
    for layer, groups in zip(chain.layers, groups_per_pass):
        if layer.gemm.batch > 1:
            count, last = (int(v) for v in pass_groups(layer.gemm.batch, groups))
            packed = np.full(count, groups, dtype=np.int64)
            packed[-1] = last
            found.append((packed, np.full(count, layer.gemm.n, dtype=np.int64)))
        else:
            widths = tile_sizes(layer.gemm.n, cols)
            found.append((np.ones(len(widths), dtype=np.int64), widths))
    return found


def chain_footprint(workload: Workload, chip: Target, band_rows: int, groups_per_pass: tuple[int, ...],
                    flags: Roles | None = None) -> np.ndarray:  # fmt: skip
    """Bytes each buffer holds under bands of `band_rows` output rows (module doc), kept
    tensors included; `flags` are the workload's `roles` on `chip` where the caller has them."""
    chain = workload.conv_chain
    assert chain is not None
    if flags is None:
        flags = roles(workload, chip)
    operands = (bool(flags.input_tile), bool(flags.weight_tile), bool(workload.side_input_elements and flags.side_tile),
                int(flags.input_bits), int(flags.weight_bits), int(flags.side_bits))  # fmt: skip
    widths = (chip.storage_bits[TensorClass.ACTIVATION], chip.accumulator_bits, chip.cols, len(chip.buffer_names),
              *(chip.buffer(operand) for operand in (Operand.INPUT, Operand.WEIGHT, Operand.OUTPUT)))  # fmt: skip
    return flags.reserved + _chain_tiles(chain, int(band_rows), tuple(groups_per_pass), operands, widths)


@functools.lru_cache(maxsize=32768)
def _chain_tiles(chain: ConvChain, band_rows: int, groups_per_pass: tuple[int, ...], operands: tuple, chip: tuple) -> np.ndarray:
    """`chain_footprint` without the kept tensors: the bytes its line buffers, weights,
    partial sums and side-input tiles take in each buffer, given whether the input, weight
    and side input need tiles and their bits (`operands`), and the chip's (activation bits,
    accumulator bits, columns, buffers, buffer of the input, weight and output): kept per
    process (read-only), as `packing`, since a sweep sizes every band height of every chain
    at every point, and these depend on the chain and the array alone
    (`chain_kernel.chain_tile_bytes`)."""
    input_tile, weight_tile, side_tile, input_bits, weight_bits, side_bits = operands
    act_bits, accumulator_bits, cols, buffers, input_buffer, weight_buffer, output_buffer = chip
    schedule_bands = bands(chain, band_rows)
    layers = chain.layers
    demand = chain_tile_bytes(
        schedule_bands.need, schedule_bands.rows, schedule_bands.lookback,
        np.array([layer.conv.in_w * layer.conv.in_c * layer.conv.images for layer in layers], dtype=np.int64),
        np.array([layer.conv.out_w * layer.conv.images for layer in layers], dtype=np.int64),
        np.array([layer.gemm.batch * layer.gemm.k * layer.gemm.n for layer in layers], dtype=np.int64),
        np.array([widest_piece(layer, groups, cols) for layer, groups in zip(layers, groups_per_pass)], dtype=np.int64),
        buffers, input_buffer, weight_buffer, output_buffer, input_tile, weight_tile, side_tile, input_bits, weight_bits,
        side_bits, act_bits, accumulator_bits,
    )  # fmt: skip
    demand.flags.writeable = False  # shared by every search that finds it
    return demand


def widest_piece(layer: ChainLayer, groups: int, cols: int) -> int:
    """groups × n of the widest of a layer's GEMMs in a band (`pieces`): a full pass of
    `groups` groups (all of them, when fewer), or an array-wide tile of n."""
    if layer.gemm.batch > 1:
        return min(groups, layer.gemm.batch) * layer.gemm.n
    return min(cols, layer.gemm.n)


Packings = tuple[tuple[tuple[int, ...], ...], np.ndarray]
"""Per dataflow, each layer's groups per GEMM; and the array's busy cycles per dataflow (`packing`)."""


def packing(chain: ConvChain, band_rows: int, dataflows: tuple[int, ...], chip: Target) -> Packings:
    """Per dataflow, the groups per GEMM of each layer (powers of two and all of them) whose
    GEMMs keep the array busy the fewest cycles over the bands of `band_rows`, and those
    cycles summed over the layers: a depthwise layer's bands are short, so it packs
    differently from the whole layer (fewest groups on a tie)."""
    array = (chip.rows, chip.cols, chip.reduction_depth, chip.pe_width, chip.fill_drain, chip.pipelined)
    return _packing(chain, int(band_rows), dataflows, array)


@functools.lru_cache(maxsize=32768)
def _packing(chain: ConvChain, band_rows: int, dataflows: tuple[int, ...], array: tuple) -> Packings:
    """`packing` on an array of (rows, cols, reduction depth, PE width, fill and drain,
    pipelined), the only chip fields it reads: kept per process, as `layer_bands`, since a
    sweep searches every band height of every chain at every point and the packing depends
    on the array alone (read-only result; `chain_kernel.chain_packing`). Sized, like
    `batched.SPACES`, for a sweep cycling through 81 arrays: MobileNetV2 has some 60
    (chain, band) pairs an array, and an entry is a few hundred bytes, so at most about 15 MB."""
    rows, cols, reduction_depth, pe_width, fill_drain, pipelined = array
    layers = chain.layers
    chosen, busy = chain_packing(
        bands(chain, band_rows).rows, np.array([layer.conv.out_w * layer.conv.images for layer in layers], dtype=np.int64),
        np.array([layer.gemm.k for layer in layers], dtype=np.int64), np.array([layer.gemm.n for layer in layers], dtype=np.int64),
        np.array([layer.gemm.batch for layer in layers], dtype=np.int64), np.asarray(dataflows, dtype=np.int64), rows, cols,
        reduction_depth, pe_width, fill_drain, pipelined,
    )  # fmt: skip
    busy.flags.writeable = False  # shared by every search that finds it
    return tuple(tuple(row) for row in chosen.tolist()), busy


def chain_candidates(workload: Workload, chip: Target, roofline: int) -> list[tuple[ConvChainSchedule, float]]:
    """The band heights × dataflows, each layer packed by `packing`, that fit the chip's
    buffers, with their estimates, best first (larger bands first among equal estimates);
    the ladder of heights stops at the first that fits with no dataflow.

    The estimate is the larger of the array's busy cycles and the chain's `roofline` bound
    (`roofline.lower_bound_cycles`: its vector work and its planned DRAM bytes): each is time
    the simulator cannot beat, so it is a lower bound of the measured cycles."""
    chain = workload.conv_chain
    assert chain is not None
    capacity = chip.capacity_array
    flags = roles(workload, chip)
    found: list[tuple[float, int, ConvChainSchedule]] = []
    dataflows = tuple(int(d) for d in chip.dataflows)
    for band in ladder(1, chain.layers[-1].conv.out_h).tolist():
        fitted = len(found)
        packings, busy = packing(chain, band, dataflows, chip)
        fits = {groups: bool(np.all(chain_footprint(workload, chip, band, groups, flags) <= capacity))
                for groups in set(packings)}  # fmt: skip
        for dataflow, groups, cycles in zip(dataflows, packings, busy.tolist()):
            if fits[groups]:
                found.append((max(cycles, roofline), -band, ConvChainSchedule(Dataflow(dataflow), band, groups)))
        if len(found) == fitted:
            break  # taller bands hold more rows in every line buffer and accumulator
    found.sort(key=lambda entry: (entry[0], entry[1]))
    return [(schedule, estimate) for estimate, _, schedule in found]


def chain_floor(workload: Workload, chip: Target, roofline: int) -> float:
    """Cycles no band height can beat: the estimate of one band of the whole output, with
    the best dataflow, fitting or not (`chain_candidates`' estimate, of the chain's
    `roofline` bound). A band's GEMMs pay their folds' fill and drain again (fold counts
    round up per GEMM), so splitting the rows into bands never lowers the array's busy time."""
    chain = workload.conv_chain
    assert chain is not None
    busy = int(packing(chain, chain.layers[-1].conv.out_h, tuple(int(d) for d in chip.dataflows), chip)[1].min())
    return max(busy, roofline)


def best_conv_chain(
    workload: Workload, chip: Target, goal: Goal, beat: float = np.inf
) -> tuple[ConvChainSchedule, float] | None:
    """The measured best of the first `MEASURED` candidates on `goal`, and its score, if it
    scores below `beat`; None otherwise or when no band height fits. For latency, nothing is
    searched when `chain_floor` is not below `beat`, and a candidate whose estimate (a lower
    bound) is not below it is not simulated."""
    from compiler.scheduling.measure import best_below

    roofline = lower_bound_cycles(workload, chip)
    if goal.objective is Objective.LATENCY and chain_floor(workload, chip, roofline) >= beat:
        return None
    return best_below(workload, chain_candidates(workload, chip, roofline)[:MEASURED], chip, goal, beat)
