"""Fusion across layers: which attention chains run fused, as a schedule decision.

An attention chain is three consecutive workloads S = QKᵀ (a product of two activations, its
scale or mask fused in), P = Softmax(S) and O = P·V, where S and P are read by nothing else
and are not outputs of the network. Unfused, S and P are whole tensors (heads × queries ×
keys); the memory plan keeps them on chip when they fit and spills them to DRAM otherwise.
Fused (`scheduling.attention`), the chain runs block by block and only a block's row of S
and P ever lives on chip; the price is reading K and V again for every query block when a
head's K and V do not stay in the weight buffer.

`fuse_attention` weighs the two for each chain on the search's `Goal`, with the simulator:
the unfused chain is its three layers as scheduled (simulated together, each after the
previous one as in the network), the fused chain its best measured blocking; the fused one
replaces the three workloads only when it scores strictly lower. Chains whose K and V sit at
different memory levels, or in the buffer the array reads weights from, are left unfused.

The fused workload takes over the plan's placements (Q from the scores' input, K and V from
its second operand, O to the context's output) and the bytes the plan keeps on chip while
the three layers run (the largest per buffer), less S and P where the plan had kept them.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from enum import Enum
from types import MappingProxyType
from typing import TYPE_CHECKING

from accel_spec.types import Operand, TensorClass
from compiler.lowering.ops import add_counts
from compiler.memory.placement import Placement
from compiler.memory.planner import MemoryPlan, dram_bytes
from compiler.memory.tensors import per_network, reads, tensor_readers
from compiler.scheduling.attention import MEASURED, attention_candidates, best_attention
from compiler.scheduling.memo import layer_key
from compiler.scheduling.objective import Goal
from compiler.scheduling.schedule import AttentionSchedule, LayerSchedule
from compiler.scheduling.simulated import Simulated
from compiler.target import LEVEL_DRAM, Target, level_of, nbytes
from compiler.workload import AttentionShape, Workload, WorkloadKind
from tessera.identity_memo import IdentityMemo

if TYPE_CHECKING:
    from compiler.codegen.memo import MeasuredCodes


class Fusion(Enum):
    """Whether the search may fuse attention chains, chains of convolutions
    (`memory.conv_chains`) and MLP blocks (`memory.mlp_chains`) (`auto`, the default) or not
    (`none`)."""

    NONE = "none"
    AUTO = "auto"


def attention_chains(workloads: Sequence[Workload]) -> tuple[int, ...]:
    """Indices of the first workload (QKᵀ) of every attention chain (module doc). Kept per
    network (`ATTENTION_CHAINS`, `tensors.per_network`)."""
    return per_network(ATTENTION_CHAINS, workloads, _attention_chains)


ATTENTION_CHAINS: IdentityMemo[tuple[int, ...]] = IdentityMemo(capacity=16)
"""`attention_chains` of the networks a worker plans (`tensors.per_network`)."""


def _attention_chains(workloads: Sequence[Workload]) -> tuple[int, ...]:
    """`attention_chains`, found. The tensors' readers are counted only for a network with a
    Softmax (one without has no chain)."""
    if not any(w.op == "Softmax" for w in workloads):
        return ()
    readers = {tensor: len(indices) for tensor, indices in tensor_readers(workloads).items()}
    found = []
    for index in range(len(workloads) - 2):
        scores, probs, context = workloads[index : index + 3]
        if (
            scores.gemm is not None
            and context.gemm is not None
            and scores.weight_is_activation
            and context.weight_is_activation
            and probs.kind is WorkloadKind.VECTOR
            and probs.op == "Softmax"
            and probs.input_tensors == (scores.output_tensor,)
            and context.input_tensors == (probs.output_tensor,)
            and readers.get(scores.output_tensor) == 1
            and readers.get(probs.output_tensor) == 1
            and not (scores.graph_output or probs.graph_output)
            and scores.side_input_elements == probs.side_input_elements == context.side_input_elements == 0
            and probs.weight_elements == 0
            and not context.vector_ops
            and probs.input_elements == probs.output_elements == scores.output_elements == context.input_elements
            and scores.gemm.batch == context.gemm.batch
            and (scores.gemm.m, scores.gemm.n) == (context.gemm.m, context.gemm.k)
        ):
            found.append(index)
    return tuple(found)


def fused_workload(chain: Sequence[Workload], reserved: tuple[int, ...]) -> Workload:
    """The fused workload of an attention chain (scores, softmax, context) as planned."""
    scores, probs, context = chain
    shape = AttentionShape(
        batch=scores.gemm.batch,
        queries=scores.gemm.m,
        keys=scores.gemm.n,
        head_dim=scores.gemm.k,
        value_dim=context.gemm.n,
    )
    kv = frozenset({Operand.WEIGHT}) if Operand.WEIGHT in scores.kv_operands | context.kv_operands else frozenset()
    fused = chain_workload(
        chain, "Attention", reserved, attention=shape, weight_is_activation=True, weight_tensor=scores.weight_tensor, kv_operands=kv
    )
    return fused.placed(replace(fused.placement, side=LEVEL_DRAM), reserved)


def chain_workload(chain: Sequence[Workload], op: str, reserved: tuple[int, ...], **fields) -> Workload:
    """The workload of a chain of layers fused into one (attention, `memory.conv_chains`,
    `memory.mlp_chains`), as planned: the first layer's input, every layer's weights and
    lane operations, the last layer's side input and output, at the levels the plan put them,
    with the bytes it keeps on chip meanwhile (`reserved`); `fields` are the chain's own
    (`attention=`, `conv_chain=`, `mlp=`...)."""
    first, last = chain[0], chain[-1]
    return Workload(
        name=first.name,
        op=op,
        kind=WorkloadKind.GEMM,
        input_elements=first.input_elements,
        output_elements=last.output_elements,
        weight_elements=sum(w.weight_elements for w in chain),
        side_input_elements=last.side_input_elements,
        vector_ops=add_counts(*(w.vector_ops for w in chain)),
        fused=(*first.fused, *(name for w in chain[1:] for name in (w.name, *w.fused))),
        input_tensors=first.input_tensors,
        side_tensors=last.side_tensors,
        output_tensor=last.output_tensor,
        graph_output=last.graph_output,
        placement=Placement(
            input=first.placement.input,
            weight=first.placement.weight,
            side=last.placement.side,
            output=last.placement.output,
        ),
        reserved=reserved,
        **fields,
    )


@dataclass(frozen=True)
class Decisions:
    """The fusion decisions of one compile (one chip, one goal) by each chain's content
    (`decide_chain`), and the attention blockings measured (`_measured_attention`): a
    network repeats its blocks, and the memory plans a compile weighs (`crowding.uncrowd`
    fuses the plan and each challenger) share most of their chains; and the codes its
    searches measured (`codegen.memo.MeasuredCodes`), which unfused chains are scored from."""

    measured: MeasuredCodes
    chains: dict[tuple, LayerSchedule | None] = field(default_factory=dict)
    attention: dict[tuple, tuple[AttentionSchedule, float] | None] = field(default_factory=dict)


def fuse_attention(
    plan: MemoryPlan, schedules: tuple[LayerSchedule, ...], target: Target, goal: Goal, decisions: Decisions
) -> tuple[MemoryPlan, tuple[LayerSchedule, ...]]:
    """The plan and schedules with every attention chain fused where that scores lower on
    `goal` (module doc); unchanged when no chain gains. `decisions`: those of this compile
    so far (on `target` and `goal`)."""
    workloads = plan.workloads
    fused: dict[int, tuple[Workload, LayerSchedule, int]] = {}
    for index in attention_chains(workloads):
        chain, chosen = workloads[index : index + 3], schedules[index : index + 3]
        if not _fusable(chain, target):
            continue
        candidate = fused_workload(chain, kept_reserved(chain, plan, target))
        search = functools.partial(_measured_attention, chain, chosen, target, goal, decisions.attention)
        schedule = decide_chain(chain, chosen, candidate, target, goal, search, decisions)
        if schedule is not None:
            fused[index] = (candidate, schedule, 3)
    return replace_chains(plan, schedules, fused, target)


def decide_chain(
    chain: Sequence[Workload],
    chosen: Sequence[LayerSchedule],
    candidate: Workload,
    target: Target,
    goal: Goal,
    search: Callable[[Workload, Callable[[], float]], tuple[LayerSchedule, float] | None],
    decisions: Decisions,
) -> LayerSchedule | None:
    """The schedule of `candidate`, the fused workload of a chain of layers scheduled as
    `chosen`, where `search(candidate, unfused)` finds one that scores below `unfused()`
    (the layers simulated back to back, `unfused_score`); None otherwise. `decisions` keeps
    each decision by the chain's content (`Decisions`)."""
    decided = decisions.chains
    key = (tuple(layer_key(w) for w in chain), tuple(chosen), layer_key(candidate))
    if key not in decided:
        found = search(candidate, functools.partial(unfused_score, chain, chosen, target, goal, decisions.measured))
        decided[key] = None if found is None else found[0]
    return decided[key]


