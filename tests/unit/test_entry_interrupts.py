"""`tessera.__main__.entry`: Ctrl-C exits 130 with one line, even when a library turns the
KeyboardInterrupt into its own error (pydantic-core reports one raised while it builds a
model's validator, as `tessera sweep` imports its modules, as a SchemaError)."""

from __future__ import annotations

import os
import signal
import time

import pytest

import tessera.__main__ as entry_module
import tessera.cli


@pytest.fixture
def restored_sigint():
    previous = signal.getsignal(signal.SIGINT)
    yield
    signal.signal(signal.SIGINT, previous)


def _interrupted_then(error: type[Exception]):
    def main() -> int:
        try:
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(5)  # the handler raises KeyboardInterrupt here
        except KeyboardInterrupt:
            raise error("KeyboardInterrupt: ") from None
        return 0

    return main


def test_an_interrupt_a_library_reports_as_its_own_error_still_exits_130(monkeypatch, capsys, restored_sigint) -> None:
    monkeypatch.setattr(tessera.cli, "main", _interrupted_then(RuntimeError))
    assert entry_module.entry() == 130
    assert capsys.readouterr().err == "tessera: interrupted\n"


def test_an_error_without_an_interrupt_is_not_taken_for_one(monkeypatch, restored_sigint) -> None:
    def main() -> int:
        raise RuntimeError("a bug")

    monkeypatch.setattr(tessera.cli, "main", main)
    with pytest.raises(RuntimeError, match="a bug"):
        entry_module.entry()
