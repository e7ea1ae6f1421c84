"""Lowering of vector and free ops, fusion, errors, and conservation over whole graphs."""

from __future__ import annotations

import pytest
from lowering_graphs import SOURCE, GraphBuilder

from accel_spec.types import OpClass
from compiler.graph import Graph
from compiler.lowering import free_nodes, lower
from compiler.lowering.vector_rules import broadcast_structure
from compiler.workload import Workload, WorkloadKind
from tessera.errors import InputError

E, T, R = OpClass.ELEMENTWISE, OpClass.TRANSCENDENTAL, OpClass.REDUCTION


def _by_name(workloads: tuple[Workload, ...]) -> dict[str, Workload]:
    return {w.name: w for w in workloads}


def _conv(b: GraphBuilder, x: str, channels: int, name: str, bias: bool = False) -> str:
    """A 1×1 conv from 8 to `channels` channels on a 1×8×6×6 map."""
    inputs = [x, b.weight(f"{name}_w", (channels, 8, 1, 1))] + ([b.weight(f"{name}_b", (channels,))] if bias else [])
    return b.node("Conv", inputs, (1, channels, 6, 6), name=name)


OUT = 8 * 36  # elements of a 1×8×6×6 map


@pytest.mark.parametrize("bias", [False, True])
def test_conv_bn_relu_is_one_workload(bias: bool) -> None:
    b = GraphBuilder()
    c = _conv(b, b.input("x", (1, 8, 6, 6)), 8, "conv", bias=bias)
    params = [b.weight(f"bn_{p}", (8,)) for p in ("scale", "shift", "mean", "var")]
    bn = b.node("BatchNormalization", [c, *params], (1, 8, 6, 6), name="bn")
    b.node("Relu", [bn], (1, 8, 6, 6), name="relu")
    (workload,) = lower(b.build())
    assert (workload.name, workload.fused) == ("conv", ("bn", "relu"))
    # the BN scale folds into the weights and its shift into the conv's bias: one bias add
    # per output either way, then the Relu
    assert workload.vector_ops == {E: 2 * OUT}
    assert workload.output_elements == OUT


def test_bn_after_an_activation_is_a_fused_scale_and_shift() -> None:
    b = GraphBuilder()
    r = b.node("Relu", [_conv(b, b.input("x", (1, 8, 6, 6)), 8, "conv")], (1, 8, 6, 6), name="relu")
    b.node("BatchNormalization", [r, *[b.weight(f"p{i}", (8,)) for i in range(4)]], (1, 8, 6, 6), name="bn")
    (workload,) = lower(b.build())
    assert workload.fused == ("relu", "bn")
    assert workload.vector_ops == {E: OUT + 2 * OUT}


def test_residual_add_is_fused_with_a_side_input() -> None:
    b = GraphBuilder()
    x = b.input("x", (1, 8, 6, 6))
    add = b.node("Add", [_conv(b, x, 8, "conv"), x], (1, 8, 6, 6), name="add")
    b.node("Relu", [add], (1, 8, 6, 6), name="relu")
    (workload,) = lower(b.build())
    assert workload.fused == ("add", "relu")
    assert workload.side_input_elements == OUT
    assert workload.vector_ops == {E: 2 * OUT}


def test_residual_from_a_later_gemm_orders_the_fused_workload_after_it() -> None:
    b = GraphBuilder()
    x = b.input("x", (1, 8, 6, 6))
    main = _conv(b, x, 8, "main")
    shortcut = _conv(b, x, 8, "shortcut")
    b.node("Add", [main, shortcut], (1, 8, 6, 6), name="add")
    workloads = lower(b.build())
    assert [(w.name, w.fused) for w in workloads] == [("shortcut", ()), ("main", ("add",))]
    assert workloads[1].side_input_elements == OUT


