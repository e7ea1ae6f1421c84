"""Headline numbers of a chip, computed from its spec alone (no workload).

These are what an architect checks first: peak throughput, how many bytes per cycle DRAM
delivers, the ridge point of the roofline (above it a layer is compute-bound, below it
memory-bound), on-chip capacity, area and energy per MAC.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from accel_spec.schema import Accelerator
from accel_spec.technology import resolve

_MM2_PER_M2 = 1e6
_PJ_PER_J = 1e12


@dataclass(frozen=True)
class DerivedQuantities:
    """Peak and capacity figures of one chip (units in the attribute names).

    Attributes:
        peak_macs_per_cycle: processing elements of the systolic array.
        peak_ops_per_second: 2 ops (multiply + add) per MAC per cycle at the clock.
        peak_tops: the same in tera-operations per second.
        dram_bytes_per_cycle: DRAM bandwidth divided by the clock.
        ridge_point: ops per DRAM byte at which compute and bandwidth limits meet.
        sram_bytes: total on-chip buffer capacity.
        area_mm2: area by component (``matrix``, ``vector``, each buffer).
        total_area_mm2: sum of `area_mm2`.
        mac_energy_pj: energy per MAC at the matrix input precision.
        dram_latency_cycles: DRAM latency times the clock (not rounded).
    """

    peak_macs_per_cycle: int
    peak_ops_per_second: float
    peak_tops: float
    dram_bytes_per_cycle: float
    ridge_point: float
    sram_bytes: int
    area_mm2: Mapping[str, float]
    total_area_mm2: float
    mac_energy_pj: float
    dram_latency_cycles: float


def derive(accel: Accelerator) -> DerivedQuantities:
    """Compute the `DerivedQuantities` of `accel` (technology defaults resolved at its node)."""
    technology = resolve(accel)
    macs = accel.matrix.pes
    ops_per_second = 2.0 * macs * accel.clock
    area_mm2 = {name: area * _MM2_PER_M2 for name, area in technology.area.items()}
    return DerivedQuantities(
        peak_macs_per_cycle=macs,
        peak_ops_per_second=ops_per_second,
        peak_tops=ops_per_second / 1e12,
        dram_bytes_per_cycle=accel.dram.bandwidth / accel.clock,
        ridge_point=ops_per_second / accel.dram.bandwidth,
        sram_bytes=sum(buffer.capacity for buffer in accel.buffers.values()),
        area_mm2=MappingProxyType(area_mm2),
        total_area_mm2=sum(area_mm2.values()),
        mac_energy_pj=technology.mac_energy * _PJ_PER_J,
        dram_latency_cycles=accel.dram.latency * accel.clock,
    )