def _measured_attention(
    chain: Sequence[Workload],
    chosen: Sequence[LayerSchedule],
    target: Target,
    goal: Goal,
    measured: dict[tuple, tuple[AttentionSchedule, float] | None],
    candidate: Workload,
    unfused: Callable[[], float],
) -> tuple[AttentionSchedule, float] | None:
    """The fused chain's best measured blocking and its score where that is below
    `unfused()`, else None (`decide_chain`'s search). `measured` holds the answers by
    everything they read: the fused workload's shape, the blockings measured, and the code
    of the unfused layers (`codegen.memo.code_key`). Chains that differ only in room kept
    tensors take, which changes none of these (BERT's blocks, around a kept input), are
    measured once."""
    from compiler.codegen.memo import code_key

    finalists = tuple(attention_candidates(candidate, target)[:MEASURED])
    key = (candidate.shape_key, finalists, tuple(code_key(w, s, target) for w, s in zip(chain, chosen, strict=True)))
    if key not in measured:
        found = best_attention(candidate, target, goal, finalists)
        measured[key] = found if found is not None and found[1] < unfused() else None
    return measured[key]


def replace_chains(
    plan: MemoryPlan,
    schedules: tuple[LayerSchedule, ...],
    fused: dict[int, tuple[Workload, LayerSchedule, int]],
    target: Target,
) -> tuple[MemoryPlan, tuple[LayerSchedule, ...]]:
    """The plan and schedules with each chain `index: (workload, schedule, length)` replaced
    by its fused workload, which the plan no longer keeps intermediates for. An attention
    chain's compulsory bytes are the chain's, its spilled bytes the chain's less its
    intermediates' (its K and V are one operand of the fused workload); a convolution chain's
    or an MLP block's are its fused workload's own (`dram_bytes`): a gated block reads its
    input once where its up and gate layers each read it, and a convolution chain reads from
    DRAM the network inputs only it reads (`released_inputs`), which the plan no longer keeps
    either."""
    if not fused:
        return plan, schedules
    workloads = plan.workloads
    out_workloads: list[Workload] = []
    out_schedules: list[LayerSchedule] = []
    compulsory: list[int] = []
    spill: list[int] = []
    kept = dict(plan.kept)
    kept_inputs = dict(plan.kept_inputs)
    produced = {w.output_tensor: w.output_elements for w in workloads}
    index = 0
    while index < len(workloads):
        if index in fused:
            workload, schedule, length = fused[index]
            chain = workloads[index : index + length]
            out_workloads.append(workload)
            out_schedules.append(schedule)
            if workload.attention is None:
                chain_compulsory, chain_spill = dram_bytes(workload, produced, target)
                for tensor in released_inputs(chain, plan) if workload.conv_chain is not None else ():
                    kept.pop(tensor)
                    kept_inputs.pop(tensor)
            else:
                chain_compulsory = int(sum(plan.compulsory_bytes[index : index + length]))
                chain_spill = int(sum(plan.spill_bytes[index : index + length]) - intermediate_spills(chain, target))
            compulsory.append(chain_compulsory)
            spill.append(chain_spill)
            for producer in chain[:-1]:
                kept.pop(producer.output_tensor, None)
            for tensor, (size, readers) in kept_inputs.items():
                members = sum(tensor in reads(w) for w in chain)
                if members > 1:
                    kept_inputs[tensor] = (size, readers - members + 1)
            index += length
            continue
        out_workloads.append(workloads[index])
        out_schedules.append(schedules[index])
        compulsory.append(plan.compulsory_bytes[index])
        spill.append(plan.spill_bytes[index])
        index += 1
    new_plan = MemoryPlan(
        tuple(out_workloads),
        MappingProxyType(kept),
        plan.resident_weights,
        tuple(compulsory),
        tuple(spill),
        MappingProxyType(kept_inputs),
    )
    return new_plan, tuple(out_schedules)


