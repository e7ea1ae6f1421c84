"""GraphBuilder: write an ONNX network layer by layer, as its paper's table reads.

Every method adds one operator, names it from the current scope (``layer1.0.conv2``), works
out its output shape (the zoo knows every dimension, so all shapes are static) and returns the
output tensor's name, which is the node's name. `build()` returns a ModelProto whose
intermediate tensors all carry their shapes as value_info; strict ONNX shape inference then
cross-checks the builder's own shape arithmetic.

Weights are never materialised. A weight is a TensorProto with dims and data type whose data
is declared external (``data_location = EXTERNAL``, location `WEIGHTS_FILE`, consecutive
offset/length in bytes) and no file is written, so a 7-billion-parameter decoder builds in
milliseconds and a few hundred kilobytes, exactly like the torch exports in tests/data/onnx
whose ``.data`` files are not kept either. Small int64 operands (Reshape shapes, Slice
bounds, axes) and scalar floats (Clip bounds, attention scale) are inline initializers.

Batch normalisation is folded into the preceding convolution (`conv(..., bias=True)`), as
every inference export does (torchvision's ONNX exports contain no BatchNormalization).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from math import prod

import numpy as np
import onnx
from onnx import TensorProto, helper

from compiler.zoo.shapes import conv_out

OPSET = 18  # LayerNormalization (17+), ReduceMean with axes as an input (18+)
WEIGHTS_FILE = "weights.bin"
FLOAT = TensorProto.FLOAT
_FLOAT_BYTES = 4

Shape = tuple[int, ...]


class GraphBuilder:
    """Accumulates nodes, weights and shapes of one graph; `build()` makes the ModelProto."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._nodes: list[onnx.NodeProto] = []
        self._inputs: list[str] = []
        self._outputs: list[str] = []
        self._initializers: list[TensorProto] = []
        self._shapes: dict[str, Shape] = {}
        self._dtypes: dict[str, int] = {}
        self._prefix = ""
        self._weight_bytes = 0
        self._constants: dict[tuple[object, ...], str] = {}

    # ---------------------------------------------------------------- bookkeeping

    def shape(self, x: str) -> Shape:
        """Static shape of a tensor built so far."""
        return self._shapes[x]

    def scope(self, name: str) -> AbstractContextManager[None]:
        """Prefix every node and weight created inside with ``name.``."""
        return self._within(f"{self._prefix}{name}")

    @contextmanager
    def _within(self, full_name: str) -> Iterator[None]:
        outer = self._prefix
        self._prefix = f"{full_name}."
        try:
            yield
        finally:
            self._prefix = outer

    def _fresh(self, base: str) -> str:
        """An unused tensor name ``<scope>.<base>`` (suffixed _1, _2, ... if taken)."""
        name = f"{self._prefix}{base}"
        if name not in self._shapes:
            return name
        k = 1
        while f"{name}_{k}" in self._shapes:
            k += 1
        return f"{name}_{k}"

    def input(self, name: str, shape: Shape, dtype: int = FLOAT) -> str:
        """Declare a graph input with a static shape."""
        self._shapes[name] = tuple(shape)
        self._dtypes[name] = dtype
        self._inputs.append(name)
        return name

    def output(self, x: str) -> None:
        """Mark a tensor as a graph output."""
        self._outputs.append(x)

    def weight(self, name: str, shape: Shape) -> str:
        """A float32 weight declared as external data (see the module docstring); never filled."""
        return self._weight(self._fresh(name), shape)

    def _weight(self, full: str, shape: Shape) -> str:
        length = prod(shape) * _FLOAT_BYTES
        tensor = TensorProto(name=full, dims=shape, data_type=FLOAT, data_location=TensorProto.EXTERNAL)
        for key, value in (("location", WEIGHTS_FILE), ("offset", self._weight_bytes), ("length", length)):
            entry = tensor.external_data.add()
            entry.key, entry.value = key, str(value)
        self._weight_bytes += length
        self._initializers.append(tensor)
        self._shapes[full] = tuple(shape)
        self._dtypes[full] = FLOAT
        return full

    def ints(self, values: Sequence[int]) -> str:
        """A small inline int64 vector (shapes, axes, slice bounds), shared by equal values."""
        return self._constant(tuple(int(v) for v in values), TensorProto.INT64, (len(values),))

    def scalar(self, value: float) -> str:
        """A small inline float32 scalar (clip bounds, scales, epsilons)."""
        return self._constant((float(value),), FLOAT, ())

    def _constant(self, values: tuple[int | float, ...], dtype: int, shape: Shape) -> str:
        key = (dtype, shape, *values)
        if key not in self._constants:
            name = f"const.{len(self._constants)}"
            self._initializers.append(helper.make_tensor(name, dtype, shape, list(values)))
            self._shapes[name] = shape
            self._dtypes[name] = dtype
            self._constants[key] = name
        return self._constants[key]

    def op(self, op_type: str, inputs: Sequence[str], shape: Shape, name: str | None = None, **attrs: object) -> str:
        """Add one node with one output of the given shape; returns the output's name."""
        return self._node(op_type, inputs, shape, self._fresh(name or op_type.lower()), attrs)

    def _node(self, op_type: str, inputs: Sequence[str], shape: Shape, out: str, attrs: dict[str, object]) -> str:
        self._nodes.append(helper.make_node(op_type, list(inputs), [out], name=out, **attrs))
        self._shapes[out] = tuple(shape)
        self._dtypes[out] = FLOAT
        return out

    def build(self) -> onnx.ModelProto:
        """The ModelProto: opset `OPSET`, every tensor's static shape recorded."""
        graph_io = set(self._inputs) | set(self._outputs)
        weights = {t.name for t in self._initializers}
        info = self._value_info
        graph = helper.make_graph(
            self._nodes,
            self.name,
            [info(x) for x in self._inputs],
            [info(x) for x in self._outputs],
            initializer=self._initializers,
            value_info=[info(x) for x in self._shapes if x not in graph_io and x not in weights],
        )
        opsets = [helper.make_opsetid("", OPSET)]
        model = helper.make_model(graph, opset_imports=opsets, producer_name="tessera.zoo")
        model.ir_version = helper.find_min_ir_version_for(opsets)
        return model

    def _value_info(self, x: str) -> onnx.ValueInfoProto:
        return helper.make_tensor_value_info(x, self._dtypes[x], self._shapes[x])

    # ---------------------------------------------------------------- layers with weights

    def conv(
        self,
        x: str,
        channels: int,
        kernel: int | tuple[int, int],
        stride: int = 1,
        pad: int | None = None,
        groups: int = 1,
        bias: bool = True,
        name: str = "conv",
    ) -> str:
        """2-D convolution NCHW; `pad` defaults to kernel//2 per axis (same size at stride 1)."""
        r, s = (kernel, kernel) if isinstance(kernel, int) else kernel
        pad_h, pad_w = (r // 2, s // 2) if pad is None else (pad, pad)
        n, c, h, w = self.shape(x)
        out = self._fresh(name)
        params = [self._weight(f"{out}.weight", (channels, c // groups, r, s))]
        if bias:
            params.append(self._weight(f"{out}.bias", (channels,)))
        out_shape = (n, channels, conv_out(h, r, stride, pad_h), conv_out(w, s, stride, pad_w))
        attrs = {
            "kernel_shape": [r, s],
            "strides": [stride, stride],
            "pads": [pad_h, pad_w, pad_h, pad_w],
            "group": groups,
        }
        return self._node("Conv", [x, *params], out_shape, out, attrs)

    def gemm(self, x: str, features: int, name: str = "fc") -> str:
        """Fully connected layer on a 2-D input: Gemm with W [features, in] (transB) and a bias."""
        n, k = self.shape(x)
        out = self._fresh(name)
        w = self._weight(f"{out}.weight", (features, k))
        b = self._weight(f"{out}.bias", (features,))
        return self._node("Gemm", [x, w, b], (n, features), out, {"transB": 1})

    def linear(self, x: str, features: int, bias: bool = True, name: str = "linear") -> str:
        """Fully connected layer on the last axis of any-rank input: MatMul by W [in, features] (+ bias)."""
        *lead, k = self.shape(x)
        out = self._fresh(name)
        w = self._weight(f"{out}.weight", (k, features))
        y = self._node("MatMul", [x, w], (*lead, features), out, {})
        if not bias:
            return y
        b = self._weight(f"{out}.bias", (features,))
        return self._node("Add", [y, b], (*lead, features), f"{out}.add_bias", {})

    def layer_norm(self, x: str, eps: float, name: str = "norm") -> str:
        """LayerNormalization over the last axis with learned scale and bias."""
        hidden = self.shape(x)[-1]
        out = self._fresh(name)
        scale = self._weight(f"{out}.weight", (hidden,))
        bias = self._weight(f"{out}.bias", (hidden,))
        return self._node("LayerNormalization", [x, scale, bias], self.shape(x), out, {"axis": -1, "epsilon": eps})

    def rms_norm(self, x: str, eps: float, name: str = "norm") -> str:
        """RMSNorm over the last axis, x / sqrt(mean(x²) + eps) · weight, from elementwise ops."""
        hidden = self.shape(x)[-1]
        out = self._fresh(name)
        with self._within(out):
            mean_square = self.reduce_mean_last(self.pow(x, self.scalar(2.0)))
            normalised = self.div(x, self.sqrt(self.add(mean_square, self.scalar(eps))))
        scale = self._weight(f"{out}.weight", (hidden,))
        return self._node("Mul", [normalised, scale], self.shape(x), out, {})

    # ---------------------------------------------------------------- elementwise and data movement

    def _broadcast(self, op_type: str, a: str, b: str, name: str | None) -> str:
        shape = np.broadcast_shapes(self.shape(a), self.shape(b))
        return self.op(op_type, [a, b], shape, name)

    def add(self, a: str, b: str, name: str | None = None) -> str:
        return self._broadcast("Add", a, b, name)

    def mul(self, a: str, b: str, name: str | None = None) -> str:
        return self._broadcast("Mul", a, b, name)

    def div(self, a: str, b: str, name: str | None = None) -> str:
        return self._broadcast("Div", a, b, name)

    def pow(self, a: str, b: str, name: str | None = None) -> str:
        return self._broadcast("Pow", a, b, name)

    def _unary(self, op_type: str, x: str, name: str | None) -> str:
        return self.op(op_type, [x], self.shape(x), name)

    def relu(self, x: str, name: str | None = None) -> str:
        return self._unary("Relu", x, name)

    def sigmoid(self, x: str, name: str | None = None) -> str:
        return self._unary("Sigmoid", x, name)

    def neg(self, x: str, name: str | None = None) -> str:
        return self._unary("Neg", x, name)

    def sqrt(self, x: str, name: str | None = None) -> str:
        return self._unary("Sqrt", x, name)

    def erf(self, x: str, name: str | None = None) -> str:
        return self._unary("Erf", x, name)

    def relu6(self, x: str, name: str | None = None) -> str:
        """ReLU6 as Clip(x, 0, 6)."""
        return self.op("Clip", [x, self.scalar(0.0), self.scalar(6.0)], self.shape(x), name or "relu6")

    def gelu(self, x: str, name: str = "gelu") -> str:
        """Exact GELU, x·½(1 + erf(x/√2)), from opset-18 ops (Gelu itself is opset 20)."""
        out = self._fresh(name)
        with self._within(out):
            e = self.erf(self.div(x, self.scalar(2.0**0.5)))
            half = self.mul(self.add(e, self.scalar(1.0)), self.scalar(0.5))
        return self._node("Mul", [x, half], self.shape(x), out, {})

    def silu(self, x: str, name: str = "silu") -> str:
        """SiLU (swish), x·sigmoid(x)."""
        out = self._fresh(name)
        with self._within(out):
            s = self.sigmoid(x)
        return self._node("Mul", [x, s], self.shape(x), out, {})

    def softmax(self, x: str, name: str | None = None) -> str:
        """Softmax over the last axis."""
        return self.op("Softmax", [x], self.shape(x), name, axis=-1)

    def reduce_mean_last(self, x: str, name: str | None = None) -> str:
        """Mean over the last axis, kept as a size-1 axis."""
        shape = (*self.shape(x)[:-1], 1)
        return self.op("ReduceMean", [x, self.ints([-1])], shape, name, keepdims=1)

    def matmul(self, a: str, b: str, name: str | None = None) -> str:
        """Batched matrix product with numpy broadcasting over the leading axes."""
        (*batch_a, m, k), (*batch_b, k2, n) = self.shape(a), self.shape(b)
        if k != k2:
            raise ValueError(f"matmul {a} {self.shape(a)} @ {b} {self.shape(b)}: inner dims differ")
        return self.op("MatMul", [a, b], (*np.broadcast_shapes(tuple(batch_a), tuple(batch_b)), m, n), name)

    def reshape(self, x: str, shape: Shape, name: str | None = None) -> str:
        if prod(shape) != prod(self.shape(x)):
            raise ValueError(f"reshape {x} {self.shape(x)} to {shape}: element counts differ")
        return self.op("Reshape", [x, self.ints(shape)], shape, name)

    def transpose(self, x: str, perm: Sequence[int], name: str | None = None) -> str:
        shape = self.shape(x)
        return self.op("Transpose", [x], tuple(shape[p] for p in perm), name, perm=list(perm))

    def concat(self, xs: Sequence[str], axis: int, name: str | None = None) -> str:
        shape = list(self.shape(xs[0]))
        shape[axis] = sum(self.shape(x)[axis] for x in xs)
        return self.op("Concat", list(xs), tuple(shape), name, axis=axis)

    def slice_last(self, x: str, start: int, end: int, name: str | None = None) -> str:
        """x[..., start:end]."""
        shape = (*self.shape(x)[:-1], end - start)
        return self.op("Slice", [x, self.ints([start]), self.ints([end]), self.ints([-1])], shape, name)

    def slice_axis(self, x: str, axis: int, start: int, end: int, name: str | None = None) -> str:
        """x[start:end] along `axis`."""
        shape = list(self.shape(x))
        shape[axis] = end - start
        return self.op("Slice", [x, self.ints([start]), self.ints([end]), self.ints([axis])], tuple(shape), name)

    def expand(self, x: str, shape: Shape, name: str | None = None) -> str:
        return self.op("Expand", [x, self.ints(shape)], shape, name)

    def maxpool(self, x: str, kernel: int, stride: int, pad: int, name: str = "maxpool") -> str:
        n, c, h, w = self.shape(x)
        out = (n, c, conv_out(h, kernel, stride, pad), conv_out(w, kernel, stride, pad))
        return self.op(
            "MaxPool", [x], out, name, kernel_shape=[kernel, kernel], strides=[stride, stride], pads=[pad] * 4
        )

    def global_avg_pool(self, x: str, name: str = "avgpool") -> str:
        n, c, _, _ = self.shape(x)
        return self.op("GlobalAveragePool", [x], (n, c, 1, 1), name)

    def flatten(self, x: str, name: str = "flatten") -> str:
        n, *rest = self.shape(x)
        return self.op("Flatten", [x], (n, prod(rest)), name, axis=1)
