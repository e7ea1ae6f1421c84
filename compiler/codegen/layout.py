"""A layer's instructions laid out as a table of rows × slots, then compacted.

Vector codegen fills whole columns of the table with numpy (GEMM codegen does the same
walk in its Numba kernel, `gemm_kernel`): row r holds the instructions issued
around tile iteration r, one slot per instruction role (load input, GEMM, store...), and
`present` says which slots exist. Dependencies name other slots by flat position
(row · slots + slot), so they can be computed before the final indices are known.
Compaction drops absent slots, renumbers positions into program indices and produces the
CSR arrays — all vectorised.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from compiler.target.isa import INSTRUCTION_DTYPE

NO_DEP = -1


@dataclass(frozen=True)
class SlotTable:
    """Instructions of one layer before compaction.

    Attributes:
        instructions: (rows, slots) array of `INSTRUCTION_DTYPE`.
        present: (rows, slots) bools: which slots hold an instruction.
        deps: (rows, slots, width) flat positions of dependencies, `NO_DEP` for none.
    """

    instructions: np.ndarray
    present: np.ndarray
    deps: np.ndarray

    @classmethod
    def empty(cls, rows: int, slots: int, width: int) -> "SlotTable":
        return cls(
            instructions=np.zeros((rows, slots), dtype=INSTRUCTION_DTYPE),
            present=np.zeros((rows, slots), dtype=bool),
            deps=np.full((rows, slots, width), NO_DEP, dtype=np.int64),
        )

    @property
    def slots(self) -> int:
        return self.present.shape[1]

    def fill(self, slot: int, mask, layer: int, **fields) -> None:
        """Make `slot` present where `mask`, its instructions of `layer` with `fields` set
        (values, or arrays over the rows)."""
        self.present[:, slot] = mask
        column = self.instructions[:, slot]
        column["layer"] = layer
        for name, value in fields.items():
            column[name] = value

    def dep(self, slot: int, index: int, where, value) -> None:
        """Dependency `index` of `slot`: the flat position `value` where `where`, none elsewhere."""
        self.deps[:, slot, index] = np.where(where, value, NO_DEP)

    def position(self, row, slot) -> np.ndarray:
        """Flat position of (row, slot); rows may be arrays."""
        return np.asarray(row, dtype=np.int64) * self.slots + slot


@dataclass(frozen=True)
class LayerCode:
    """One layer's compacted instructions and dependencies (indices local to the layer)."""

    instructions: np.ndarray
    dep_ptr: np.ndarray
    deps: np.ndarray


def compact(table: SlotTable) -> LayerCode:
    """Drop absent slots, renumber dependencies, deduplicate them and build CSR."""
    present = table.present.ravel()
    index = np.cumsum(present) - 1
    deps = table.deps.reshape(present.size, -1)[present]
    valid = deps != NO_DEP
    if not present[deps[valid]].all():
        raise AssertionError("codegen produced a dependency on an absent slot")
    local = np.where(valid, index[np.where(valid, deps, 0)], NO_DEP)
    return LayerCode(table.instructions.ravel()[present], *to_csr(local))


def to_csr(deps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(n, width) dependency matrix with `NO_DEP` holes -> (dep_ptr, deps), duplicates removed."""
    ordered = -np.sort(-deps, axis=1)
    keep = ordered != NO_DEP
    keep[:, 1:] &= ordered[:, 1:] != ordered[:, :-1]
    dep_ptr = np.zeros(len(deps) + 1, dtype=np.int64)
    np.cumsum(keep.sum(axis=1), out=dep_ptr[1:])
    return dep_ptr, ordered[keep].astype(np.int64)
