"""Run a local pool's `map` again and again, each time raising a stop signal's exception at the
next line the main thread runs inside the pool's calls, and check that every run stops.

A signal's handler runs between two bytecodes wherever the main thread is; emulating it at
every line event of `concurrent.futures`, `threading` and the executor's own calls (by calling
the installed SIGINT handler from a trace function, as CPython's eval loop does) reaches the
windows between a lock's acquire and its release that a real Ctrl-C hits only rarely
(`explorer.safe_points`). Run as a script by `test_safe_points.py`, in its own process, so
a run that hangs is a timeout there rather than a hung test session:

    python tests/unit/interrupt_everywhere.py FIRST_LINE STRIDE SCRATCH_SWEEP_YAML

prints one line per run and `stopped at each of N lines` at the end, N the lines the map runs
there; a run that ends otherwise than with the injected interrupt fails with its traceback.
"""

from __future__ import annotations

import contextlib
import itertools
import signal
import sys
from collections.abc import Iterator
from pathlib import Path
from types import FrameType
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
WATCHED = ("concurrent/futures/", "/threading.py", "/explorer/executors.py", "/explorer/safe_points.py")


class Injected(KeyboardInterrupt):
    """What the emulated Ctrl-C raises."""


def raise_injected(signum: int, frame: FrameType | None) -> None:
    """A SIGINT handler for the runs here."""
    raise Injected


@contextlib.contextmanager
def interrupt_at_line(number: int, watched: tuple[str, ...]) -> Iterator[list[int]]:
    """Within the block, call the installed SIGINT handler (as CPython's eval loop does for a
    signal) at the main thread's `number`-th line event inside files whose path contains one of
    `watched`; the yielded list gets `number` when that happened."""
    counter = itertools.count()
    fired: list[int] = []

    def each_line(frame: FrameType, event: str, arg: object) -> Any:
        if event == "line" and not fired and next(counter) == number:
            fired.append(number)
            signal.getsignal(signal.SIGINT)(signal.SIGINT, frame)
        return each_line

    sys.settrace(lambda frame, event, arg: each_line if any(part in frame.f_code.co_filename for part in watched) else None)
    try:
        yield fired
    finally:
        sys.settrace(None)


def stop_pool_at_line(number: int, points: list[Any]) -> bool:
    """Map the fake evaluator over `points` on two workers with a Ctrl-C at watched line
    `number`; True when the interrupt fired and the pool stopped, False when the map finished
    before that line."""
    from explorer.executors import LocalExecutor
    from explorer.fake_evaluator import FakeEvaluator

    fired: list[int] = []
    try:
        with LocalExecutor(2) as pool:
            results = pool.map(FakeEvaluator(delay_s=0.002), points)
            with interrupt_at_line(number, WATCHED) as fired:
                for _ in results:
                    pass
    except Injected:
        return True
    assert not fired, f"line {number}: the interrupt fired but the map did not raise it"
    return False


def _points() -> list[Any]:
    from explorer.space import DesignSpace
    from explorer.spec_loader import load_sweep

    sweep = Path(sys.argv[3])
    sweep.write_text(f"base: {ROOT / 'examples/accelerators/tiny.yaml'}\nobjectives: [latency]\n"
                     "hardware:\n  matrix.rows: [2, 4]\nmodels: ['gemm:m=16,k=16,n=16']\n")
    space = DesignSpace(load_sweep(sweep))
    return [space.point((row,) + (0,) * (len(space.axes) - 1)) for row in range(2)]


def main() -> int:
    first, stride = int(sys.argv[1]), int(sys.argv[2])
    signal.signal(signal.SIGINT, raise_injected)
    points = _points()
    stopped = 0
    for number in itertools.count(first, stride):
        if not stop_pool_at_line(number, points):
            break
        stopped += 1
        print(f"line {number}: stopped", flush=True)
    print(f"stopped at each of {stopped} lines", flush=True)
    return 0


if __name__ == "__main__":  # the pool's workers import this module too (the fork server preloads __main__)
    sys.path.insert(0, str(ROOT))
    sys.exit(main())
