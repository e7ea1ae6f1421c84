"""The fused chain codegen kernel (`compiler.codegen.conv_chain_kernel`): a two-layer chain's
code by hand, and its compaction equal to `layout.compact` (CI runs these without JIT too)."""

from __future__ import annotations

import numpy as np

from compiler.codegen.conv_chain_kernel import NO_DEP, _compacted, _conv_chain_code
from compiler.codegen.gemm import INSTRUCTION_PROTO
from compiler.codegen.layout import SlotTable, compact
from compiler.target.isa import INSTRUCTION_DTYPE, Opcode


def test_a_two_layer_chain_in_two_bands_by_hand() -> None:
    """Two 1×1 layers, two bands of 2 rows, one GEMM a layer and band (out_w 3, n 4, k 5 and
    6), input and weights from DRAM, no epilogue. Program order: both weights, band 0's
    input, band 1's prefetch, then per band layer 0's GEMM and its move into layer 1's line
    buffer, layer 1's GEMM and its store."""
    i64 = lambda *values: np.array(values, dtype=np.int64)  # noqa: E731
    instructions, dep_ptr, deps, ok = _conv_chain_code(
        INSTRUCTION_PROTO, i64([2, 2], [2, 2]), i64([2, 2], [2, 2]), i64([0, 1], [0, 1]), i64(1, 1), i64(4, 4),
        i64(0, 1, 2), i64(3, 3), i64(5, 6), i64(20, 24), np.zeros((0, 2), np.int64), i64(),
        np.array([True, True, False]), i64(8, 8, 8, 8), i64(0, 1, 2), i64(0, 0, 0, 0, 3), 10, False, 1, 0,
    )  # fmt: skip
    assert ok
    load, gemm, store = int(Opcode.LOAD), int(Opcode.GEMM), int(Opcode.STORE)
    assert instructions["opcode"].tolist() == [load, load, load, load, gemm, load, gemm, store, gemm, load, gemm, store]
    assert instructions["bytes"].tolist() == [20, 24, 20, 20, 0, 24, 0, 24, 0, 24, 0, 24]
    assert instructions["level"].tolist() == [0, 0, 0, 0, 0, 3, 0, 0, 0, 3, 0, 0]
    gemms = instructions[instructions["opcode"] == gemm]
    assert (gemms["m"].tolist(), gemms["k"].tolist(), gemms["n"].tolist()) == ([6] * 4, [5, 6, 5, 6], [4] * 4)
    # GEMM ← input rows, CLOSE two rows before, weights; a move into layer 1's buffer also
    # waits for layer 1's last GEMM of the band before (write after read)
    assert [deps[dep_ptr[i] : dep_ptr[i + 1]].tolist() for i in range(12)] == [
        [], [], [], [], [2, 0], [4], [5, 1], [6], [5, 3, 0], [8, 6], [9, 7, 1], [10],
    ]  # fmt: skip


def test_compaction_equals_the_numpy_one() -> None:
    """Random slot tables (dependencies on earlier present slots, holes and repeats): the
    kernel's compaction is `layout.compact`'s, instructions, pointers and dependencies."""
    rng = np.random.default_rng(3)
    for _ in range(50):
        rows, slots, width = (int(v) for v in rng.integers(1, 9, 3))
        table = SlotTable.empty(rows, slots, width)
        table.present[:] = rng.random((rows, slots)) < 0.6
        table.instructions["bytes"] = rng.integers(0, 1000, (rows, slots))
        table.instructions["opcode"] = rng.integers(0, 4, (rows, slots))
        flat = np.flatnonzero(table.present.ravel())
        for position in flat:
            earlier = flat[flat < position]
            if len(earlier):
                chosen = rng.choice(earlier, size=width)
                chosen[rng.random(width) < 0.3] = NO_DEP
                table.deps.reshape(rows * slots, width)[position] = chosen
        expected = compact(table)
        instructions, dep_ptr, deps, ok = _compacted(
            table.instructions.ravel(), table.present.ravel(), table.deps.reshape(rows * slots, width)
        )
        assert ok and instructions.dtype == INSTRUCTION_DTYPE
        assert np.array_equal(instructions, expected.instructions)
        assert np.array_equal(dep_ptr, expected.dep_ptr) and np.array_equal(deps, expected.deps)


def test_a_dependency_on_an_absent_slot_is_reported() -> None:
    table = SlotTable.empty(2, 2, 1)
    table.present[:] = [[True, False], [True, True]]
    table.deps[1, 0, 0] = 1  # row 0, slot 1: absent
    assert not _compacted(table.instructions.ravel(), table.present.ravel(), table.deps.reshape(4, 1))[3]
