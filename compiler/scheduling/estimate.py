"""Closed-form cycle estimate of schedules, vectorised over all candidates at once.

It charges the simulator's per-instruction costs (`compiler.target.timing`) in closed form:
compute is Σ `timing.gemm_occupancy` over every tile of every pass (edge tiles at their real size,
packed groups on the packed dims), DRAM traffic is Σ over every transfer the loop order
causes (reloads, partial-sum spills and refills, the side input and the final store) in
burst-rounded bytes. Both are exact — the busy cycles of the matrix engine (the vector
unit for a vector workload) and the bytes over the channel of the program codegen emits —
so `CostTerms.lower_bound` is a true lower bound of the simulated cycles, and with the
transfers that cannot overlap the matrix engine, `CostTerms.bound` a tighter one (the
search skips measuring finalists that cannot win by it). Two things are
approximated: how the engines overlap (`CostTerms.cycles`), and channel time, charged on
the summed bytes (the simulator rounds each transfer up to whole cycles).

The estimate is split into terms that do not depend on the DRAM bandwidth (`CostTerms`) and
their combination at a bandwidth, so the search can ask what every candidate would cost at
any bandwidth (`compiler.scheduling.shortlist`) without recomputing the terms.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property, partial

import numpy as np

from accel_spec.types import OpClass
from compiler.scheduling.candidates import STREAMED_DIM, GemmCandidates
from compiler.scheduling.columns import CONV_KERNEL_FIELDS, WorkloadColumns, per_tiling
from compiler.scheduling.footprint import (
    constant_slice_elements,
    gemm_footprint,
    slices_constants,
    streams_constants,
)
from compiler.scheduling.roles import roles
from compiler.scheduling.schedule import LOOP_ORDERS, Dim
from compiler.scheduling.terms_kernel import grid_channel_bytes, pass_terms
from compiler.scheduling.tiling import (
    active_pes,
    loop_positions,
    pass_groups,
    reloads,
    tile_count,
)
from compiler.target import Target, TimingMode, nbytes
from compiler.target.timing import (
    burst_bytes,
    fill_drain_cycles,
    fold_times,
    pipeline_fill,
    stationary_load_cycles,
    transfer_cycles,
    vector_cycles,
)
from compiler.workload import Workload


@dataclass(frozen=True)
class CostTerms:
    """The bandwidth-independent parts of the estimate, one entry per candidate.

    Attributes:
        compute: busy cycles of the busier compute engine (matrix or vector).
        floor: exact busy cycles of the engine doing the layer's main work (matrix for
            a GEMM, vector for a vector workload): no bandwidth makes the layer faster.
        channel_bytes: burst-rounded bytes of every transfer (exact).
        exposed_bytes: burst-rounded bytes that nothing overlaps: the first tile's loads
            (prologue) and the last tile's store (epilogue).
        tail: vector work after the last GEMM (the last tile's share of the epilogue).
        iterations: tiles or chunks the pipeline steps through.
        double_buffer: loads overlap compute.
        latency: DRAM latency in cycles (the chip's; a scalar).
        serial_bytes: (3, ...) burst-rounded bytes of the transfers the main engine's work
            waits for or is followed by, one at a time on the channel (GEMM: the first
            input and weight tiles' loads and the last output tile's store; zero for vector
            work, whose bound does not count them); see `bound`.
        serial_latency: cycles of DRAM latency in series with them (GEMM: the first loads'
            and the last store's, each where it goes over DRAM; vector work: 0); a scalar or
            one per candidate.
        chain: cycles of a chain of instructions each waiting for the one before, which no
            bandwidth shortens (vector work: `vector_terms`; GEMM: 0); see `bound`.
    """

    compute: np.ndarray
    floor: np.ndarray
    channel_bytes: np.ndarray
    exposed_bytes: np.ndarray
    tail: np.ndarray
    iterations: np.ndarray
    double_buffer: np.ndarray
    latency: int
    serial_bytes: np.ndarray
    serial_latency: np.ndarray | int
    chain: np.ndarray | int = 0

    def cycles(self, bytes_per_cycle) -> np.ndarray:
        """Estimated cycles when the channel carries `bytes_per_cycle`.

        A scalar gives one estimate per candidate; an (L, 1) column gives (L, candidates).
        Double buffered: the busier resource sets the pace, max(compute, DRAM), unless DRAM
        latency does: the load of tile t+2 waits for the compute of tile t, so two
        iterations take at least one compute plus one transfer with its latency. The first
        loads and the last store are not overlapped. Single buffered: everything in series,
        one latency per iteration. With D = channel bytes / `bytes_per_cycle`:

            double buffered   max(compute, D, (compute + D + iterations · latency) / 2)
                              + exposed bytes / `bytes_per_cycle` + 2 · latency + tail
            single buffered   compute + D + (iterations + 1) · latency

        Each step runs in place on arrays of the full shape (the shortlist's are 12 ladder
        points × every tiling, where temporaries cost as much as the arithmetic), in the
        order written, so every value is the formula's; only the one mode's sum is formed
        where all candidates share it.
        """
        shape = np.broadcast_shapes(*map(np.shape, (
            self.channel_bytes, bytes_per_cycle, self.compute, self.exposed_bytes, self.tail, self.iterations)))  # fmt: skip
        dram = np.divide(self.channel_bytes, bytes_per_cycle, out=np.empty(shape))
        serial = None
        if np.ndim(self.double_buffer) != 0 or not self.double_buffer:
            serial = self.compute + dram + (self.iterations + 1) * self.latency
        exposed = np.divide(self.exposed_bytes, bytes_per_cycle, out=np.empty(shape))
        exposed += 2 * self.latency
        exposed += self.tail
        latency_bound = np.add(self.compute, dram, out=np.empty(shape))
        latency_bound += self.iterations * self.latency
        latency_bound /= 2
        overlapped = np.maximum(self.compute, dram, out=dram)
        np.maximum(overlapped, latency_bound, out=overlapped)
        overlapped += exposed
        return overlapped if serial is None else np.where(self.double_buffer, overlapped, serial)

    def lower_bound(self, bytes_per_cycle) -> np.ndarray:
        """Cycles the simulation cannot beat: the main engine's busy cycles, or the channel
        time of the bytes (each transfer occupies the channel alone, rounded up)."""
        return np.maximum(self.floor, self.channel_bytes / bytes_per_cycle)

    def bound(self, bytes_per_cycle) -> np.ndarray:
        """A tighter bound the simulation cannot beat (at a scalar `bytes_per_cycle`):
        `lower_bound`, or the main engine's busy cycles plus the transfers in series.

        Why, for a GEMM (`codegen.gemm`): the first GEMM depends on the loads of the first
        input and weight tiles, issued first. The channel carries one transfer at a time,
        each for exactly `transfer_cycles` of its bytes, and a load's data arrives one
        latency after it leaves the channel, so the first GEMM starts no earlier than both
        occupancies plus a latency. The matrix engine runs its GEMMs one after another,
        `floor` cycles in all. The last iteration finishes the last output tile, whose
        STORE waits for the last GEMM (directly or through its VECs) and ends its own
        occupancy plus a latency later. Vector work claims nothing there (zero bytes, no
        latency), but its chunks wait for each other through DRAM: `chain`.
        """
        serial = transfer_cycles(self.serial_bytes, 1, bytes_per_cycle).sum(axis=0)
        bound = np.maximum(self.lower_bound(bytes_per_cycle), self.floor + serial + self.serial_latency)
        return np.maximum(bound, self.chain)

    def take(self, index: np.ndarray) -> "CostTerms":
        """The terms of the candidates at `index` (elementwise, so their estimates are the
        same numbers as those of the whole set)."""
        return CostTerms(
            compute=np.asarray(self.compute)[index],
            floor=np.asarray(self.floor)[index],
            channel_bytes=np.asarray(self.channel_bytes)[index],
            exposed_bytes=np.asarray(self.exposed_bytes)[index],
            tail=np.asarray(self.tail)[index],
            iterations=np.asarray(self.iterations)[index],
            double_buffer=np.asarray(self.double_buffer)[index],
            latency=self.latency,
            serial_bytes=np.asarray(self.serial_bytes)[:, index],
            serial_latency=np.broadcast_to(self.serial_latency, np.shape(self.floor))[index],
            chain=np.broadcast_to(self.chain, np.shape(self.floor))[index],
        )


@dataclass(frozen=True)
class TilingTerms:
    """The loop-order-independent parts of the estimate, one entry per tiling.

    A tiling is a candidate without its loop order and buffering: dataflow, tile sizes and
    groups per pass. Its compute, its per-tile transfers and its tile counts do not depend
    on the order of the loops, only how often each tile is loaded does (`tiling.reloads`),
    and whether partial sums spill. So the terms of the six loop orders (and both buffering
    modes) of a tiling are found from these by a few products (`arranged`), instead of
    repeating the per-tile arithmetic for every one (`compiler.scheduling.batched`).

    Every byte count is summed over the passes of the batch (full passes, then the last).

    Attributes:
        counts: (3, ...) tile counts by `Dim`.
        matrix, vector: busy cycles of the matrix and vector engines (matrix: as the GEMMs
            run back to back, `timing.gemm_occupancy` plus one `timing.pipeline_fill`).
        matrix_floor: cycles the matrix engine is certainly busy (`timing.gemm_occupancy`'s floor).
        iterations: tiles the pipeline steps through.
        input_bytes, weight_bytes: burst-rounded bytes of loading every input (weight)
            tile once; the loop order multiplies them by the reloads.
        output_bytes: bytes of every final store and side-input load (once per tile).
        psum_bytes: bytes of one spill (or one refill) of every output tile, at
            accumulator precision: a spilling order moves them 2·(K tiles − 1) times.
        exposed_bytes: the first tile's loads and the last tile's store.
        serial_bytes: (3, ...) the first input and weight tiles' loads and the last output
            tile's store, each burst-rounded (`CostTerms.bound`).
        serial_latencies: DRAM latencies in series with the main engine's work: one before
            the first GEMM where its first loads come over DRAM, one after the last where its
            store goes there (0, 1 or 2).
    """

    counts: np.ndarray
    matrix: np.ndarray
    matrix_floor: np.ndarray
    vector: np.ndarray
    iterations: np.ndarray
    input_bytes: np.ndarray
    weight_bytes: np.ndarray
    output_bytes: np.ndarray
    psum_bytes: np.ndarray
    exposed_bytes: np.ndarray
    serial_bytes: np.ndarray
    serial_latencies: np.ndarray

    def channel_bytes(self, positions: np.ndarray, spill) -> np.ndarray:
        """Burst-rounded bytes of every transfer under loop `positions` ((3, ...) by Dim,
        broadcast against the tilings) with partial sums spilled where `spill`."""
        counts = self.counts
        return (
            reloads(positions, counts, (Dim.M, Dim.K)) * self.input_bytes
            + reloads(positions, counts, (Dim.K, Dim.N)) * self.weight_bytes
            + self.output_bytes
            + np.where(spill, 2 * (counts[Dim.K] - 1), 0) * self.psum_bytes
        )

    def grid_channel_bytes(self, positions: np.ndarray, spill: np.ndarray) -> np.ndarray:
        """`channel_bytes` of every arrangement of every tiling, (arrangements, tilings), in
        one pass (`terms_kernel.grid_channel_bytes`): `positions` (3, arrangements) by Dim,
        `spill` (arrangements, tilings)."""
        return grid_channel_bytes(
            np.ascontiguousarray(positions, dtype=np.int64), np.ascontiguousarray(self.counts, dtype=np.int64),
            *(np.ascontiguousarray(b, dtype=np.int64) for b in (self.input_bytes, self.weight_bytes, self.output_bytes,
                                                                self.psum_bytes)),
            np.ascontiguousarray(spill, dtype=bool),
        )  # fmt: skip

    @cached_property
    def compute(self) -> np.ndarray:
        """Cycles of the busier engine, matrix or vector (`CostTerms.compute`); found once
        for the terms (a sweep's points of one array reuse them, `batched.JOINS`), read-only."""
        return _read_only(np.maximum(self.matrix, self.vector))

    @cached_property
    def tail(self) -> np.ndarray:
        """Vector cycles of one iteration (`CostTerms.tail`), found once like `compute`."""
        return _read_only(self.vector // np.maximum(self.iterations, 1))

    def arranged(self, channel_bytes: np.ndarray, double_buffer, latency: int) -> CostTerms:
        """`CostTerms` of the tilings with the `channel_bytes` of their arrangements
        (`channel_bytes` or `grid_channel_bytes`) and buffering flags (arrays that broadcast
        against the tilings: one arrangement per candidate, or every arrangement of every
        tiling)."""
        return CostTerms(
            compute=self.compute,
            floor=self.matrix_floor,
            channel_bytes=channel_bytes,
            exposed_bytes=self.exposed_bytes,
            tail=self.tail,
            iterations=self.iterations,
            double_buffer=double_buffer,
            latency=latency,
            serial_bytes=self.serial_bytes,
            serial_latency=self.serial_latencies * latency,
        )


def _read_only(array: np.ndarray) -> np.ndarray:
    """`array`, no longer writeable: kept and shared by whoever reads it."""
    array.flags.writeable = False
    return array


@dataclass(frozen=True)
class _Pass:
    """Totals of one pass over the tile loops (arrays over tilings), loaded once each."""

    matrix: np.ndarray
    matrix_floor: np.ndarray
    vector: np.ndarray
    input_bytes: np.ndarray
    weight_bytes: np.ndarray
    output_bytes: np.ndarray
    psum_bytes: np.ndarray
    prologue_bytes: np.ndarray
    epilogue_bytes: np.ndarray
    first_loads: np.ndarray

    @classmethod
    def of(cls, terms: np.ndarray) -> "_Pass":
        """The pass of the kernel's (`terms_kernel.FIELDS`, tilings) output."""
        return cls(*terms[:9], first_loads=terms[9:])


def gemm_terms(
    workload: Workload | WorkloadColumns, chip: Target, cands: GemmCandidates, spill: np.ndarray | None = None
) -> CostTerms:
    """Estimate terms of every GEMM candidate: full passes of G products, then the rest.

    `workload` may be per-candidate columns of several workloads (`scheduling.columns`);
    `spill` is the candidates' `Footprint.spill`, computed here when the caller has not.
    """
    positions = loop_positions(cands.order, LOOP_ORDERS)
    if spill is None:
        spill = gemm_footprint(workload, chip, cands.tiles, positions, cands.double_buffer, cands.groups).spill
    tilings = tiling_terms(workload, chip, cands.dataflow, cands.tiles, cands.groups)
    return tilings.arranged(tilings.channel_bytes(positions, spill), cands.double_buffer, chip.latency)


def tiling_terms(
    workload: Workload | WorkloadColumns, chip: Target, dataflow: np.ndarray, tiles: np.ndarray, groups: np.ndarray
) -> TilingTerms:
    """`TilingTerms` of GEMM tilings (`tiles` is (3, ...) by Dim; `workload` may be
    per-tiling columns, `scheduling.columns`): full passes of G products, then the rest."""
    gemm = workload.gemm
    assert gemm is not None
    passes, last_groups = pass_groups(gemm.batch, groups)
    last_groups = np.broadcast_to(last_groups, np.shape(groups))
    inputs = _pass_inputs(workload, chip, dataflow, tiles)
    full_terms = inputs.terms(groups)
    last_terms = full_terms
    # only tilings whose last pass packs fewer products than the others differ in it (few:
    # those whose batch the packing does not divide), so only they run the kernel again
    short = np.flatnonzero(last_groups != groups)
    if short.size:
        last_terms = full_terms.copy()
        last_terms[:, short] = inputs.taken(short).terms(last_groups[short])
    full, last = _Pass.of(full_terms), _Pass.of(last_terms)

    def total(field: str) -> np.ndarray:
        return (passes - 1) * getattr(full, field) + getattr(last, field)

    counts = np.stack([tile_count(e, t) for e, t in zip((gemm.m, gemm.k, gemm.n), tiles)])
    first_loads = np.where(passes > 1, full.first_loads, last.first_loads)
    first_groups = np.where(passes > 1, groups, last_groups)
    continued = _continued_folds(chip, dataflow, counts, passes)
    flags = roles(workload, chip)
    return TilingTerms(
        counts=counts,
        matrix=total("matrix")
        + _first_fill(chip, dataflow, np.minimum(tiles[Dim.K], gemm.k), np.minimum(tiles[Dim.N], gemm.n), first_groups)
        - continued,
        matrix_floor=total("matrix_floor") - continued,
        vector=total("vector"),
        iterations=passes * counts.prod(axis=0),
        input_bytes=total("input_bytes"),
        weight_bytes=total("weight_bytes"),
        output_bytes=total("output_bytes"),
        psum_bytes=total("psum_bytes"),
        exposed_bytes=full.prologue_bytes + last.epilogue_bytes,
        serial_bytes=np.concatenate([first_loads, np.broadcast_to(last.epilogue_bytes, first_loads.shape[1:])[None]]),
        serial_latencies=np.broadcast_to(
            (flags.input_dram | flags.weight_dram).astype(np.int64) + flags.output_dram, passes.shape
        ),
    )


def _first_fill(chip: Target, dataflow: np.ndarray, first_k, first_n, groups: np.ndarray) -> np.ndarray:
    """`timing.pipeline_fill` of the tilings' runs of GEMMs: the stationary load of the first
    tile, `first_k` × `first_n` (its first fold's depth and width, `timing.fold_times`, on
    the first pass's `groups`), and one fill and drain; 0 when folds run back to back (no load to find then:
    every never-seen chip without a stationary double buffer scores its tilings here)."""
    load = 0
    if chip.pipelined:
        load = fold_times(
            1, first_k, first_n, dataflow, chip.rows, chip.cols, groups, chip.reduction_depth, chip.pe_width
        ).first_load
    return pipeline_fill(load, chip.rows, chip.cols, chip.pipelined, chip.unit_cols)


def _continued_folds(chip: Target, dataflow: np.ndarray, counts: np.ndarray, passes: np.ndarray) -> np.ndarray:
    """Cycles SCALE-Sim's mapping saves by continuing folds (`candidates.scalesim_mapping`:
    one fold per tile, the streamed dim innermost): every tile but the first of each fold
    streams on without its load, fill and drain (`compiler.target.timing`). Zero otherwise."""
    if chip.timing is not TimingMode.SCALESIM:
        return np.zeros(np.shape(dataflow), dtype=np.int64)
    dataflow = np.asarray(dataflow)
    streamed = np.select([dataflow == d for d in STREAMED_DIM], [int(STREAMED_DIM[d]) for d in STREAMED_DIM])
    along = np.choose(streamed, counts)
    folds = passes * counts.prod(axis=0) // along
    overhead = stationary_load_cycles(dataflow, chip.rows) + fill_drain_cycles(chip.rows, chip.cols, chip.unit_cols)
    return folds * (along - 1) * overhead


def _pass_inputs(workload: Workload, chip: Target, dataflow: np.ndarray, tiles: np.ndarray) -> "_PassInputs":
    """The arguments of `terms_kernel.pass_terms` for tilings `dataflow`, `tiles` (1-D and
    (3, tilings)) but their packing: the workload's, the plan's and the chip's numbers. A
    pass's terms (`_PassInputs.terms`): a tile of each dimension is full or the edge one
    (`tiling.edge_tile`); its input window is pixels(tm) × channels(tk) (`tiling`); the
    array's busy cycles are `timing.gemm_occupancy` of each tile class (`terms_kernel._classes`); bytes are
    burst-rounded, and only transfers over DRAM count (on-chip transfers take a buffer port,
    which the estimate does not charge); vector work is the epilogue's lane operations split
    over the output tiles."""
    size = len(dataflow)
    column = partial(per_tiling, size=size)
    gemm, conv = workload.gemm, workload.conv
    geometry = [column(getattr(conv, name) if conv is not None else 0) for name in CONV_KERNEL_FIELDS]
    flags = roles(workload, chip)
    over_dram = np.stack([column(flags.input_dram), column(flags.weight_dram), column(flags.side_dram),
                          column(flags.output_dram)]).astype(bool)  # fmt: skip
    bits = flags.bits_per_candidate(size)
    rates = chip.vector_ops_per_cycle
    vector_ops = np.stack([column(workload.vector_ops.get(op, 0)) for op in OP_CLASSES])
    return _PassInputs(
        tiles=(column(dataflow), column(tiles[0]), column(tiles[1]), column(tiles[2])),
        columns=(
            column(gemm.m), column(gemm.k), column(gemm.n), column(gemm.batch), np.full(size, conv is not None), *geometry,
            column(workload.side_input_elements), column(active_pes(workload, chip)),
        ),
        rows=(over_dram, bits, vector_ops),
        shared=(
            np.array([rates[op] for op in OP_CLASSES], dtype=np.float64), vector_ops.any(axis=1),
            chip.rows, chip.cols, chip.reduction_depth, chip.pe_width, int(fill_drain_cycles(chip.rows, chip.cols, chip.unit_cols)),
            chip.pes, chip.pipelined, chip.burst, chip.accumulator_bits,
        ),
    )  # fmt: skip


@dataclass(frozen=True)
class _PassInputs:
    """`terms_kernel.pass_terms`'s arguments but the packing (`_pass_inputs`), in its order:
    the tilings, their per-tiling columns, (rows, tilings) arrays, and the rest (the vector
    classes' rates and flags, the chip's scalars)."""

    tiles: tuple[np.ndarray, ...]
    columns: tuple[np.ndarray, ...]
    rows: tuple[np.ndarray, ...]
    shared: tuple

    def terms(self, groups) -> np.ndarray:
        """(`terms_kernel.FIELDS`, tilings) terms of one pass packing `groups` products a tile."""
        return pass_terms(*self.tiles, per_tiling(groups, len(self.tiles[0])), *self.columns, *self.rows, *self.shared)

    def taken(self, index: np.ndarray) -> "_PassInputs":
        """The inputs of the tilings at `index` only."""
        return _PassInputs(
            tuple(c[index] for c in self.tiles),
            tuple(c[index] for c in self.columns),
            tuple(np.ascontiguousarray(r[:, index]) for r in self.rows),
            self.shared,
        )


OP_CLASSES = tuple(OpClass)
"""`OpClass` in order: the rows of the kernel's vector work."""


def vector_terms(
    workload: Workload, chip: Target, chunks: np.ndarray, double_buffer: np.ndarray, sliced=False
) -> CostTerms:
    """Estimate terms of a vector workload split into `chunks`, its constants sliced per
    chunk where `sliced` (arrays of candidates; `scheduling.footprint`)."""
    chunks = np.asarray(chunks, dtype=np.int64)

    streamed = streams_constants(workload)
    flags = roles(workload, chip)

    def channel(elements, bits):
        return burst_bytes(nbytes(elements, bits), chip.burst)

    # (elements streamed with the chunks, over DRAM or not); on-chip transfers are not charged
    per_chunk = [
        (workload.input_elements, flags.input_dram, flags.input_bits),
        (workload.side_input_elements, flags.side_dram, flags.side_bits),
        (workload.output_elements, flags.output_dram, flags.output_bits),
    ]
    per_chunk += [(workload.weight_elements, flags.weight_dram, flags.weight_bits)] if streamed else []
    compute = 0
    for op_class, ops in vector_lane_ops(workload).items():
        rate = chip.vector_ops_per_cycle[op_class]
        compute = compute + _split_sum(ops, chunks, lambda part: vector_cycles(part, rate))
    largest = [dram * channel(tile_count(total, chunks), bits) for total, dram, bits in per_chunk]
    constants = np.zeros_like(chunks) if streamed else np.full_like(chunks, channel(workload.weight_elements, flags.weight_bits))
    constants = flags.weight_dram * constants
    exposed_constants = constants
    if slices_constants(workload):
        def slice_bytes(outputs):
            return channel(constant_slice_elements(workload, outputs), flags.weight_bits)

        total_out = workload.output_elements
        constants = flags.weight_dram * np.where(sliced, _split_sum(total_out, chunks, slice_bytes), constants)
        exposed_constants = flags.weight_dram * np.where(
            sliced, slice_bytes(tile_count(total_out, chunks)), exposed_constants
        )
    # `codegen.vector`: chunk c's first VEC waits for the STORE of chunk c − s (s buffer slots:
    # 2 double buffered, else 1), which waits for that chunk's last VEC; and its LOAD waits
    # for the first VEC of chunk c − s. So the first VECs of chunks 0, s, 2s, ... each start
    # at least a VEC (≥ 1 cycle), a transfer (≥ 1 cycle) and, where that transfer goes over
    # DRAM, its latency after the one before: ⌊(chunks − 1) / s⌋ links.
    slots = np.where(double_buffer, 2, 1)
    over_dram = flags.output_dram | (flags.input_tile & flags.input_dram)
    chain = ((chunks - 1) // slots) * (2 + chip.latency * over_dram)
    return CostTerms(
        compute=compute,
        floor=compute,
        channel_bytes=sum(
            dram * _split_sum(total, chunks, lambda part, bits=bits: channel(part, bits)) for total, dram, bits in per_chunk
        )
        + constants,
        exposed_bytes=exposed_constants + sum(largest),
        tail=np.zeros_like(chunks),
        iterations=chunks,
        double_buffer=double_buffer,
        latency=chip.latency,
        serial_bytes=np.zeros((3,) + chunks.shape, dtype=np.int64),
        serial_latency=0,
        chain=chain,
    )


def _split_sum(total: int, parts: np.ndarray, cost) -> np.ndarray:
    """Σ cost(part) over `total` split evenly into `parts` (as `codegen.vector.even_split`:
    total % parts parts of q + 1 and the rest of q = total // parts)."""
    q, r = np.divmod(total, parts)
    return r * cost(q + 1) + (parts - r) * cost(q)


def gemm_estimate(workload: Workload, chip: Target, cands: GemmCandidates) -> np.ndarray:
    """Estimated cycles of every GEMM candidate at the chip's bandwidth (float64 array)."""
    return gemm_terms(workload, chip, cands).cycles(chip.dram_bytes_per_cycle)


def vector_lane_ops(workload: Workload) -> dict[OpClass, int]:
    """Lane operations of a vector workload by class; one with none is a copy (one
    elementwise op per output element), so every chunk has a VEC that produces it."""
    ops = {op: int(count) for op, count in workload.vector_ops.items() if count > 0}
    return ops or {OpClass.ELEMENTWISE: workload.output_elements}
