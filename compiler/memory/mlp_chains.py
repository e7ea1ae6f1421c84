"""Fusion across layers: which MLP blocks run fused, as a schedule decision.

An MLP block is an up-projection, its activation and a down-projection: two consecutive
GEMM workloads with constant weights, one product each (BERT's fc1 with its GELU fused in,
then fc2 with its bias and residual), where the down-projection reads the up-projection's
output alone, as its whole input, and nothing else reads it; or three (a gated block:
Llama's up_proj, then gate_proj reading the same input with up_proj's output as its side
input for SiLU(gate)·up, then down_proj). Only the down-projection may carry a side input
of its own (a residual), loaded band by band beside its output. Unfused, the intermediate
(tokens × ffn) is a whole tensor that the memory plan keeps on chip when it fits and spills
to DRAM otherwise. Fused (`scheduling.mlp`), the block runs band by band of tokens and no
intermediate reaches DRAM; the price is reading the weights once per band unless they stay
on chip together.

`fuse_mlps` weighs the two, like `chains.fuse_attention`, on the search's `Goal` with the
simulator: the unfused layers as scheduled, simulated back to back, against the fused
block's best measured candidate; the fused one replaces the layers only when it scores
strictly lower. Only blocks whose intermediate the plan spills to DRAM are tried: with the
intermediate on chip the layers read it in place and fusion saves no DRAM traffic (the
search is spared a simulation per block). The unfused layers are simulated only when a fused
candidate fits, and for latency a candidate is simulated only when its estimate, a lower
bound of its cycles, is below theirs (`scheduling.mlp.best_mlp`). Blocks whose layers read weights from different
levels, chips with a row-stationary mapping and SCALE-Sim's timing (which models no fusion)
are left unfused.

The fused workload takes over the plan's placements (the input from the up-projection, the
weights from every layer, the side input and output from the down-projection) and the bytes
the plan keeps on chip while the layers run, less the intermediates where the plan kept them
(`chains.replace_chains`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from compiler.lowering.ops import add_counts
from compiler.memory.chains import Decisions, chain_workload, decide_chain, kept_reserved, replace_chains
from compiler.memory.planner import MemoryPlan
from compiler.memory.tensors import per_network, tensor_readers
from compiler.scheduling.mlp import best_mlp
from compiler.scheduling.objective import Goal
from compiler.scheduling.schedule import LayerSchedule, MlpSchedule, Schedule
from compiler.target import LEVEL_DRAM, Target, TimingMode
from compiler.workload import MlpShape, Workload, WorkloadKind
from tessera.identity_memo import IdentityMemo


def _projection(workload: Workload) -> bool:
    """One plain product with constant weights, whose operands are its whole GEMM view."""
    gemm = workload.gemm
    return (
        workload.kind is WorkloadKind.GEMM
        and gemm is not None
        and gemm.batch == 1
        and workload.conv is None
        and workload.attention is None
        and workload.cache_append is None
        and not workload.weight_is_activation
        and not workload.kv_operands
        and workload.input_elements == gemm.m * gemm.k
        and workload.weight_elements == gemm.k * gemm.n
        and workload.output_elements == gemm.m * gemm.n
    )


def _feeds(producer: Workload, consumer: Workload, readers: dict[str, int]) -> bool:
    """`consumer` reads `producer`'s output alone, as its whole input, and nothing else does."""
    return (
        consumer.input_tensors == (producer.output_tensor,)
        and readers.get(producer.output_tensor) == 1
        and not producer.graph_output
        and consumer.gemm.m == producer.gemm.m
        and consumer.gemm.k == producer.gemm.n
    )


def _gates(up: Workload, gate: Workload, readers: dict[str, int]) -> bool:
    """`gate` projects `up`'s input to `up`'s width and reads `up`'s output, alone, as its only
    side input (in its epilogue), which nothing else reads."""
    return (
        gate.input_tensors == up.input_tensors
        and gate.gemm == up.gemm
        and gate.side_tensors == (up.output_tensor,)
        and gate.side_input_elements == up.output_elements
        and readers.get(up.output_tensor) == 1
        and not up.graph_output
        and up.side_input_elements == 0
    )


