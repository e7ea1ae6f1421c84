"""The HTML report: one self-contained file (inline CSS, figures as base64 PNG, no scripts, no URLs).

A report is a title, a list of sections (a heading and already-escaped HTML), the figures
with their captions, and a reproducibility block. Every piece of text that comes from data
(model specs, file names, manifest fields) is escaped here, so a report opens the same
offline, in a mail attachment, or in a locked-down browser.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

_CSS = """
body { font-family: 'DejaVu Sans', Helvetica, Arial, sans-serif; max-width: 1180px; margin: 2em auto;
       padding: 0 1em; color: #222; line-height: 1.45; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; }
h2 { font-size: 1.25em; border-bottom: 1px solid #ccc; padding-bottom: 0.2em; margin-top: 1.6em; }
table { border-collapse: collapse; font-size: 0.85em; margin: 0.6em 0; }
th, td { border: 1px solid #ddd; padding: 0.25em 0.6em; text-align: right; }
th { background: #f3f3f3; }
td.text, th.text { text-align: left; }
figure { margin: 1.2em 0; }
figure img { max-width: 100%; height: auto; border: 1px solid #eee; }
figcaption { font-size: 0.88em; color: #444; max-width: 60em; }
pre { background: #f6f6f6; padding: 0.6em; overflow-x: auto; font-size: 0.85em; white-space: pre-wrap; }
nav ul { columns: 2; font-size: 0.9em; }
.scroll { overflow-x: auto; }
"""


@dataclass(frozen=True)
class EmbeddedFigure:
    """A figure as the report shows it: an anchor id, a title, a caption and PNG bytes."""

    anchor: str
    title: str
    caption: str
    png: bytes


def table(header: Sequence[str], rows: Iterable[Sequence[object]], text_columns: int = 1) -> str:
    """An HTML table; the first `text_columns` columns are left-aligned."""
    def cell(tag: str, index: int, value: object) -> str:
        align = ' class="text"' if index < text_columns else ""
        return f"<{tag}{align}>{html.escape(str(value))}</{tag}>"

    head = "".join(cell("th", i, h) for i, h in enumerate(header))
    body = "\n".join("<tr>" + "".join(cell("td", i, v) for i, v in enumerate(row)) + "</tr>" for row in rows)
    return f"<table>\n<tr>{head}</tr>\n{body}\n</table>"


def definition_table(pairs: Iterable[tuple[str, object]]) -> str:
    """Two-column key/value table."""
    rows = "\n".join(
        f'<tr><th class="text">{html.escape(k)}</th><td class="text">{html.escape(str(v))}</td></tr>' for k, v in pairs
    )
    return f"<table>\n{rows}\n</table>"


def paragraph(text: str) -> str:
    return f"<p>{html.escape(text)}</p>"


def document(title: str, sections: Sequence[tuple[str, str]], figures: Sequence[EmbeddedFigure],
             tables: Sequence[tuple[str, str]], reproducibility: Sequence[tuple[str, object]]) -> str:
    """The whole page: title, contents, `sections`, figures, `tables` (long ones), reproducibility.

    `sections` and `tables` are (heading, HTML body) pairs; figures come before the long
    tables so that the first screen of the page shows the summary and the first figure.
    """
    contents = "".join(f'<li><a href="#{f.anchor}">{html.escape(f.title)}</a></li>' for f in figures)
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{html.escape(title)}</title>",
        f"<style>{_CSS}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
        f"<nav><h2>Figures</h2><ul>{contents}</ul></nav>",
    ]
    parts += [f"<section><h2>{html.escape(heading)}</h2>\n{body}</section>" for heading, body in sections]
    parts.append('<section><h2>Figures</h2>')
    parts += [_figure(f) for f in figures]
    parts.append("</section>")
    parts += [f"<section><h2>{html.escape(heading)}</h2>\n{body}</section>" for heading, body in tables]
    parts.append(f'<section id="reproducibility"><h2>Reproducibility</h2>\n{definition_table(reproducibility)}</section>')
    parts.append("</body></html>\n")
    return "\n".join(parts)


def _figure(figure: EmbeddedFigure) -> str:
    data = base64.b64encode(figure.png).decode("ascii")
    return (
        f'<figure id="{html.escape(figure.anchor)}">'
        f'<img alt="{html.escape(figure.title)}" src="data:image/png;base64,{data}">'
        f"<figcaption><b>{html.escape(figure.title)}.</b> {html.escape(figure.caption)}</figcaption></figure>"
    )
