"""Tessera against the committed SCALE-Sim 3.0.0 runs (validation/scalesim_*.json); no peer needed."""

from __future__ import annotations

import pytest

from accel_spec.types import Dataflow
from compiler.target import TimingMode
from interop.scalesim import SCALESIM_CYCLE_OFFSET, case_from_json, fold_cycles, simulate_case
from interop.validation import Suite, load_reference, run_validation

pytestmark = pytest.mark.validation


def _cases(suite: Suite):
    return [case_from_json(data, suite.file) for data in load_reference(suite)["cases"]]


def test_reference_covers_arrays_dataflows_and_partial_folds():
    cases = _cases(Suite.SCALESIM_COMPUTE)
    assert len(cases) >= 30
    assert {(c.config.rows, c.config.cols) for c in cases} == {(8, 8), (32, 32), (128, 128)}
    assert {c.config.dataflow for c in cases} == set(Dataflow)
    m_k_n = [(c.layer.gemm_mkn, c.config.rows) for c in cases]
    assert any(m > 2 * rows and m % rows for (m, _, _), rows in m_k_n)  # several folds, the last partial
    assert any(n < rows for (_, _, n), rows in m_k_n)  # a single partial fold


def test_closed_form_fold_cycles_equal_scalesim_plus_one():
    for case in _cases(Suite.SCALESIM_COMPUTE):
        config = case.config
        expected = case.report.compute_cycles + SCALESIM_CYCLE_OFFSET
        assert fold_cycles(case.layer, config.dataflow, config.rows, config.cols) == expected, case.id
        assert case.report.stall_cycles == 0


@pytest.mark.parametrize("suite", [Suite.SCALESIM_COMPUTE, Suite.SCALESIM_STALLS], ids=lambda s: s.value)
def test_every_comparison_is_within_tolerance(suite):
    failures = [c for c in run_validation([suite]) if not c.ok]
    assert not failures, failures


def test_compute_suite_is_exact_on_cycles_and_sram_counts():
    comparisons = run_validation([Suite.SCALESIM_COMPUTE])
    assert {c.quantity for c in comparisons} == {
        "compute cycles (formula)", "compute cycles (pipeline)", "ifmap SRAM reads", "filter SRAM reads", "ofmap SRAM writes",
    }  # fmt: skip
    assert all(c.tolerance == 0 and c.tessera == c.reference for c in comparisons)


def test_scalesim_timing_reproduces_compute_cycles_with_the_real_srams():
    """Small SRAMs force tiles; SCALE-Sim's timing streams each fold whole across them."""
    for case in _cases(Suite.SCALESIM_STALLS):
        stalled = simulate_case(case, no_stall=False)
        assert stalled.compute_cycles == case.report.compute_cycles + SCALESIM_CYCLE_OFFSET, case.id
        assert stalled.cycles > stalled.compute_cycles, case.id
        assert case.report.stall_cycles > 0, case.id


def test_tessera_timing_tiles_to_read_less_than_scalesim_refetches():
    for case in _cases(Suite.SCALESIM_STALLS):
        own = simulate_case(case, no_stall=False, timing=TimingMode.TESSERA)
        assert case.report.ifmap_dram_reads + case.report.filter_dram_reads > own.dram_read_bytes, case.id
