"""Tearing a local pool down after an interrupt prints no traceback from CPython 3.11's race
between `map` cancelling a future and the pool's manager thread failing it
(`explorer.executors._quiet_cancelled_race`), and hides nothing else."""

from __future__ import annotations

import threading
from concurrent.futures import Future, InvalidStateError
from types import SimpleNamespace

import pytest

from explorer.executors import _quiet_cancelled_race


def _fail_cancelled_future() -> None:
    """What the manager thread's `terminate_broken` does to a future `map` cancelled."""
    future = Future()
    future.cancel()
    future.set_exception(RuntimeError("a worker died"))


def _raise_other() -> None:
    raise ValueError("a real failure")


@pytest.mark.parametrize(("target", "manager", "reported"), [
    (_fail_cancelled_future, True, []),
    (_fail_cancelled_future, False, [InvalidStateError]),
    (_raise_other, True, [ValueError]),
])  # fmt: skip
def test_only_the_managers_cancelled_race_is_silenced(monkeypatch, target, manager: bool, reported: list) -> None:
    seen: list[type] = []
    monkeypatch.setattr(threading, "excepthook", lambda args: seen.append(args.exc_type))
    thread = threading.Thread(target=target)
    pool = SimpleNamespace(_executor_manager_thread=thread if manager else None)
    with _quiet_cancelled_race(pool):
        thread.start()
        thread.join()
    assert seen == reported
    assert threading.excepthook is not None and threading.excepthook.__name__ == "<lambda>"
