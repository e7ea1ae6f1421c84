"""One layer's code: the GEMM or vector table of its workload under its schedule, compacted."""

from __future__ import annotations

from compiler.codegen.attention import attention_table
from compiler.codegen.conv_chain import conv_chain_code
from compiler.codegen.gemm import gemm_code
from compiler.codegen.layout import LayerCode, compact
from compiler.codegen.mlp import mlp_table
from compiler.codegen.vector import vector_table
from compiler.scheduling.schedule import (
    AttentionSchedule,
    ConvChainSchedule,
    LayerSchedule,
    MlpSchedule,
    Schedule,
    VectorSchedule,
)
from compiler.target import Target
from compiler.workload import Workload, WorkloadKind


def layer_code(
    workload: Workload, schedule: LayerSchedule, chip: Target, layer: int, spill: bool | None = None
) -> LayerCode:
    """The instructions of one workload, tagged with `layer`, indices local to the layer;
    `spill` is a GEMM schedule's `Footprint.spill` when the caller knows it."""
    if workload.attention is not None:
        if not isinstance(schedule, AttentionSchedule):
            raise ValueError(f"layer {workload.name}: a fused attention chain needs an AttentionSchedule")
        return compact(attention_table(workload, schedule, chip, layer))
    if workload.conv_chain is not None:
        if not isinstance(schedule, ConvChainSchedule):
            raise ValueError(f"layer {workload.name}: a fused chain of convolutions needs a ConvChainSchedule")
        return conv_chain_code(workload, schedule, chip, layer)
    if workload.mlp is not None:
        if not isinstance(schedule, MlpSchedule):
            raise ValueError(f"layer {workload.name}: a fused MLP block needs an MlpSchedule")
        return compact(mlp_table(workload, schedule, chip, layer))
    if workload.kind is WorkloadKind.GEMM:
        if not isinstance(schedule, Schedule):
            raise ValueError(f"layer {workload.name}: a GEMM workload needs a Schedule")
        return gemm_code(workload, schedule, chip, layer, spill)
    if not isinstance(schedule, VectorSchedule):
        raise ValueError(f"layer {workload.name}: a vector workload needs a VectorSchedule")
    return compact(vector_table(workload, schedule, chip, layer))
