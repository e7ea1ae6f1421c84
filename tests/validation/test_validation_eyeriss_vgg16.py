"""eyeriss.yaml against Eyeriss silicon on VGG-16 CONV1-1 to CONV5-3 (validation/eyeriss_vgg16.json):
the AlexNet-built chip file out of sample."""

from __future__ import annotations

import pytest

from interop.validation import Suite, load_reference, run_validation

pytestmark = pytest.mark.validation


@pytest.fixture(scope="module")
def comparisons():
    return run_validation([Suite.EYERISS_VGG16])


def _figures(comparisons, quantity):
    return [c for c in comparisons if c.quantity == quantity]


def test_every_figure_within_its_stated_tolerance(comparisons):
    failures = [c for c in comparisons if not c.ok]
    assert not failures, failures


def test_macs_equal_the_papers_figures_and_total(comparisons):
    macs = _figures(comparisons, "MACs (millions)")
    assert len(macs) == 13 and all(abs(c.error) < 0.005 for c in macs)
    assert sum(c.tessera for c in macs) == pytest.approx(46_040, rel=5e-4)  # the table's 46.04 G


def test_latency_is_one_sided_and_sums_to_the_papers_total(comparisons):
    latency = _figures(comparisons, "processing latency ms")
    assert all(c.at_most and c.tolerance == 0 for c in latency)
    assert sum(c.reference for c in latency) == pytest.approx(3755.2)  # the column's printed total
    assert sum(c.tessera for c in latency) < sum(c.reference for c in latency)


def test_the_buffer_bound_the_notes_describe_is_in_the_reference_data():
    """The latency notes say the chip moves about 15 bytes a cycle through its global buffer on
    CONV1-1 to CONV4-3 (200 MHz): the table's own columns, not Tessera's."""
    layers = load_reference(Suite.EYERISS_VGG16)["layers"]
    rates = []
    for layer in layers:
        latency = next(f["reference"] for f in layer["figures"] if f["quantity"] == "processing latency ms")
        rates.append(layer["measured"]["global_buffer_mb"] * 1e6 / (latency * 1e-3 * 200e6))
    assert all(14.5 < rate < 15.5 for rate in rates[:10])
    assert all(rate < 10 for rate in rates[10:])


def test_power_and_buffer_traffic_are_information_only(comparisons):
    for quantity in ("chip power mW", "global_buffer traffic MB"):
        figures = _figures(comparisons, quantity)
        assert len(figures) == 13 and all(c.tolerance is None and c.note for c in figures)


def test_reference_file_states_its_source_and_corrections():
    provenance = load_reference(Suite.EYERISS_VGG16)["provenance"]
    assert "JSSC" in provenance["source"] and "810.7" in provenance["corrections"]
