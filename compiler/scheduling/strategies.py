"""Search strategies behind one entry point, `schedule_workloads`.

Both strategies score a whole candidate space at once with the vectorised estimate and
take the best candidate that fits the buffers:

  EXHAUSTIVE  every tile size of `candidates.tile_options`, every loop order, dataflow
              and buffering mode;
  HEURISTIC   a few large tile sizes per dimension, double buffered (falls back to
              the exhaustive space when none of them fits).

Identical layer shapes (ResNet repeats most of its blocks) are scheduled once per call.
"""

from __future__ import annotations

import numpy as np

from accel_spec.schema import Accelerator
from accel_spec.types import Precision
from compiler.scheduling.candidates import GemmCandidates, gemm_candidates, smallest_candidate
from compiler.scheduling.chip import Chip
from compiler.scheduling.estimate import gemm_estimate, vector_estimate, vector_lane_ops
from compiler.scheduling.footprint import gemm_footprint, overflow_reason, vector_footprint
from compiler.scheduling.schedule import (
    LOOP_ORDERS,
    InfeasibleSchedule,
    LayerSchedule,
    Schedule,
    SchedulerKind,
    VectorSchedule,
)
from compiler.scheduling.tiling import loop_positions
from compiler.workload import Workload, WorkloadKind


def schedule_workloads(
    workloads: tuple[Workload, ...],
    accel: Accelerator,
    precision: Precision,
    kind: SchedulerKind = SchedulerKind.HEURISTIC,
) -> tuple[LayerSchedule, ...]:
    """One schedule per workload, in order. Raises `InfeasibleSchedule` if a layer cannot fit."""
    chip = Chip.of(accel, precision)
    chosen: dict[tuple, LayerSchedule] = {}
    schedules = []
    for workload in workloads:
        key = _shape_key(workload)
        if key not in chosen:
            chosen[key] = schedule_workload(workload, chip, kind)
        schedules.append(chosen[key])
    return tuple(schedules)


def schedule_workload(workload: Workload, chip: Chip, kind: SchedulerKind) -> LayerSchedule:
    """The best schedule of one workload in the search space of `kind`."""
    if workload.kind is WorkloadKind.VECTOR:
        return _schedule_vector(workload, chip)
    cands = gemm_candidates(workload.gemm, chip, kind)
    fits = _fits(workload, chip, cands)
    if not fits.any() and kind is SchedulerKind.HEURISTIC:
        cands = gemm_candidates(workload.gemm, chip, SchedulerKind.EXHAUSTIVE)
        fits = _fits(workload, chip, cands)
    if not fits.any():
        smallest = smallest_candidate(chip)
        footprint = gemm_footprint(
            workload, chip, smallest.tiles, loop_positions(smallest.order, LOOP_ORDERS), smallest.double_buffer
        )
        raise InfeasibleSchedule(workload.name, overflow_reason(footprint, chip, "smallest tile"))
    cycles = np.where(fits, gemm_estimate(workload, chip, cands), np.inf)
    return cands.schedule(int(np.argmin(cycles)))


def estimate_cycles(workload: Workload, schedule: LayerSchedule, accel: Accelerator, precision: Precision) -> float:
    """The scheduler's cycle estimate of one workload under one schedule."""
    chip = Chip.of(accel, precision)
    if isinstance(schedule, VectorSchedule):
        return float(vector_estimate(workload, chip, np.array([schedule.chunks]), np.array([schedule.double_buffer]))[0])
    return float(gemm_estimate(workload, chip, _as_candidates(schedule))[0])


def _as_candidates(schedule: Schedule) -> GemmCandidates:
    return GemmCandidates(
        dataflow=np.array([int(schedule.dataflow)]),
        tiles=np.array([[schedule.tile_m], [schedule.tile_k], [schedule.tile_n]], dtype=np.int64),
        order=np.array([LOOP_ORDERS.index(schedule.order)]),
        double_buffer=np.array([schedule.double_buffer]),
    )


def _fits(workload: Workload, chip: Chip, cands: GemmCandidates) -> np.ndarray:
    positions = loop_positions(cands.order, LOOP_ORDERS)
    return gemm_footprint(workload, chip, cands.tiles, positions, cands.double_buffer).fits(chip)


def _schedule_vector(workload: Workload, chip: Chip) -> VectorSchedule:
    """Fewest chunks that fit, traded against pipelining by the estimate."""
    largest = _max_chunks(workload)
    powers = 2 ** np.arange(int(largest).bit_length(), dtype=np.int64)
    chunks = np.concatenate([powers, powers])
    double_buffer = np.repeat([True, False], len(powers))
    fits = vector_footprint(workload, chip, chunks, double_buffer).fits(chip)
    if not fits.any():
        one = np.array([largest])
        footprint = vector_footprint(workload, chip, one, np.array([False]))
        raise InfeasibleSchedule(workload.name, overflow_reason(footprint, chip, "one element per chunk"))
    cycles = np.where(fits, vector_estimate(workload, chip, chunks, double_buffer), np.inf)
    best = int(np.argmin(cycles))
    return VectorSchedule(chunks=int(chunks[best]), double_buffer=bool(double_buffer[best]))


def _max_chunks(workload: Workload) -> int:
    """Most chunks such that every chunk loads, computes and stores something."""
    sizes = [workload.input_elements, workload.output_elements, max(vector_lane_ops(workload).values())]
    if workload.side_input_elements > 0:
        sizes.append(workload.side_input_elements)
    return max(1, min(sizes))


def _shape_key(workload: Workload) -> tuple:
    """Everything about a workload that scheduling looks at (not its name)."""
    return (
        workload.kind,
        workload.gemm,
        workload.conv,
        workload.input_elements,
        workload.weight_elements,
        workload.output_elements,
        workload.side_input_elements,
        tuple(sorted(workload.vector_ops.items())),
    )
