"""`tessera simulate ... --report DIR`: the figures and HTML page of one simulation.

Figures: the roofline, the per-layer cycle breakdown, energy and area by component, and the
engine timeline (only for a traced simulation: `simulate(..., trace=True)`). The page adds
the summary metrics, the per-layer table and the reproducibility block.
"""

from __future__ import annotations

import platform
import socket
import sys
from collections.abc import Sequence
from pathlib import Path

import tessera
from accel_spec.loader import spec_hash
from reports import html
from reports.energy_area import energy_area_figure
from reports.layer_breakdown import layer_breakdown_figure
from reports.report import FigureSpec, Report, prepare_folder, write_report
from reports.roofline import roofline_figure
from reports.style import DEFAULT_FORMATS, Format
from reports.timeline import timeline_figure


def simulation_report(simulation, out_dir: str | Path, formats: Sequence[Format] = DEFAULT_FORMATS) -> Report:
    """Write the report of a `tessera.api.Simulation` to `out_dir` (created if needed)."""
    folder = prepare_folder(out_dir, option="--report")
    return write_report(
        folder,
        f"Simulation report: {simulation.compiled.source} on {simulation.accel.name}",
        figure_specs(simulation),
        formats,
        [("Summary", summary_html(simulation))],
        [("Layers", layers_html(simulation))],
        reproducibility(simulation),
    )


def figure_specs(simulation) -> list[FigureSpec]:
    """The figures of one simulation, in report order."""
    specs = [
        FigureSpec("roofline", "Roofline",
                   "Each layer at its arithmetic intensity (operations per byte of DRAM traffic) and achieved "
                   "performance; 2 operations per MAC under the matrix roof, lane operations of vector-only layers "
                   "under the vector roof. The dotted line marks the ridge point.",
                   lambda: roofline_figure(simulation)),
        FigureSpec("layer_breakdown", "Per-layer cycle breakdown",
                   "Busy cycles of the matrix and vector engines and the compute engine's stalls by cause, per layer. "
                   "Engines overlap, so a bar can exceed the cycles the layer added to the run (black tick); the "
                   "diamond is the roofline lower bound max(MACs / PEs, vector work / lanes, compulsory bytes / "
                   "bandwidth).",
                   lambda: layer_breakdown_figure(simulation)),
        FigureSpec("energy_area", "Energy and area by component",
                   "Energy per inference by component (MACs, each SRAM buffer, DRAM, vector unit, leakage) and chip "
                   "area by component, with each component's share of the total.",
                   lambda: energy_area_figure(simulation)),
    ]
    if simulation.result.trace is not None:
        specs.append(FigureSpec("timeline", "Engine timeline",
                                "One row per engine (DMA rows show channel occupancy), instructions coloured by layer; "
                                "the top row is each layer's share of the run. Same data as the --trace file.",
                                lambda: timeline_figure(simulation)))
    return specs


def summary_html(simulation) -> str:
    summary = simulation.summary()
    accel = simulation.accel
    peak = 2 * accel.matrix.pes * accel.clock
    return html.definition_table([
        ("latency", f"{summary['latency_s'] * 1e3:.4g} ms ({summary['total_cycles']:,} cycles)"),
        ("throughput", f"{summary['throughput_ops_s'] / 1e12:.4g} TOPS of {peak / 1e12:.4g} peak"),
        ("utilization", f"{summary['utilization']:.1%}"),
        ("MACs", f"{summary['macs']:,}"),
        ("DRAM read / write", f"{summary['dram_read_bytes']:,} / {summary['dram_write_bytes']:,} bytes"),
        ("energy per inference", f"{summary['energy_j'] * 1e3:.4g} mJ"),
        ("average power", f"{summary['power_w']:.4g} W"),
        ("area", f"{summary['area_mm2']:.4g} mm²"),
        ("precision", simulation.compiled.formats.label),
    ])


def layers_html(simulation) -> str:
    header = ["layer", "op", "MACs", "cycles", "lower bound", "utilization", "DRAM read [B]", "DRAM write [B]", "schedule"]
    rows = [
        [layer["name"], layer["op"], f"{layer['macs']:,}", f"{layer['cycles']:,}", f"{layer['lower_bound_cycles']:,}",
         f"{layer['utilization']:.0%}", f"{layer['dram_read_bytes']:,}", f"{layer['dram_write_bytes']:,}", layer["schedule"]]
        for layer in simulation.to_json()["layers"]
    ]
    return html.table(header, rows, text_columns=2)


def reproducibility(simulation) -> list[tuple[str, object]]:
    return [
        ("tool version", tessera.__version__),
        ("chip", simulation.accel.name),
        ("chip spec hash", spec_hash(simulation.accel)),
        ("model", simulation.compiled.source),
        ("seed", "none (simulation is deterministic)"),
        ("host", socket.gethostname()),
        ("python", f"{platform.python_implementation()} {platform.python_version()}"),
        ("command line", " ".join([Path(sys.executable).name, *sys.argv])),
    ]