def released_inputs(chain: Sequence[Workload], plan: MemoryPlan) -> frozenset[str]:
    """Network inputs the plan keeps (`MemoryPlan.kept_inputs`) that only the chain's layers
    read: fused depth first, the chain reads them from DRAM where it needs them (band by
    band), so the room the plan kept them in goes to its line buffers."""
    return frozenset(
        tensor
        for tensor, (_, readers) in plan.kept_inputs.items()
        if sum(tensor in reads(w) for w in chain) == readers
    )


def _fusable(chain: Sequence[Workload], target: Target) -> bool:
    """K and V at one level, and not in the buffer the array reads weights from in place."""
    scores, _, context = chain
    weight_level = scores.placement.weight
    return weight_level == context.placement.weight and weight_level != level_of(target.buffer(Operand.WEIGHT))


def kept_reserved(
    chain: Sequence[Workload], plan: MemoryPlan, target: Target, released: frozenset[str] = frozenset()
) -> tuple[int, ...]:
    """Per buffer, the most bytes the plan keeps on chip while the chain's layers run, less
    its intermediates (each layer's output read by the next, which fusion removes) where
    the plan kept them, and less the network inputs the fused chain reads from DRAM instead
    (`released`, from `released_inputs`)."""
    buffers = len(target.buffer_names)
    rows = [[*workload.reserved, *[0] * (buffers - len(workload.reserved))] for workload in chain]
    for position, producer in enumerate(chain[:-1]):
        level = plan.kept.get(producer.output_tensor)
        if level is not None and level != LEVEL_DRAM:
            bytes_ = int(nbytes(producer.output_elements, target.bits_of(TensorClass.ACTIVATION)))
            rows[position][level - 1] -= bytes_
            rows[position + 1][level - 1] -= bytes_
    for tensor in released:
        positions = [position for position, workload in enumerate(chain) if tensor in reads(workload)]
        for position in range(positions[0], positions[-1] + 1):
            rows[position][plan.kept[tensor] - 1] -= plan.kept_inputs[tensor][0]
    return tuple(max(0, *column) for column in zip(*rows, strict=True))


