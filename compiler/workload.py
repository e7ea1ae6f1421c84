"""Workloads: what lowering hands to scheduling, one per layer of the network.

A workload is either a GEMM (every Conv, MatMul, Gemm and attention product, seen as
`batch` independent products of an M×K by K×N matrix) or a VECTOR operation (softmax,
normalisation, pooling, elementwise work that could not be fused into a producer).
Operand sizes are element counts of the real tensors in DRAM (a convolution's input is
its feature map, not the im2col matrix); bytes follow from the precision chosen later.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from enum import Enum
from types import MappingProxyType

from accel_spec.types import IdentityHashed, OpClass, Operand, TensorClass
from compiler.hashed_key import HashedKey
from compiler.memory.placement import Placement


class WorkloadKind(IdentityHashed, Enum):
    """Which engine does the bulk of a workload's work."""

    GEMM = "gemm"
    VECTOR = "vector"


@dataclass(frozen=True)
class GemmShape:
    """`batch` independent products (M×K)·(K×N); MACs = batch·M·K·N.

    For a convolution: M = N_images·out_h·out_w, K = (C/groups)·kh·kw, N = K_out/groups and
    batch = groups. For attention: batch = images·heads, M = query length, K = head dim (QKᵀ)
    or key length (PV).
    """

    m: int
    k: int
    n: int
    batch: int = 1

    @property
    def macs(self) -> int:
        return self.batch * self.m * self.k * self.n


@dataclass(frozen=True)
class ConvGeometry:
    """Geometry of a 2-D convolution (1-D convolutions use in_h = out_h = kernel_h = 1).

    Lets tiling compute the input window (halo included) that an output tile needs.
    """

    images: int
    in_h: int
    in_w: int
    in_c: int
    out_h: int
    out_w: int
    out_c: int
    kernel_h: int
    kernel_w: int
    stride_h: int = 1
    stride_w: int = 1
    dilation_h: int = 1
    dilation_w: int = 1
    groups: int = 1


@dataclass(frozen=True)
class AttentionShape:
    """A fused attention chain QKᵀ → softmax → PV (`compiler.memory.chains`): `batch`
    independent heads, each an S = Q·Kᵀ of `queries`×`head_dim` by `head_dim`×`keys`, a
    softmax over each row of S, and O = P·V of `queries`×`keys` by `keys`×`value_dim`.

    MACs = batch·queries·keys·(head_dim + value_dim): the two products' MACs exactly.
    """

    batch: int
    queries: int
    keys: int
    head_dim: int
    value_dim: int

    @property
    def macs(self) -> int:
        return self.batch * self.queries * self.keys * (self.head_dim + self.value_dim)


@dataclass(frozen=True)
class ChainLayer:
    """One convolution of a fused chain (`ConvChain`): its GEMM view, geometry and the lane
    operations of its fused epilogue (bias, activation; a residual Add on the last layer),
    by op class, sorted."""

    gemm: GemmShape
    conv: ConvGeometry
    vector_ops: tuple[tuple[OpClass, int], ...]


@dataclass(frozen=True)
class ConvChain:
    """A fused chain of convolutions run depth first (`compiler.memory.conv_chains`): layer
    i + 1 reads only layer i's output, whose rows chain (out of layer i = in of layer i + 1).

    MACs = the layers' MACs exactly: every output row of every layer is computed once.
    """

    layers: tuple[ChainLayer, ...]

    @property
    def macs(self) -> int:
        return sum(layer.gemm.macs for layer in self.layers)


@dataclass(frozen=True)
class MlpShape:
    """A fused MLP block (`compiler.memory.mlp_chains`): the up-projection of `tokens` rows
    of width `hidden` to `ffn` (`gated`: a gate and an up projection side by side, 2·`ffn`
    columns, as a merged gate-up weight), its activation, and the down-projection of the
    activated `tokens`×`ffn` intermediate to `out`.

    MACs = tokens·ffn·(hidden·(1 + gated) + out): the products' MACs exactly.

    Attributes:
        up_ops, down_ops: the lane operations of each projection's fused epilogue by op
            class, sorted: the activation (and the gate's product) after the up-projection;
            bias and residual after the down-projection.
    """

    tokens: int
    hidden: int
    ffn: int
    out: int
    gated: bool
    up_ops: tuple[tuple[OpClass, int], ...]
    down_ops: tuple[tuple[OpClass, int], ...]

    @property
    def up_width(self) -> int:
        """Columns of the up-projection: ffn, or gate and up side by side."""
        return self.ffn * (1 + int(self.gated))

    @property
    def macs(self) -> int:
        return self.tokens * self.ffn * (self.hidden * (1 + int(self.gated)) + self.out)


