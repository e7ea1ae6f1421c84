"""What one node lowers to, before fusion: a GEMM, a vector operation, or nothing.

Each rule in the registry turns one Node into one of these three values. Fusion then groups
them into Workloads; the values carry exactly what fusion and workload assembly need.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from accel_spec.types import OpClass
from compiler.workload import CacheAppend, ConvGeometry, GemmShape


def _no_ops() -> Mapping[OpClass, int]:
    return MappingProxyType({})


def op_counts(per_element: Mapping[OpClass, int], elements: int) -> Mapping[OpClass, int]:
    """Lane operations of `elements` elements at `per_element` operations each, per class."""
    return MappingProxyType({cls: n * elements for cls, n in per_element.items() if n * elements})


def add_counts(*counts: Mapping[OpClass, int]) -> Mapping[OpClass, int]:
    """Class-wise sum of several operation counts (classes with zero operations dropped)."""
    total: dict[OpClass, int] = {}
    for mapping in counts:
        for cls, n in mapping.items():
            total[cls] = total.get(cls, 0) + n
    return MappingProxyType({cls: total[cls] for cls in sorted(total) if total[cls]})


@dataclass(frozen=True)
class GemmOp:
    """A node that runs on the matrix engine.

    Attributes:
        gemm: the GEMM view; its MACs are the node's exact multiply-accumulates.
        input_elements: elements of the activation operand.
        weight_elements: elements of the second operand (a weight, or an activation).
        epilogue: vector work the node itself needs on its output (bias add, col2im adds).
        conv: geometry of a convolution (None for matrix products).
        weight_is_activation: the second operand is produced by the network.
        side_input_elements: elements of an extra activation the node reads (Gemm's C).
        has_bias: the node adds a bias, so a BatchNormalization folded into it adds no work.
        folds_batchnorm: a following BatchNormalization can be folded into the constant
            weights (the normalised axis is the output-channel axis N).
    """

    gemm: GemmShape
    input_elements: int
    weight_elements: int
    epilogue: Mapping[OpClass, int] = field(default_factory=_no_ops)
    conv: ConvGeometry | None = None
    weight_is_activation: bool = False
    side_input_elements: int = 0
    has_bias: bool = False
    folds_batchnorm: bool = False


@dataclass(frozen=True)
class VectorOp:
    """A node that runs on the vector unit.

    Attributes:
        ops: lane operations per class for the whole node.
        input_elements: elements of its activation inputs (all of them, e.g. every Concat input).
        weight_elements: elements of its constant operands read at run time (LayerNorm's
            scale and bias, the rows of an embedding table that a Gather reads).
        elementwise: a pure elementwise/activation op, which may join a producer's GEMM
            epilogue or a chain of elementwise ops (see `compiler.lowering.fusion`).
        folds_into_gemm: a BatchNormalization, which costs nothing beyond a bias when it
            directly follows a GEMM whose weights it can be folded into.
        constant_period, constant_repeat: how its constants broadcast over its output
            (`Workload.constant_period`; period 0: unknown).
        cache_append: the node appends to a KV cache (`compiler.workload.CacheAppend`): its
            counts cover the appended entries only, and the cache is not one of its reads.
    """

    ops: Mapping[OpClass, int]
    input_elements: int
    weight_elements: int = 0
    elementwise: bool = False
    folds_into_gemm: bool = False
    constant_period: int = 0
    constant_repeat: int = 1
    cache_append: CacheAppend | None = None


@dataclass(frozen=True)
class FreeOp:
    """A node that moves no data at inference time, with the reason it is provably free."""

    reason: str


Lowered = GemmOp | VectorOp | FreeOp
