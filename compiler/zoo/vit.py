"""Vision Transformer (Dosovitskiy et al., 2021): patch embedding, class token, pre-norm encoder.

A patch×patch/patch convolution embeds N = (resolution/patch)² patches; a learned class token
is prepended and a learned position embedding added; each layer is x += Attention(LN(x)),
x += MLP(LN(x)); a final LN, and the class token's features go through a linear head.
MACs per image: N·H·3·patch² (embedding) + per layer 4·T·H² + 2·T²·H + 2·T·H·F with T = N+1
tokens and F = ⌊H·mlp_ratio⌋, + H·classes (head).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from compiler.zoo.params import BATCH, AtLeast, Param, Params, Positive, ZooModel
from compiler.zoo.transformer import heads_divide_hidden, mlp, self_attention
from tessera.errors import Problem

if TYPE_CHECKING:  # onnx is imported by the build functions only (see compiler.zoo.registry)
    import onnx


_EPS = 1e-6  # ViT's LayerNorm epsilon


def build_vit(p: Params) -> onnx.ModelProto:
    """ViT with `layers` encoder layers of width `hidden` on `resolution`² images."""
    from compiler.zoo.graph_builder import GraphBuilder

    batch, hidden = p["batch"], p["hidden"]
    grid = p["resolution"] // p["patch"]
    tokens = grid * grid + 1
    b = GraphBuilder("vit")
    x = b.input("input", (batch, 3, p["resolution"], p["resolution"]))
    x = b.conv(x, hidden, p["patch"], stride=p["patch"], pad=0, name="patch_embed")
    x = b.transpose(b.reshape(x, (batch, hidden, grid * grid)), (0, 2, 1))
    cls = b.expand(b.weight("class_token", (1, 1, hidden)), (batch, 1, hidden))
    x = b.add(b.concat([cls, x], axis=1), b.weight("position_embedding", (1, tokens, hidden)))
    for i in range(p["layers"]):
        with b.scope(f"layer{i}"):
            x = b.add(x, self_attention(b, b.layer_norm(x, _EPS, name="norm1"), p["heads"]))
            x = b.add(x, mlp(b, b.layer_norm(x, _EPS, name="norm2"), _mlp_width(p)))
    x = b.layer_norm(x, _EPS, name="final_norm")
    x = b.reshape(b.slice_axis(x, 1, 0, 1), (batch, hidden))
    b.output(b.gemm(x, p["classes"], name="logits"))
    return b.build()


def _mlp_width(p: Params) -> int:
    return int(p["hidden"] * p["mlp_ratio"])


def _check(p: Params) -> list[Problem]:
    problems = heads_divide_hidden(p)
    if p["resolution"] % p["patch"]:
        problems.append(Problem("parameter 'patch'", f"must divide resolution={p['resolution']}, got {p['patch']}"))
    if _mlp_width(p) < 1:
        problems.append(Problem("parameter 'mlp_ratio'", f"gives an MLP width of 0 at hidden={p['hidden']}"))
    return problems


VIT = ZooModel(
    name="vit",
    description="Vision Transformer image classifier (pre-norm encoder, class token)",
    params=(
        Param("patch", int, 16, "patch size in pixels (must divide resolution)", AtLeast(1)),
        Param("resolution", int, 224, "input height and width in pixels", AtLeast(1)),
        Param("layers", int, 12, "encoder layers", AtLeast(1)),
        Param("hidden", int, 768, "model width H", AtLeast(1)),
        Param("heads", int, 12, "attention heads (must divide hidden)", AtLeast(1)),
        Param("mlp_ratio", float, 4.0, "MLP width as a multiple of hidden", Positive()),
        Param("classes", int, 1000, "classifier outputs", AtLeast(1)),
        BATCH,
    ),
    build=build_vit,
    check=_check,
)