@dataclass(frozen=True)
class CacheAppend:
    """A Concat that appends this step's entries to a cache carried between steps (a decoder's
    past keys or values), which lowering gives the cost of the append instead of a copy.

    Lowering marks a Concat this way when its first input is a graph input (the cache as
    the previous step left it), its other inputs are produced by the network (this step's
    keys or values), and its output is a graph output (the cache the next step receives): a
    Hugging Face decoder export's ``present.<i>.key = Concat(past_key_values.<i>.key, k,
    axis=-2)``, and the zoo's ``llama:phase=decode``. The workload then reads only the new
    entries (`Workload.input_tensors`, `input_elements`) and writes only them
    (`output_elements`, one copy per element in `vector_ops`): the extended cache
    (`Workload.output_tensor`) is the old cache with the new entries written after it along
    `axis`, in the cache's own buffer. A later layer that reads `output_tensor` reads all
    `cached + appended` entries. No workload reads `cache` itself: a planner that places the
    cache or checks DRAM capacity counts `cache_elements` for it.

    Attributes:
        cache: the graph input that holds the cached entries (root tensor name).
        axis: the axis the entries are appended along (non-negative; 2, the sequence axis,
            for a [batch, kv_heads, tokens, head_dim] cache).
        cached: entries in the cache before this step (the past length).
        appended: entries this step appends (the new tokens).
        entry_elements: elements of one entry: the product of every dim but `axis`.
    """

    cache: str
    axis: int
    cached: int
    appended: int
    entry_elements: int

    @property
    def cache_elements(self) -> int:
        """Elements of the cache after the append (cached + appended entries)."""
        return (self.cached + self.appended) * self.entry_elements

    @property
    def appended_elements(self) -> int:
        """Elements written by the append."""
        return self.appended * self.entry_elements


def _no_ops() -> Mapping[OpClass, int]:
    return MappingProxyType({})


