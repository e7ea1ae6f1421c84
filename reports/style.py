"""The house style of every Tessera figure, and the one function that writes figures to disk.

One look for all figures: DejaVu Sans (shipped with matplotlib, so every machine renders the
same glyphs) at sizes readable in a two-column paper, the Okabe–Ito palette (distinguishable
under the common colour-vision deficiencies; Okabe & Ito, "Color Universal Design", 2008),
light grid, no top/right spines.

Output is deterministic so that figures can be diffed and committed: no dates in PDF or SVG
metadata, a fixed SVG id salt, fonts embedded (TrueType in PDF, glyphs as paths in SVG), and
the PNG "Software" tag removed. Figures are built as `matplotlib.figure.Figure` objects, never
through pyplot's global figure manager, so nothing leaks between figures or threads.
"""

from __future__ import annotations

import functools
import io
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from enum import Enum
from pathlib import Path
from typing import ParamSpec, TypeVar

import matplotlib

matplotlib.use("Agg")

from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402 - after selecting the backend
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.text import Text  # noqa: E402
from matplotlib.transforms import Bbox  # noqa: E402

P = ParamSpec("P")
R = TypeVar("R")

OKABE_ITO = (
    "#E69F00",  # orange
    "#56B4E9",  # sky blue
    "#009E73",  # bluish green
    "#0072B2",  # blue
    "#D55E00",  # vermillion
    "#CC79A7",  # reddish purple
    "#F0E442",  # yellow
    "#000000",  # black
)
"""Okabe–Ito colours, in the order they are used (black last: it is also the front's edge)."""

TOL_MUTED = ("#CC6677", "#332288", "#DDCC77", "#117733", "#88CCEE", "#882255", "#44AA99", "#999933", "#AA4499")
"""Paul Tol's colour-blind-safe "muted" scheme, for 8 or 9 categories (Tol, SRON/EPS/TN/09-002)."""

TOL_LIGHT = ("#77AADD", "#EE8866", "#EEDD88", "#FFAABB", "#99DDFF", "#44BB99", "#BBCC33", "#AAAA00", "#DDDDDD")
"""Paul Tol's "light" scheme: colour-blind-safe fills that keep black text readable (timeline layers)."""

SEQUENTIAL_CMAP = "cividis"
"""Numeric colour scales: perceptually uniform and readable with colour-vision deficiencies."""

MARKERS = ("o", "s", "^", "D", "v", "P", "X", "h")
"""Marker shapes cycled together with colours, so a series stays identifiable in greyscale."""

GREY = "#7f7f7f"
FRONT_EDGE = "#000000"
HIGHLIGHT = OKABE_ITO[4]
"""Colour of reference lines and markers that must stand out (bounds, constraints)."""

FULL_WIDTH_IN = 6.8
"""Width of a full-text-width figure in inches (a two-column paper's \\textwidth ≈ 7 in)."""

PNG_DPI = 150
RASTER_DPI = 200
"""Resolution of point clouds rasterised inside PDF/SVG figures."""

RASTERIZE_ABOVE = 2000
"""Scatter series with more points than this are rasterised in vector outputs (size, speed)."""

RC_PARAMS: dict[str, object] = {
    "font.family": "DejaVu Sans",
    "font.size": 9.0,
    "axes.titlesize": 10.0,
    "axes.labelsize": 9.0,
    "legend.fontsize": 8.0,
    "xtick.labelsize": 8.0,
    "ytick.labelsize": 8.0,
    "figure.titlesize": 11.0,
    "axes.prop_cycle": matplotlib.cycler(color=OKABE_ITO),
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.color": "#d9d9d9",
    "grid.linewidth": 0.5,
    "axes.axisbelow": True,
    "legend.frameon": False,
    "figure.dpi": 100,
    "savefig.dpi": PNG_DPI,
    "savefig.bbox": "tight",
    "savefig.pad_inches": 0.05,
    "pdf.fonttype": 42,
    "ps.fonttype": 42,
    "svg.fonttype": "path",
    "svg.hashsalt": "tessera",
    "path.simplify": True,
    # Names are text: a chip, model or file called "$\frac{$" is drawn as written. Mathtext
    # (on for an even number of $) failed to parse such names and crashed the report.
    "text.parse_math": False,
}


class Format(Enum):
    """File formats a figure is written in."""

    PDF = "pdf"
    SVG = "svg"
    PNG = "png"


DEFAULT_FORMATS: tuple[Format, ...] = (Format.PDF, Format.SVG, Format.PNG)

