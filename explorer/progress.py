"""Sweep progress on the terminal: points done, rate, ETA and the best value of each objective.

`SweepProgress` draws a rich progress bar; `NullProgress` is for `--quiet` and the Python
API. Both receive the same calls from the sweep loop. The bar is redrawn by rich's own thread
under locks the main thread takes too, so every call into it is made with stop signals
deferred (`explorer.safe_points`): a Ctrl-C inside an update would otherwise leave the lock
held and the bar's stop waiting for that thread forever.
"""

from __future__ import annotations

import math

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from explorer.objectives import Direction, Objective
from explorer.safe_points import signals_deferred
from explorer.table import Row
from reports.units import format_si


class NullProgress:
    """Reports nothing."""

    def __enter__(self) -> "NullProgress":
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def advance(self, rows: list[Row]) -> None:
        """Rows just resolved (evaluated now or replayed from the journal)."""


class SweepProgress(NullProgress):
    """A rich progress bar with the best feasible value of each objective so far."""

    def __init__(self, total: int, objectives: tuple[Objective, ...], console: Console) -> None:
        self._objectives = objectives
        self._best: dict[Objective, float] = {}
        self._progress = Progress(
            TextColumn("[bold]sweep"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[rate]}"),
            TimeElapsedColumn(),
            TextColumn("eta"),
            TimeRemainingColumn(),
            TextColumn("{task.fields[best]}"),
            console=console,
            transient=False,
        )
        self._task = self._progress.add_task("sweep", total=total, rate="", best="")

    def __enter__(self) -> "SweepProgress":
        with signals_deferred():
            self._progress.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        with signals_deferred():
            self._progress.__exit__(None, None, None)

    def advance(self, rows: list[Row]) -> None:
        for row in rows:
            if row["status"] != "ok" or not row["constraints_ok"]:
                continue
            for objective in self._objectives:
                value = objective.values(row)
                if not math.isfinite(value):
                    continue
                best = self._best.get(objective)
                minimize = objective.direction is Direction.MINIMIZE
                if best is None or (value < best if minimize else value > best):
                    self._best[objective] = value
        best = "  ".join(f"{o.value} {format_si(v, o.unit)}" for o, v in self._best.items())
        with signals_deferred():
            speed = self._progress.tasks[self._task].speed
            self._progress.update(
                self._task, advance=len(rows), rate=f"{speed:.1f} pt/s" if speed else "", best=f"best: {best}" if best else ""
            )
