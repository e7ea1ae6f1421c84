"""The console tables of `tessera simulate`, built from its `--json` document.

Every quantity a person reads carries its unit with an SI prefix (``234.8 mJ``, ``1.21 ms``),
bytes in binary units (``1.5 MiB``); counts keep their thousands separators.
"""

from __future__ import annotations

from typing import Any

from rich.table import Table

from accel_spec.units import Dimension, format_quantity
from reports.units import format_si


def layer_table(document: dict[str, Any]) -> Table:
    """Per-layer rows of the `--json` document."""
    table = Table(title=f"{document['model']} on {document['accelerator']}", show_lines=False)
    for column in ("layer", "op", "MACs", "cycles", "lower bound", "util", "stall", "DRAM rd", "DRAM wr", "schedule"):
        table.add_column(column, justify="left" if column in ("layer", "op", "schedule") else "right")
    for layer in document["layers"]:
        cycles = layer["cycles"]
        table.add_row(
            layer["name"],
            layer["op"],
            f"{layer['macs']:,}",
            f"{cycles:,}",
            f"{layer['lower_bound_cycles']:,}",
            f"{layer['utilization']:.0%}",
            f"{layer['stall_cycles'] / cycles:.0%}" if cycles else "-",
            format_quantity(layer["dram_read_bytes"], Dimension.BYTES),
            format_quantity(layer["dram_write_bytes"], Dimension.BYTES),
            layer["schedule"],
        )
    return table


def summary_table(summary: dict[str, Any], peak_ops_s: float) -> Table:
    """Whole-network figures of the `--json` document, beside the chip's peak ops per second."""
    table = Table(title="summary", show_header=False)
    table.add_column("metric")
    table.add_column("value", justify="right")
    table.add_row("latency", f"{format_si(summary['latency_s'], 's')} ({summary['total_cycles']:,} cycles)")
    table.add_row("throughput", f"{summary['throughput_ops_s'] / 1e12:.4g} TOPS of {peak_ops_s / 1e12:.4g} TOPS peak")
    table.add_row("utilization", f"{summary['utilization']:.1%}")
    table.add_row("MACs", f"{summary['macs']:,}")
    table.add_row("DRAM read / write", f"{format_quantity(summary['dram_read_bytes'], Dimension.BYTES)} / "
                  f"{format_quantity(summary['dram_write_bytes'], Dimension.BYTES)}")
    table.add_row("energy per inference", format_si(summary["energy_j"], "J"))
    for component, joules in summary["energy_breakdown_j"].items():
        share = joules / summary["energy_j"] if summary["energy_j"] else 0.0
        table.add_row(f"  {component}", f"{format_si(joules, 'J')} ({share:.0%})")
    table.add_row("average power", format_si(summary["power_w"], "W"))
    table.add_row("efficiency", f"{summary['tops_per_w']:.4g} TOPS/W")
    table.add_row("area", f"{summary['area_mm2']:.4g} mm²")
    return table