def test_output_read_by_two_layers_is_not_fused() -> None:
    b = GraphBuilder()
    c = _conv(b, b.input("x", (1, 8, 6, 6)), 8, "conv")
    relu = b.node("Relu", [c], (1, 8, 6, 6), name="relu")
    other = _conv(b, c, 8, "other")
    b.node("Add", [relu, other], (1, 8, 6, 6), name="add")
    workloads = _by_name(lower(b.build()))
    assert workloads["conv"].fused == ()
    assert workloads["relu"].kind is WorkloadKind.VECTOR
    assert workloads["relu"].fused == ("add",)


def test_silu_reads_the_producer_twice_inside_the_group() -> None:
    b = GraphBuilder()
    c = _conv(b, b.input("x", (1, 8, 6, 6)), 8, "conv")
    sig = b.node("Sigmoid", [c], (1, 8, 6, 6), name="sigmoid")
    b.node("Mul", [c, sig], (1, 8, 6, 6), name="mul")
    (workload,) = lower(b.build())
    assert workload.fused == ("sigmoid", "mul")
    assert workload.vector_ops == {T: OUT, E: OUT}
    assert workload.side_input_elements == 0


def _mlp(with_erf_chain: bool) -> Graph:
    """MatMul → Add(bias) → GELU, as one Gelu node or as the exported Erf chain."""
    b = GraphBuilder()
    shape = (2, 5, 32)
    mm = b.node("MatMul", [b.input("x", (2, 5, 16)), b.weight("w", (16, 32))], shape, name="mm")
    h = b.node("Add", [mm, b.weight("bias", (32,))], shape, name="bias")
    if with_erf_chain:
        d = b.node("Div", [h, b.constant("sqrt2", 2**0.5)], shape, name="div")
        e = b.node("Erf", [d], shape, name="erf")
        a = b.node("Add", [e, b.constant("one", 1.0)], shape, name="add1")
        m = b.node("Mul", [h, a], shape, name="mul")
        b.node("Mul", [m, b.constant("half", 0.5)], shape, name="half")
    else:
        b.node("Gelu", [h], shape, name="gelu")
    return b.build()


def test_matmul_bias_gelu_fuses_and_the_erf_chain_costs_the_same() -> None:
    (gelu,) = lower(_mlp(with_erf_chain=False))
    (chain,) = lower(_mlp(with_erf_chain=True))
    out = 2 * 5 * 32
    assert gelu.fused == ("bias", "gelu")
    assert chain.fused == ("bias", "div", "erf", "add1", "mul", "half")
    assert gelu.vector_ops == chain.vector_ops == {E: out + 4 * out, T: out}


def test_softmax_stays_separate_with_the_documented_counts() -> None:
    b = GraphBuilder()
    q, k, v = (b.input(n, (2, 4, 10, 16)) for n in "qkv")
    kt = b.node("Transpose", [k], (2, 4, 16, 10), name="kt", perm=[0, 1, 3, 2])
    scores = b.node("MatMul", [q, kt], (2, 4, 10, 10), name="qk")
    p = b.node("Softmax", [scores], (2, 4, 10, 10), name="softmax", axis=-1)
    b.node("MatMul", [p, v], (2, 4, 10, 16), name="pv")
    workloads = lower(b.build())
    assert [w.name for w in workloads] == ["kt", "qk", "softmax", "pv"]
    n = 2 * 4 * 10 * 10
    assert workloads[2].vector_ops == {R: 2 * n, E: 2 * n, T: n}
    assert workloads[2].kind is WorkloadKind.VECTOR and workloads[2].macs == 0
    assert workloads[0].vector_ops == {E: 2 * 4 * 16 * 10}  # a transpose copies every element
    assert workloads[1].weight_is_activation and workloads[3].weight_is_activation


def test_layer_norm_counts_per_element_and_per_row() -> None:
    b = GraphBuilder()
    x = b.input("x", (2, 5, 16))
    b.node("LayerNormalization", [x, b.weight("g", (16,)), b.weight("beta", (16,))], (2, 5, 16), axis=-1)
    (workload,) = lower(b.build())
    elements, rows = 160, 10
    assert workload.vector_ops == {R: 2 * elements, E: 5 * elements + 3 * rows, T: rows}
    assert workload.weight_elements == 32


