"""The `tessera` command: parse arguments, dispatch to one command module, map errors to exit codes.

Exit codes (docs/results.md): 0 success; 2 bad input, with a message naming the
file, the field or node, and what is wrong; 1 only for internal errors.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from tessera.commands import COMMANDS
from tessera.errors import InputError

EXIT_OK = 0
EXIT_INTERNAL = 1
EXIT_BAD_INPUT = 2


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with one sub-command per module in `tessera.commands`."""
    parser = argparse.ArgumentParser(
        prog="tessera",
        description="Co-design explorer for deep-learning accelerators.",
    )
    parser.add_argument("--version", action=_Version, nargs=0, help="show program's version number and exit")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in COMMANDS:
        command.register(subparsers)
    return parser


class _Version(argparse.Action):
    """argparse's `version` action, reading `tessera.__version__` only when it is asked for."""

    def __call__(self, parser: argparse.ArgumentParser, *args: object) -> None:
        import tessera

        print(f"tessera {tessera.__version__}")
        parser.exit()


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the process exit code."""
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except InputError as error:
        print(f"tessera: error: {error.render()}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("tessera: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
