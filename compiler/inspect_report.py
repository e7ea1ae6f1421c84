"""The `tessera inspect` report: a network's layers, shapes, MACs, vector work and operand sizes.

Built from a Graph and its Workloads only (no chip needed): one row per workload, with the
shapes of the activations it reads from DRAM (its head's inputs and the side inputs of
fused nodes), the shapes of its head's constant operands, and the shape of the tensor it
writes (the output of its last fused node). `InspectReport.to_json` writes the
document of docs/results.md (`macs`, `vector_ops`, `layers` of {name, op, macs, inputs, outputs, ...});
`inspect_table` renders the same rows for a terminal, with operand bytes at a precision.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from rich.table import Table

from accel_spec.precision import PrecisionAssignment
from accel_spec.types import OpClass, Precision
from compiler.graph import Graph, Node
from compiler.lowering.context import LoweringContext, build_context
from compiler.workload import GemmShape, Workload, WorkloadKind

Shape = tuple[int, ...]


@dataclass(frozen=True)
class LayerRow:
    """One workload as the report shows it.

    Attributes:
        name, op, kind: the workload's head node, its op type, and GEMM or VECTOR.
        inputs: shapes of the activations read from DRAM (side inputs of fused nodes included).
        weights: shapes of the head node's constant operands (weights, biases), small folded
            constants such as a Reshape's target shape excluded.
        outputs: shape of the tensor written to DRAM.
        gemm: the GEMM view (M, K, N, batch), GEMM workloads only.
        macs: multiply-accumulates.
        vector_ops: lane operations on the vector unit per op class.
        input_elements, weight_elements, side_input_elements, output_elements: operand sizes.
        fused: names of the nodes fused into the workload.
    """

    name: str
    op: str
    kind: WorkloadKind
    inputs: tuple[Shape, ...]
    weights: tuple[Shape, ...]
    outputs: tuple[Shape, ...]
    gemm: GemmShape | None
    macs: int
    vector_ops: Mapping[OpClass, int]
    input_elements: int
    weight_elements: int
    side_input_elements: int
    output_elements: int
    fused: tuple[str, ...]

    @property
    def total_vector_ops(self) -> int:
        """Vector lane operations, all classes together."""
        return sum(self.vector_ops.values())

    @property
    def read_elements(self) -> int:
        """Activation elements read from DRAM: the input and the side inputs."""
        return self.input_elements + self.side_input_elements

    def to_json(self) -> dict[str, Any]:
        """The row as JSON-ready plain data."""
        gemm = self.gemm
        return {
            "name": self.name,
            "op": self.op,
            "kind": self.kind.value,
            "macs": self.macs,
            "vector_ops": self.total_vector_ops,
            "vector_ops_by_class": {cls.label: n for cls, n in self.vector_ops.items()},
            "inputs": [list(shape) for shape in self.inputs],
            "weights": [list(shape) for shape in self.weights],
            "outputs": [list(shape) for shape in self.outputs],
            "gemm": None if gemm is None else {"m": gemm.m, "k": gemm.k, "n": gemm.n, "batch": gemm.batch},
            "input_elements": self.input_elements,
            "weight_elements": self.weight_elements,
            "side_input_elements": self.side_input_elements,
            "output_elements": self.output_elements,
            "fused": list(self.fused),
        }


@dataclass(frozen=True)
class InspectReport:
    """A network's layers; totals are sums over the rows, so they cannot disagree with them."""

    model: str
    graph_name: str
    layers: tuple[LayerRow, ...]

    @property
    def macs(self) -> int:
        """Total multiply-accumulates of every conv and matrix product, attention included."""
        return sum(row.macs for row in self.layers)

    @property
    def vector_ops_by_class(self) -> Mapping[OpClass, int]:
        """Total vector lane operations per op class."""
        return MappingProxyType({cls: sum(row.vector_ops.get(cls, 0) for row in self.layers) for cls in OpClass})

    @property
    def vector_ops(self) -> int:
        """Total vector lane operations, all classes together."""
        return sum(row.total_vector_ops for row in self.layers)

    def to_json(self) -> dict[str, Any]:
        """The report as one JSON-ready object (the `tessera inspect --json` contract)."""
        return {
            "model": self.model,
            "graph": self.graph_name,
            "macs": self.macs,
            "vector_ops": self.vector_ops,
            "vector_ops_by_class": {cls.label: n for cls, n in self.vector_ops_by_class.items()},
            "layers": [row.to_json() for row in self.layers],
        }


def _shapes(ctx: LoweringContext, names: list[str]) -> tuple[Shape, ...]:
    return tuple(ctx.graph.tensors[name].shape for name in names if name in ctx.graph.tensors)


