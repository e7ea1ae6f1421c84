"""Run many `tessera` command lines in one process: JSON list of argv on stdin, results on stdout.

Each command line goes through `tessera.cli.main`, exactly what the `tessera` script runs,
with its own captured stdout and stderr. What the interpreter would do after `main` is
reproduced: `SystemExit` (argparse errors) gives its code, and an exception escaping `main`
prints its traceback to stderr with exit code 1. Paying the import time once per process
instead of once per case keeps a corpus of 150 cases to seconds.
"""

from __future__ import annotations

import contextlib
import io
import json
import sys
import traceback

from tessera.cli import main


def run_one(argv: list[str]) -> dict[str, object]:
    """Exit code, stdout and stderr of `tessera ARGV...`."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(argv)
        except SystemExit as exit_:
            code = exit_.code if isinstance(exit_.code, int) else 1
        except BaseException:  # noqa: BLE001 - reported exactly as the interpreter would
            traceback.print_exc()
            code = 1
    return {"returncode": code, "stdout": out.getvalue(), "stderr": err.getvalue()}


if __name__ == "__main__":
    json.dump([run_one(argv) for argv in json.load(sys.stdin)], sys.stdout)
