"""Multilayer perceptron: `layers` fully connected layers with ReLU between them.

Widths in → hidden → … → hidden → out (one layer maps in → out directly). A batch of
`batch` vectors makes each layer a (batch × in) · (in × out) GEMM, so MACs are
batch·(in·hidden + (layers−2)·hidden² + hidden·out) for layers ≥ 2.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from compiler.zoo.params import BATCH, AtLeast, Derived, Param, Params, ZooModel

if TYPE_CHECKING:  # onnx is imported by the build functions only (see compiler.zoo.registry)
    import onnx



def build_mlp(p: Params) -> onnx.ModelProto:
    """`layers` Gemm layers of width `hidden` from `in` to `out` features."""
    from compiler.zoo.graph_builder import GraphBuilder

    layers = p["layers"]
    widths = [p["hidden"]] * (layers - 1) + [p["out"]]
    b = GraphBuilder("mlp")
    x = b.input("input", (p["batch"], p["in"]))
    for i, width in enumerate(widths):
        x = b.gemm(x, width, name=f"fc{i}")
        if i < layers - 1:
            x = b.relu(x, name=f"relu{i}")
    b.output(x)
    return b.build()


MLP = ZooModel(
    name="mlp",
    description="Multilayer perceptron (Gemm + ReLU layers)",
    params=(
        Param("layers", int, 3, "fully connected layers", AtLeast(1)),
        Param("hidden", int, 1024, "width of the hidden layers", AtLeast(1)),
        Param("in", int, Derived(lambda p: p["hidden"], "hidden"), "input features", AtLeast(1)),
        Param("out", int, Derived(lambda p: p["hidden"], "hidden"), "output features", AtLeast(1)),
        BATCH,
    ),
    build=build_mlp,
)