@dataclass(frozen=True)
class Workload:
    """One schedulable unit of work: a layer, with the cheap ops fused into it.

    Attributes:
        name: the main ONNX node's name (unique within the network).
        op: the main node's ONNX op type (``Conv``, ``MatMul``, ``Softmax``...).
        kind: GEMM or VECTOR.
        gemm: the GEMM view (GEMM workloads only).
        conv: convolution geometry (Conv workloads only).
        input_elements: elements of the activation input read from DRAM.
        weight_elements: elements of the second operand (weights, or for an
            activation×activation product such as QKᵀ, the second activation).
        output_elements: elements of the output written to DRAM.
        side_input_elements: elements of extra tensors read by fused ops (a residual Add).
        vector_ops: lane operations per op class done on the vector unit: the whole work
            of a VECTOR workload, or the fused epilogue (bias, activation, norm) of a GEMM.
        weight_is_activation: True when the second GEMM operand is produced by the network
            (attention), so it cannot be preloaded as a constant.
        fused: names of nodes folded into this workload, in graph order.
        constant_period, constant_repeat: how a VECTOR workload's constants broadcast over
            its output, in row-major output order: output element i reads element
            (i mod period) // repeat of every constant, so each constant has
            period / repeat elements (`weight_elements` counts all of them). A constant
            broadcast along leading dims only has repeat 1 (a [S, D] table against
            [B, H, S, D]: period S·D); one broadcast along trailing dims too repeats each
            element (a per-channel scale [C, 1, 1] against [N, C, H, W]: repeat H·W,
            period C·H·W). Scheduling uses it to load only the slice of the constants a
            chunk of outputs reads when they cannot stay resident. Period 0 means unknown
            (no constants, constants broadcast differently, or not a broadcast): the
            constants are then treated whole.
        input_tensors, weight_tensor, side_tensors, output_tensor: the network's tensors
            (root names, looking through views) behind the operands: the tensors the input
            operand is made of, the second operand when it is an activation ("" for
            constant weights), the fused side inputs, and the tensor written. The memory
            planner (`compiler.memory`) follows them across layers; scheduling and codegen
            never read them.
        graph_output: the output tensor is an output of the network (it must reach DRAM).
        placement: where each operand is read from and the output written to, as decided
            by the memory planner for one target (all DRAM before planning).
        reserved: bytes of each buffer (by target buffer index) that tensors kept on chip
            occupy while this workload runs; its tiles get the rest. Empty before planning.
        cache_append: set on the Concat that appends a decode step's keys or values to a KV
            cache (see `CacheAppend`); None for every other workload.
        kv_operands: the operands that are the KV cache or a view of it (lowering's
            `mark_kv_operands`): stored at the KV format (`operand_classes`).
        attention: set on a fused attention chain (`AttentionShape`), which the memory
            planner makes of a QKᵀ, its softmax and PV when the search prefers it
            (`compiler.memory.chains`): then `gemm` is None, `input_elements` are Q's,
            `weight_elements` K's and V's together and `output_elements` O's.
        conv_chain: set on a depth-first fused chain of convolutions (`ConvChain`,
            `compiler.memory.conv_chains`): then `gemm` and `conv` are None,
            `input_elements` are the first layer's input, `weight_elements` every layer's
            weights, `side_input_elements` the last layer's and `output_elements` its output.
        mlp: set on a fused MLP block (`MlpShape`, `compiler.memory.mlp_chains`): then
            `gemm` is None, `input_elements` are the block's input, `weight_elements` every
            projection's weights, `side_input_elements` the down-projection's (a residual)
            and `output_elements` its output.
    """

    name: str
    op: str
    kind: WorkloadKind
    input_elements: int
    output_elements: int
    weight_elements: int = 0
    side_input_elements: int = 0
    gemm: GemmShape | None = None
    conv: ConvGeometry | None = None
    vector_ops: Mapping[OpClass, int] = field(default_factory=_no_ops)
    weight_is_activation: bool = False
    fused: tuple[str, ...] = ()
    constant_period: int = 0
    constant_repeat: int = 1
    input_tensors: tuple[str, ...] = ()
    weight_tensor: str = ""
    side_tensors: tuple[str, ...] = ()
    output_tensor: str = ""
    graph_output: bool = False
    placement: Placement = Placement()
    reserved: tuple[int, ...] = ()
    cache_append: CacheAppend | None = None
    kv_operands: frozenset[Operand] = frozenset()
    attention: AttentionShape | None = None
    conv_chain: ConvChain | None = None
    mlp: MlpShape | None = None

    @cached_property
    def operand_classes(self) -> tuple[TensorClass, TensorClass, TensorClass, TensorClass]:
        """The `TensorClass` of the input, second (weight), side and output operands, which
        set the format each is stored and moved in: the KV cache where `kv_operands` says so,
        a GEMM's constant second operand a weight, everything else (a vector unit's
        constants included: norm scales and tables stay at the activations' format, as
        weight-only quantisation leaves them) an activation. Computed once per workload:
        planning, scheduling and codegen ask for it tens of thousands of times a compile."""
        kv, activation = TensorClass.KV, TensorClass.ACTIVATION
        constant = self.kind is WorkloadKind.GEMM and not self.weight_is_activation
        second = kv if Operand.WEIGHT in self.kv_operands else TensorClass.WEIGHT if constant else activation
        return (
            kv if Operand.INPUT in self.kv_operands else activation,
            second,
            activation,
            kv if Operand.OUTPUT in self.kv_operands else activation,
        )

    @cached_property
    def shape_key(self) -> tuple:
        """Everything about the workload that scheduling and codegen look at (not its name), but
        the bytes kept tensors reserve: those enter a search only through which candidates fit
        and spill (recorded by `scheduling.memo.schedule_key`) and codegen only through the
        spill flag (`codegen.memo.code_key`), so layers that differ only in what is kept around
        them share their search space, their schedule and their code. Computed once per
        workload, with its hash: every memo lookup of a compile keys by it. It is the placement
        beside `unplaced_key`, so a placed copy (`placed`) hashes only its placement anew."""
        return HashedKey((self.unplaced_key, self.placement))

    @cached_property
    def unplaced_key(self) -> tuple:
        """`shape_key` but the placement: the fields placing a workload leaves as they are,
        hashed once for the workload and every copy `placed` makes of it."""
        return HashedKey((
            self.kind,
            self.gemm,
            self.conv,
            self.input_elements,
            self.weight_elements,
            self.output_elements,
            self.side_input_elements,
            tuple(sorted(self.vector_ops.items())),
            self.constant_period,
            self.constant_repeat,
            self.operand_classes,
            self.attention,
            self.conv_chain,
            self.mlp,
        ))

    @property
    def macs(self) -> int:
        """Multiply-accumulates on the matrix engine (0 for vector workloads)."""
        if self.attention is not None:
            return self.attention.macs
        if self.conv_chain is not None:
            return self.conv_chain.macs
        if self.mlp is not None:
            return self.mlp.macs
        return self.gemm.macs if self.gemm is not None else 0

    @property
    def total_vector_ops(self) -> int:
        """Lane operations on the vector unit, all classes together."""
        return sum(self.vector_ops.values())

    def placed(self, placement: Placement, reserved: tuple[int, ...]) -> Workload:
        """This workload at `placement` beside `reserved` bytes of kept tensors: what the memory
        plan makes of every layer of every chip. Equal to `dataclasses.replace`, at a fraction
        of its cost (one copy of the workload's state instead of every field passed through
        the generated `__init__`, which validates none). The cached properties that neither
        the placement nor the reserved bytes enter (`_UNPLACED`) stay, since a sweep point
        places every layer anew; the others (`_PLACED`) are dropped, to be found again from
        the new fields."""
        copy = object.__new__(Workload)
        state = self.__dict__.copy()
        for name in _PLACED:
            state.pop(name, None)
        copy.__dict__.update(state, placement=placement, reserved=reserved)
        return copy


_UNPLACED = frozenset({"unplaced_key", "operand_classes"})
"""The cached properties of a workload that neither its placement nor its reserved bytes enter."""
_PLACED = tuple(sorted(name for name, value in vars(Workload).items() if isinstance(value, cached_property)
                       and name not in _UNPLACED))  # fmt: skip
"""The other cached properties, which `placed` drops from its copy of the workload's state."""
