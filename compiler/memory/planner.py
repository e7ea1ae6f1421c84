"""The memory planner: which tensors stay on chip between layers, for one network on one target.

Activations. A layer's output stays in the activation buffer (the buffer the array reads its
input operand from: TPU v1's Unified Buffer, an edge NPU's activation SRAM, Eyeriss's global
buffer) when it fits there for its whole lifetime — from the layer that writes it to the
last layer that reads it, residual branches and concatenations included — beside the
tensors already kept and the working set of every layer in between. Its readers then take it
from chip: as their input in place, with no transfer and no tile (the array streams the
activation buffer), and as a second operand or side input by an on-chip transfer over the
buffers' ports. Only what does not fit goes to DRAM and back. Tensors are considered in the
order they are produced, each kept if it fits (first come, first kept, like a linear-scan
register allocator). What does not fit there is then offered, in the same way, to the chip's
shared buffers (a buffer holding no operand of the array: an L2), whose readers load it over
the buffer's ports. A reader whose operand mixes tensors at different levels, or kept and
spilled ones, reads them all from DRAM, so those tensors are spilled too. Outputs of the
network always go to DRAM. A network input that several layers read (a decoder block's hidden
state: its norm, the norm's division and the residual add) is then offered the capacity left,
in the same way, from its first reader, which loads it from DRAM; the later readers take it
from chip. Offered after every produced tensor, it never displaces one (keeping a produced
tensor saves its write and every read, keeping an input only its rereads).

Room for tiles. Each layer keeps room, in every buffer, for one double-buffered array-sized
tile of each operand it streams (`working_sets`): the same minimum the chip loader demands of
every buffer, doubled so loads overlap compute. Given the layers' schedules with nothing kept
on chip (the compile pipeline schedules the network once that way first), a layer also keeps
room for those schedules' tiles (`tile_room`), so that keeping tensors never takes capacity
its best tiling needs. The scheduler then tiles each layer in the capacity the kept tensors
leave (`Workload.reserved`). A layer whose input is not kept streams it beside them; where they
slow it, `memory.crowding` tries plans that keep room for its tiles too (`reserve`).

Weights. `WeightResidency.STREAMED` (the default, and what one inference on a freshly loaded
chip does) reads every GEMM's weights from DRAM each inference. `RESIDENT` keeps the weights
of GEMM layers, in network order while they fit beside every layer's working set, in the
weight buffer across inferences (loaded once when the model is deployed), so an inference
reads none of them; a vector layer's constants (norm scales, embedding rows) always stream.

DRAM. The network's weights, inputs and outputs, and the spilled activations live at the same
time, must fit the chip's DRAM (`InfeasibleSchedule` otherwise).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from enum import Enum
from types import MappingProxyType

import numpy as np

from accel_spec.types import Operand
from compiler.memory.placement import Placement
from compiler.memory.tensors import OPERANDS, NetworkTensors, byte_size, operand_dram_bytes
from compiler.scheduling.columns import WorkloadColumns
from compiler.scheduling.footprint import gemm_footprint, vector_footprint
from compiler.scheduling.memo import BoundedCache
from compiler.scheduling.schedule import Dim, InfeasibleSchedule, LayerSchedule, Schedule
from compiler.scheduling.strategies import max_chunks
from compiler.target import LEVEL_DRAM, Target, level_of
from compiler.workload import Workload, WorkloadKind
from tessera.identity_memo import IdentityMemo


class WeightResidency(Enum):
    """Whether GEMM weights are read from DRAM every inference or kept on chip."""

    STREAMED = "streamed"
    RESIDENT = "resident"


@dataclass(frozen=True)
class MemoryPlan:
    """A network's workloads with their placements, and the DRAM traffic the plan implies.

    Attributes:
        workloads: the network's workloads with `placement` and `reserved` set.
        kept: tensors kept on chip between layers, with the memory level each is kept at (the
            activation buffer, or a shared buffer such as an L2).
        resident_weights: names of the layers whose weights stay on chip.
        compulsory_bytes: per workload, the DRAM bytes no schedule can avoid: the network's
            inputs and streamed weights it reads, and the network's output it writes, once.
        spill_bytes: per workload, the bytes of activations it writes to or reads from DRAM
            because the plan could not keep them on chip (each once).
        kept_inputs: the network inputs among `kept`, each with its bytes on chip and the
            number of workloads that read it (its first reader loads it from DRAM).
    """

    workloads: tuple[Workload, ...]
    kept: Mapping[str, int]
    resident_weights: frozenset[str]
    compulsory_bytes: tuple[int, ...]
    spill_bytes: tuple[int, ...]
    kept_inputs: Mapping[str, tuple[int, int]]


def plan_memory(
    workloads: Sequence[Workload],
    target: Target,
    weights: WeightResidency = WeightResidency.STREAMED,
    schedules: Sequence[LayerSchedule] | None = None,
    reserve: Mapping[int, np.ndarray] = MappingProxyType({}),
) -> MemoryPlan:
    """Decide which tensors stay on chip (module doc) and place every workload's operands.

    `schedules`, the layers' schedules with nothing kept on chip, make each layer keep room
    for its own tiles too (`tile_room`), so keeping a tensor never shrinks a layer's tiles
    below what it chose without it. `reserve` maps a layer's index to bytes per buffer its
    tiles keep beside kept tensors (`memory.crowding`: the tiles of a layer that streams its
    input).
    """
    workloads = tuple(workloads)
    facts = NetworkTensors.of(workloads, target.storage_bits, target.bits_of)
    capacity = np.array(target.capacity, dtype=np.int64)
    demand = working_sets(workloads, target)
    if schedules is not None:
        by_layer = dict(zip((w.name for w in workloads), schedules, strict=True))
        room = _per_shape(workloads, lambda w: tile_room(w, by_layer[w.name], target), by_layer)
        demand = np.maximum(demand, room.reshape(demand.shape))
    for index, floor in reserve.items():
        demand[index] = np.maximum(demand[index], floor)
    free = (capacity - demand).T.tolist()  # [buffer][layer]: bytes left for kept tensors

    def keep(first: int, last: int, buffer: int, size: int) -> bool:
        """Take `size` bytes of `buffer` from layer `first` to `last` where they fit."""
        window = free[buffer]
        if min(window[first : last + 1]) < size:
            return False
        for layer in range(first, last + 1):
            window[layer] -= size
        return True

    weight_buffer = target.buffer(Operand.WEIGHT)
    resident_weights: set[str] = set()
    if weights is WeightResidency.RESIDENT:
        for workload in workloads:
            size = byte_size(workload.weight_elements, target.bits_of(workload.operand_classes)[1])
            if workload.kind is WorkloadKind.GEMM and not workload.weight_tensor and size:
                if keep(0, len(workloads) - 1, weight_buffer, size):
                    resident_weights.add(workload.name)

    readers, first_read = facts.readers, facts.first_read
    lifetime: dict[str, tuple[int, int, int, int]] = {}  # tensor -> (buffer, first, last, bytes)
    inputs = [(first_read[tensor], tensor, size) for tensor, size in facts.reread_inputs.items()]
    for candidates in (facts.kept_outputs, inputs):
        for buffer in (target.activation_buffer, *target.shared_buffers):
            for index, tensor, size in candidates:
                if tensor not in lifetime and keep(index, readers[tensor][-1], buffer, size):
                    lifetime[tensor] = (buffer, index, readers[tensor][-1], size)
    for tensor in _mixed(facts.joined_operands, {t: level_of(b) for t, (b, *_) in lifetime.items()}, first_read):
        buffer, first, last, size = lifetime.pop(tensor)
        for layer in range(first, last + 1):
            free[buffer][layer] += size

    kept = MappingProxyType({tensor: level_of(buffer) for tensor, (buffer, *_) in lifetime.items()})
    loading = _loading(first_read, kept, len(workloads))
    rows = (capacity - demand - np.array(free, dtype=np.int64).T).tolist()
    placements = [
        _placement(workload, kept, loading[index], workload.name in resident_weights, target)
        for index, workload in enumerate(workloads)
    ]
    planned = tuple(
        _placed(workload, placement, tuple(row)) for workload, placement, row in zip(workloads, placements, rows, strict=True)
    )
    at_dram = np.array([p.levels for p in placements], dtype=np.int64).reshape(-1, OPERANDS, 1) == LEVEL_DRAM
    compulsory, spill = (facts.dram_split * at_dram).sum(axis=1).T.tolist()
    _check_dram_capacity(planned, kept, facts, target)
    kept_inputs = MappingProxyType({t: (size, len(readers[t])) for t, size in facts.reread_inputs.items() if t in kept})
    return MemoryPlan(planned, kept, frozenset(resident_weights), tuple(compulsory), tuple(spill), kept_inputs)


def needs_room(target: Target, weights: WeightResidency) -> bool:
    """Whether kept tensors share a buffer with tiles that a kept input does not remove: the
    activation buffer holding weights or partial sums too, or resident weights in the weight
    buffer. Otherwise `tile_room` adds nothing to the working set (a kept input needs no
    tiles, and shared buffers hold none), and the schedules it reads need not be computed."""
    shares = sum(1 for buffer in target.buffer_of if buffer == target.activation_buffer) > 1
    return shares or weights is WeightResidency.RESIDENT


def tile_room(workload: Workload, schedule: LayerSchedule, target: Target, placement: Placement | None = None) -> np.ndarray:
    """Bytes per buffer the tiles of `schedule` take at `placement`, by default with the
    layer's activations kept in the activation buffer (its input then needs no tiles): what
    keeping tensors must leave free for the layer to run as it would with nothing kept."""
    activation = level_of(target.activation_buffer)
    if placement is None:
        placement = Placement(
            input=activation,
            weight=activation if workload.weight_tensor else LEVEL_DRAM,
            side=activation,
            output=activation,
        )
    kept = replace(workload, placement=placement, reserved=())
    if isinstance(schedule, Schedule):
        tiles = np.array([schedule.tile(dim) for dim in Dim], dtype=np.int64)
        positions = np.array([schedule.order.index(dim) for dim in Dim], dtype=np.int64)
        footprint = gemm_footprint(kept, target, tiles, positions, schedule.double_buffer, schedule.groups_per_pass)
    else:
        footprint = vector_footprint(
            kept, target, np.int64(schedule.chunks), schedule.double_buffer, schedule.sliced_constants
        )
    return footprint.demand(target).reshape(-1)


WORKING_SETS: BoundedCache[np.ndarray] = BoundedCache(capacity=4096)
"""`working_sets` by the workloads' shapes and every chip field but the capacities and the
DRAM channel's (`Target.tile_bytes_key`): the bytes a tile takes do not depend on them, so a
sweep finds each network's working sets once per array. A few hundred bytes an entry."""


