"""SCALE-Sim topology CSV -> Graph, so a SCALE-Sim user's layer list is a Tessera MODEL.

SCALE-Sim (scalesim/topology_utils.py) reads two layouts, told apart here by the header:

  conv   ``Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels,
         Num Filter, Strides,``: a convolution with no padding (the IFMAP is taken as already
         padded) and one stride for both axes, whose output SCALE-Sim sizes as
         out = ⌈(H − R + stride) / stride⌉ = ⌈(H − R) / stride⌉ + 1, counting a last, partial
         window when the stride does not divide H − R (ONNX would floor). To give Tessera the
         same output pixels, such an IFMAP is built (H − R) mod stride rows or columns larger;
  GEMM   ``Layer, M, N, K,``: an (M×K)·(K×N) product, which SCALE-Sim runs as a conv with an
         M×K IFMAP, a 1×K filter, one channel and N filters.

An optional next column is SCALE-Sim v3's sparsity ratio ``N:M``; Tessera models dense arrays,
so only ``1:1`` is accepted. A layer whose name contains ``DP`` is depthwise in SCALE-Sim: it is
run once per channel with one channel each, which is exactly a convolution with
groups = channels (the same M, K, N per group), and that is how it is built here.

Each row becomes one independent layer with its own graph input, as in SCALE-Sim (a topology
states layer shapes, not how layers connect). Rows are parsed leniently where SCALE-Sim's own
files need it (leading tabs, a missing trailing comma, ``#`` comments, blank rows and columns
that the header names beyond the layer's own, such as ResNet-50's ``Eh, Ew, e2`` notes) and
strictly otherwise: a wrong column count, a non-integer or a zero size is an InputError naming
the file and the line.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from compiler.frontend.build import graph_from_model
from compiler.graph import Graph
from compiler.zoo.graph_builder import GraphBuilder
from tessera.errors import InputError, Problem
from tessera.input_files import MiB, read_input_text

MAX_TOPOLOGY_BYTES = 16 * MiB
"""Largest topology CSV read: one line per layer, so ample for any network (SCALE-Sim's own,
ResNet-50's included, are a few KiB)."""


class TopologyLayout(Enum):
    """The two row formats of SCALE-Sim topology files."""

    CONV = "conv"
    GEMM = "gemm"

    @property
    def columns(self) -> tuple[str, ...]:
        """The header names SCALE-Sim's shipped files use for this layout's columns."""
        return _COLUMNS[self]


_COLUMNS = {
    TopologyLayout.CONV: (
        "Layer name", "IFMAP Height", "IFMAP Width", "Filter Height", "Filter Width",
        "Channels", "Num Filter", "Strides",
    ),
    TopologyLayout.GEMM: ("Layer", "M", "N", "K"),
}  # fmt: skip

DEPTHWISE_MARK = "DP"
"""SCALE-Sim treats a conv layer whose name contains this (case-sensitive) as depthwise."""

DENSE_SPARSITY = "1:1"


@dataclass(frozen=True)
class ScaleSimLayer:
    """One topology row in SCALE-Sim's own terms (a GEMM row is stored as SCALE-Sim runs it).

    Attributes:
        name: the layer name column.
        ifmap_h, ifmap_w: input feature map height and width (already padded).
        filter_h, filter_w: filter height and width.
        channels: input channels (per group for a depthwise layer: SCALE-Sim's CSV value).
        filters: number of filters (output channels per group).
        stride: stride along both axes.
        depthwise: the name contains ``DP``: run once per channel, one channel each.
        line: 1-based line of the row in its file.
    """

    name: str
    ifmap_h: int
    ifmap_w: int
    filter_h: int
    filter_w: int
    channels: int
    filters: int
    stride: int = 1
    depthwise: bool = False
    line: int = 0

    @classmethod
    def gemm(cls, name: str, m: int, n: int, k: int, line: int = 0) -> "ScaleSimLayer":
        """A GEMM row, mapped as SCALE-Sim maps it: M×K IFMAP, 1×K filter, N filters."""
        return cls(name, ifmap_h=m, ifmap_w=k, filter_h=1, filter_w=k, channels=1, filters=n, line=line)

    @property
    def out_h(self) -> int:
        """Output height by SCALE-Sim's rule (partial last window counted)."""
        return -(-(self.ifmap_h - self.filter_h) // self.stride) + 1

    @property
    def out_w(self) -> int:
        return -(-(self.ifmap_w - self.filter_w) // self.stride) + 1

    @property
    def padded_ifmap(self) -> tuple[int, int]:
        """IFMAP height and width whose ONNX (floor) output size is SCALE-Sim's out_h × out_w."""
        return (
            (self.out_h - 1) * self.stride + self.filter_h,
            (self.out_w - 1) * self.stride + self.filter_w,
        )

    @property
    def groups(self) -> int:
        """How many independent GEMMs SCALE-Sim runs for this row."""
        return self.channels if self.depthwise else 1

    @property
    def gemm_mkn(self) -> tuple[int, int, int]:
        """(M, K, N) of one group: output pixels, window size, filters (SCALE-Sim's Sr/T/Sc)."""
        window = self.filter_h * self.filter_w * (1 if self.depthwise else self.channels)
        return self.out_h * self.out_w, window, self.filters

    @property
    def macs(self) -> int:
        m, k, n = self.gemm_mkn
        return self.groups * m * k * n


@dataclass(frozen=True)
class ScaleSimTopology:
    """A parsed topology file: its layout and its layers in file order."""

    name: str
    layout: TopologyLayout
    layers: tuple[ScaleSimLayer, ...]
    source: str


def load_scalesim_topology(path: str | Path, *, batch: int | None = None) -> Graph:
    """Read a SCALE-Sim topology CSV as a Graph (one independent layer per row)."""
    return topology_graph(read_scalesim_topology(path), batch=batch)


def read_scalesim_topology(path: str | Path) -> ScaleSimTopology:
    """Parse a topology CSV file; InputError naming the file (and line) for anything wrong."""
    path = Path(path)
    text = read_input_text(path, limit=MAX_TOPOLOGY_BYTES, what="a SCALE-Sim topology CSV")
    return parse_scalesim_topology(text, str(path), name=path.stem)


def parse_scalesim_topology(text: str, source: str, name: str = "topology") -> ScaleSimTopology:
    """Parse topology CSV text; `source` names it in errors."""
    lines = text.splitlines()
    header_index = next((i for i, line in enumerate(lines) if _fields(line)), None)
    if header_index is None:
        raise InputError(source, "the file is empty; expected a SCALE-Sim topology header line")
    header = _fields(lines[header_index])
    layout = _layout_of(header, source, header_index + 1)
    width = len(layout.columns)
    extra_named = len(header) - width
    layers: list[ScaleSimLayer] = []
    problems: list[Problem] = []
    for number, line in enumerate(lines[header_index + 1 :], start=header_index + 2):
        fields = _fields(line)
        if not fields:
            continue
        row_problems, layer = _parse_row(fields, layout, width, extra_named, number)
        problems += row_problems
        if layer is not None:
            layers.append(layer)
    if problems:
        raise InputError(source, problems)
    if not layers:
        raise InputError(source, Problem("", "no layers: the file has a header but no rows", header_index + 1))
    return ScaleSimTopology(name, layout, tuple(layers), source)


def topology_graph(topology: ScaleSimTopology, *, batch: int | None = None) -> Graph:
    """The Graph of a parsed topology: a Conv (or MatMul for a GEMM row) per layer."""
    images = batch or 1
    builder = GraphBuilder(topology.name)
    for index, layer in enumerate(topology.layers):
        name = layer.name or f"layer{index}"
        if topology.layout is TopologyLayout.GEMM:
            m, k, n = layer.gemm_mkn
            x = builder.input(f"{name}.input", (images, m, k))
            builder.output(builder.linear(x, n, bias=False, name=name))
            continue
        in_channels = layer.channels
        out_channels = layer.filters * layer.groups
        x = builder.input(f"{name}.input", (images, in_channels, *layer.padded_ifmap))
        kernel = (layer.filter_h, layer.filter_w)
        y = builder.conv(x, out_channels, kernel, layer.stride, pad=0, groups=layer.groups, bias=False, name=name)
        builder.output(y)
    return graph_from_model(builder.build(), source=topology.source)


def format_scalesim_topology(topology: ScaleSimTopology) -> str:
    """The topology as a CSV that SCALE-Sim 3 itself reads (trailing commas, no comments)."""
    rows = [", ".join(topology.layout.columns) + ","]
    for layer in topology.layers:
        if topology.layout is TopologyLayout.GEMM:
            m, k, n = layer.gemm_mkn
            values = [m, n, k]
        else:
            values = [layer.ifmap_h, layer.ifmap_w, layer.filter_h, layer.filter_w, layer.channels, layer.filters, layer.stride]
        rows.append(",".join([layer.name, *map(str, values)]) + ",")
    return "\n".join(rows) + "\n"


# --------------------------------------------------------------------------- parsing


def _fields(line: str) -> list[str]:
    """A row's fields: ``#`` comment removed, whitespace stripped, trailing empty fields dropped."""
    fields = [field.strip() for field in line.split("#", 1)[0].split(",")]
    while fields and not fields[-1]:
        fields.pop()
    return fields


def _normalise(name: str) -> str:
    return " ".join(name.lower().split())


def _layout_of(header: list[str], source: str, line: int) -> TopologyLayout:
    names = [_normalise(field) for field in header]
    for layout in TopologyLayout:
        expected = [_normalise(column) for column in layout.columns]
        if names[1 : len(expected)] == expected[1:] and len(names) >= len(expected):
            return layout
    wanted = " or ".join(f"'{', '.join(layout.columns)},'" for layout in TopologyLayout)
    raise InputError(source, Problem("header", f"not a SCALE-Sim topology header; expected {wanted}", line))


def _parse_row(
    fields: list[str], layout: TopologyLayout, width: int, extra_named: int, line: int
) -> tuple[list[Problem], ScaleSimLayer | None]:
    where = f"layer {fields[0]!r}" if fields[0] else "row"
    problems: list[Problem] = []
    extra = fields[width:]
    sparsity = extra[0] if extra and ":" in extra[0] else None
    if len(fields) < width or len(extra) > max(extra_named, int(sparsity is not None)):
        columns = ", ".join(layout.columns)
        message = f"has {len(fields)} columns; expected {width} ({columns}) and optionally a sparsity ratio N:M"
        return [Problem(where, message, line)], None
    if sparsity is not None and sparsity.replace(" ", "") != DENSE_SPARSITY:
        message = f"sparsity ratio {sparsity!r} is not supported: Tessera models dense arrays (use 1:1)"
        problems.append(Problem(where, message, line))
    values: list[int] = []
    for column, text in zip(layout.columns[1:], fields[1:width]):
        try:
            value = int(text)
        except ValueError:
            problems.append(Problem(where, f"{column} must be a whole number, got {text!r}", line))
            continue
        if value < 1:
            problems.append(Problem(where, f"{column} must be at least 1, got {value}", line))
        values.append(value)
    if problems:
        return problems, None
    if layout is TopologyLayout.GEMM:
        m, n, k = values
        return [], ScaleSimLayer.gemm(fields[0], m, n, k, line)
    ifmap_h, ifmap_w, filter_h, filter_w, channels, filters, stride = values
    for size, kernel, axis in ((ifmap_h, filter_h, "height"), (ifmap_w, filter_w, "width")):
        if kernel > size:
            problems.append(Problem(where, f"filter {axis} {kernel} is larger than the IFMAP {axis} {size}", line))
    if problems:
        return problems, None
    layer = ScaleSimLayer(
        fields[0], ifmap_h, ifmap_w, filter_h, filter_w, channels, filters, stride,
        depthwise=DEPTHWISE_MARK in fields[0], line=line,
    )  # fmt: skip
    return [], layer
