"""Write a report: every figure in the requested formats, and one self-contained HTML page.

Figures are built and rendered in worker processes (`reports.rendering`), each laid out once
for all its formats, and only their bytes are kept. The HTML page always embeds PNG
renderings; when PNG is also a requested format the same bytes are written to disk (one
rendering, not two).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from matplotlib.figure import Figure

from reports.html import EmbeddedFigure, document
from reports.rendering import render_all
from reports.style import Format
from tessera.errors import InputError, Problem

HTML_NAME = "report.html"


@dataclass(frozen=True)
class FigureSpec:
    """A figure to draw: its file stem, title, caption and a function that builds it."""

    stem: str
    title: str
    caption: str
    build: Callable[[], Figure]
    cost: float = 1.0
    """Relative rendering time (panels drawn), so that the most expensive figures start first."""


@dataclass(frozen=True)
class Report:
    """What a report wrote: the HTML page, every figure file, and the figure stems in order."""

    html: Path
    files: tuple[Path, ...]
    figures: tuple[str, ...]


def prepare_folder(out_dir: str | Path, option: str = "--out") -> Path:
    """Create the output folder; InputError naming the command-line `option` when it cannot be."""
    folder = Path(out_dir)
    if folder.exists() and not folder.is_dir():
        raise InputError(str(folder), Problem(option, "exists and is not a folder"))
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise InputError(str(folder), Problem(option, f"cannot create: {error.strerror}")) from None
    return folder


def write_report(
    folder: Path,
    title: str,
    specs: Iterable[FigureSpec],
    formats: Sequence[Format],
    sections: Sequence[tuple[str, str]],
    tables: Sequence[tuple[str, str]],
    reproducibility: Sequence[tuple[str, object]],
) -> Report:
    """Build each figure, write it in `formats`, and write the HTML page embedding all of them.

    `sections` go above the figures and `tables` below them (see `reports.html.document`).
    """
    files: list[Path] = []
    embedded: list[EmbeddedFigure] = []
    specs = list(specs)
    for spec, rendered in zip(specs, render_all(specs, (Format.PNG, *formats))):
        for fmt in formats:
            path = folder / f"{spec.stem}.{fmt.value}"
            path.write_bytes(rendered[fmt])
            files.append(path)
        embedded.append(EmbeddedFigure(spec.stem, spec.title, spec.caption, rendered[Format.PNG]))
    page = folder / HTML_NAME
    page.write_text(document(title, sections, embedded, tables, reproducibility), encoding="utf-8")
    return Report(page, tuple(files), tuple(f.anchor for f in embedded))
