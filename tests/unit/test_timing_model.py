"""The closed-form timing and SRAM-traffic formulas, checked against hand computations."""

from __future__ import annotations

import numpy as np
import pytest

from accel_spec.types import Dataflow
from compiler.target.timing import (
    burst_bytes,
    ceil_cycles,
    gemm_cycles,
    gemm_local_macs,
    gemm_occupancy,
    gemm_sram_accesses,
    latency_cycles,
    transfer_cycles,
    vector_cycles,
)

OS, WS, IS = Dataflow.OUTPUT_STATIONARY, Dataflow.WEIGHT_STATIONARY, Dataflow.INPUT_STATIONARY


@pytest.mark.parametrize(
    "dataflow, expected",
    [
        (OS, 3 * 2 * (6 + 4 + 4 - 2)),  # ceil(10/4)·ceil(7/4) folds of k + R + C − 2
        (WS, 2 * 2 * (10 + 8 + 4 - 2)),  # ceil(6/4)·ceil(7/4) folds of m + 2R + C − 2
        (IS, 2 * 3 * (7 + 8 + 4 - 2)),  # ceil(6/4)·ceil(10/4) folds of n + 2R + C − 2
    ],
)
def test_gemm_cycles_by_hand(dataflow, expected):
    assert gemm_cycles(10, 6, 7, dataflow, 4, 4) == expected


def test_gemm_cycles_is_vectorised():
    cycles = gemm_cycles([10, 10, 10], [6, 6, 6], [7, 7, 7], [OS, WS, IS], 4, 4)
    assert cycles.tolist() == [72, 80, 102]


def test_a_gemm_that_fits_one_fold():
    assert gemm_cycles(4, 4, 4, OS, 4, 4) == 4 + 4 + 4 - 2


@pytest.mark.parametrize(
    "dataflow, accumulate, expected",
    [
        # (input reads, weight reads, output reads, output writes) for 10×6·6×7 on 4×4
        (OS, 0, (10 * 6 * 2, 6 * 7 * 3, 0, 70)),
        (OS, 1, (10 * 6 * 2, 6 * 7 * 3, 70, 70)),
        (WS, 0, (10 * 6 * 2, 6 * 7, 70 * 1, 70 * 2)),  # two k-folds: one partial-sum read-back
        (WS, 1, (10 * 6 * 2, 6 * 7, 70 * 2, 70 * 2)),
        (IS, 0, (10 * 6, 6 * 7 * 3, 70 * 1, 70 * 2)),
        (IS, 1, (10 * 6, 6 * 7 * 3, 70 * 2, 70 * 2)),
    ],
)
def test_gemm_sram_accesses_by_hand(dataflow, accumulate, expected):
    got = gemm_sram_accesses(10, 6, 7, dataflow, accumulate, 4, 4)
    assert tuple(int(v) for v in got) == expected


def test_reduction_depth_by_hand():
    """10×24·24×7 on 4×4, weight stationary: 6 rows' worth of reduction and 2 column folds.
    Depth 1: 6·2 folds of m + 2R + C − 2. Depth 3: two passes of 3 weights a PE, 2·2 folds of
    3m + 3R + R + C − 2, partial sums written twice, not six times, and of every output's 24
    products 24 − 8 kept in the PE."""
    assert gemm_cycles(10, 24, 7, WS, 4, 4) == 12 * (10 + 4 + 6)
    assert gemm_cycles(10, 24, 7, WS, 4, 4, depth=3) == 4 * (30 + 12 + 6)
    assert tuple(int(v) for v in gemm_sram_accesses(10, 24, 7, WS, 0, 4, 4, depth=3)) == (10 * 24 * 2, 24 * 7, 70, 140)
    assert gemm_local_macs(10, 24, 7, WS, 4, 4, depth=3) == 70 * (24 - 8)
    assert gemm_local_macs(10, 24, 7, WS, 4, 4, depth=1) == 0


