"""The table `tessera check-spec FILE` prints: a chip's derived quantities in human units."""

from __future__ import annotations

from rich.table import Table

from accel_spec.components import pe
from accel_spec.derived import derive
from accel_spec.schema import Accelerator
from accel_spec.technology import resolve
from accel_spec.types import Dataflow, Operand
from accel_spec.units import Dimension, format_quantity

_PJ = 1e-12


def derived_table(accel: Accelerator) -> Table:
    """A two-column rich table: quantity and value, grouped compute / memory / area / energy."""
    derived = derive(accel)
    technology = resolve(accel)
    matrix = accel.matrix
    table = Table(title=f"{accel.name}: derived quantities", show_header=True)
    table.add_column("quantity")
    table.add_column("value", justify="right")

    def row(label: str, value: str) -> None:
        table.add_row(label, value)

    row("clock", format_quantity(accel.clock, Dimension.FREQUENCY))
    row("process node", format_quantity(accel.technology, Dimension.LENGTH))
    units = f"{matrix.units} × " if matrix.units > 1 else ""
    row(
        "systolic array",
        f"{units}{matrix.rows}×{matrix.cols} {matrix.input_precision.value} "
        f"({', '.join(d.short for d in matrix.dataflows)}), "
        f"{matrix.accumulator_precision.value} accumulators",
    )
    formats = matrix.precisions
    row("MAC formats", "any" if formats is None else ", ".join(p.value for p in formats))
    storage = matrix.pe_storage
    stored = [(op, storage.bytes_of(op)) for op in Operand] if storage is not None else []
    stored = [(op, size) for op, size in stored if size]
    if stored:
        row("PE storage", ", ".join(f"{op.label} {format_quantity(size, Dimension.BYTES)}" for op, size in stored))
        depth = pe.reduction_depth(storage.bytes_of(Operand.WEIGHT), matrix.input_precision.bits,
                                   matrix.stationary_double_buffer)  # fmt: skip
        if depth > 1 and Dataflow.WEIGHT_STATIONARY in matrix.dataflows:
            row("reduction depth", f"{depth} weights a PE (weight stationary, {matrix.input_precision.value})")
            width = min(depth, pe.channel_width(storage.bytes_of(Operand.OUTPUT), matrix.accumulator_precision.bits))
            if width > 1:
                row("channel width", f"up to {width} output channels a PE, each input used for all of them")
    row("peak MACs/cycle", f"{derived.peak_macs_per_cycle:,}")
    row("peak throughput", f"{derived.peak_tops:.4g} TOPS ({matrix.input_precision.value})")
    row("vector unit", f"{accel.vector.lanes} × {accel.vector.precision.value} lanes")
    row("DRAM", f"{accel.dram.type.value}, {format_quantity(accel.dram.bandwidth, Dimension.BANDWIDTH)}")
    row("DRAM bytes/cycle", f"{derived.dram_bytes_per_cycle:.4g}")
    row("DRAM latency", f"{format_quantity(accel.dram.latency, Dimension.DURATION)} "
        f"= {derived.dram_latency_cycles:.4g} cycles")
    row("ridge point", f"{derived.ridge_point:.4g} ops/DRAM byte")
    table.add_section()
    for name, buffer in accel.buffers.items():
        holds = ", ".join(op.label for op in buffer.holds)
        row(
            f"buffer {name}",
            f"{format_quantity(buffer.capacity, Dimension.BYTES)} ({holds}), "
            f"read {technology.sram_read_energy_per_byte[name] / _PJ:.3g} / write "
            f"{technology.sram_write_energy_per_byte[name] / _PJ:.3g} pJ/byte",
        )
    row("on-chip SRAM total", format_quantity(derived.sram_bytes, Dimension.BYTES))
    table.add_section()
    for name, area in derived.area_mm2.items():
        row(f"area {name}", format_quantity(area * 1e-6, Dimension.AREA))
    row("area total", format_quantity(derived.total_area_mm2 * 1e-6, Dimension.AREA))
    table.add_section()
    row("energy per MAC", f"{derived.mac_energy_pj:.3g} pJ")
    row("energy per vector op", f"{technology.vector_op_energy / _PJ:.3g} pJ")
    row("DRAM energy", f"read {technology.dram_read_energy_per_byte / 8 / _PJ:.3g} / write "
        f"{technology.dram_write_energy_per_byte / 8 / _PJ:.3g} pJ/bit")
    row("DRAM PHY energy", f"{technology.dram_phy_energy_per_byte / 8 / _PJ:.3g} pJ/bit"
        if accel.dram.phy_on_chip else "none on chip (dram.phy_on_chip: false)")
    row("leakage", format_quantity(technology.leakage_power, Dimension.POWER))
    return table
