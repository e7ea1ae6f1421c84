"""`tessera simulate --accel FILE --model MODEL`: compile a network for a chip and simulate it."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from rich.table import Table

from accel_spec.units import Dimension, format_quantity
from tessera.commands._common import add_model_arguments, console, precision, write_json
from tessera.errors import InputError, Problem

if TYPE_CHECKING:
    from accel_spec.schema import Accelerator

# Spelled out rather than imported from compiler.scheduling so that `tessera --help` does not
# pay for importing the compiler and Numba; run() maps them to SchedulerKind.
_SCHEDULERS = ("heuristic", "exhaustive", "learned")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "simulate",
        help="compile a network for a chip and simulate it",
        description="Compile MODEL for the chip in --accel and print per-layer cycles, "
        "utilization, stalls, DRAM traffic, energy and area.",
    )
    parser.add_argument("--accel", required=True, metavar="FILE", help="accelerator YAML file")
    add_model_arguments(parser)
    parser.add_argument("--precision", type=precision, help="operand precision (default: the chip's)")
    parser.add_argument(
        "--scheduler",
        choices=_SCHEDULERS,
        default="heuristic",
        help="how tiles, loop order and dataflow are chosen (default heuristic)",
    )
    parser.add_argument("--json", metavar="FILE", help="write the result as JSON")
    parser.add_argument("--trace", metavar="FILE", help="write a Chrome/Perfetto trace of every instruction")
    parser.add_argument("--report", metavar="DIR", help="write figures (roofline, breakdowns, timeline) and report.html to DIR")
    parser.add_argument("--verify", action="store_true", help="check the program with compiler.verify")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from accel_spec import load_accelerator
    from compiler.scheduling import InfeasibleSchedule, SchedulerKind
    from simulator.trace import write_chrome_trace
    from tessera.api import simulate

    accel = load_accelerator(args.accel)
    try:
        simulation = simulate(
            accel,
            args.model,
            batch=args.batch,
            input_shapes=dict(args.input_shape),
            precision=args.precision,
            scheduler=SchedulerKind[args.scheduler.upper()],
            trace=args.trace is not None or args.report is not None,
            verify=args.verify,
        )
    except InfeasibleSchedule as infeasible:
        # The chip and the model are each valid but do not fit together: the user must change one.
        raise InputError(
            args.accel, Problem(f"layer {infeasible.workload_name}", f"{infeasible.reason} (model {args.model})")
        ) from None
    except MemoryError as error:
        # The instruction stream of a model this big for this array does not fit in memory
        # (numpy refuses at once: `gemm:m=2^40` would need terabytes of instructions).
        message = f"too big to compile for {accel.name} on this machine ({error}); use a smaller model or batch"
        raise InputError(args.model, Problem("--model", message)) from None
    document = simulation.to_json()
    if args.json:
        write_json(args.json, document)
    if args.trace:
        try:
            write_chrome_trace(args.trace, simulation.result, simulation.compiled.program, accel)
        except OSError as error:
            raise InputError(args.trace, Problem("--trace", f"cannot write: {error.strerror}")) from None
    if args.report:
        from reports.simulation_report import simulation_report

        simulation_report(simulation, args.report)
    console.print(_layer_table(document))
    console.print(_summary_table(document, accel))
    return 0


def _layer_table(document: dict[str, Any]) -> Table:
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


def _summary_table(summary: dict[str, Any], accel: "Accelerator") -> Table:
    """Whole-network figures of the `--json` document, beside the chip's peak."""
    peak_ops = 2 * accel.matrix.pes * accel.clock
    table = Table(title="summary", show_header=False)
    table.add_column("metric")
    table.add_column("value", justify="right")
    table.add_row("latency", f"{summary['latency_s'] * 1e3:.4g} ms ({summary['total_cycles']:,} cycles)")
    table.add_row("throughput", f"{summary['throughput_ops_s'] / 1e12:.4g} TOPS of {peak_ops / 1e12:.4g} peak")
    table.add_row("utilization", f"{summary['utilization']:.1%}")
    table.add_row("MACs", f"{summary['macs']:,}")
    table.add_row("DRAM read / write", f"{format_quantity(summary['dram_read_bytes'], Dimension.BYTES)} / "
                  f"{format_quantity(summary['dram_write_bytes'], Dimension.BYTES)}")
    table.add_row("energy per inference", f"{summary['energy_j'] * 1e3:.4g} mJ")
    for component, joules in summary["energy_breakdown_j"].items():
        share = joules / summary["energy_j"] if summary["energy_j"] else 0.0
        table.add_row(f"  {component}", f"{joules * 1e6:.4g} µJ ({share:.0%})")
    table.add_row("average power", f"{summary['power_w']:.4g} W")
    table.add_row("area", f"{summary['area_mm2']:.4g} mm²")
    return table
