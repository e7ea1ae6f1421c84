"""What the memory planner needs to know about a network's tensors that no chip changes.

Who reads each tensor, which outputs may be kept and how many bytes each takes, and how many
DRAM bytes each operand of each layer moves when it is read from (or written to) DRAM depend
on the network and on the formats tensors are stored in, never on the array, the buffers or
the bandwidth a sweep varies. A sweep lowers a model variant once and compiles it for
thousands of chips; `NetworkTensors.of` derives these facts once per (workloads, storage
formats) and every later plan of the same workloads reuses them (the workloads are a tuple of
frozen dataclasses, so the same tuple always holds the same network).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import TypeVar

import numpy as np

from compiler.target import nbytes
from compiler.workload import Workload
from tessera.identity_memo import IdentityMemo

OPERANDS = 4
"""Input, second (weight), side and output operand of a workload, in `Placement`'s order."""


def byte_size(elements: int, bits: int) -> int:
    """Bytes of `elements` stored elements of `bits` bits each (`compiler.target.nbytes`), as an int."""
    return int(nbytes(elements, bits))


def reads(workload: Workload) -> tuple[str, ...]:
    """The tensors `workload` reads, in any role ("" where it has no such operand)."""
    return (*workload.input_tensors, workload.weight_tensor, *workload.side_tensors)


V = TypeVar("V")


def per_network(memo: IdentityMemo[V], workloads: Sequence[Workload], find: Callable[[Sequence[Workload]], V]) -> V:
    """`find(workloads)` for a finding that reads no placement and no reserved bytes (the
    chains a network may fuse), kept in `memo` by each layer's `Workload.unplaced_key`, each
    by identity: a memory plan's layers are copies of the network's (`Workload.placed`),
    which share the original's key and every field but placement and reserved bytes, so
    every plan of a network (a compile's crowding challengers, a sweep's points) finds it
    once."""
    return memo.get_each(tuple(w.unplaced_key for w in workloads), lambda: find(workloads))


def tensor_readers(workloads: Sequence[Workload]) -> dict[str, list[int]]:
    """Tensor -> indices of the workloads that read it (in any role)."""
    readers: dict[str, list[int]] = {}
    for index, workload in enumerate(workloads):
        for tensor in dict.fromkeys(t for t in reads(workload) if t):
            readers.setdefault(tensor, []).append(index)
    return readers


def operand_dram_bytes(
    workload: Workload, produced: Mapping[str, int], bits: Sequence[int]
) -> tuple[tuple[int, int], ...]:
    """Per operand (input, weight, side, output), (compulsory, spilled) DRAM bytes it moves
    when it is at DRAM: of an operand read, the tensors some layer produced are spills, the
    rest (network inputs, constant weights) compulsory; the output is compulsory for a
    network output and a spill otherwise. `bits`: the operands' stored widths."""
    split = []
    for elements, tensors, width in (
        (workload.input_elements, workload.input_tensors, bits[0]),
        (workload.weight_elements, (workload.weight_tensor,) if workload.weight_tensor else (), bits[1]),
        (workload.side_input_elements, workload.side_tensors, bits[2]),
    ):
        made = min(elements, sum(produced.get(t, 0) for t in tensors))
        split.append((byte_size(elements - made, width), byte_size(made, width)))
    output = byte_size(workload.output_elements, bits[3])
    split.append((output, 0) if workload.graph_output else (0, output))
    return tuple(split)


