"""Stop signals reach a sweep only at safe points (`explorer.safe_points`): a handler runs at once,
its exception is raised as the deferred block ends, and a local pool stops whichever line of
its calls a Ctrl-C lands on."""

from __future__ import annotations

import io
import itertools
import os
import re
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from explorer.safe_points import result_polled, signals_deferred, wait_polled
from interrupt_everywhere import interrupt_at_line

HERE = Path(__file__).resolve().parent


class Stop(KeyboardInterrupt):
    pass


@pytest.fixture
def raising_handler():
    """SIGINT and SIGTERM handlers that record each call and raise `Stop`, restored afterwards."""
    calls: list[int] = []

    def handler(signum: int, frame: object) -> None:
        calls.append(signum)
        raise Stop(signum)

    previous = {signum: signal.signal(signum, handler) for signum in (signal.SIGINT, signal.SIGTERM)}
    yield calls
    for signum, old in previous.items():
        signal.signal(signum, old)


def test_a_signal_in_the_block_runs_its_handler_at_once_and_raises_at_the_end(raising_handler) -> None:
    reached: list[str] = []
    with pytest.raises(Stop) as raised, signals_deferred():
        signal.raise_signal(signal.SIGINT)
        reached.append("handled" if raising_handler == [signal.SIGINT] else "not yet")
        signal.raise_signal(signal.SIGTERM)
        reached.append("end of block")
    assert reached == ["handled", "end of block"] and raising_handler == [signal.SIGINT, signal.SIGTERM]
    assert raised.value.args == (signal.SIGINT,)  # the first signal's exception
    with pytest.raises(Stop):  # the handlers are back: a signal now raises where it lands
        signal.raise_signal(signal.SIGINT)
        reached.append("after")
    assert reached[-1] == "end of block"


def test_nested_blocks_raise_at_the_outer_end_and_the_blocks_own_error_is_kept_as_context(raising_handler) -> None:
    reached: list[str] = []
    with pytest.raises(Stop) as raised, signals_deferred():
        with signals_deferred():
            signal.raise_signal(signal.SIGINT)
        reached.append("after the inner block")
        raise ValueError("the block's own failure")
    assert reached == ["after the inner block"] and isinstance(raised.value.__context__, ValueError)


def test_outside_the_main_thread_nothing_changes(raising_handler) -> None:
    seen: list[object] = []

    def in_a_thread() -> None:
        with signals_deferred():
            seen.append(signal.getsignal(signal.SIGINT))

    thread = threading.Thread(target=in_a_thread)
    thread.start()
    thread.join()
    assert seen == [signal.getsignal(signal.SIGINT)]


def test_a_signal_while_polling_stops_the_wait_within_the_poll(raising_handler) -> None:
    from concurrent.futures import Future

    never = Future()
    timer = threading.Timer(0.05, os.kill, (os.getpid(), signal.SIGINT))
    timer.start()
    with pytest.raises(Stop):
        wait_polled([never], first=True)
    timer.join()
    done = Future()
    done.set_result(7)
    assert result_polled(done) == 7 and wait_polled([done, never], first=True) == ({done}, {never})


def test_a_ctrl_c_at_every_line_of_a_local_pools_calls_stops_the_pool(tmp_path: Path) -> None:
    """`interrupt_everywhere.py` (see there) in its own process: a run that hangs is a timeout."""
    process = subprocess.Popen(
        [sys.executable, str(HERE / "interrupt_everywhere.py"), "0", "1", str(tmp_path / "sweep.yaml")],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True,
    )
    try:
        output, _ = process.communicate(timeout=180)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        output, _ = process.communicate()
        pytest.fail("a run did not stop; the last lines:\n" + "\n".join(output.splitlines()[-20:]))
    assert process.returncode == 0, output[-4000:]
    stopped = re.search(r"^stopped at each of (\d+) lines$", output, re.MULTILINE)
    assert stopped and int(stopped[1]) >= 300, output[-2000:]  # 591 on CPython 3.11


def test_a_ctrl_c_at_every_line_of_a_progress_update_leaves_the_bar_stoppable(raising_handler) -> None:
    """rich redraws the bar from its own thread under a lock that `advance` takes too."""
    from rich.console import Console

    from explorer.progress import SweepProgress

    rows = [{"status": "error", "constraints_ok": False}]
    for number in itertools.count():
        progress = SweepProgress(10, (), Console(file=io.StringIO(), force_terminal=True, width=100))
        progress.__enter__()
        raised = False
        try:
            with interrupt_at_line(number, ("/rich/", "/explorer/progress.py", "/threading.py")) as fired:
                progress.advance(rows)
        except Stop:
            raised = True
        assert raised == bool(fired), f"line {number}: the interrupt fired but the update did not raise it"
        stopper = threading.Thread(target=progress.__exit__, args=(None, None, None), daemon=True)
        stopper.start()
        stopper.join(timeout=10)
        assert not stopper.is_alive(), f"a Ctrl-C at line {number} of an update left the bar unable to stop"
        if not fired:
            break
    assert number >= 20  # the update ran that many lines (46 with rich 15), each interrupted once
