"""Llama-style decoder (Touvron et al., 2023): RMSNorm, rotary embedding, grouped-query
attention, SiLU-gated MLP, final norm and LM head. Defaults are Llama-2-7B's dimensions.

The graph input is the embedded tokens [batch, S, hidden] (the embedding lookup does no MACs).
`phase=prefill` processes S = seq prompt tokens with a causal mask over T = seq keys.
`phase=decode` processes S = 1 new token per sequence: each layer takes its KV cache of
kv_len earlier tokens as graph inputs ``past.<i>.key`` / ``past.<i>.value`` [batch, kv_heads,
kv_len, head_dim], appends the new token's key and value (Concat, outputs ``present.<i>.*``
as in Hugging Face exports) and attends over T = kv_len + 1 positions. In decode, `seq` only
supplies kv_len's default (a decode step right after a seq-token prefill).

Grouped-query attention is written as a broadcast batched MatMul: queries are viewed as
[batch, kv_heads, heads/kv_heads, S, d] against keys [batch, kv_heads, 1, d, T], so each
key/value head is read once for its group, with no copies. Rotary embedding is elementwise:
x·cos + rotate_half(x)·sin, with the cos/sin tables for the processed positions as constants.

MACs per sequence and layer (H = hidden, d = H/heads, F = ffn, G = kv_heads):
2·S·H² (Q, O) + 2·S·H·G·d (K, V) + 2·S·T·H (QKᵀ, PV) + 3·S·H·F (gate, up, down);
plus S·H·vocab for the LM head.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from compiler.zoo.params import BATCH, AtLeast, Derived, Param, Params, Phase, ZooModel
from compiler.zoo.transformer import heads_divide_hidden
from tessera.errors import Problem

if TYPE_CHECKING:  # onnx is imported by the build functions only (see compiler.zoo.registry)
    import onnx

    from compiler.zoo.graph_builder import GraphBuilder

_EPS = 1e-5  # Llama's RMSNorm epsilon


def llama_ffn(hidden: int, multiple_of: int = 256) -> int:
    """Llama's MLP width: ⌊8·hidden/3⌋ rounded up to a multiple of `multiple_of` (11008 at 4096)."""
    return multiple_of * -(-(8 * hidden // 3) // multiple_of)


def _rotary(b: GraphBuilder, x: str, cos: str, sin: str) -> str:
    """x·cos + rotate_half(x)·sin on x [..., d], rotate_half(x) = concat(-x[d/2:], x[:d/2])."""
    half = b.shape(x)[-1] // 2
    rotated = b.concat([b.neg(b.slice_last(x, half, 2 * half)), b.slice_last(x, 0, half)], axis=-1)
    return b.add(b.mul(x, cos), b.mul(rotated, sin))


def _attention(b: GraphBuilder, x: str, p: Params, layer: int, rope: tuple[str, str], mask: str | None) -> str:
    batch, seq, hidden = b.shape(x)
    heads, kv_heads = p["heads"], p["kv_heads"]
    d, group = hidden // heads, heads // kv_heads

    def project(count: int, name: str) -> str:
        y = b.reshape(b.linear(x, count * d, bias=False, name=name), (batch, seq, count, d))
        return b.transpose(y, (0, 2, 1, 3))

    q = _rotary(b, project(heads, "q_proj"), *rope)
    k = _rotary(b, project(kv_heads, "k_proj"), *rope)
    v = project(kv_heads, "v_proj")
    if p["phase"] is Phase.DECODE:
        cache = (batch, kv_heads, p["kv_len"], d)
        k = b.concat([b.input(f"past.{layer}.key", cache), k], axis=2, name="present_key")
        v = b.concat([b.input(f"past.{layer}.value", cache), v], axis=2, name="present_value")
        b.output(k)
        b.output(v)
    keys = b.shape(k)[2]
    q = b.reshape(q, (batch, kv_heads, group, seq, d))
    k = b.reshape(b.transpose(k, (0, 1, 3, 2)), (batch, kv_heads, 1, d, keys))
    v = b.reshape(v, (batch, kv_heads, 1, keys, d))
    scores = b.mul(b.matmul(q, k, name="scores"), b.scalar(d**-0.5), name="scaled_scores")
    if mask is not None:
        scores = b.add(scores, mask, name="masked_scores")
    context = b.matmul(b.softmax(scores, name="probs"), v, name="context")
    context = b.transpose(b.reshape(context, (batch, heads, seq, d)), (0, 2, 1, 3))
    return b.linear(b.reshape(context, (batch, seq, hidden)), hidden, bias=False, name="o_proj")


def _mlp(b: GraphBuilder, x: str, ffn: int) -> str:
    """SiLU-gated MLP: down(silu(gate(x)) · up(x))."""
    hidden = b.shape(x)[-1]
    gated = b.mul(b.silu(b.linear(x, ffn, bias=False, name="gate_proj")), b.linear(x, ffn, bias=False, name="up_proj"))
    return b.linear(gated, hidden, bias=False, name="down_proj")


def build_llama(p: Params) -> onnx.ModelProto:
    """A `layers`-layer Llama decoder for one prefill or one decode step."""
    from compiler.zoo.graph_builder import GraphBuilder

    decode = p["phase"] is Phase.DECODE
    seq = 1 if decode else p["seq"]
    d = p["hidden"] // p["heads"]
    b = GraphBuilder("llama")
    x = b.input("hidden_states", (p["batch"], seq, p["hidden"]))
    rope = (b.weight("rope.cos", (seq, d)), b.weight("rope.sin", (seq, d)))
    mask = None if decode else b.weight("causal_mask", (seq, seq))
    for i in range(p["layers"]):
        with b.scope(f"layer{i}"):
            x = b.add(x, _attention(b, b.rms_norm(x, _EPS, name="attention_norm"), p, i, rope, mask))
            x = b.add(x, _mlp(b, b.rms_norm(x, _EPS, name="mlp_norm"), p["ffn"]))
    x = b.rms_norm(x, _EPS, name="final_norm")
    b.output(b.linear(x, p["vocab"], bias=False, name="logits"))
    return b.build()


def _check(p: Params) -> list[Problem]:
    problems = heads_divide_hidden(p)
    if p["heads"] % p["kv_heads"]:
        problems.append(Problem("parameter 'kv_heads'", f"must divide heads={p['heads']}, got {p['kv_heads']}"))
    if not problems and (p["hidden"] // p["heads"]) % 2:
        message = f"must leave an even head dim for rotary embedding; hidden/heads = {p['hidden'] // p['heads']}"
        problems.append(Problem("parameter 'heads'", message))
    if p["phase"] is Phase.PREFILL and p["kv_len"] != p["seq"]:
        problems.append(Problem("parameter 'kv_len'", "applies only to phase=decode"))
    return problems


LLAMA = ZooModel(
    name="llama",
    description="Llama-style decoder (RMSNorm, RoPE, grouped-query attention, SwiGLU); prefill or one decode step",
    params=(
        Param("layers", int, 32, "decoder layers", AtLeast(1)),
        Param("hidden", int, 4096, "model width H", AtLeast(1)),
        Param("heads", int, 32, "query heads (must divide hidden)", AtLeast(1)),
        Param(
            "kv_heads", int, Derived(lambda p: p["heads"], "heads"),
            "key/value heads (must divide heads; < heads is GQA)", AtLeast(1),
        ),
        Param(
            "ffn", int, Derived(lambda p: llama_ffn(p["hidden"]), "8/3·hidden up to a multiple of 256"),
            "MLP inner width F", AtLeast(1),
        ),
        Param("vocab", int, 32000, "LM head outputs", AtLeast(1)),
        Param("seq", int, 512, "prompt tokens processed by prefill", AtLeast(1)),
        Param("phase", Phase, Phase.PREFILL, "prefill (seq tokens) or decode (1 token against a KV cache)"),
        Param(
            "kv_len", int, Derived(lambda p: p["seq"], "seq"),
            "cached tokens a decode step attends to (decode only)", AtLeast(1),
        ),
        BATCH,
    ),
    build=build_llama,
    check=_check,
)
