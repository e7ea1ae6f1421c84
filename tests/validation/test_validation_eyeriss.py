"""Tessera's eyeriss.yaml against Eyeriss silicon on AlexNet CONV1-5 (validation/eyeriss_alexnet.json)."""

from __future__ import annotations

import pytest

from interop.validation import Suite, load_reference, run_validation

pytestmark = pytest.mark.validation


@pytest.fixture(scope="module")
def comparisons():
    return run_validation([Suite.EYERISS])


def test_every_figure_within_its_stated_tolerance(comparisons):
    failures = [c for c in comparisons if not c.ok]
    assert not failures, failures


def test_every_difference_over_ten_percent_has_a_note(comparisons):
    assert all(c.note for c in comparisons if abs(c.error) > 0.10)


def test_macs_equal_the_papers_figures(comparisons):
    macs = [c for c in comparisons if c.quantity == "MACs (millions)"]
    assert len(macs) == 5 and all(abs(c.error) < 0.005 for c in macs)


def test_total_processing_latency_within_ten_percent(comparisons):
    latency = [c for c in comparisons if c.quantity == "processing latency ms"]
    reference = sum(c.reference for c in latency)
    assert reference == pytest.approx(103.5)  # the paper's total processing latency
    assert abs(sum(c.tessera for c in latency) / reference - 1) < 0.10


def test_reference_file_states_its_source():
    assert "JSSC" in load_reference(Suite.EYERISS)["provenance"]["source"]


def test_each_layers_zero_inputs_are_gated_and_only_an_excess_is_one_sided(comparisons):
    """The paper's per-layer zero fractions reach the gating chip; an energy figure is checked
    one-sided only while the model stays more than its tolerance above the measurement."""
    layers = load_reference(Suite.EYERISS)["layers"]
    assert [layer["activation_zeros"] for layer in layers] == [0.0001, 0.387, 0.725, 0.793, 0.776]
    energy = [c for c in comparisons if c.quantity == "chip energy mJ"]
    assert [c.case for c in energy if not c.at_least] == ["CONV1", "CONV2", "CONV3"]
    assert all(c.error > c.tolerance for c in energy if c.at_least)
