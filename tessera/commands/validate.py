"""`tessera validate`: Tessera against the committed reference figures (SCALE-Sim, Eyeriss silicon).

Exit codes: 0 when every comparison is within its tolerance; 3 when at least one is not (a
result, not an internal error, so not 1); 2 for bad arguments, as every command.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from tessera.commands._common import EnumChoices, console, write_json

EXIT_OUT_OF_TOLERANCE = 3


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "validate",
        help="compare Tessera with SCALE-Sim runs and published silicon figures",
        description="Run the validation suite: every reference figure in validation/ beside "
        "Tessera's prediction, its relative error and its tolerance. Exit 0 when all are within "
        f"tolerance, {EXIT_OUT_OF_TOLERANCE} otherwise.",
    )
    parser.add_argument(
        "--suite",
        action="append",
        choices=EnumChoices("interop.validation", "Suite"),
        metavar="SUITE",
        help="run only this suite: %(choices)s (repeatable; default: all)",
    )
    parser.add_argument(
        "--data",
        metavar="DIR",
        type=Path,
        help="directory of reference data files (default: the validation/ folder shipped with Tessera)",
    )
    parser.add_argument("--json", metavar="FILE", help="also write every comparison as JSON")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from rich.table import Table

    from interop.validation import VALIDATION_DIR, Suite, run_validation

    suites = [Suite(name) for name in args.suite] if args.suite else list(Suite)
    comparisons = run_validation(suites, args.data or VALIDATION_DIR)
    table = Table(title="Tessera validation")
    for column in ("suite", "case", "quantity", "reference", "Tessera", "error", "tolerance", ""):
        table.add_column(column, justify="left" if column in ("suite", "case", "quantity") else "right")
    for item in comparisons:
        table.add_row(
            item.suite.value,
            item.case,
            item.quantity,
            _number(item.reference),
            _number(item.tessera),
            f"{item.error:+.2%}",
            item.describe_tolerance(),
            "ok" if item.ok else "[red]FAIL[/red]",
        )
    console.print(table)
    failed = [item for item in comparisons if not item.ok]
    console.print(f"{len(comparisons) - len(failed)} of {len(comparisons)} comparisons within tolerance")
    if args.json:
        write_json(args.json, [item.to_json() for item in comparisons])
    return EXIT_OUT_OF_TOLERANCE if failed else 0


def _number(value: float) -> str:
    """Whole counts with thousands separators, other figures to four significant digits."""
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:.4g}"