def _row(ctx: LoweringContext, workload: Workload, nodes: Mapping[str, tuple[int, Node]]) -> LayerRow:
    """The row of one workload: the shapes come from its head and fused nodes in the graph."""
    members = [nodes[name] for name in (workload.name, *workload.fused)]
    head, last = members[0][1], max(members, key=lambda member: member[0])[1]
    produced = {ctx.root(name) for _, node in members for name in node.outputs if name}
    reads = dict.fromkeys(
        name for _, node in members for name in ctx.activation_inputs(node) if ctx.root(name) not in produced
    )
    return LayerRow(
        name=workload.name,
        op=workload.op,
        kind=workload.kind,
        inputs=_shapes(ctx, list(reads)),
        weights=_shapes(ctx, [name for name in ctx.constant_inputs(head) if name not in ctx.graph.constant_values]),
        outputs=_shapes(ctx, [name for name in last.outputs if name]),
        gemm=workload.gemm,
        macs=workload.macs,
        vector_ops=workload.vector_ops,
        input_elements=workload.input_elements,
        weight_elements=workload.weight_elements,
        side_input_elements=workload.side_input_elements,
        output_elements=workload.output_elements,
        fused=workload.fused,
    )


def build_inspect_report(graph: Graph, workloads: tuple[Workload, ...]) -> InspectReport:
    """One row per workload of `graph` (as `compiler.lowering.lower` made them)."""
    ctx = build_context(graph)
    nodes = {node.name: (index, node) for index, node in enumerate(graph.nodes)}
    return InspectReport(
        model=graph.source,
        graph_name=graph.name,
        layers=tuple(_row(ctx, workload, nodes) for workload in workloads),
    )


def _format_bytes(count: float) -> str:
    """Bytes in binary units with three significant digits: ``1.5 MiB``."""
    units = ("B", "KiB", "MiB", "GiB", "TiB")
    exponent = 0
    while count >= 1024 and exponent < len(units) - 1:
        count /= 1024
        exponent += 1
    return f"{count:.4g} B" if exponent == 0 else f"{count:.3g} {units[exponent]}"


def _format_shape(shapes: tuple[Shape, ...]) -> str:
    return ", ".join("×".join(str(d) for d in shape) for shape in shapes)


def _format_gemm(gemm: GemmShape | None) -> str:
    if gemm is None:
        return ""
    text = f"{gemm.m}×{gemm.k}×{gemm.n}"
    return text if gemm.batch == 1 else f"{text} ×{gemm.batch}"


MAX_TABLE_ROWS = 1000
"""Layers the terminal table lists: the first and last half of this many, with one row saying
how many are left out (the totals and `--json` always cover every layer). Drawing a row takes
about a millisecond, so a 100,000-node graph would spend minutes on a table nobody reads."""


def inspect_table(report: InspectReport, precision: PrecisionAssignment | Precision) -> Table:
    """The report as a rich Table; operand bytes = elements × the bytes of their format: "in"
    counts the activations read (side inputs included) and "out" those written, at the
    activations' format; "weights" the second GEMM operand, at the weights' (an attention
    product's second operand, an activation, is counted there too). Past `MAX_TABLE_ROWS`
    layers the middle ones are summarised in one row."""
    precision = PrecisionAssignment.of(precision)
    size, weight_size = precision.activations.bytes, precision.weights.bytes
    table = Table(title=f"{report.model}: {len(report.layers)} layers at {precision.label}", show_footer=True)
    columns = (
        ("#", ""), ("layer", "total"), ("op", ""), ("output", ""), ("GEMM M×K×N", ""),
        ("MACs", f"{report.macs:,}"), ("vector ops", f"{report.vector_ops:,}"),
        ("in", _format_bytes(sum(row.read_elements for row in report.layers) * size)),
        ("weights", _format_bytes(sum(row.weight_elements for row in report.layers) * weight_size)),
        ("out", _format_bytes(sum(row.output_elements for row in report.layers) * size)),
        ("fused", ""),
    )  # fmt: skip
    numeric = {"#", "MACs", "vector ops", "in", "weights", "out"}
    for header, footer in columns:
        table.add_column(header, footer=footer, justify="right" if header in numeric else "left")
    shown = list(enumerate(report.layers))
    hidden = len(shown) - MAX_TABLE_ROWS
    if hidden > 0:
        half = MAX_TABLE_ROWS // 2
        shown = shown[:half] + [(-1, None)] + shown[-half:]
    for number, row in shown:
        if row is None:
            table.add_row("…", f"{hidden:,} more layers (all of them are in --json FILE)", *[""] * 9)
            continue
        table.add_row(
            str(number),
            row.name,
            row.op,
            _format_shape(row.outputs),
            _format_gemm(row.gemm),
            f"{row.macs:,}",
            f"{row.total_vector_ops:,}",
            _format_bytes(row.read_elements * size),
            _format_bytes(row.weight_elements * weight_size),
            _format_bytes(row.output_elements * size),
            ", ".join(row.fused),
        )
    return table
