"""`tessera models`: list the zoo's networks and each builder's parameters."""

from __future__ import annotations

import argparse

from tessera.commands._common import console


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("models", help="list the model zoo and its parameters")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from compiler.zoo import models_table

    console.print(models_table())
    return 0