def test_a_fused_elementwise_ops_constants_are_read() -> None:
    """An RMSNorm built from elementwise ops, x / sqrt(mean(x²) + eps) · scale over 2×5×16:
    the scale multiplies the division and fuses into it, and its 16 elements (broadcast over
    the 10 rows: period 16, repeat 1) are read with it; the eps add keeps its scalar."""
    b = GraphBuilder()
    x = b.input("x", (2, 5, 16))
    square = b.node("Mul", [x, x], (2, 5, 16), name="square")
    mean = b.node("ReduceMean", [square], (2, 5, 1), name="mean", axes=[-1])
    shifted = b.node("Add", [mean, b.weight("eps", ())], (2, 5, 1), name="eps_add")
    root = b.node("Sqrt", [shifted], (2, 5, 1), name="sqrt")
    normalised = b.node("Div", [x, root], (2, 5, 16), name="div")
    b.node("Mul", [normalised, b.weight("scale", (16,))], (2, 5, 16), name="scale_mul")
    workloads = _by_name(lower(b.build()))
    div = workloads["div"]
    assert div.fused == ("scale_mul",)
    assert (div.weight_elements, div.constant_period, div.constant_repeat) == (16, 16, 1)
    assert workloads["eps_add"].weight_elements == 1


@pytest.mark.parametrize(
    ("constant", "output", "structure"),
    [
        ((768,), (2, 128, 768), (768, 1)),  # a LayerNorm scale: leading dims broadcast
        ((1, 128, 768), (2, 128, 768), (128 * 768, 1)),  # a position embedding over the batch
        ((128, 64), (1, 8, 128, 64), (128 * 64, 1)),  # a rotary table over the heads
        ((64, 1, 1), (1, 64, 56, 56), (64 * 56 * 56, 56 * 56)),  # per channel: repeat H·W
        ((2, 1), (3, 2, 5), (10, 5)),
        ((), (4, 6), (24, 24)),  # a scalar: one element for every output
        ((4, 6), (4, 6), (24, 1)),  # full size
        ((64, 1, 7), (1, 64, 5, 7), (0, 1)),  # spans axes 1 and 3, not contiguous: unknown
        ((3,), (4,), (0, 1)),  # does not broadcast
    ],
)
def test_broadcast_structure_of_a_constant(constant, output, structure) -> None:
    assert broadcast_structure(constant, output) == structure


def test_vector_workloads_record_how_their_constants_broadcast() -> None:
    b = GraphBuilder()
    x = b.input("x", (2, 5, 16))
    b.node("LayerNormalization", [x, b.weight("g", (16,)), b.weight("beta", (16,))], (2, 5, 16), axis=-1, name="ln")
    y = b.input("y", (1, 8, 6, 6))
    b.node("BatchNormalization", [y, *[b.weight(f"bn{i}", (8,)) for i in range(4)]], (1, 8, 6, 6), name="bn")
    z = b.input("z", (4, 8))
    b.node("Where", [b.weight("mask", (4, 1)), z, b.weight("fill", (8,))], (4, 8), name="where")
    found = _by_name(lower(b.build()))
    assert (found["ln"].constant_period, found["ln"].constant_repeat) == (16, 1)
    assert (found["bn"].constant_period, found["bn"].constant_repeat, found["bn"].weight_elements) == (OUT, 36, 32)
    assert found["where"].constant_period == 0  # its two constants broadcast differently


def test_consecutive_elementwise_ops_fuse_into_one_vector_workload() -> None:
    b = GraphBuilder()
    x = b.input("x", (4, 64))
    m = b.node("Mul", [x, b.weight("scale", (64,))], (4, 64), name="mul")
    a = b.node("Add", [m, b.weight("shift", (64,))], (4, 64), name="add")
    b.node("Sigmoid", [a], (4, 64), name="sig")
    (workload,) = lower(b.build())
    assert (workload.name, workload.op, workload.kind) == ("mul", "Mul", WorkloadKind.VECTOR)
    assert workload.fused == ("add", "sig")
    assert workload.vector_ops == {E: 2 * 256, T: 256}
    assert (workload.input_elements, workload.output_elements, workload.side_input_elements) == (256, 256, 0)