def mlp_chains(workloads: Sequence[Workload]) -> tuple[tuple[int, int], ...]:
    """(first index, length) of every MLP block (module doc): three layers when gated, else
    two. Kept per network (`MLP_CHAINS`, `tensors.per_network`)."""
    return per_network(MLP_CHAINS, workloads, _mlp_chains)


MLP_CHAINS: IdentityMemo[tuple[tuple[int, int], ...]] = IdentityMemo(capacity=16)
"""`mlp_chains` of the networks a worker fuses (`tensors.per_network`)."""


def _mlp_chains(workloads: Sequence[Workload]) -> tuple[tuple[int, int], ...]:
    """`mlp_chains`, found: each layer is asked once whether it is a projection, and the
    tensors' readers are counted only when two projections follow each other (a network of
    convolutions has none)."""
    projection = [_projection(w) for w in workloads]
    if not any(first and second for first, second in zip(projection, projection[1:])):
        return ()
    readers = {tensor: len(indices) for tensor, indices in tensor_readers(workloads).items()}
    found: list[tuple[int, int]] = []
    index = 0
    while index < len(workloads) - 1:
        for length in (3, 2):
            chain = workloads[index : index + length]
            if len(chain) == length and all(projection[index : index + length]) and _block(chain, readers):
                found.append((index, length))
                index += length
                break
        else:
            index += 1
    return tuple(found)


def _block(chain: Sequence[Workload], readers: dict[str, int]) -> bool:
    """The layers form a block: a plain or gated up-projection feeding the down-projection."""
    *ups, down = chain
    if not _feeds(ups[-1], down, readers):
        return False
    if len(ups) == 1:
        return ups[0].side_input_elements == 0
    return _gates(ups[0], ups[1], readers)


def fused_mlp_workload(chain: Sequence[Workload], reserved: tuple[int, ...]) -> Workload:
    """The fused workload of an MLP block as planned (module doc)."""
    first, down = chain[0], chain[-1]
    shape = MlpShape(
        tokens=first.gemm.m,
        hidden=first.gemm.k,
        ffn=first.gemm.n,
        out=down.gemm.n,
        gated=len(chain) == 3,
        up_ops=tuple(sorted(add_counts(*(w.vector_ops for w in chain[:-1])).items())),
        down_ops=tuple(sorted(down.vector_ops.items())),
    )
    return chain_workload(chain, "FusedMLP", reserved, mlp=shape)


def fuse_mlps(
    plan: MemoryPlan, schedules: tuple[LayerSchedule, ...], target: Target, goal: Goal, decisions: Decisions
) -> tuple[MemoryPlan, tuple[LayerSchedule, ...]]:
    """The plan and schedules with MLP blocks fused where that scores lower on `goal`
    (module doc); unchanged when no block gains. `decisions`: those of this compile so far
    (on `target` and `goal`)."""
    if target.row_stationary or target.timing is TimingMode.SCALESIM:
        return plan, schedules
    workloads = plan.workloads
    fused: dict[int, tuple[Workload, LayerSchedule, int]] = {}

    def search(candidate: Workload, unfused: Callable[[], float]) -> tuple[MlpSchedule, float] | None:
        return best_mlp(candidate, target, goal, unfused)

    for index, length in mlp_chains(workloads):
        chain, chosen = workloads[index : index + length], schedules[index : index + length]
        if _worth_trying(chain, chosen):
            candidate = fused_mlp_workload(chain, kept_reserved(chain, plan, target))
            schedule = decide_chain(chain, chosen, candidate, target, goal, search, decisions)
            if schedule is not None:
                fused[index] = (candidate, schedule, length)
    return replace_chains(plan, schedules, fused, target)


def _worth_trying(chain: Sequence[Workload], schedules: Sequence[LayerSchedule]) -> bool:
    """An intermediate spilled to DRAM, every weight read from one level, and layers
    scheduled as GEMMs (module doc)."""
    return (
        any(w.placement.output == LEVEL_DRAM for w in chain[:-1])
        and len({w.placement.weight for w in chain}) == 1
        and all(isinstance(s, Schedule) for s in schedules)
    )
