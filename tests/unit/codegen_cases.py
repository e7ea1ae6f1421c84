"""Hand-built workloads and chips shared by the scheduling, codegen and verify tests."""

from __future__ import annotations

from pathlib import Path

from accel_spec.loader import load_accelerator
from accel_spec.schema import Accelerator
from accel_spec.types import OpClass
from compiler.workload import ConvGeometry, GemmShape, Workload, WorkloadKind

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "accelerators"


def example_chip(name: str) -> Accelerator:
    return load_accelerator(EXAMPLES / f"{name}.yaml")


def chip(
    rows: int = 16,
    cols: int = 16,
    buffers: dict | None = None,
    dataflows: tuple[str, ...] = ("os", "ws", "is"),
) -> Accelerator:
    """A 1 GHz chip with 16 GB/s DRAM and 100 ns latency; buffers as {name: (bytes, holds)}."""
    buffers = buffers or {"spad": (256 * 1024, ["input", "weight"]), "acc": (64 * 1024, ["output"])}
    return Accelerator.model_validate(
        dict(
            name="test",
            clock="1 GHz",
            technology="28 nm",
            matrix=dict(rows=rows, cols=cols, dataflows=list(dataflows)),
            buffers={n: {"capacity": f"{size} B", "holds": holds} for n, (size, holds) in buffers.items()},
            vector=dict(lanes=16),
            dram=dict(type="DDR4", bandwidth="16 GB/s", latency="100 ns"),
        )
    )


def gemm(name: str, m: int, k: int, n: int, batch: int = 1, **extra) -> Workload:
    return Workload(
        name=name,
        op="MatMul",
        kind=WorkloadKind.GEMM,
        input_elements=batch * m * k,
        weight_elements=batch * k * n,
        output_elements=batch * m * n,
        gemm=GemmShape(m, k, n, batch),
        **extra,
    )


def conv(name: str, h: int, w: int, c: int, k: int, r: int, stride: int = 1, groups: int = 1, images: int = 1, **extra) -> Workload:
    pad = r // 2
    out_h = (h + 2 * pad - r) // stride + 1
    out_w = (w + 2 * pad - r) // stride + 1
    geometry = ConvGeometry(images, h, w, c, out_h, out_w, k, r, r, stride, stride, groups=groups)
    shape = GemmShape(images * out_h * out_w, (c // groups) * r * r, k // groups, groups)
    return Workload(
        name=name,
        op="Conv",
        kind=WorkloadKind.GEMM,
        input_elements=images * h * w * c,
        weight_elements=k * (c // groups) * r * r,
        output_elements=images * out_h * out_w * k,
        gemm=shape,
        conv=geometry,
        **extra,
    )


def workloads() -> tuple[Workload, ...]:
    """One of each shape family: edge tiles, conv halo, groups, attention, fused epilogue."""
    residual = conv("res3x3", 14, 14, 32, 32, 3, side_input_elements=14 * 14 * 32,
                    vector_ops={OpClass.ELEMENTWISE: 2 * 14 * 14 * 32})
    return (
        gemm("fc", 1, 1000, 100, vector_ops={OpClass.ELEMENTWISE: 100}),
        gemm("edges", 100, 70, 45),
        conv("conv3x3", 16, 16, 8, 16, 3),
        conv("conv_s2", 15, 15, 8, 24, 3, stride=2),
        conv("depthwise", 12, 12, 16, 16, 3, groups=16),
        residual,
        gemm("attention_qk", 32, 16, 32, batch=4, weight_is_activation=True,
             vector_ops={OpClass.TRANSCENDENTAL: 4 * 32 * 32, OpClass.REDUCTION: 4 * 32 * 32}),
        Workload("softmax", "Softmax", WorkloadKind.VECTOR, input_elements=4096, output_elements=4096,
                 vector_ops={OpClass.TRANSCENDENTAL: 4096, OpClass.REDUCTION: 8192}),
        Workload("add", "Add", WorkloadKind.VECTOR, input_elements=3000, output_elements=3000,
                 side_input_elements=3000, vector_ops={OpClass.ELEMENTWISE: 3000}),
    )
