"""Encoder pieces shared by BERT and ViT: multi-head self-attention and the GELU MLP.

Attention is written out as the matrix products it performs, so its MACs are visible:
per sequence of S tokens and hidden size H, Q/K/V/output projections 4·S·H², QKᵀ S²·H,
softmax(QKᵀ)·V S²·H (heads × S × S × H/heads each).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from compiler.zoo.params import Params
from tessera.errors import Problem

if TYPE_CHECKING:  # onnx is imported by the build functions only (see compiler.zoo.registry)

    from compiler.zoo.graph_builder import GraphBuilder


def self_attention(b: GraphBuilder, x: str, heads: int) -> str:
    """Multi-head self-attention with biased projections on x [B, S, H]; returns [B, S, H]."""
    batch, seq, hidden = b.shape(x)
    d = hidden // heads
    q = b.transpose(b.reshape(b.linear(x, hidden, name="query"), (batch, seq, heads, d)), (0, 2, 1, 3))
    k = b.transpose(b.reshape(b.linear(x, hidden, name="key"), (batch, seq, heads, d)), (0, 2, 3, 1))
    v = b.transpose(b.reshape(b.linear(x, hidden, name="value"), (batch, seq, heads, d)), (0, 2, 1, 3))
    scores = b.mul(b.matmul(q, k, name="scores"), b.scalar(d**-0.5), name="scaled_scores")
    context = b.matmul(b.softmax(scores, name="probs"), v, name="context")
    merged = b.reshape(b.transpose(context, (0, 2, 1, 3)), (batch, seq, hidden))
    return b.linear(merged, hidden, name="out")


def mlp(b: GraphBuilder, x: str, ffn: int) -> str:
    """Position-wise feed-forward: Linear(H→ffn), GELU, Linear(ffn→H)."""
    hidden = b.shape(x)[-1]
    return b.linear(b.gelu(b.linear(x, ffn, name="fc1")), hidden, name="fc2")


def heads_divide_hidden(p: Params) -> list[Problem]:
    """Attention splits `hidden` evenly across `heads`."""
    if p["hidden"] % p["heads"]:
        return [Problem("parameter 'heads'", f"must divide hidden={p['hidden']}, got {p['heads']}")]
    return []
