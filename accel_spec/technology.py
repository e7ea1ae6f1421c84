"""Technology model: energy per event, leakage and area per component for one chip.

`resolve(accel, precision)` asks each component model (`accel_spec/components/`) for its
constants at the chip's node, supply and device flavour, and returns the `Technology` the
simulator multiplies event counts by. The chip's `overrides` section replaces any default;
`Technology.sources` records, per constant, the cited default or ``override``, so a result
never hides where a number came from.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import NamedTuple

from accel_spec.components import (
    chip_defaults, clock, dram, dram_phy, floorplan, interconnect, leakage, pe, regfile, sram, vector,
)  # fmt: skip
from accel_spec.components.scaling import NOMINAL_VDD_SOURCE, STILLMAKER_2017, Process, nominal
from accel_spec.schema import Accelerator, Buffer
from accel_spec.types import Dataflow, Operand, Precision
from tessera.errors import InputError, Problem
from tessera.identity_memo import IdentityMemo


class HeldInputEnergy(NamedTuple):
    """Joules a weight-stationary MAC spends on its input that a MAC reusing the input its PE
    holds does not (`compiler.target.timing`, "Channel width"), by energy component."""

    pe_registers: float
    forwarding: float
    pe_storage: float


@dataclass(frozen=True)
class Technology:
    """Resolved constants for one chip at one operand precision (SI units).

    Attributes:
        mac_energy: joules per multiply-accumulate (multiplier + adder).
        register_energy_per_mac: joules of pipeline-register writes per MAC, by dataflow.
        forwarding_energy_per_mac: joules of PE-to-PE wires per MAC, by dataflow.
        psum_hop_energy: joules of the partial sum's hop in a weight-stationary MAC's
            forwarding, which a MAC keeping its sum in the PE does not spend (`pe.psum_hop_bits`).
        held_input_energy: joules of a weight-stationary MAC's input register write, hop
            (`pe.held_input_bits`) and per-PE store accesses, which a MAC reusing the input
            its PE holds does not spend (`compiler.target.timing`, "Channel width").
        pe_storage_energy_per_mac: joules of per-PE scratchpad accesses per MAC, by dataflow.
        gates_zero_inputs: the PEs skip the MAC and `gated_storage_energy_per_mac` on a zero
            input (`matrix.gates_zero_inputs`); `simulator.energy` applies the fraction of zeros.
        gated_storage_energy_per_mac: joules of those per-PE scratchpad accesses per MAC that a
            zero input skips where the PEs gate (`pe.gated_reads`: the weight's read).
        clock_energy_per_cycle: joules per cycle of the clock: the pipeline registers' clock pins
            and the clock tree reaching every register bit (`components.clock`).
        sram_read_energy_per_byte, sram_write_energy_per_byte: joules per byte, by buffer.
        interconnect_energy_per_byte: joules per byte carried between a buffer and the array.
        dram_read_energy_per_byte, dram_write_energy_per_byte: joules per byte over the DRAM interface.
        dram_phy_energy_per_byte: joules the chip's DRAM PHY spends per byte read or written
            (`components.dram_phy`; 0 where `dram.phy_on_chip` is false).
        vector_op_energy: joules per vector lane operation.
        leakage: static watts by component (same keys as `area`).
        area: placed square metres by component (`components.floorplan`): ``matrix``,
            ``pe_storage``, ``vector``, each buffer and ``control``.
        cell_area: square metres of the cells alone (no layout overhead), by the same
            components but ``control``.
        sources: for each constant name, ``default: <citation>`` or ``override``.
    """

    mac_energy: float
    register_energy_per_mac: Mapping[Dataflow, float]
    forwarding_energy_per_mac: Mapping[Dataflow, float]
    psum_hop_energy: float
    held_input_energy: HeldInputEnergy
    pe_storage_energy_per_mac: Mapping[Dataflow, float]
    gates_zero_inputs: bool
    gated_storage_energy_per_mac: float
    clock_energy_per_cycle: float
    sram_read_energy_per_byte: Mapping[str, float]
    sram_write_energy_per_byte: Mapping[str, float]
    interconnect_energy_per_byte: Mapping[str, float]
    dram_read_energy_per_byte: float
    dram_write_energy_per_byte: float
    dram_phy_energy_per_byte: float
    vector_op_energy: float
    leakage: Mapping[str, float]
    area: Mapping[str, float]
    cell_area: Mapping[str, float]
    sources: Mapping[str, str]

    @property
    def sram_energy_per_byte(self) -> Mapping[str, float]:
        """Joules per byte read, by buffer (the buffers this technology covers)."""
        return self.sram_read_energy_per_byte

    @property
    def leakage_power(self) -> float:
        """Static watts of the whole chip (sum of the components)."""
        return sum(self.leakage.values())

    @property
    def total_area(self) -> float:
        """Chip area in square metres (sum of the components)."""
        return sum(self.area.values())


def resolve(accel: Accelerator, precision: Precision | None = None) -> Technology:
    """The energy, leakage and area constants of `accel` with operands at `precision`.

    `precision` defaults to the matrix engine's input precision. Raises InputError when a
    default is needed for a node or supply outside the scaling tables. The last few chips'
    are kept (`_RESOLVED`): validating a chip resolves it, and simulating on it again.
    """
    precision = precision or accel.matrix.input_precision
    return _RESOLVED.get(accel, precision, lambda: _resolved(accel, precision))


def _resolved(accel: Accelerator, precision: Precision) -> Technology:
    try:
        return _Resolver(accel, precision).technology()
    except ValueError as error:
        raise InputError(f"accelerator {accel.name!r}", Problem("technology", str(error))) from None


_RESOLVED: IdentityMemo[Technology] = IdentityMemo(capacity=8)
"""The technology of the last few chips (and formats): a sweep point's, while it is evaluated.
Both are immutable (a frozen spec, a frozen `Technology` of read-only mappings)."""


def timing_sources(accel: Accelerator) -> dict[str, str]:
    """Where the chip's DRAM and vector timing values come from: the cited default
    (`chip_defaults`) where the chip has the default value, else ``chip``."""
    rates = accel.vector.throughput
    values = {
        "dram_latency": (accel.dram.latency, chip_defaults.DRAM_LATENCY, f"{accel.dram.latency * 1e9:g} ns"),
        "dram_burst": (accel.dram.burst, chip_defaults.DRAM_BURST, f"{accel.dram.burst} B"),
        "vector_rate:elementwise": (rates.elementwise, chip_defaults.VECTOR_ELEMENTWISE_RATE, f"{rates.elementwise:g}"),
        "vector_rate:transcendental": (
            rates.transcendental,
            chip_defaults.VECTOR_TRANSCENDENTAL_RATE,
            f"{rates.transcendental:g}",
        ),
        "vector_rate:reduction": (rates.reduction, chip_defaults.VECTOR_REDUCTION_RATE, f"{rates.reduction:g}"),
    }
    sources = {
        name: f"default: {shown}, {constant.source}" if value == constant.value else f"chip: {shown}"
        for name, (value, constant, shown) in values.items()
    }
    sources["dram_outstanding"] = (
        f"chip: {accel.dram.outstanding} bursts in flight"
        if accel.dram.outstanding is not None
        else "default: enough bursts in flight to sustain the peak bandwidth at this latency (the bandwidth-delay "
        "product; assumption: the controller is not the limit)"
    )
    return sources


class _Resolver:
    """One resolution: the chip, its process, and the provenance collected on the way."""

    def __init__(self, accel: Accelerator, operand: Precision) -> None:
        self.accel = accel
        self.operand = operand
        self.accumulator = pe.accumulator_for(operand, accel.matrix.accumulator_precision)
        node = accel.node_nm
        base = nominal(node, accel.process.device)
        voltage = accel.process.voltage or base.voltage
        self.process = Process(node, voltage, accel.process.device)
        self.sources: dict[str, str] = {
            "process": f"{'chip' if accel.process.voltage else 'default'}: {node:g} nm, {voltage:g} V, {accel.process.device.value}; energies scaled by {STILLMAKER_2017}"
            + ("" if accel.process.voltage else f"; supply: {NOMINAL_VDD_SOURCE}"),
        }
        self.sources.update(timing_sources(accel))
        self.input_bits = operand.bits
        self.accumulator_bits = self.accumulator.bits
        stored = accel.matrix.pe_storage
        self.stored = frozenset(op for op in Operand if stored is not None and stored.bytes_of(op))

    def pick(self, name: str, override: float | None, default: Callable[[], float], citation: str) -> float:
        if override is not None:
            self.sources[name] = "override"
            return override
        self.sources[name] = f"default: {citation}"
        return default()

    def technology(self) -> Technology:
        accel, over, process = self.accel, self.accel.overrides, self.process
        logic = process.energy_from(pe.HOROWITZ_PROCESS)
        logic_area = process.area_from(pe.HOROWITZ_PROCESS)
        register_scale = process.energy_from(pe.ALADDIN_PROCESS)
        sram_energy_scale = process.energy_from(pe.HOROWITZ_PROCESS)  # CACTI's table is at 45 nm
        scaled = f"{pe.HOROWITZ_2014}, energy scaled by {STILLMAKER_2017}"

        mac_energy = self.pick(
            "mac_energy", over.mac_energy,
            lambda: pe.mac_energy_45nm(self.operand, self.accumulator) * logic,
            f"{self.operand.value} multiply + {self.accumulator.value} add, {scaled}",
        )  # fmt: skip
        register_bit = self.pick(
            "register_energy_per_bit", over.register_energy_per_bit,
            lambda: pe.REGISTER_WRITE_J.value * register_scale, pe.REGISTER_WRITE_J.source,
        )  # fmt: skip
        clock_bit = self.pick(
            "clock_energy_per_bit", over.clock_energy_per_bit,
            lambda: pe.REGISTER_CLOCK_J.value * register_scale, pe.REGISTER_CLOCK_J.source,
        )  # fmt: skip
        wire = self.pick(
            "wire_energy_per_bit_mm", over.wire_energy_per_bit_mm,
            lambda: interconnect.wire_energy_per_bit_mm(process.voltage),
            f"{interconnect.KECKLER_2011}; scaled by supply squared (assumption: wire capacitance per mm "
            "constant across nodes)",
        )  # fmt: skip
        mac_area = self.pick(
            "mac_area", over.mac_area,
            lambda: pe.mac_area_45nm(self.operand, self.accumulator) * logic_area,
            f"{self.operand.value} multiplier + {self.accumulator.value} adder, {pe.HOROWITZ_2014}, area scaled "
            f"by {STILLMAKER_2017}",
        )  # fmt: skip
        register_area = pe.REGISTER_AREA_M2.value * process.area_from(pe.ALADDIN_PROCESS)
        self.sources["register_area"] = f"default: {pe.REGISTER_AREA_M2.source}, area scaled by {STILLMAKER_2017}"

        pipeline_bits = pe.clock_bits(self.stored, self.input_bits, self.accumulator_bits)
        pes = accel.matrix.pes
        storage = self._pe_storage(sram_energy_scale, register_scale)
        buffers = {name: self._buffer(name, buffer, sram_energy_scale) for name, buffer in accel.buffers.items()}
        lane_area = self.pick(
            "vector_lane_area", over.vector_lane_area,
            lambda: vector.lane_area_45nm(accel.vector.precision) * logic_area,
            f"{accel.vector.precision.value} multiplier + adder, {pe.HOROWITZ_2014}, area scaled by {STILLMAKER_2017}",
        )  # fmt: skip
        vector_energy = self.pick(
            "vector_op_energy", over.vector_op_energy,
            lambda: vector.lane_energy_45nm(accel.vector.precision) * logic,
            f"{accel.vector.precision.value} multiply-add, {scaled}",
        )  # fmt: skip
        cells = _Cells(
            logic={
                "matrix": pes * (mac_area + pipeline_bits * register_area),
                **({"pe_storage": storage.logic_area} if self.stored else {}),
                "vector": accel.vector.lanes * lane_area,
            },
            sram={**({"pe_storage": storage.sram_area} if self.stored else {}), **{n: m.area for n, m in buffers.items()}},
        )
        area = self._placed(cells)
        pe_pitch_mm = interconnect.side_mm((area["matrix"] + area.get("pe_storage", 0.0)) / pes)

        register_per_mac = {
            d: pe.register_bits_written(d, self.stored, self.input_bits, self.accumulator_bits) * register_bit for d in Dataflow
        }
        forwarding_per_mac = {
            d: pe.forwarded_bits(d, self.stored, self.input_bits, self.accumulator_bits) * wire * pe_pitch_mm for d in Dataflow
        }
        psum_hop = pe.psum_hop_bits(self.stored, self.accumulator_bits) * wire * pe_pitch_mm
        held_bits = pe.held_input_bits(self.stored, self.input_bits)
        self.sources["forwarding_energy"] = "default: forwarded bits x PE pitch (side of a placed PE) x wire_energy_per_bit_mm"
        array_area = area["matrix"] + area.get("pe_storage", 0.0)
        interconnect_per_byte = {name: 8 * wire * interconnect.buffer_to_array_mm(area[name], array_area) for name in buffers}
        self.sources["interconnect_energy"] = (
            "default: 8 bits x wire_energy_per_bit_mm x (buffer side + array side) / 2 per byte between a buffer "
            "and the array, sides of the placed blocks"
        )
        register_bits = pes * pipeline_bits + storage.register_bits
        tree_bit = clock.tree_energy_per_bit_65nm() * process.energy_from(clock.DIANNAO_PROCESS)
        self.sources["clock_tree"] = (
            f"default: {register_bits:,} register bits x clock-tree energy per bit per cycle from "
            f"{clock.DIANNAO_2014}; energy scaled by {STILLMAKER_2017}"
        )
        read_per_bit = self.pick(
            "dram_read_energy_per_bit", over.dram_read_energy_per_bit or over.dram_energy_per_bit,
            lambda: dram.read_energy_per_bit(accel.dram.type), f"{accel.dram.type.value}: {dram.source(accel.dram.type)}",
        )  # fmt: skip
        write_per_bit = self.pick(
            "dram_write_energy_per_bit", over.dram_write_energy_per_bit or over.dram_energy_per_bit,
            lambda: dram.write_energy_per_bit(accel.dram.type), f"{accel.dram.type.value}: {dram.source(accel.dram.type)}",
        )  # fmt: skip
        phy_per_bit = self._dram_phy_energy_per_bit()
        gates = self._gates_zero_inputs()
        return Technology(
            mac_energy=mac_energy,
            register_energy_per_mac=MappingProxyType(register_per_mac),
            forwarding_energy_per_mac=MappingProxyType(forwarding_per_mac),
            psum_hop_energy=psum_hop,
            held_input_energy=HeldInputEnergy(
                held_bits * register_bit, held_bits * wire * pe_pitch_mm, storage.input_energy_per_mac
            ),
            pe_storage_energy_per_mac=MappingProxyType(dict(storage.energy_per_mac)),
            gates_zero_inputs=gates,
            gated_storage_energy_per_mac=storage.gated_energy_per_mac,
            clock_energy_per_cycle=pes * pipeline_bits * clock_bit + register_bits * tree_bit,
            sram_read_energy_per_byte=MappingProxyType({n: m.read_energy_per_byte for n, m in buffers.items()}),
            sram_write_energy_per_byte=MappingProxyType({n: m.write_energy_per_byte for n, m in buffers.items()}),
            interconnect_energy_per_byte=MappingProxyType(interconnect_per_byte),
            dram_read_energy_per_byte=8 * read_per_bit,
            dram_write_energy_per_byte=8 * write_per_bit,
            dram_phy_energy_per_byte=8 * phy_per_bit,
            vector_op_energy=vector_energy,
            leakage=MappingProxyType(self._leakage(area, cells, buffers, storage, pipeline_bits)),
            area=MappingProxyType(area),
            cell_area=MappingProxyType({**cells.logic, **{k: v + cells.logic.get(k, 0.0) for k, v in cells.sram.items()}}),
            sources=MappingProxyType(dict(self.sources)),
        )

    def _dram_phy_energy_per_bit(self) -> float:
        """Joules per bit of the chip's DRAM PHY (`components.dram_phy`), none where it is off chip."""
        dram_spec = self.accel.dram
        if not dram_spec.phy_on_chip:
            self.sources["dram_phy_energy_per_bit"] = "chip: dram.phy_on_chip is false (the PHY is not on this chip)"
            return 0.0
        return self.pick(
            "dram_phy_energy_per_bit", self.accel.overrides.dram_phy_energy_per_bit,
            lambda: dram_phy.energy_per_bit(dram_spec.type), f"{dram_spec.type.value}: {dram_phy.source(dram_spec.type)}",
        )  # fmt: skip

    def _buffer(self, name: str, buffer: Buffer, energy_scale: float) -> sram.Macro:
        """One buffer's macro at the chip's node, with the chip's energy overrides applied."""
        over = self.accel.overrides
        word = _word_bits(self.accel, buffer, self.input_bits, self.accumulator_bits)
        macro = sram.macro_45nm(buffer.capacity, word, buffer.banks)
        area = self.pick(
            "sram_area", None if over.sram_area_per_kib is None else over.sram_area_per_kib * buffer.capacity / 1024,
            lambda: macro.area * self.process.area_from(pe.HOROWITZ_PROCESS), f"{sram.CACTI_SOURCE}, area scaled by {STILLMAKER_2017}",
        )  # fmt: skip
        specific = over.buffers.get(name)
        read = self.pick(
            f"sram_read_energy_per_byte:{name}",
            (specific and specific.read_energy_per_byte) or over.sram_energy_per_byte,
            lambda: macro.read_energy_per_byte * energy_scale,
            f"{sram.CACTI_SOURCE}, {buffer.banks} bank(s), {word:g}-bit words; energy scaled by {STILLMAKER_2017}",
        )  # fmt: skip
        write = self.pick(
            f"sram_write_energy_per_byte:{name}",
            (specific and specific.write_energy_per_byte) or over.sram_energy_per_byte,
            lambda: macro.write_energy_per_byte * energy_scale,
            f"{sram.CACTI_SOURCE}, {buffer.banks} bank(s), {word:g}-bit words; energy scaled by {STILLMAKER_2017}",
        )  # fmt: skip
        return sram.Macro(
            read_energy=read * word / 8,
            write_energy=write * word / 8,
            leakage=macro.leakage * energy_scale,
            area=area,
            word_bits=word,
        )

    def _pe_storage(self, energy_scale: float, register_scale: float) -> _Storage:
        """Per-PE scratchpads: energy per MAC of their accesses, cells and leakage of all PEs'.

        A store shallower than `regfile.MAX_WORDS` words is a register file, a deeper one an
        SRAM macro. Accesses per MAC by dataflow: `pe.storage_accesses`.
        """
        stored = self.accel.matrix.pe_storage
        if stored is None or not self.stored:
            return _Storage()
        over = self.accel.overrides.pe_storage_energy_per_byte
        pes = self.accel.matrix.pes
        register_area = self.process.area_from(pe.ALADDIN_PROCESS)
        sram_area = self.process.area_from(pe.HOROWITZ_PROCESS)
        energy = dict.fromkeys(Dataflow, 0.0)
        logic = macros = leak = gated = held = 0.0
        register_bits = 0
        for operand in sorted(self.stored):
            bits = pe.operand_bits(operand, self.input_bits, self.accumulator_bits)
            capacity = stored.bytes_of(operand)
            if regfile.fits(capacity, bits):
                store = regfile.register_file_40nm(capacity, bits)
                read, write = store.read_energy * register_scale, store.write_energy * register_scale
                logic += pes * store.area * register_area
                leak += pes * store.leakage * register_scale
                register_bits += pes * store.bits
                kind = f"register file ({store.words} x {bits} bit, {regfile.ALADDIN_2014}); energy scaled by {STILLMAKER_2017}"
            else:
                macro = sram.macro_45nm(capacity, bits)
                read, write = macro.read_energy * energy_scale, macro.write_energy * energy_scale
                macros += pes * macro.area * sram_area
                leak += pes * macro.leakage * energy_scale
                kind = f"{sram.CACTI_SOURCE}, {capacity} B of {bits}-bit words; energy scaled by {STILLMAKER_2017}"
            per_byte = over.get(operand)
            if per_byte is not None:
                read = write = per_byte * bits / 8
            self.sources[f"pe_storage_energy:{operand.label}"] = "override" if per_byte is not None else f"default: {kind}"
            for dataflow in Dataflow:
                reads, writes = pe.storage_accesses(operand, dataflow)
                energy[dataflow] += reads * read + writes * write
            gated += pe.gated_reads(operand) * read
            if operand is Operand.INPUT:
                reads, writes = pe.storage_accesses(operand, Dataflow.WEIGHT_STATIONARY)
                held = reads * read + writes * write
        return _Storage(energy, logic, macros, leak, register_bits, gated, held)

    def _gates_zero_inputs(self) -> bool:
        """The chip's `matrix.gates_zero_inputs`, recorded in the sources where it is set."""
        if self.accel.matrix.gates_zero_inputs:
            self.sources["zero_gating"] = (
                f"chip: matrix.gates_zero_inputs; a zero input skips the MAC and the weight's per-PE storage read "
                f"({pe.EYERISS_DATA_GATING})"
            )
        return self.accel.matrix.gates_zero_inputs

    def _placed(self, cells: _Cells) -> dict[str, float]:
        """Placed area by component: cells times the layout factors, plus the control block."""
        logic, macros = floorplan.LOGIC_LAYOUT_FACTOR.value, floorplan.SRAM_LAYOUT_FACTOR.value
        placed = {
            name: cells.logic.get(name, 0.0) * logic + cells.sram.get(name, 0.0) * macros
            for name in {**cells.logic, **cells.sram}
        }
        placed["control"] = floorplan.control_area(sum(placed.values()))
        self.sources["layout"] = (
            f"default: logic cells x {logic:.3g}, SRAM macros x {macros:.3g} ({floorplan.JOUPPI_2017}: placed TPU v1 "
            f"blocks over this model's cells); control {floorplan.CONTROL_SHARE.value:.0%} of the die"
        )
        return placed

    def _leakage(
        self, area: Mapping[str, float], cells: _Cells, buffers: Mapping[str, sram.Macro], storage: _Storage,
        pipeline_bits: int,
    ) -> dict[str, float]:  # fmt: skip
        accel, over = self.accel, self.accel.overrides
        if over.leakage_power_per_mm2 is not None:
            self.sources["leakage"] = "override (per mm² of every component)"
            return {name: over.leakage_power_per_mm2 * value * 1e6 for name, value in area.items()}
        scale = self.process.energy_from(pe.ALADDIN_PROCESS)
        density = leakage.LOGIC_LEAKAGE_W_PER_M2.value * scale
        register = pe.REGISTER_LEAKAGE_W.value * scale
        logic_area = self.process.area_from(pe.HOROWITZ_PROCESS)
        arithmetic = pe.mac_area_45nm(self.operand, self.accumulator) * logic_area
        self.sources["leakage"] = (
            f"default: logic {leakage.LOGIC_LEAKAGE_W_PER_M2.source}; registers {pe.REGISTER_LEAKAGE_W.source}; "
            f"SRAM {sram.CACTI_SOURCE}; scaled like switching energy (assumption)"
        )
        control_cells = area["control"] / floorplan.LOGIC_LAYOUT_FACTOR.value
        return {
            "matrix": accel.matrix.pes * (arithmetic * density + pipeline_bits * register),
            **({"pe_storage": storage.leakage} if self.stored else {}),
            "vector": cells.logic["vector"] * density,
            **{name: macro.leakage for name, macro in buffers.items()},
            "control": control_cells * density,
        }


@dataclass(frozen=True)
class _Storage:
    """All PEs' scratchpads: energy per MAC, register-file cells, SRAM macros, leakage, register
    bits, the energy per MAC of the accesses a gated zero input skips, and of the input's
    accesses in a weight-stationary MAC (which a MAC reusing a held input skips)."""

    energy_per_mac: Mapping[Dataflow, float] = field(default_factory=lambda: dict.fromkeys(Dataflow, 0.0))
    logic_area: float = 0.0
    sram_area: float = 0.0
    leakage: float = 0.0
    register_bits: int = 0
    gated_energy_per_mac: float = 0.0
    input_energy_per_mac: float = 0.0


@dataclass(frozen=True)
class _Cells:
    """Cell area by component before placement: standard-cell logic and SRAM macros."""

    logic: Mapping[str, float]
    sram: Mapping[str, float]


def _word_bits(accel: Accelerator, buffer: Buffer, input_bits: int, accumulator_bits: int) -> float:
    """Bits one access moves: the buffer's widest port or, when the port is left to fit the
    array, the array edge's demand for its widest operand. Every bank is built that wide, so
    banks add concurrent accesses (and area) without narrowing a word."""
    matrix = accel.matrix
    edge = {
        Operand.INPUT: matrix.rows * input_bits,
        Operand.WEIGHT: matrix.array_cols * input_bits,
        Operand.OUTPUT: matrix.array_cols * accumulator_bits,
    }
    ports = [p * 8 for p in (buffer.read_bytes_per_cycle, buffer.write_bytes_per_cycle) if p is not None]
    width = max(ports) if ports else max(edge[op] for op in buffer.holds)
    return float(width)