@pytest.mark.parametrize(("op", "per_output"), [("MaxPool", {R: 9}), ("AveragePool", {R: 9, E: 1})])
def test_pooling_is_window_size_reductions_per_output(op: str, per_output) -> None:
    b = GraphBuilder()
    b.node(op, [b.input("x", (1, 8, 9, 9))], (1, 8, 4, 4), kernel_shape=[3, 3], strides=[2, 2])
    (workload,) = lower(b.build())
    assert workload.vector_ops == {cls: n * 128 for cls, n in per_output.items()}


@pytest.mark.parametrize(("mode", "taps"), [("nearest", 1), ("linear", 4), ("cubic", 16)])
def test_resize_taps_per_output_element(mode: str, taps: int) -> None:
    b = GraphBuilder()
    b.node("Resize", [b.input("x", (1, 8, 5, 5))], (1, 8, 10, 10), mode=mode)
    (workload,) = lower(b.build())
    assert workload.vector_ops == {E: taps * 800}


def test_global_average_pool_sums_inputs_and_divides_outputs() -> None:
    b = GraphBuilder()
    b.node("GlobalAveragePool", [b.input("x", (1, 8, 6, 6))], (1, 8, 1, 1))
    (workload,) = lower(b.build())
    assert workload.vector_ops == {R: OUT, E: 8}


def test_data_movement_is_not_fused_into_a_gemm() -> None:
    b = GraphBuilder()
    c = _conv(b, b.input("x", (1, 8, 6, 6)), 8, "conv")
    b.node("Concat", [c, b.input("y", (1, 8, 6, 6))], (1, 16, 6, 6), name="concat", axis=1)
    workloads = _by_name(lower(b.build()))
    assert workloads["conv"].fused == ()
    assert workloads["concat"].vector_ops == {E: 2 * OUT}
    assert workloads["concat"].input_elements == 2 * OUT


def test_free_ops_make_no_workload_but_connect_fusion() -> None:
    b = GraphBuilder()
    c = _conv(b, b.input("x", (1, 8, 6, 6)), 8, "conv")
    flat = b.node("Flatten", [c], (1, OUT), name="flatten", axis=1)
    same_width = b.node("Cast", [flat], (1, OUT), name="cast", dtype="int32", to=6)
    b.node("Relu", [same_width], (1, OUT), name="relu", dtype="int32")
    graph = b.build()
    (workload,) = lower(graph)
    assert (workload.name, workload.fused) == ("conv", ("relu",))
    assert set(free_nodes(graph)) == {"flatten", "cast"}


def test_cast_to_another_width_is_an_elementwise_conversion() -> None:
    b = GraphBuilder()
    b.node("Cast", [b.input("x", (4, 16))], (4, 16), name="cast", dtype="float16", to=10)
    (workload,) = lower(b.build())
    assert workload.vector_ops == {E: 64}


def test_unsupported_ops_are_listed_with_node_op_and_file() -> None:
    b = GraphBuilder()
    x = b.input("x", (1, 8, 6, 6))
    y = b.node("NonMaxSuppression", [x], (1, 3), name="nms")
    b.node("FusedMatMul", [y, y], (1, 3), name="custom", domain="com.microsoft")
    with pytest.raises(InputError) as error:
        lower(b.build())
    locations = [p.location for p in error.value.problems]
    assert locations == ["node 'nms' (NonMaxSuppression)", "node 'custom' (FusedMatMul)"]
    assert error.value.source == SOURCE and SOURCE in str(error.value)
    assert "com.microsoft" in error.value.problems[1].message