def working_sets(workloads: Sequence[Workload], target: Target) -> np.ndarray:
    """(workloads, buffers) bytes each layer streams through when nothing of it is kept on
    chip: one double-buffered tile of each operand, every tile dimension at most the array's
    larger side, K innermost (GEMM, every distinct shape in one vectorised footprint), or
    chunks of at most rows × cols elements, as many as the layer can be split in (vector
    work, one layer at a time). Kept in `WORKING_SETS`, and by the identity of the tuple of
    workloads (`NETWORK_WORKING_SETS`: a sweep plans one lowered network at every point, and
    keying it by its layers' shapes hashed a hundred of them a point); each call gets its own
    copy."""

    network = tuple(workloads)

    def by_shapes() -> np.ndarray:
        key = (tuple(w.shape_key for w in network), target.tile_bytes_key)
        found = WORKING_SETS.get(key)
        if found is None:
            found = _streamed_working_sets(network, target)
            WORKING_SETS.put(key, found)
        return found

    return NETWORK_WORKING_SETS.get(network, target.tile_bytes_key, by_shapes).copy()


NETWORK_WORKING_SETS: IdentityMemo[np.ndarray] = IdentityMemo(capacity=16)
"""`working_sets` by the identity of the workloads (a tuple: it holds its layers, so its id
names them while kept) and `Target.tile_bytes_key`."""