_METADATA: dict[Format, dict[str, None]] = {
    Format.PDF: {"CreationDate": None, "ModDate": None},
    Format.SVG: {"Date": None},
    Format.PNG: {"Software": None},
}
"""Per-format metadata that would otherwise make two renderings of one figure differ."""


def parse_formats(text: str) -> tuple[Format, ...]:
    """``pdf,svg,png`` → formats in the given order (duplicates dropped); ValueError names a bad one."""
    names = [name.strip().lower() for name in text.split(",") if name.strip()]
    if not names:
        raise ValueError("expected at least one format")
    allowed = ", ".join(f.value for f in Format)
    formats: list[Format] = []
    for name in names:
        try:
            chosen = Format(name)
        except ValueError:
            raise ValueError(f"unknown format {name!r}; allowed: {allowed}") from None
        if chosen not in formats:
            formats.append(chosen)
    return tuple(formats)


@contextmanager
def house_style() -> Iterator[None]:
    """Apply the house rcParams while figures are built and saved."""
    with matplotlib.rc_context(RC_PARAMS):
        yield


def new_figure(width_in: float = FULL_WIDTH_IN, height_in: float = 3.6) -> Figure:
    """A figure outside pyplot (so it is garbage-collected with its last reference), on an Agg canvas."""
    figure = Figure(figsize=(width_in, height_in), layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def keep_if_fits(figure: Figure, texts: Iterable[Text], within: Callable[[Text], Bbox] | None = None) -> int:
    """Lay the figure out, then remove each text that overlaps an earlier kept one (or leaves `within`).

    Texts are considered in the order given (most important first); returns how many were kept.
    """
    figure.draw_without_rendering()
    renderer = figure.canvas.get_renderer()
    kept: list[Bbox] = []
    for text in texts:
        box = text.get_window_extent(renderer).expanded(1.05, 1.1)
        outside = within is not None and not _contains(within(text), box)
        if outside or any(box.overlaps(other) for other in kept):
            text.remove()
        else:
            kept.append(box)
    return len(kept)


def _contains(outer: Bbox, inner: Bbox) -> bool:
    return outer.x0 <= inner.x0 and inner.x1 <= outer.x1 and outer.y0 <= inner.y0 and inner.y1 <= outer.y1


def color(index: int) -> str:
    """The index-th colour of the house cycle (Okabe–Ito, cycling)."""
    return OKABE_ITO[index % len(OKABE_ITO)]


def palette(count: int) -> tuple[str, ...]:
    """`count` categorical colours: Okabe–Ito without black up to 7, else Tol muted (cycling past 9)."""
    if count <= len(OKABE_ITO) - 1:
        return OKABE_ITO[:count]
    return tuple(TOL_MUTED[i % len(TOL_MUTED)] for i in range(count))


def marker(index: int) -> str:
    """The index-th marker shape (cycling), so series stay distinct in greyscale and past 9 colours."""
    return MARKERS[index % len(MARKERS)]


def render(figure: Figure, fmt: Format) -> bytes:
    """The figure's bytes in one format, with the house style and fixed metadata."""
    buffer = io.BytesIO()
    with house_style():
        figure.savefig(buffer, format=fmt.value, metadata=_METADATA[fmt])
    return buffer.getvalue()


def render_formats(figure: Figure, formats: Iterable[Format]) -> dict[Format, bytes]:
    """The figure's bytes in several formats, laid out once.

    `render` per format would run the constrained layout and the tight bounding box (a dry
    draw) for every format; here both run once, then the layout is frozen and each format is
    drawn once with that box. The bytes match `render`'s up to the layout's rounding.
    """
    with house_style():
        figure.draw_without_rendering()
        box = figure.get_tightbbox().padded(float(RC_PARAMS["savefig.pad_inches"]))
        figure.set_layout_engine(None)
        rendered = {}
        for fmt in dict.fromkeys(formats):
            buffer = io.BytesIO()
            figure.savefig(buffer, format=fmt.value, metadata=_METADATA[fmt], bbox_inches=box)
            rendered[fmt] = buffer.getvalue()
    return rendered


def save(figure: Figure, stem: Path, formats: Iterable[Format]) -> list[Path]:
    """Write `stem.<ext>` for every format; returns the paths written."""
    written = []
    for fmt in formats:
        path = stem.with_suffix(f".{fmt.value}")
        path.write_bytes(render(figure, fmt))
        written.append(path)
    return written


def styled(builder: Callable[P, R]) -> Callable[P, R]:
    """Decorator: build a figure under `house_style` (fonts are fixed when artists are created)."""

    @functools.wraps(builder)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with house_style():
            return builder(*args, **kwargs)

    return wrapper
