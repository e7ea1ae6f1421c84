"""BERT encoder stack (Devlin et al., 2019): post-norm transformer layers with GELU MLPs.

The graph input is the embedded sequence [batch, seq, hidden]: the token/position embedding
lookup reads a table and does no multiply-accumulates, so it is left out. Each layer is
x = LN(x + Attention(x)); x = LN(x + MLP(x)). MACs per layer and sequence:
4·S·H² (Q, K, V, output) + 2·S²·H (QKᵀ and PV) + 2·S·H·F (MLP).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from compiler.zoo.params import BATCH, AtLeast, Derived, Param, Params, ZooModel
from compiler.zoo.transformer import heads_divide_hidden, mlp, self_attention

if TYPE_CHECKING:  # onnx is imported by the build functions only (see compiler.zoo.registry)
    import onnx


_EPS = 1e-12  # BERT's LayerNorm epsilon


def build_bert(p: Params) -> onnx.ModelProto:
    """`layers` BERT encoder layers over `seq` tokens of width `hidden`."""
    from compiler.zoo.graph_builder import GraphBuilder

    b = GraphBuilder("bert")
    x = b.input("hidden_states", (p["batch"], p["seq"], p["hidden"]))
    for i in range(p["layers"]):
        with b.scope(f"layer{i}"):
            x = b.layer_norm(b.add(x, self_attention(b, x, p["heads"])), _EPS, name="attention_norm")
            x = b.layer_norm(b.add(x, mlp(b, x, p["ffn"])), _EPS, name="output_norm")
    b.output(x)
    return b.build()


BERT = ZooModel(
    name="bert",
    description="BERT transformer encoder (post-norm, GELU MLP); input is the embedded sequence",
    params=(
        Param("layers", int, 12, "encoder layers", AtLeast(1)),
        Param("hidden", int, 768, "model width H", AtLeast(1)),
        Param("heads", int, 12, "attention heads (must divide hidden)", AtLeast(1)),
        Param("seq", int, 128, "tokens per sequence S", AtLeast(1)),
        Param("ffn", int, Derived(lambda p: 4 * p["hidden"], "4·hidden"), "MLP inner width F", AtLeast(1)),
        BATCH,
    ),
    build=build_bert,
    check=heads_divide_hidden,
)
