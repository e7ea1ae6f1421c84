"""`python -m tessera` is the same as the `tessera` command, whose entry point is `entry`."""

import os
import signal
import sys


def entry() -> int:
    """Run the command line, with Ctrl-C handled from the first instant.

    The first Ctrl-C raises KeyboardInterrupt, so a command stops cleanly and exits 130 with
    one line, even while its modules are still importing (the first second or two); a second
    one exits at once. `tessera sweep` refines this for its workers (`commands._interrupts`).
    """
    signal.signal(signal.SIGINT, _first_interrupt)
    try:
        from tessera.cli import main

        return main()
    except KeyboardInterrupt:
        print("tessera: interrupted", file=sys.stderr)
        return 130
    except Exception:
        if signal.getsignal(signal.SIGINT) is not _second_interrupt:
            raise
        # interrupted, and a library reported it as its own error: pydantic-core turns a
        # KeyboardInterrupt raised while it builds a model's validator (as a module defining
        # one is imported) into a SchemaError
        print("tessera: interrupted", file=sys.stderr)
        return 130


def _first_interrupt(signum: int, frame: object) -> None:
    signal.signal(signal.SIGINT, _second_interrupt)
    raise KeyboardInterrupt


def _second_interrupt(signum: int, frame: object) -> None:
    os.write(2, b"tessera: interrupted again: stopping now\n")
    os._exit(130)


if __name__ == "__main__":
    sys.exit(entry())
