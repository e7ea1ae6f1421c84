"""`tessera report DIR [--out DIR] [--format pdf,svg,png] [--color-by PARAM]`: figures and HTML of a sweep."""

from __future__ import annotations

import argparse

from tessera.commands._common import console


def _formats(text: str):
    """argparse type: a comma-separated list of figure formats."""
    from reports.style import parse_formats

    try:
        return parse_formats(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "report",
        help="figures (Pareto, sensitivity, cost model) and a self-contained HTML report of a sweep",
        description="Read the sweep folder DIR (written by `tessera sweep --out DIR`) and write its figures "
        "in each --format plus report.html, one self-contained page.",
    )
    parser.add_argument("folder", metavar="DIR", help="sweep output folder")
    parser.add_argument("--out", metavar="DIR", help="where to write the report (default: DIR/report)")
    parser.add_argument("--format", type=_formats, default="pdf,svg,png", metavar="pdf,svg,png",
                        help="figure formats, comma-separated (default pdf,svg,png)")
    parser.add_argument("--color-by", metavar="PARAM",
                        help="swept parameter that colours the points (default: the model variant)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from reports.sweep_report import sweep_report

    report = sweep_report(args.folder, args.out, args.format, args.color_by)
    console.print(f"{len(report.figures)} figures, {len(report.files)} files in {report.html.parent}")
    console.print(f"report: {report.html}")
    return 0
