"""Fusion across layers: which chains of convolutions run depth first, as a schedule decision.

A chain is two or three consecutive convolutions (`MAX_LAYERS`; depthwise and grouped ones
included, each with the epilogue lowering fused into it) where each layer's output is read
by the next layer alone, as its whole input, is not an output of the network, and has the
next layer's input rows, columns and channels (MobileNetV2's 1×1 expand → 3×3 depthwise →
1×1 project is the canonical one). Only the last layer may carry a fused side input (a
residual Add that reads the block's input): it is then loaded band by band beside the
output. Unfused, each intermediate is a whole tensor that the memory plan keeps on chip
when it fits and spills to DRAM otherwise. Fused (`scheduling.conv_chain`), the chain runs
band by band with line buffers and no intermediate row reaches DRAM; the price is holding
every layer's weights on chip for the whole chain and one GEMM per layer, band and pass.

`fuse_convolutions` weighs the two, like `chains.fuse_attention`, on the search's `Goal`
with the simulator: the unfused layers as scheduled, simulated back to back, against the
fused chain's best measured band height; the fused one replaces the layers only when it
scores strictly lower. Chains are taken greedily in network order, three layers before two.
Only chains with an intermediate the plan spills to DRAM are tried: with every intermediate
on chip the layers read it in place, with no transfer, and fusion has no DRAM traffic to
save (the search is spared a simulation per block). Chains whose layers read their weights
from different levels, chips with a row-stationary mapping and SCALE-Sim's timing (which
models no fusion) are left unfused.

The fused workload takes over the plan's placements (the input from the first layer, the
weights from every layer, the side input and output from the last) and the bytes the plan
keeps on chip while the layers run, less the intermediates where the plan kept them
(`chains.replace_chains`). A network input that only the chain reads (an inverted residual's
input, read by its first layer and by its residual add) is read from DRAM where the chain
needs it, band by band, and no longer kept (`chains.released_inputs`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

from compiler.memory.chains import Decisions, chain_workload, decide_chain, kept_reserved, released_inputs, replace_chains
from compiler.memory.planner import MemoryPlan
from compiler.memory.tensors import per_network, tensor_readers
from compiler.scheduling.conv_chain import best_conv_chain, reads_every_row
from compiler.scheduling.objective import Goal
from compiler.scheduling.schedule import ConvChainSchedule, LayerSchedule, Schedule
from compiler.target import LEVEL_DRAM, Target, TimingMode
from compiler.workload import ChainLayer, ConvChain, Workload, WorkloadKind
from tessera.identity_memo import IdentityMemo

MAX_LAYERS = 3
"""The longest chain tried (DeFiNES and Alwani et al. fuse a few layers of a CNN's early
stages, where intermediates are largest)."""


def _member(workload: Workload) -> bool:
    """A plain convolution whose GEMM view is its geometry's, which reads every input row."""
    conv, gemm = workload.conv, workload.gemm
    return (
        workload.kind is WorkloadKind.GEMM
        and conv is not None
        and gemm is not None
        and workload.attention is None
        and workload.cache_append is None
        and not workload.weight_is_activation
        and not workload.kv_operands
        and gemm.m == conv.images * conv.out_h * conv.out_w
        and gemm.batch == conv.groups
        and workload.weight_elements == gemm.batch * gemm.k * gemm.n
        and reads_every_row(conv)
    )


def _links(producer: Workload, consumer: Workload, readers: dict[str, int]) -> bool:
    """`consumer` reads `producer`'s output alone, whole, row for row, and nothing else does."""
    out, into = producer.conv, consumer.conv
    return (
        consumer.input_tensors == (producer.output_tensor,)
        and readers.get(producer.output_tensor) == 1
        and not producer.graph_output
        and producer.side_input_elements == 0
        and consumer.input_elements == producer.output_elements
        and (out.images, out.out_h, out.out_w, out.out_c) == (into.images, into.in_h, into.in_w, into.in_c)
    )


def conv_chains(workloads: Sequence[Workload]) -> tuple[tuple[int, int], ...]:
    """(first index, length) of every maximal run of two or more convolutions that chain
    (module doc); a run may be longer than `MAX_LAYERS`. Kept per network (`CHAIN_RUNS`,
    `tensors.per_network`)."""
    return per_network(CHAIN_RUNS, workloads, _conv_chains)