def test_unsupported_op_with_constant_inputs_is_still_an_error() -> None:
    b = GraphBuilder()
    b.node("Relu", [b.node("Unique", [b.weight("w", (4,))], (4,), name="uniq")], (4,))
    with pytest.raises(InputError, match="node 'uniq' \\(Unique\\)"):
        lower(b.build())


def _network() -> tuple[Graph, int]:
    """A residual conv block, a classifier and an attention head; returns the graph and its
    hand-computed MACs."""
    b = GraphBuilder()
    x = b.input("x", (1, 8, 6, 6))
    c1 = _conv(b, x, 8, "c1", bias=True)
    bn = b.node("BatchNormalization", [c1, *[b.weight(f"bn{i}", (8,)) for i in range(4)]], (1, 8, 6, 6), name="bn")
    r1 = b.node("Relu", [bn], (1, 8, 6, 6), name="r1")
    c2 = b.node("Conv", [r1, b.weight("c2_w", (8, 1, 3, 3))], (1, 8, 6, 6), name="c2", group=8, pads=[1] * 4)
    add = b.node("Add", [c2, x], (1, 8, 6, 6), name="add")
    r2 = b.node("Clip", [add, b.constant("lo", 0.0), b.constant("hi", 6.0)], (1, 8, 6, 6), name="r2")
    pool = b.node("GlobalAveragePool", [r2], (1, 8, 1, 1), name="gap")
    flat = b.node("Flatten", [pool], (1, 8), name="flatten")
    b.node("Gemm", [flat, b.weight("fc_w", (10, 8)), b.weight("fc_b", (10,))], (1, 10), name="fc", transB=1)
    seq = b.node("Reshape", [r2, b.constant("shape", [1, 8, 36])], (1, 8, 36), name="to_seq")
    tokens = b.node("Transpose", [seq], (1, 36, 8), name="tokens", perm=[0, 2, 1])
    qk = b.node("MatMul", [tokens, seq], (1, 36, 36), name="qk")
    p = b.node("Softmax", [qk], (1, 36, 36), name="softmax", axis=-1)
    b.node("MatMul", [p, tokens], (1, 36, 8), name="pv")
    macs = 36 * 8 * 8 + 36 * 8 * 9 + 8 * 10 + 36 * 8 * 36 + 36 * 36 * 8
    return b.build(outputs=["fc_out", "pv_out"]), macs


def test_conservation_and_every_node_accounted_for_once() -> None:
    graph, macs = _network()
    workloads = lower(graph)
    assert sum(w.macs for w in workloads) == macs
    accounted = [w.name for w in workloads] + [n for w in workloads for n in w.fused] + list(free_nodes(graph))
    assert sorted(accounted) == sorted(node.name for node in graph.nodes)
    assert set(free_nodes(graph)) == {"flatten", "to_seq"}
    assert _by_name(workloads)["c1"].fused == ("bn", "r1")
    assert _by_name(workloads)["c2"].fused == ("add", "r2")  # r2 is written once, read by two layers


def test_workloads_are_in_topological_order() -> None:
    graph, _ = _network()
    workloads = lower(graph)
    nodes = {node.name: node for node in graph.nodes}
    free = {nodes[name].outputs[0]: nodes[name].inputs[0] for name in free_nodes(graph)}
    writer = {}
    for position, workload in enumerate(workloads):
        for name in (workload.name, *workload.fused):
            writer[nodes[name].outputs[0]] = position
    for position, workload in enumerate(workloads):
        for name in (workload.name, *workload.fused):
            for tensor in nodes[name].inputs:
                while tensor in free:
                    tensor = free[tensor]
                assert writer.get(tensor, -1) <= position


def test_pooling_without_a_kernel_shape_is_an_error_naming_the_node() -> None:
    b = GraphBuilder()
    b.node("MaxPool", [b.input("x", (1, 8, 6, 6))], (1, 8, 3, 3), name="pool")
    with pytest.raises(InputError, match="node 'pool' \\(MaxPool\\).*kernel_shape"):
        lower(b.build())
