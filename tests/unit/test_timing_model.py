"""The closed-form timing and SRAM-traffic formulas, checked against hand computations."""

from __future__ import annotations

import numpy as np
import pytest

from accel_spec.types import Dataflow
from compiler.target.timing import (
    burst_bytes,
    ceil_cycles,
    gemm_cycles,
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
