"""`tessera sweep SWEEP.yaml --out DIR`: run (or resume) a co-design sweep and print its Pareto front."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tessera.commands._common import EnumChoices, console, positive_int
from tessera.commands._interrupts import Interrupted, stop_on_signals
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
        choices=EnumChoices("explorer.executor_kind", "ExecutorKind"),
        default="local",
        metavar="KIND",
        help="%(choices)s: local processes (default), a Dask cluster, or serial in this process",
    )
    parser.add_argument("--scheduler-address", metavar="ADDR", help="existing Dask scheduler, e.g. tcp://host:8786")
    parser.add_argument("--force-new", action="store_true", help="discard the results in DIR and start over")
    parser.add_argument("--retry-errors", action="store_true",
                        help="when resuming, evaluate again the points that failed (kept as they are otherwise)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar and no front table")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from explorer.executor_kind import ExecutorKind

    executor = ExecutorKind(args.executor)
    if args.scheduler_address and executor is not ExecutorKind.DASK:
        raise InputError("--scheduler-address", Problem("", "needs --executor dask"))
    if executor is ExecutorKind.LOCAL:  # first: the server's imports overlap those below
        from explorer.fork_server import start_fork_server

        start_fork_server()
    from explorer import execute_sweep, load_sweep
    from explorer.store import JOURNAL_NAME
    from explorer.summary import closing_lines, every_point_failed, front_table
    try:
        with stop_on_signals():
            spec = load_sweep(args.sweep)
            result = execute_sweep(
                spec,
                args.out,
                workers=args.workers,
                executor=executor,
                scheduler_address=args.scheduler_address,
                force_new=args.force_new,
                retry_errors=args.retry_errors,
                console=None if args.quiet else console,
                notify=_note,
            )
    except Interrupted as stop:
        saved = (f"the finished points are journaled in {args.out}: rerun the same command to resume"
                 if Path(args.out, JOURNAL_NAME).exists() else "no point had finished")
        print(f"tessera: interrupted by {stop}: the workers are stopped; {saved}", file=sys.stderr)
        return stop.exit_code
    if not args.quiet:
        console.print(front_table(result))
    for line in closing_lines(result):
        console.print(line)
    failed = every_point_failed(result)
    if failed is not None:
        print(f"tessera: error: {failed}", file=sys.stderr)
        return 1
    return 0


def _note(text: str) -> None:
    print(f"tessera: note: {text}", file=sys.stderr)
