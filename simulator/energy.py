"""Energy of a layer: events counted by the simulator times the technology's constants.

    E = Σ_dataflow MACs_d · ((1 − g) · mac_energy + register_energy_per_mac[d]
                             + forwarding_energy_per_mac[d]
                             + pe_storage_energy_per_mac[d] − g · gated_storage_energy_per_mac)
      − local MACs · psum_hop_energy − held MACs · held_input_energy
      + Σ_buffers SRAM bytes read · read energy + bytes written · write energy
      + Σ_buffers (bytes read + written) · interconnect_energy_per_byte[buffer]
      + DRAM channel bytes read · read energy + written · write energy
      + DRAM channel bytes (read + written) · the chip's DRAM PHY energy
      + vector lane ops · vector_op_energy
      + cycles · clock_energy_per_cycle
      + leakage_power · cycles / clock

where g, the share of MACs a PE skips, is the fraction of zero input activations where the
chip gates zero inputs (`Technology.gates_zero_inputs`, `pe.gated_reads`) and 0 where it does
not: a zero input saves its MAC and its weight's per-PE storage read, and nothing else (no
cycle, register, wire, buffer, DRAM, clock or leakage energy). Local MACs are the
weight-stationary MACs whose partial sum stays in the PE, which reduces several weights
before passing it on (`compiler.target.timing`, "Reduction depth"): they spend no hop.
Held MACs are the weight-stationary MACs that reuse the input their PE already holds for
another output channel (`compiler.target.timing`, "Channel width"): they spend no input
register write, hop or per-PE store access (split between `pe_registers`, `forwarding` and
`pe_storage` as `Technology.held_input_energy` is).

This is the one place energy is computed. DRAM energy is charged on the burst-rounded bytes
(`channel_*_bytes`): a partial burst still moves a whole burst. Cycles are those the layer
adds to the run, so the layers' clock and leakage energies sum to the run's.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType


from accel_spec.technology import Technology
from accel_spec.types import Dataflow


def _add_maps(a: Mapping[str, float], b: Mapping[str, float]) -> Mapping[str, float]:
    return MappingProxyType({key: a.get(key, 0.0) + b.get(key, 0.0) for key in {**a, **b}})


@dataclass(frozen=True)
class EnergyBreakdown:
    """Energy in joules by component (see the module formula for each term)."""

    mac: float
    pe_registers: float
    pe_storage: float
    forwarding: float
    sram: Mapping[str, float]
    interconnect: float
    dram: float
    dram_phy: float
    vector: float
    clock: float
    leakage: float

    @property
    def total(self) -> float:
        return sum(self.components().values())

    def components(self) -> dict[str, float]:
        """Flat view for tables and JSON: ``mac``, ``pe_registers``, ``pe_storage``,
        ``forwarding``, ``sram:<buffer>``, ``interconnect``, ``dram``, ``dram_phy``, ``vector``,
        ``clock``, ``leakage``."""
        flat = {"mac": self.mac, "pe_registers": self.pe_registers, "pe_storage": self.pe_storage,
                "forwarding": self.forwarding}  # fmt: skip
        flat.update({f"sram:{name}": value for name, value in self.sram.items()})
        flat.update({"interconnect": self.interconnect, "dram": self.dram, "dram_phy": self.dram_phy,
                     "vector": self.vector, "clock": self.clock, "leakage": self.leakage})  # fmt: skip
        return flat

    def __add__(self, other: EnergyBreakdown) -> EnergyBreakdown:
        return EnergyBreakdown(
            mac=self.mac + other.mac,
            pe_registers=self.pe_registers + other.pe_registers,
            pe_storage=self.pe_storage + other.pe_storage,
            forwarding=self.forwarding + other.forwarding,
            sram=_add_maps(self.sram, other.sram),
            interconnect=self.interconnect + other.interconnect,
            dram=self.dram + other.dram,
            dram_phy=self.dram_phy + other.dram_phy,
            vector=self.vector + other.vector,
            clock=self.clock + other.clock,
            leakage=self.leakage + other.leakage,
        )


_DATAFLOWS = tuple(Dataflow)
"""The dataflows in index order, once: iterating the enum costs microseconds a layer."""


def layer_energy(
    *,
    macs_by_dataflow: Sequence[int],
    sram_read_bytes: Mapping[str, float],
    sram_write_bytes: Mapping[str, float],
    channel_read_bytes: int,
    channel_write_bytes: int,
    vector_ops: int,
    cycles: int,
    technology: Technology,
    clock: float,
    activation_zeros: float = 0.0,
    local_macs: int = 0,
    held_macs: int = 0,
) -> EnergyBreakdown:
    """Joules by component for one layer's event counts (see the module formula).

    `macs_by_dataflow` is indexed by `Dataflow`; `activation_zeros` is the fraction of the
    layer's input activations that are zero, in [0, 1); `local_macs` those MACs that keep
    their partial sum in the PE, `held_macs` those that reuse an input the PE holds.
    """
    t = technology
    held = t.held_input_energy
    macs = sum(macs_by_dataflow)
    gated = activation_zeros if t.gates_zero_inputs else 0.0
    per_dataflow = tuple(zip(_DATAFLOWS, macs_by_dataflow, strict=True))
    sram = {
        name: sram_read_bytes[name] * t.sram_read_energy_per_byte[name]
        + sram_write_bytes[name] * t.sram_write_energy_per_byte[name]
        for name in sram_read_bytes
    }
    return EnergyBreakdown(
        mac=macs * (1 - gated) * t.mac_energy,
        pe_registers=sum(n * t.register_energy_per_mac[d] for d, n in per_dataflow)
        - held_macs * held.pe_registers,
        pe_storage=sum(n * t.pe_storage_energy_per_mac[d] for d, n in per_dataflow)
        - macs * gated * t.gated_storage_energy_per_mac
        - held_macs * held.pe_storage,
        forwarding=sum(n * t.forwarding_energy_per_mac[d] for d, n in per_dataflow)
        - local_macs * t.psum_hop_energy
        - held_macs * held.forwarding,
        sram=MappingProxyType(sram),
        interconnect=sum(
            (sram_read_bytes[name] + sram_write_bytes[name]) * t.interconnect_energy_per_byte[name]
            for name in sram_read_bytes
        ),
        dram=channel_read_bytes * t.dram_read_energy_per_byte + channel_write_bytes * t.dram_write_energy_per_byte,
        dram_phy=(channel_read_bytes + channel_write_bytes) * t.dram_phy_energy_per_byte,
        vector=vector_ops * t.vector_op_energy,
        clock=cycles * t.clock_energy_per_cycle,
        leakage=t.leakage_power * cycles / clock,
    )
