"""`tessera sweep SWEEP.yaml --out DIR`: run (or resume) a co-design sweep and print its Pareto front."""

from __future__ import annotations

import argparse

from tessera.commands._common import EnumChoices, console, positive_int
from tessera.errors import InputError, Problem


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "sweep",
        help="sweep chip parameters, model variants and schedules; write results and the Pareto front",
        description="Run the sweep described by SWEEP.yaml, writing results.parquet, pareto.csv and "
        "manifest.json to DIR. Rerunning on the same DIR resumes an interrupted sweep.",
    )
    parser.add_argument("sweep", metavar="SWEEP.yaml", help="sweep file")
    parser.add_argument("--out", required=True, metavar="DIR", help="output folder (created, or resumed)")
    parser.add_argument("--workers", type=positive_int, help="worker processes (default: all cores)")
    parser.add_argument(
        "--executor",
        choices=EnumChoices("explorer.executors", "ExecutorKind"),
        default="local",
        metavar="KIND",
        help="%(choices)s: local processes (default), a Dask cluster, or serial in this process",
    )
    parser.add_argument("--scheduler-address", metavar="ADDR", help="existing Dask scheduler, e.g. tcp://host:8786")
    parser.add_argument("--force-new", action="store_true", help="discard the results in DIR and start over")
    parser.add_argument("--quiet", action="store_true", help="no progress bar and no front table")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from explorer import ExecutorKind, execute_sweep, load_sweep
    from explorer.summary import closing_lines, front_table

    executor = ExecutorKind(args.executor)
    if args.scheduler_address and executor is not ExecutorKind.DASK:
        raise InputError("--scheduler-address", Problem("", "needs --executor dask"))
    spec = load_sweep(args.sweep)
    result = execute_sweep(
        spec,
        args.out,
        workers=args.workers,
        executor=executor,
        scheduler_address=args.scheduler_address,
        force_new=args.force_new,
        console=None if args.quiet else console,
    )
    if not args.quiet:
        console.print(front_table(result))
    for line in closing_lines(result):
        console.print(line)
    return 0
