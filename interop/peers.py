"""Throwaway virtual environments for the peer tools the benchmarks run beside Tessera.

Peers (SCALE-Sim, ZigZag) pin their own numpy and friends, so each gets its own venv under
TESSERA_PEERS_VENV (default /tmp/peers-venv), outside the repository and never in Tessera's
environment. Installing uses pip from PyPI by package name only.

`timed_process` and `tessera_cli` time whole processes, a peer's or `python -m tessera`'s, as
a user runs them: interpreter start, imports and the run.
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import venv
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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


@dataclass(frozen=True)
class ProcessTime:
    """Wall and CPU seconds (user + system, of the process and its children) of a whole process."""

    wall_s: float
    cpu_s: float


def timed_process(argv: Sequence[str], **kwargs: Any) -> tuple[subprocess.CompletedProcess, ProcessTime]:
    """Run `argv` to completion (output captured as text); its wall time and the CPU time it and
    its children used. `kwargs` go to `subprocess.run` (cwd, env)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(list(argv), capture_output=True, text=True, check=False, **kwargs)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return done, ProcessTime(wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime))


def tessera_cli(chip: Path, model: str, repeats: int) -> tuple[ProcessTime, dict[str, Any]]:
    """Median wall and CPU time of `repeats` fresh `python -m tessera simulate --accel CHIP
    --model MODEL` processes (this interpreter, this checkout), and the `--json` document of the last."""
    root = Path(__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONPATH": str(root)}
    times = []
    with tempfile.TemporaryDirectory(prefix="tessera-cli-") as tmp:
        out = Path(tmp) / "result.json"
        argv = [sys.executable, "-m", "tessera", "simulate", "--accel", str(chip), "--model", model, "--json", str(out)]
        for _ in range(repeats):
            done, process = timed_process(argv, cwd=root, env=env)
            if done.returncode != 0:
                raise RuntimeError(f"tessera simulate failed:\n{done.stderr[-3000:]}")
            times.append(process)
        document = json.loads(out.read_text())
    return ProcessTime(statistics.median(t.wall_s for t in times), statistics.median(t.cpu_s for t in times)), document
