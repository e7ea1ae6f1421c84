"""Scheduling: per workload, the dataflow, tiles, loop order, buffering and packing of groups,
chosen by estimate, bandwidth-independent shortlist and measurement (see strategies)."""

from compiler.scheduling.schedule import (
    LOOP_ORDERS,
    Dim,
    InfeasibleSchedule,
    LayerSchedule,
    LoopOrder,
    Schedule,
    SchedulerKind,
    VectorSchedule,
)
from compiler.scheduling.strategies import estimate_cycles, schedule_workloads

__all__ = [
    "LOOP_ORDERS",
    "Dim",
    "InfeasibleSchedule",
    "LayerSchedule",
    "LoopOrder",
    "Schedule",
    "SchedulerKind",
    "VectorSchedule",
    "estimate_cycles",
    "schedule_workloads",
]
