"""`tessera check-spec FILE`: validate a chip description and print its derived quantities."""

from __future__ import annotations

import argparse
import json

from tessera.commands._common import console
from tessera.errors import InputError


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "check-spec",
        help="validate an accelerator YAML and print its derived quantities",
        description="Validate an accelerator YAML file: every problem is listed with its YAML "
        "path and line. With --schema, print the JSON Schema of chip files instead.",
    )
    parser.add_argument("file", nargs="?", help="accelerator YAML file")
    parser.add_argument("--schema", action="store_true", help="print the JSON Schema of chip files")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from accel_spec import accelerator_json_schema, load_accelerator
    from accel_spec.report import derived_table

    if args.schema:
        print(json.dumps(accelerator_json_schema(), indent=2))
        return 0
    if args.file is None:
        raise InputError("check-spec", "give a chip file (tessera check-spec FILE) or --schema")
    accel = load_accelerator(args.file)
    console.print(f"[bold]{accel.name}[/bold]: {args.file} is valid")
    console.print(derived_table(accel))
    return 0