def _streamed_working_sets(workloads: Sequence[Workload], target: Target) -> np.ndarray:
    """`working_sets`, computed: a workload's shape key decides its unplaced one's."""
    unplaced = Placement()
    streamed = [w if w.placement == unplaced and not w.reserved else replace(w, placement=unplaced, reserved=())
                for w in workloads]
    keys = [w.shape_key for w in streamed]
    distinct = dict(zip(keys, streamed))
    found: dict[tuple, np.ndarray] = {}
    gemms = {key: w for key, w in distinct.items() if w.kind is WorkloadKind.GEMM}
    if gemms:
        side = max(target.rows, target.cols)
        extents = np.array([[w.gemm.m, w.gemm.k, w.gemm.n] for w in gemms.values()], dtype=np.int64).T
        tiles = np.minimum(extents, side)
        positions = np.repeat(np.array([[0], [2], [1]], dtype=np.int64), len(gemms), axis=1)  # loop order M, N, K
        columns = WorkloadColumns.of(list(gemms.values()), np.ones(len(gemms), dtype=np.int64))
        demand = gemm_footprint(columns, target, tiles, positions, True).demand(target)
        found.update(zip(gemms, demand.T))
    for key, workload in distinct.items():
        if key not in found:
            wanted = math.ceil(max(workload.input_elements, workload.output_elements) / (target.rows * target.cols))
            chunks = 1 << (max(1, min(wanted, max_chunks(workload))).bit_length() - 1)  # a power of two, as searched
            found[key] = vector_footprint(workload, target, np.int64(chunks), True).demand(target).reshape(-1)
    return np.array([found[key] for key in keys], dtype=np.int64).reshape(len(workloads), -1)


