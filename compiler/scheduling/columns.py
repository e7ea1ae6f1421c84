"""Several GEMM workloads as per-candidate columns, so one numpy pass scores them all.

The estimate and footprint formulas (`estimate`, `footprint`, `tiling`) read a workload's
shape through a few attributes (`gemm.m`, `conv.stride_h`, `side_input_elements`,
`vector_ops`...) and are elementwise in them. `WorkloadColumns` carries those attributes as
arrays with one entry per candidate (the value of the workload the candidate belongs to),
so the same functions score the candidates of every layer of a network at once: each
element is computed by exactly the arithmetic of the one-layer call, so the results are
identical, without the per-layer cost of hundreds of small numpy calls.

A plain GEMM (no convolution) is given the geometry of the 1×1 convolution it is: one
image of M×1 pixels with K channels, stride and dilation 1. Its input window is then
exactly tm·tk elements for every tile with tm ≤ M and tk ≤ K (`tiling.input_tile_elements`:
channels = min(K, tk), whole rows since tm ≥ out_w = 1, rows = min(tm, M), cols = 1), the
value the plain-GEMM branch returns, so conv and plain layers share one code path.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields

import numpy as np

from accel_spec.types import OpClass
from compiler.scheduling.memo import BoundedCache
from compiler.workload import ConvGeometry, GemmShape, Workload


@dataclass(frozen=True)
class GemmColumns:
    """`GemmShape` fields, one int64 entry per candidate."""

    m: np.ndarray
    k: np.ndarray
    n: np.ndarray
    batch: np.ndarray


@dataclass(frozen=True)
class ConvColumns:
    """`ConvGeometry` fields, one int64 entry per candidate (plain GEMMs as 1×1 convs)."""

    images: np.ndarray
    in_h: np.ndarray
    in_w: np.ndarray
    in_c: np.ndarray
    out_h: np.ndarray
    out_w: np.ndarray
    out_c: np.ndarray
    kernel_h: np.ndarray
    kernel_w: np.ndarray
    stride_h: np.ndarray
    stride_w: np.ndarray
    dilation_h: np.ndarray
    dilation_w: np.ndarray
    groups: np.ndarray


@dataclass(frozen=True)
class PlacementColumns:
    """`Placement` fields (memory levels), one int64 entry per candidate."""

    input: np.ndarray
    weight: np.ndarray
    side: np.ndarray
    output: np.ndarray


@dataclass(frozen=True)
class WorkloadColumns:
    """The shape attributes of GEMM workloads that scheduling reads, per candidate.

    Attributes:
        gemm, conv: per-candidate GEMM view and convolution geometry.
        side_input_elements: per-candidate fused side-input elements.
        vector_ops: per-candidate lane ops of the fused epilogue, for every `OpClass`
            (zero where a workload has none of a class: it then adds zero cycles).
        placement: per-candidate memory levels of each operand (`Workload.placement`).
        reserved: (buffers, candidates) bytes kept tensors occupy (`Workload.reserved`).
        operand_classes: (4, candidates) `TensorClass` of the input, weight, side and output
            operands (`Workload.operand_classes`), which set their widths (`roles`).
    """

    gemm: GemmColumns
    conv: ConvColumns
    side_input_elements: np.ndarray
    vector_ops: Mapping[OpClass, np.ndarray]
    placement: PlacementColumns
    reserved: np.ndarray
    operand_classes: np.ndarray

    def take(self, index: np.ndarray) -> "WorkloadColumns":
        """The columns of the candidates at `index` (indices or a boolean mask)."""
        return WorkloadColumns(
            gemm=GemmColumns(*(getattr(self.gemm, f.name)[index] for f in fields(GemmColumns))),
            conv=ConvColumns(*(getattr(self.conv, f.name)[index] for f in fields(ConvColumns))),
            side_input_elements=self.side_input_elements[index],
            vector_ops={op: ops[index] for op, ops in self.vector_ops.items()},
            placement=PlacementColumns(*(getattr(self.placement, f.name)[index] for f in fields(PlacementColumns))),
            reserved=self.reserved[:, index],
            operand_classes=self.operand_classes[:, index],
        )

    @classmethod
    def of(cls, workloads: Sequence[Workload], counts: np.ndarray) -> "WorkloadColumns":
        """Columns where workload i fills `counts[i]` consecutive candidates: one table of
        every field by workload (each workload's fields that placing it leaves alone kept by
        `_unplaced_row`), repeated in one pass, its rows the columns."""
        per_workload = [(*_unplaced_row(w), w.placement.input, w.placement.weight, w.placement.side, w.placement.output)
                        for w in workloads]  # `PlacementColumns`' fields, in order  # fmt: skip
        table = np.concatenate([np.array(per_workload, dtype=np.int64).reshape(len(workloads), _ROWS).T,
                                reserved_table(workloads)])  # fmt: skip
        repeated = np.repeat(table, counts, axis=1)
        cursor = 0

        def rows(count: int) -> np.ndarray:
            """The next `count` rows of the repeated table."""
            nonlocal cursor
            cursor += count
            return repeated[cursor - count : cursor]

        return cls(
            gemm=GemmColumns(*rows(len(_GEMM_FIELDS))),
            conv=ConvColumns(*rows(len(_CONV_FIELDS))),
            side_input_elements=rows(1)[0],
            vector_ops=dict(zip(OpClass, rows(len(OpClass)))),
            operand_classes=rows(4),
            placement=PlacementColumns(*rows(len(_PLACEMENT_FIELDS))),
            reserved=repeated[cursor:],
        )


_GEMM_FIELDS = tuple(f.name for f in fields(GemmColumns))
_CONV_FIELDS = tuple(f.name for f in fields(ConvColumns))
_PLACEMENT_FIELDS = tuple(f.name for f in fields(PlacementColumns))
_ROWS = len(_GEMM_FIELDS) + len(_CONV_FIELDS) + 1 + len(OpClass) + 4 + len(_PLACEMENT_FIELDS)
"""Rows of `WorkloadColumns.of`'s table before the reserved bytes: the GEMM, convolution, side
input, lane operations by class, operand classes, then placement."""


def _unplaced_row(workload: Workload) -> tuple[int, ...]:
    """A workload's `WorkloadColumns` entries that placing it leaves as they are (its GEMM,
    convolution, side input, lane operations by class and operand classes), kept by
    `Workload.unplaced_key` in `_UNPLACED_ROWS`: a sweep point places every layer anew, and
    reading some thirty fields of each of a network's layers at every point cost a
    MobileNetV2 point a fifth of a millisecond."""
    row = _UNPLACED_ROWS.get(workload.unplaced_key)
    if row is None:
        gemm = _gemm(workload)
        conv = workload.conv if workload.conv is not None else _as_conv(gemm)
        row = (*(getattr(gemm, name) for name in _GEMM_FIELDS), *(getattr(conv, name) for name in _CONV_FIELDS),
               workload.side_input_elements, *(int(workload.vector_ops.get(op, 0)) for op in OpClass),
               *(int(c) for c in workload.operand_classes))  # fmt: skip
        _UNPLACED_ROWS.put(workload.unplaced_key, row)
    return row


_UNPLACED_ROWS: BoundedCache[tuple[int, ...]] = BoundedCache(capacity=65536)
"""`_unplaced_row` by `Workload.unplaced_key`: a few hundred bytes an entry."""


def reserved_table(workloads: Sequence[Workload]) -> np.ndarray:
    """(buffers, workloads) `Workload.reserved`, zeros for workloads planned with none."""
    buffers = max((len(w.reserved) for w in workloads), default=0)
    table = np.zeros((buffers, len(workloads)), dtype=np.int64)
    for index, workload in enumerate(workloads):
        table[: len(workload.reserved), index] = workload.reserved
    return table


def _gemm(workload: Workload) -> GemmShape:
    if workload.gemm is None:
        raise ValueError(f"layer {workload.name}: not a GEMM workload")
    return workload.gemm


def _as_conv(gemm: GemmShape) -> ConvGeometry:
    """A plain GEMM as the 1×1 convolution with the same input windows (module doc)."""
    return ConvGeometry(
        images=1, in_h=gemm.m, in_w=1, in_c=gemm.k, out_h=gemm.m, out_w=1, out_c=gemm.n, kernel_h=1, kernel_w=1
    )


CONV_KERNEL_FIELDS = ("images", "in_h", "in_w", "in_c", "out_w", "kernel_h", "kernel_w", "stride_h", "stride_w",
                      "dilation_h", "dilation_w", "groups")  # fmt: skip
"""The convolution geometry the per-tiling kernels read (`terms_kernel`, `footprint_kernel`), in their order."""


def per_tiling(values, size: int) -> np.ndarray:
    """`values` as `size` writable, contiguous int64 entries, one per tiling (broadcast where
    scalar): one argument type for the per-tiling kernels."""
    array = np.asarray(values, dtype=np.int64)
    if array.shape == (size,) and array.flags.c_contiguous and array.flags.writeable:
        return array
    return np.array(np.broadcast_to(array, (size,)))
