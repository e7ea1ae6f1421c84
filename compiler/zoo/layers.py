"""Single layers for calibration: one GEMM or one 2-D convolution with exactly known work.

`gemm`: input A [batch, m, k] times a weight B [k, n] (MatMul), batch·m·k·n MACs.
`conv2d`: input [batch, c, h, w], weight [k, c/groups, r, s], no bias;
batch·k·out_h·out_w·(c/groups)·r·s MACs with out = ⌊(h + 2·pad − r)/stride⌋ + 1.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from compiler.zoo.shapes import conv_out
from compiler.zoo.params import BATCH, AtLeast, Derived, Param, Params, ZooModel
from tessera.errors import Problem

if TYPE_CHECKING:  # onnx is imported by the build functions only (see compiler.zoo.registry)
    import onnx



def build_gemm(p: Params) -> onnx.ModelProto:
    """One MatMul of A [batch, m, k] by a weight [k, n]."""
    from compiler.zoo.graph_builder import GraphBuilder

    b = GraphBuilder("gemm")
    x = b.input("input", (p["batch"], p["m"], p["k"]))
    b.output(b.linear(x, p["n"], bias=False, name="gemm"))
    return b.build()


def build_conv2d(p: Params) -> onnx.ModelProto:
    """One Conv of `k` r×s filters over a c×h×w input."""
    from compiler.zoo.graph_builder import GraphBuilder

    b = GraphBuilder("conv2d")
    x = b.input("input", (p["batch"], p["c"], p["h"], p["w"]))
    b.output(b.conv(x, p["k"], (p["r"], p["s"]), p["stride"], p["pad"], p["groups"], bias=False, name="conv"))
    return b.build()


def _check_conv(p: Params) -> list[Problem]:
    problems = [
        Problem("parameter 'groups'", f"must divide {axis}={p[axis]}, got {p['groups']}")
        for axis in ("c", "k")
        if p[axis] % p["groups"]
    ]
    for size, kernel in (("h", "r"), ("w", "s")):
        if conv_out(p[size], p[kernel], p["stride"], p["pad"]) < 1:
            message = f"{kernel}={p[kernel]} exceeds {size}={p[size]} plus padding 2·{p['pad']}"
            problems.append(Problem(f"parameter {kernel!r}", message))
    return problems


GEMM = ZooModel(
    name="gemm",
    description="one matrix product (m×k)·(k×n), weight stationary operand k×n",
    params=(
        Param("m", int, 512, "rows of the input", AtLeast(1)),
        Param("k", int, 512, "reduction length", AtLeast(1)),
        Param("n", int, 512, "columns of the weight", AtLeast(1)),
        BATCH,
    ),
    build=build_gemm,
)

CONV2D = ZooModel(
    name="conv2d",
    description="one 2-D convolution (NCHW, no bias)",
    params=(
        Param("h", int, 56, "input height", AtLeast(1)),
        Param("w", int, 56, "input width", AtLeast(1)),
        Param("c", int, 64, "input channels", AtLeast(1)),
        Param("k", int, 64, "output channels (filters)", AtLeast(1)),
        Param("r", int, 3, "filter height", AtLeast(1)),
        Param("s", int, 3, "filter width", AtLeast(1)),
        Param("stride", int, 1, "stride along both axes", AtLeast(1)),
        Param("pad", int, Derived(lambda p: p["r"] // 2, "r//2"), "zero padding on every side", AtLeast(0)),
        Param("groups", int, 1, "channel groups (must divide c and k)", AtLeast(1)),
        BATCH,
    ),
    build=build_conv2d,
    check=_check_conv,
)