def _per_shape(workloads: tuple[Workload, ...], bytes_of, schedules: dict[str, LayerSchedule]) -> np.ndarray:
    """(workloads, buffers) `bytes_of(workload)`, computed once per distinct shape and
    schedule: a network repeats its blocks."""
    found: dict[tuple, np.ndarray] = {}
    rows = []
    for workload in workloads:
        key = (workload.shape_key, schedules[workload.name])
        if key not in found:
            found[key] = bytes_of(workload)
        rows.append(found[key])
    return np.array(rows, dtype=np.int64)


def _loading(first_read: Mapping[str, int], kept: Mapping[str, int], count: int) -> list[frozenset[str]]:
    """Per layer, the kept network inputs it loads from DRAM (it is their first reader)."""
    loading: list[set[str]] = [set() for _ in range(count)]
    for tensor, index in first_read.items():
        if tensor in kept:
            loading[index].add(tensor)
    return [frozenset(tensors) for tensors in loading]


def _mixed(
    joined: tuple[tuple[int, tuple[str, ...]], ...], kept: Mapping[str, int], first_read: Mapping[str, int]
) -> set[str]:
    """Kept tensors that some reader reads in one operand together with a spilled one, or one
    kept at another level (the whole operand is then read from DRAM), until no operand mixes.
    `joined`: (reader, tensors) of every operand that reads several tensors
    (`NetworkTensors.joined_operands`; an operand of one tensor is at one level). A kept
    network input is in DRAM for its first reader (`first_read`), which loads it."""
    spilled: set[str] = set()
    while True:
        found = set()
        for index, operand in joined:
            levels = {kept.get(t) if t not in spilled and first_read.get(t) != index else None for t in operand}
            if len(levels) > 1:
                found |= {t for t in operand if t in kept and t not in spilled and first_read.get(t) != index}
        if not found:
            return spilled
        spilled |= found


def _placement(
    workload: Workload, kept: Mapping[str, int], loading: frozenset[str], resident_weights: bool, target: Target
) -> Placement:
    """The levels of one workload's operands under the plan (`kept`: tensor -> its level;
    `loading`: kept network inputs this workload reads from DRAM, their first reader)."""
    if workload.weight_tensor:
        weight = _level((workload.weight_tensor,), kept, loading)
    else:
        weight = level_of(target.buffer(Operand.WEIGHT)) if resident_weights else LEVEL_DRAM
    levels = (_level(workload.input_tensors, kept, loading), weight, _level(workload.side_tensors, kept, loading),
              kept.get(workload.output_tensor, LEVEL_DRAM))  # fmt: skip
    return _placement_at(levels)


