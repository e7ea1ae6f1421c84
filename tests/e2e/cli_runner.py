"""Run the real `tessera` command line in a subprocess, as a user would."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples" / "accelerators"


@dataclass(frozen=True)
class Completed:
    returncode: int
    stdout: str
    stderr: str


def tessera(*args: str, cwd: Path = REPO, timeout: float = 120) -> Completed:
    """Run `python -m tessera ARGS...`; never raises on a non-zero exit."""
    process = subprocess.run(
        [sys.executable, "-m", "tessera", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    return Completed(process.returncode, process.stdout, process.stderr)


def assert_bad_input(result: Completed, *fragments: str) -> None:
    """Exit code 2, no traceback, and every fragment (file, field, reason) in the message."""
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr, result.stderr
    for fragment in fragments:
        assert fragment in result.stderr, (fragment, result.stderr)