def intermediate_spills(chain: Sequence[Workload], target: Target) -> int:
    """DRAM bytes the unfused chain spends on its intermediates (`MemoryPlan.spill_bytes`):
    each written by one layer and read by the next, as its input (or, in a gated MLP block,
    its side input), where the plan left it in DRAM."""
    moved = 0
    for producer, consumer in zip(chain[:-1], chain[1:]):
        read = (
            (consumer.placement.input, consumer.input_elements)
            if consumer.input_tensors == (producer.output_tensor,)
            else (consumer.placement.side, consumer.side_input_elements)
        )
        for level, elements in ((producer.placement.output, producer.output_elements), read):
            if level == LEVEL_DRAM:
                moved += int(nbytes(elements, target.bits_of(TensorClass.ACTIVATION)))
    return moved


def unfused_score(
    chain: Sequence[Workload], schedules: Sequence[LayerSchedule], target: Target, goal: Goal, measured: MeasuredCodes
) -> float:
    """The chain's layers as scheduled, run one after another (with the network's layer
    barriers) and scored on `goal` as one. By the barrier (`scheduling.simulated`) their
    cycles and every counter a score reads are the layers' own, summed (only the split of
    stalls between causes differs), so each layer's counts are taken where the search
    already simulated its code on this chip (`Simulated`; the code from `measured` where the
    search recorded it), and only the others simulated."""
    simulated = Simulated(measured.codes(chain, schedules, target), [w.name for w in chain], target)
    rows = (simulated.counters.sum(axis=0, keepdims=True), simulated.sram_bits.sum(axis=0, keepdims=True), (chain[0].name,))
    return goal.score_of(sum(simulated.cycles), lambda: rows, target)