@dataclass(frozen=True)
class NetworkTensors:
    """A network's tensors as the memory planner sees them, for one set of storage formats.

    Attributes:
        readers: tensor -> indices of the workloads that read it.
        kept_outputs: (layer, tensor, bytes) of each output a later layer reads that is not a
            network output: the tensors a plan may keep, in the order they are produced.
        reread_inputs: network inputs that several layers read -> their bytes on chip (the
            widest format a reader that reads the input alone gives it).
        first_read: for each of `reread_inputs`, its first reader.
        dram_split: (workloads, operands, 2) int64: each operand's (compulsory, spilled) DRAM
            bytes when it is at DRAM (`operand_dram_bytes`).
        constant_bytes: the DRAM bytes that are there whatever the plan: constant weights,
            network inputs and network outputs (`planner` checks the DRAM's capacity).
        joined_operands: (workload index, tensors) of each input or side operand that reads
            several tensors (a Concat's, an Add's of a residual branch): the only operands
            whose tensors a plan can put at different levels (`planner._mixed`).
    """

    readers: Mapping[str, list[int]]
    kept_outputs: tuple[tuple[int, str, int], ...]
    reread_inputs: Mapping[str, int]
    first_read: Mapping[str, int]
    dram_split: np.ndarray
    constant_bytes: tuple[int, int, int]
    joined_operands: tuple[tuple[int, tuple[str, ...]], ...]

    @staticmethod
    def of(workloads: tuple[Workload, ...], storage_bits: tuple[int, ...], bits_of) -> NetworkTensors:
        """The facts of `workloads` stored at `storage_bits` (`Target.storage_bits`;
        `bits_of`: `Target.bits_of`), derived on the first call and reused while the same
        tuple is planned again (module doc)."""
        return _NETWORKS.get(workloads, storage_bits, lambda: _derive(workloads, bits_of))


_NETWORKS: IdentityMemo[NetworkTensors] = IdentityMemo(capacity=16)
"""The facts of the networks (and storage formats) of a sweep a worker is on: its model variants."""


def _derive(workloads: tuple[Workload, ...], bits_of) -> NetworkTensors:
    """`NetworkTensors` of `workloads`, computed (`bits_of`: `Target.bits_of`)."""
    readers = tensor_readers(workloads)
    produced = {w.output_tensor: w.output_elements for w in workloads}
    bits = [bits_of(w.operand_classes) for w in workloads]
    kept_outputs = tuple(
        (index, w.output_tensor, byte_size(w.output_elements, bits[index][3]))
        for index, w in enumerate(workloads)
        if not w.graph_output and w.output_tensor in readers
    )
    reread: dict[str, int] = {}
    for w, width in zip(workloads, bits, strict=True):
        for tensors, elements, operand_bits in (
            (w.input_tensors, w.input_elements, width[0]),
            ((w.weight_tensor,) if w.weight_tensor else (), w.weight_elements, width[1]),
            (w.side_tensors, w.side_input_elements, width[2]),
        ):
            if len(tensors) == 1 and tensors[0] not in produced and len(readers[tensors[0]]) > 1:
                reread[tensors[0]] = max(reread.get(tensors[0], 0), byte_size(elements, operand_bits))
    split = np.array(
        [operand_dram_bytes(w, produced, width) for w, width in zip(workloads, bits, strict=True)], dtype=np.int64
    ).reshape(len(workloads), OPERANDS, 2)
    weights = sum(byte_size(w.weight_elements, width[1]) for w, width in zip(workloads, bits) if not w.weight_tensor)
    outputs = sum(byte_size(w.output_elements, width[3]) for w, width in zip(workloads, bits) if w.graph_output)
    inputs = {
        w.input_tensors: byte_size(w.input_elements - sum(produced.get(t, 0) for t in w.input_tensors), width[0])
        for w, width in zip(workloads, bits)
        if any(t not in produced for t in w.input_tensors)
    }
    return NetworkTensors(
        readers=MappingProxyType(readers),
        kept_outputs=kept_outputs,
        reread_inputs=MappingProxyType(reread),
        first_read=MappingProxyType({tensor: min(readers[tensor]) for tensor in reread}),
        dram_split=split,
        constant_bytes=(weights, sum(inputs.values()), outputs),
        joined_operands=tuple(
            (index, tensors)
            for index, w in enumerate(workloads)
            for tensors in (w.input_tensors, w.side_tensors)
            if len(tensors) > 1
        ),
    )