def _level(tensors: tuple[str, ...], kept: Mapping[str, int], loading: frozenset[str]) -> int:
    """The level an operand reading `tensors` is read from: theirs where they are all at one,
    DRAM otherwise (and for a kept network input its first reader loads)."""
    if len(tensors) == 1:
        return LEVEL_DRAM if tensors[0] in loading else kept.get(tensors[0], LEVEL_DRAM)
    levels = {LEVEL_DRAM if t in loading else kept.get(t, LEVEL_DRAM) for t in tensors}
    return levels.pop() if len(levels) == 1 else LEVEL_DRAM


def _placed(workload: Workload, placement: Placement, reserved: tuple[int, ...]) -> Workload:
    """`workload.placed(placement, reserved)`: the copy an earlier plan made of this very
    workload at this very placement (`_placement_at`'s object) and these reserved bytes, kept
    in `PLACED`, or a new one, kept there. Plans of one network place most layers alike (the
    crowding challengers of `memory.crowding`, sweep points whose plans keep the same tensors),
    and a copy made before keeps its `Workload.shape_key`, hashed once, which every memo
    lookup after planning reads: a Llama-3-8B prefill plan copies and keys 1,130 layers."""
    key = (id(workload), id(placement), reserved)
    found = PLACED.get(key)
    if found is not None and found[0] is workload and found[1].placement is placement:
        return found[1]
    copy = workload.placed(placement, reserved)
    PLACED.put(key, (workload, copy))
    return copy


PLACED: BoundedCache[tuple[Workload, Workload]] = BoundedCache(capacity=8192)
"""(workload, its placed copy) by the workload's identity, the placement's identity and the
reserved bytes (`_placed`); an entry holds the workload, so no other takes its identity while
kept (a copy holds its placement). About 3 KB an entry (a copy with its shape key;
tracemalloc, MobileNetV2 and Llama layers alike), so at most some 24 MB:
a 768-point never-seen MobileNetV2 sweep keeps 124 entries, a Llama-3-8B prefill point whose
crowding search weighs 65 plans of its 1,130 layers 1,613."""


@functools.lru_cache(maxsize=1024)
def _placement_at(levels: tuple[int, int, int, int]) -> Placement:
    """One `Placement` object per tuple of levels (a plan places a hundred layers at a few of
    them, at every point of a sweep): made once, and found by identity in the dicts that key by it."""
    return Placement(*levels)


def dram_bytes(workload: Workload, produced: Mapping[str, int], target: Target) -> tuple[int, int]:
    """(compulsory, spilled) DRAM bytes of one planned workload (`MemoryPlan`): those of its
    operands at DRAM (`tensors.operand_dram_bytes`)."""
    split = operand_dram_bytes(workload, produced, target.bits_of(workload.operand_classes))
    at_dram = [level == LEVEL_DRAM for level in workload.placement.levels]
    return (
        sum(c for (c, _), dram in zip(split, at_dram, strict=True) if dram),
        sum(s for (_, s), dram in zip(split, at_dram, strict=True) if dram),
    )


def _check_dram_capacity(
    workloads: tuple[Workload, ...], kept: Mapping[str, int], facts: NetworkTensors, target: Target
) -> None:
    """Raise `InfeasibleSchedule` when the model cannot fit the chip's DRAM: its constant
    weights, its inputs and outputs, and the activations spilled (not `kept`) that live at
    the busiest layer."""
    weights, inputs, outputs = facts.constant_bytes
    live = np.zeros(len(workloads) + 1, dtype=np.int64)
    for index, tensor, size in facts.kept_outputs:
        if tensor not in kept:
            live[index] += size
            live[facts.readers[tensor][-1] + 1] -= size
    spilled = np.cumsum(live)[:-1]
    busiest = int(np.argmax(spilled)) if workloads else 0
    needed = weights + inputs + outputs + (int(spilled[busiest]) if workloads else 0)
    if needed > target.dram_capacity:
        raise InfeasibleSchedule(
            workloads[busiest].name,
            f"the model needs {needed:,} B of DRAM (weights {weights:,} B, inputs and outputs "
            f"{outputs + inputs:,} B, activations spilled at this layer "
            f"{needed - weights - outputs - inputs:,} B) but the chip has {target.dram_capacity:,} B",
        )
