"""A BERT-base-sized graph in TorchScript-export style loads in well under half a second."""

from __future__ import annotations


import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from compiler.frontend import graph_from_model

LAYERS, HIDDEN, HEADS, SEQ, BATCH = 12, 768, 12, 128, 4


class _Net:
    """Accumulates nodes and stripped weights while a test network is written."""

    def __init__(self) -> None:
        self.nodes: list[onnx.NodeProto] = []
        self.weights: list[TensorProto] = []
        self.count = 0

    def op(self, op_type: str, inputs: list[str], **attrs: object) -> str:
        self.count += 1
        out = f"t{self.count}"
        self.nodes.append(helper.make_node(op_type, inputs, [out], name=f"n{self.count}", **attrs))
        return out

    def weight(self, dims: list[int]) -> str:
        name = f"w{len(self.weights)}"
        self.weights.append(TensorProto(name=name, data_type=TensorProto.FLOAT, dims=dims))
        return name

    def const(self, values: list[int]) -> str:
        name = f"c{len(self.weights)}"
        self.weights.append(numpy_helper.from_array(np.array(values, np.int64), name))
        return name

    def split_heads(self, x: str) -> str:
        """view(b, s, heads, d).transpose(1, 2) with the shape read at run time, as torch does."""
        shape = self.op("Shape", [x])
        b = self.op("Unsqueeze", [self.op("Gather", [shape, self.const(0)]), self.const([0])])
        s = self.op("Unsqueeze", [self.op("Gather", [shape, self.const(1)]), self.const([0])])
        target = self.op("Concat", [b, s, self.const([HEADS, HIDDEN // HEADS])], axis=0)
        return self.op("Transpose", [self.op("Reshape", [x, target])], perm=[0, 2, 1, 3])

    def linear(self, x: str, k: int, n: int) -> str:
        return self.op("Add", [self.op("MatMul", [x, self.weight([k, n])]), self.weight([n])])

    def layer(self, x: str) -> str:
        q, k, v = (self.split_heads(self.linear(x, HIDDEN, HIDDEN)) for _ in range(3))
        scores = self.op("MatMul", [q, self.op("Transpose", [k], perm=[0, 1, 3, 2])])
        probs = self.op("Softmax", [self.op("Div", [scores, self.weight([])])], axis=-1)
        context = self.op("Transpose", [self.op("MatMul", [probs, v])], perm=[0, 2, 1, 3])
        merged = self.op("Reshape", [context, self.const([0, 0, HIDDEN])])
        x = self.norm(self.op("Add", [x, self.linear(merged, HIDDEN, HIDDEN)]))
        up = self.linear(x, HIDDEN, 4 * HIDDEN)
        gelu = self.op("Mul", [up, self.op("Erf", [up])])
        return self.norm(self.op("Add", [x, self.linear(gelu, 4 * HIDDEN, HIDDEN)]))

    def norm(self, x: str) -> str:
        return self.op("LayerNormalization", [x, self.weight([HIDDEN]), self.weight([HIDDEN])])


def bert_like() -> onnx.ModelProto:
    net = _Net()
    x = net.op("Gather", [net.weight([30522, HIDDEN]), "ids"])
    for _ in range(LAYERS):
        x = net.layer(x)
    graph = helper.make_graph(
        net.nodes,
        "bert",
        [helper.make_tensor_value_info("ids", TensorProto.INT64, ["batch", SEQ])],
        [helper.make_tensor_value_info(x, TensorProto.FLOAT, None)],
        net.weights,
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def test_bert_base_sized_graph_loads_fast_with_exact_macs() -> None:
    model = bert_like()
    g = graph_from_model(model, "bert.onnx", batch=BATCH)
    assert not any(n.op_type in ("Shape", "Gather", "Unsqueeze", "Concat") for n in g.nodes[1:])
    macs = 0
    for node in g.nodes:
        if node.op_type == "MatMul":
            out = g.tensor(node.outputs[0]).shape
            macs += int(np.prod(out)) * g.tensor(node.inputs[0]).shape[-1]
    tokens = BATCH * SEQ
    per_layer = 4 * tokens * HIDDEN * HIDDEN + 2 * BATCH * SEQ * SEQ * HIDDEN
    per_layer += 2 * tokens * HIDDEN * 4 * HIDDEN
    assert macs == LAYERS * per_layer