def test_reduction_depth_spreads_the_reduction_over_the_fewest_passes():
    """k = 28: 7 rows' worth; depth 4 takes ceil(7/4) = 2 passes, 4 and 3 weights a PE (16 and
    12 rows of the reduction), so the folds stream 7·m cycles as at depth 1 and pay the fill
    and drain twice, not seven times; each output's sum hops 8 times (4 PE rows, 2 passes), not
    28. Depth 7 or more: one pass of 7."""
    assert gemm_cycles(10, 28, 4, WS, 4, 4, depth=4) == (40 + 16 + 6) + (30 + 12 + 6)
    assert gemm_cycles(10, 28, 4, WS, 4, 4) == 7 * (10 + 4 + 6)
    for depth in (7, 8, 100):
        assert gemm_cycles(10, 28, 4, WS, 4, 4, depth=depth) == 70 + 28 + 6
    assert gemm_local_macs(10, 28, 4, WS, 4, 4, depth=4) == 40 * (28 - 8)


def test_reduction_depth_never_slows_a_gemm():
    """Every fold at depth d streams d·m and loads d·R: the same as d folds at depth 1, less
    d − 1 fills and drains; pipelined, the same spacing."""
    rng = np.random.default_rng(3)
    m, k, n = (rng.integers(1, 300, 2000) for _ in range(3))
    groups = rng.integers(1, 4, 2000)
    for pipelined in (False, True):
        shallow = gemm_occupancy(m, k, n, WS, 8, 6, groups, pipelined)[0]
        for depth in (2, 3, 16):
            deep = gemm_occupancy(m, k, n, WS, 8, 6, groups, pipelined, depth=depth)[0]
            assert np.all(deep <= shallow)
            assert np.array_equal(deep, shallow) == pipelined


def test_reduction_depth_is_weight_stationary_only():
    for dataflow in (OS, IS):
        assert gemm_cycles(10, 24, 7, dataflow, 4, 4, depth=3) == gemm_cycles(10, 24, 7, dataflow, 4, 4)
        assert gemm_local_macs(10, 24, 7, dataflow, 4, 4, depth=3) == 0


def test_pipelined_deep_folds_are_spaced_by_their_longer_shift():
    """Pipelined, depth-3 folds start max(3m, 3R) apart: 4 folds of a 2-row stream (T = 6)
    behind a 12-cycle shift of three weights a PE."""
    occupancy, floor = gemm_occupancy(2, 24, 7, WS, 4, 4, pipelined=True, depth=3)
    assert (int(occupancy), int(floor)) == (4 * 12, 3 * 12 + 6)


def test_ceil_cycles_absorbs_float_error_only():
    assert 70e-9 * 9e8 == 63.00000000000001  # exactly 63 cycles in real arithmetic
    assert latency_cycles(70e-9, 9e8) == 63
    assert ceil_cycles([0.0, 1.0, 1.5, 70.001]).tolist() == [0, 1, 2, 71]


def test_transfers_round_up_to_bursts():
    assert burst_bytes([0, 1, 64, 65], 64).tolist() == [0, 64, 64, 128]
    assert transfer_cycles(100, 16, 8.0) == 112 / 8
    assert transfer_cycles(340 * 64, 64, 34e9 / 7e8) == 448  # exact despite float bandwidth
    assert transfer_cycles(64, 64, 1e12) == 1


def test_vector_cycles():
    assert vector_cycles(10, 4 * 0.25) == 10
    assert vector_cycles(np.array([0, 9, 16]), 8.0).tolist() == [0, 2, 2]


def test_row_stationary_pes_reproduce_eyeriss_active_pe_counts():
    """Chen et al., JSSC 2017, AlexNet table, active PEs of the 12×14 array: CONV1 154,
    CONV2 135, CONV3-5 156, from (filter rows, output rows) = (11, 55), (5, 27), (3, 13)."""
    from compiler.target.timing import row_stationary_pes

    assert [int(row_stationary_pes(r, e, 12, 14)) for r, e in [(11, 55), (5, 27), (3, 13)]] == [154, 135, 156]
    assert int(row_stationary_pes(1, 1, 12, 14)) == 168  # a 1x1 set replicated over every PE


def test_stretched_cycles_round_up_per_instruction():
    from compiler.target.timing import stretched

    assert stretched(20, 16, 12).tolist() == 27  # ceil(20 * 16 / 12)
    assert stretched([20, 20], 16, [0, 16]).tolist() == [20, 20]  # 0 or every PE: unchanged
