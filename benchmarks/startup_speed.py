"""Start-up of the `tessera` command against a bare interpreter, each in a fresh process.

Runs, interleaved round by round so that a busy machine slows every row alike: a bare
`python -c pass`, `tessera --help`, `tessera models`, and a warm `tessera simulate` of
ResNet-50 (the Numba on-disk cache filled by one run before timing). Prints per command the
median wall time, the time over the bare interpreter, its ratio to it, the CPU time over the
bare interpreter's (what a loaded machine inflates least), and the target (wall time over
bare): 0.3 s for --help and models, 1.5 s for the ResNet-50 simulation. The caption gives the
load average before and after the timed rounds and the number of CPUs, so that a table
measured on a busy machine says so.

Every command runs with its bytecode cached, as an installed tessera has it. Where the
environment sets PYTHONDONTWRITEBYTECODE (containers and CI images often do), Python would
compile the repository's modules again in every process (about 0.2 s of a simulation), so
the commands write their bytecode under benchmarks/.cache/pycache instead.

    python benchmarks/startup_speed.py [--repeats 7] [--chip examples/accelerators/gemmini.yaml]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
from pathlib import Path

from rich.console import Console
from rich.table import Table

from interop.peers import timed_process

REPO = Path(__file__).resolve().parents[1]
PYCACHE = REPO / "benchmarks" / ".cache" / "pycache"


def commands(chip: str) -> dict[str, tuple[list[str], float | None]]:
    """Label -> (argv, target seconds over the bare interpreter)."""
    tessera = [sys.executable, "-m", "tessera"]
    return {
        "python -c pass": ([sys.executable, "-c", "pass"], None),
        "tessera --help": ([*tessera, "--help"], 0.3),
        "tessera models": ([*tessera, "models"], 0.3),
        "tessera simulate resnet50": ([*tessera, "simulate", "--accel", chip, "--model", "resnet50"], 1.5),
    }


def environment() -> dict[str, str]:
    """The commands' environment: this one, with bytecode written where it is not."""
    env = dict(os.environ)
    if env.pop("PYTHONDONTWRITEBYTECODE", ""):
        env.setdefault("PYTHONPYCACHEPREFIX", str(PYCACHE))
    return env


def seconds(argv: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall time and CPU time (user + system) of one fresh process (`interop.peers.timed_process`)."""
    done, spent = timed_process(argv, cwd=REPO, env=env)
    done.check_returncode()
    return spent.wall_s, spent.cpu_s


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--chip", default=str(REPO / "examples" / "accelerators" / "gemmini.yaml"))
    args = parser.parse_args()
    runs = commands(args.chip)
    env = environment()
    for argv, _ in runs.values():
        seconds(argv, env)  # warm: page cache, bytecode, Numba's on-disk cache
    samples: dict[str, list[tuple[float, float]]] = {label: [] for label in runs}
    load_before = os.getloadavg()[0]
    for _ in range(args.repeats):
        for label, (argv, _) in runs.items():
            samples[label].append(seconds(argv, env))
    load_after = os.getloadavg()[0]
    bare = statistics.median(wall for wall, _ in samples["python -c pass"])
    bare_cpu = statistics.median(cpu for _, cpu in samples["python -c pass"])
    table = Table(
        title=f"tessera start-up, median of {args.repeats} fresh processes (chip {Path(args.chip).name})",
        caption=f"load average {load_before:.2f} before, {load_after:.2f} after, on {os.cpu_count()} CPUs",
    )
    for column in ("command", "median (s)", "over bare (s)", "× bare", "CPU over bare (s)", "target over bare (s)", ""):
        table.add_column(column, justify="left" if column == "command" else "right")
    for label, (_, target) in runs.items():
        median = statistics.median(wall for wall, _ in samples[label])
        cpu = statistics.median(cpu for _, cpu in samples[label])
        over = median - bare
        verdict = "" if target is None else ("ok" if over <= target else "SLOW")
        table.add_row(label, f"{median:.3f}", f"{over:.3f}", f"{median / bare:.1f}", f"{cpu - bare_cpu:.3f}",
                      "" if target is None else f"{target:.1f}", verdict)
    Console(width=120).print(table)


if __name__ == "__main__":
    main()