CHAIN_RUNS: IdentityMemo[tuple[tuple[int, int], ...]] = IdentityMemo(capacity=16)
"""`conv_chains` of the networks a worker plans (`tensors.per_network`)."""


def _conv_chains(workloads: Sequence[Workload]) -> tuple[tuple[int, int], ...]:
    """`conv_chains`, found: each layer is asked once whether it may be a member, and the
    tensors' readers are counted only when two members follow each other."""
    member = [_member(w) for w in workloads]
    if not any(first and second for first, second in zip(member, member[1:])):
        return ()
    readers = {tensor: len(indices) for tensor, indices in tensor_readers(workloads).items()}
    runs: list[tuple[int, int]] = []
    start = 0
    for index in range(1, len(workloads) + 1):
        linked = (
            index < len(workloads)
            and member[index - 1]
            and member[index]
            and _links(workloads[index - 1], workloads[index], readers)
        )
        if not linked:
            if index - start >= 2:
                runs.append((start, index - start))
            start = index
    return tuple(runs)


def fused_conv_workload(
    chain: Sequence[Workload], reserved: tuple[int, ...], released: frozenset[str] = frozenset()
) -> Workload:
    """The fused workload of a chain of convolutions as planned (module doc), reading the
    `released` network inputs from DRAM."""
    first, last = chain[0], chain[-1]

    def level(tensors: tuple[str, ...], planned: int) -> int:
        return LEVEL_DRAM if released.intersection(tensors) else planned

    layers = tuple(ChainLayer(w.gemm, w.conv, tuple(sorted(w.vector_ops.items()))) for w in chain)
    fused = chain_workload(chain, "FusedConv", reserved, conv_chain=ConvChain(layers))
    placement = replace(
        fused.placement,
        input=level(first.input_tensors, first.placement.input),
        side=level(last.side_tensors, last.placement.side),
    )
    return replace(fused, placement=placement)


def fuse_convolutions(
    plan: MemoryPlan, schedules: tuple[LayerSchedule, ...], target: Target, goal: Goal, decisions: Decisions
) -> tuple[MemoryPlan, tuple[LayerSchedule, ...]]:
    """The plan and schedules with chains of convolutions fused where that scores lower on
    `goal` (module doc); unchanged when no chain gains. `decisions`: those of this compile
    so far (on `target` and `goal`)."""
    if target.row_stationary or target.timing is TimingMode.SCALESIM:
        return plan, schedules
    workloads = plan.workloads
    fused: dict[int, tuple[Workload, LayerSchedule, int]] = {}

    def search(candidate: Workload, unfused: Callable[[], float]) -> tuple[ConvChainSchedule, float] | None:
        return best_conv_chain(candidate, target, goal, unfused())

    for start, length in conv_chains(workloads):
        index, end = start, start + length
        while index < end - 1:
            for size in range(min(MAX_LAYERS, end - index), 1, -1):
                chain, chosen = workloads[index : index + size], schedules[index : index + size]
                if not _worth_trying(chain, chosen):
                    continue
                released = released_inputs(chain, plan)
                candidate = fused_conv_workload(chain, kept_reserved(chain, plan, target, released), released)
                schedule = decide_chain(chain, chosen, candidate, target, goal, search, decisions)
                if schedule is not None:
                    fused[index] = (candidate, schedule, size)
                    index += size
                    break
            else:
                index += 1
    return replace_chains(plan, schedules, fused, target)


def _worth_trying(chain: Sequence[Workload], schedules: Sequence[LayerSchedule]) -> bool:
    """An intermediate spilled to DRAM, every weight read from one level, layers scheduled
    as GEMMs, and a side input only where an epilogue reads it (module doc)."""
    last = chain[-1]
    return (
        any(w.placement.output == LEVEL_DRAM for w in chain[:-1])
        and len({w.placement.weight for w in chain}) == 1
        and all(isinstance(s, Schedule) for s in schedules)
        and (last.side_input_elements == 0 or bool(last.vector_ops))
    )
