"""Energy of a layer: events counted by the simulator times the technology's constants.

    E = MACs · mac_energy
      + Σ_buffers (SRAM bytes read + written) · sram_energy_per_byte[buffer]
      + DRAM channel bytes · dram_energy_per_byte
      + vector lane ops · vector_op_energy
      + leakage_power · cycles / clock

DRAM energy is charged on the burst-rounded bytes (`channel_*_bytes`): a partial burst
still moves a whole burst across the interface. Leakage of a layer uses the cycles the
layer adds to the run, so the layers' leakage sums to the run's.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from accel_spec.technology import Technology
from simulator.result import EnergyBreakdown


def layer_energy(
    *,
    macs: int,
    sram_read_bytes: Mapping[str, float],
    sram_write_bytes: Mapping[str, float],
    channel_bytes: int,
    vector_ops: int,
    cycles: int,
    technology: Technology,
    clock: float,
) -> EnergyBreakdown:
    """Joules by component for one layer's event counts (see the module formula)."""
    sram = {
        name: (sram_read_bytes[name] + sram_write_bytes[name]) * technology.sram_energy_per_byte[name]
        for name in sram_read_bytes
    }
    return EnergyBreakdown(
        mac=macs * technology.mac_energy,
        sram=MappingProxyType(sram),
        dram=channel_bytes * technology.dram_energy_per_byte,
        vector=vector_ops * technology.vector_op_energy,
        leakage=technology.leakage_power * cycles / clock,
    )
