"""`tessera import-scalesim CONFIG.cfg [-o chip.yaml]`: a SCALE-Sim config as a Tessera chip file."""

from __future__ import annotations

import argparse
from pathlib import Path

from tessera.errors import InputError, Problem


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "import-scalesim",
        help="turn a SCALE-Sim config (.cfg) into a commented Tessera chip YAML",
        description="Map a SCALE-Sim config's array, SRAMs, dataflow and bandwidth to a Tessera "
        "chip file. Comments in the file say what was mapped and which defaults fill what "
        "SCALE-Sim does not describe (clock, process node, DRAM type, vector unit).",
    )
    parser.add_argument("config", help="SCALE-Sim config file (.cfg)")
    parser.add_argument("-o", "--output", metavar="FILE", help="write the chip YAML here (default: stdout)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from accel_spec import load_accelerator_text
    from accel_spec.scalesim_import import chip_yaml, read_scalesim_config

    text = chip_yaml(read_scalesim_config(args.config), args.config)
    load_accelerator_text(text, args.config)
    if args.output is None:
        print(text, end="")
        return 0
    target = Path(args.output)
    if target.is_dir():
        raise InputError(args.output, Problem("", "is a directory; expected a file path for the chip YAML"))
    try:
        target.write_text(text, encoding="utf-8")
    except OSError as error:
        raise InputError(args.output, Problem("", f"cannot write: {error.strerror}")) from None
    print(f"wrote {args.output}")
    return 0
