"""Lowering of what transformer exports add: attention-mask ops and KV-cache appends."""

from __future__ import annotations

import pytest
from lowering_graphs import GraphBuilder

from accel_spec.types import OpClass
from compiler.lowering import lower
from compiler.workload import CacheAppend, Workload, WorkloadKind

E, T, R = OpClass.ELEMENTWISE, OpClass.TRANSCENDENTAL, OpClass.REDUCTION


def _by_name(workloads: tuple[Workload, ...]) -> dict[str, Workload]:
    return {w.name: w for w in workloads}


@pytest.mark.parametrize("op", ["IsNaN", "IsInf", "BitwiseAnd", "BitwiseNot"])
def test_mask_predicates_are_one_lane_op_per_element(op: str) -> None:
    b = GraphBuilder()
    x = b.input("x", (2, 4, 8, 8))
    inputs = [x, b.input("y", (2, 4, 8, 8))] if op == "BitwiseAnd" else [x]
    b.node(op, inputs, (2, 4, 8, 8), name="op", dtype="bool")
    (workload,) = lower(b.build())
    assert workload.vector_ops == {E: 512}


def test_softmax_nan_guard_is_one_fused_elementwise_workload() -> None:
    """sdpa's decomposition: Where(IsNaN(p), 0, p) after the softmax, in both exporters."""
    b = GraphBuilder()
    p = b.node("Softmax", [b.input("s", (1, 4, 16, 16))], (1, 4, 16, 16), name="softmax", axis=-1)
    nan = b.node("IsNaN", [p], (1, 4, 16, 16), name="isnan", dtype="bool")
    b.node("Where", [nan, b.constant("zero", [0.0]), p], (1, 4, 16, 16), name="guard")
    found = _by_name(lower(b.build()))
    assert set(found) == {"softmax", "isnan"}
    assert found["isnan"].fused == ("guard",)
    assert found["isnan"].vector_ops == {E: 2 * 1024}


def test_trilu_selects_each_element_and_its_offset_is_no_operand() -> None:
    b = GraphBuilder()
    x = b.input("scores", (1, 2, 8, 8))
    b.node("Trilu", [x, b.constant("k", 1)], (1, 2, 8, 8), name="causal", upper=1)
    (workload,) = lower(b.build())
    assert workload.vector_ops == {E: 128}
    assert (workload.input_elements, workload.weight_elements) == (128, 0)


def test_cumsum_is_one_running_add_per_element() -> None:
    """Position ids from a padding mask: cumsum(mask, -1)."""
    b = GraphBuilder()
    mask = b.input("attention_mask", (2, 64), dtype="int64")
    b.node("CumSum", [mask, b.constant("axis", -1)], (2, 64), name="positions", dtype="int64")
    (workload,) = lower(b.build())
    assert workload.vector_ops == {R: 128}
    assert (workload.kind, workload.input_elements, workload.weight_elements) == (WorkloadKind.VECTOR, 128, 0)


def _decode_step(past: int, new: int, *, cache_is_input: bool = True, cache_is_output: bool = True,
                 past_first: bool = True) -> tuple[GraphBuilder, list[str]]:
    """One attention step over a [1, 2, past, 32] key cache: project the new key, append it,
    attend. Returns the builder and the graph outputs."""
    b = GraphBuilder()
    x = b.input("x", (1, new, 64))
    if cache_is_input:
        cache = b.input("past_key_values.0.key", (1, 2, past, 32))
    else:
        cache = b.node("Relu", [b.input("h", (1, 2, past, 32))], (1, 2, past, 32), name="made_here")
    k = b.node("MatMul", [x, b.weight("wk", (64, 64))], (1, new, 64), name="k_proj")
    k = b.node("Reshape", [k, b.constant("heads", [1, new, 2, 32])], (1, new, 2, 32), name="split_heads")
    k = b.node("Transpose", [k], (1, 2, new, 32), name="heads_first", perm=[0, 2, 1, 3])
    parts = [cache, k] if past_first else [k, cache]
    present = b.node("Concat", parts, (1, 2, past + new, 32), name="present", axis=-2)
    q = b.input("q", (1, 2, new, 32))
    kt = b.node("Transpose", [present], (1, 2, 32, past + new), name="kt", perm=[0, 1, 3, 2])
    scores = b.node("MatMul", [q, kt], (1, 2, new, past + new), name="scores")
    outputs = [scores, present] if cache_is_output else [scores]
    return b, outputs


def test_concat_onto_a_past_cache_is_an_append_of_the_new_entries() -> None:
    b, outputs = _decode_step(past=63, new=1)
    found = _by_name(lower(b.build(outputs)))
    append = found["present"]
    assert append.cache_append == CacheAppend(
        cache="past_key_values.0.key", axis=2, cached=63, appended=1, entry_elements=2 * 32
    )
    assert append.cache_append.cache_elements == 2 * 64 * 32
    # reads and writes the new token's key only; the cache is not one of its reads
    assert (append.input_elements, append.output_elements) == (64, 64)
    assert append.vector_ops == {E: 64}
    assert append.input_tensors == ("heads_first_out",)
    assert (append.output_tensor, append.graph_output) == ("present_out", True)
    # the layers after it read the whole extended cache
    assert found["kt"].input_elements == 2 * 64 * 32
    assert found["kt"].input_tensors == ("present_out",)
    assert all(w.cache_append is None for w in found.values() if w.name != "present")


def test_prefill_appends_a_whole_prompt_to_the_cache() -> None:
    b, outputs = _decode_step(past=100, new=28)
    append = _by_name(lower(b.build(outputs)))["present"]
    assert (append.cache_append.cached, append.cache_append.appended) == (100, 28)
    assert append.output_elements == append.input_elements == 28 * 64


@pytest.mark.parametrize(
    "variant",
    [
        {"cache_is_input": False},  # the first input is computed by the network
        {"cache_is_output": False},  # the result is not carried to the next step
        {"past_first": False},  # the new entries come first: not an append
    ],
)
def test_other_concats_copy_every_element(variant: dict) -> None:
    b, outputs = _decode_step(past=63, new=1, **variant)
    concat = _by_name(lower(b.build(outputs)))["present"]
    assert concat.cache_append is None
    assert concat.output_elements == concat.vector_ops[E] == 2 * 64 * 32
