"""`tessera inspect --model MODEL`: layers, shapes, GEMM views, MACs and bytes; no chip needed."""

from __future__ import annotations

import argparse

from tessera.commands._common import add_model_arguments, check_destination, console, precision, write_json


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("inspect", help="print a network's layers, MACs and bytes")
    add_model_arguments(parser)
    parser.add_argument(
        "--precision", type=precision, default="int8", help="operand precision for bytes (default int8)"
    )
    parser.add_argument("--json", metavar="FILE", help="also write the report as JSON")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from compiler.inspect_report import build_inspect_report, inspect_table
    from compiler.lowering import lower
    from compiler.models import load_model

    if args.json:
        check_destination(args.json, "--json")
    graph = load_model(args.model, batch=args.batch, input_shapes=dict(args.input_shape))
    report = build_inspect_report(graph, lower(graph))
    if args.json:
        write_json(args.json, report.to_json())
    console.print(inspect_table(report, args.precision))
    return 0
