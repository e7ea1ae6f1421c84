"""Throwaway virtual environments for the peer tools the benchmarks run beside Tessera.

Peers (SCALE-Sim, ZigZag) pin their own numpy and friends, so each gets its own venv under
TESSERA_PEERS_VENV (default /tmp/peers-venv), outside the repository and never in Tessera's
environment. Installing uses pip from PyPI by package name only.
"""

from __future__ import annotations

import os
import subprocess
import sys
import venv
from collections.abc import Sequence
from pathlib import Path

PEERS_ROOT = Path(os.environ.get("TESSERA_PEERS_VENV", "/tmp/peers-venv"))


def peer_python(name: str, requirements: Sequence[str], probe_module: str) -> Path:
    """The python of the venv `PEERS_ROOT/name`, created and filled with `requirements` if
    `probe_module` does not import there yet."""
    home = PEERS_ROOT / name
    python = home / "bin" / "python"
    if python.exists() and _imports(python, probe_module):
        return python
    print(f"installing {' '.join(requirements)} into {home} ...", file=sys.stderr)
    venv.create(home, with_pip=True, clear=python.exists())
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", *requirements], check=True)
    if not _imports(python, probe_module):
        raise RuntimeError(f"{probe_module} does not import in {home} after installing {requirements}")
    return python


def _imports(python: Path, module: str) -> bool:
    done = subprocess.run([str(python), "-c", f"import {module}"], capture_output=True, check=False)
    return done.returncode == 0
