"""Build and render a report's figures on every core.

Rendering dominates a report's time (each figure is drawn once per format), and figures are
independent, so they are built and rendered in worker processes, the most expensive first
(`FigureSpec.cost`). The workers are forked: they inherit the figure builders (closures over
the sweep's data, which need not be picklable) and send back only bytes, so the files are
byte-identical to a serial rendering. Where fork is unavailable, or there is one core or one
figure, everything runs in this process.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import TYPE_CHECKING

from reports.style import Format, render_formats

if TYPE_CHECKING:
    from reports.report import FigureSpec

_specs: Sequence[FigureSpec] = ()
"""The specs of the report being rendered, in a worker process (set by `_start_worker`)."""


def _start_worker(specs: Sequence[FigureSpec]) -> None:
    global _specs
    _specs = specs


def _render(index: int, formats: tuple[Format, ...]) -> dict[Format, bytes]:
    return render_formats(_specs[index].build(), formats)


def render_all(specs: Sequence[FigureSpec], formats: tuple[Format, ...]) -> list[dict[Format, bytes]]:
    """Each spec's figure rendered in `formats`, in spec order."""
    workers = min(len(specs), os.cpu_count() or 1)
    if workers <= 1 or "fork" not in multiprocessing.get_all_start_methods():
        return [render_formats(spec.build(), formats) for spec in specs]
    order = sorted(range(len(specs)), key=lambda i: -specs[i].cost)
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(workers, mp_context=context, initializer=_start_worker, initargs=(specs,)) as pool:
        futures = {index: pool.submit(_render, index, formats) for index in order}
        return [futures[index].result() for index in range(len(specs))]
