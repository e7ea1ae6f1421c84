"""Figures of one simulation (roofline, per-layer breakdown, energy/area, timeline) and its report."""

from __future__ import annotations

import io
from pathlib import Path

import matplotlib.image as mpimg
import numpy as np
import pytest

from compiler.target.isa import Engine
from reports.energy_area import energy_area_figure
from reports.layer_breakdown import LOWER_BOUND, SEGMENTS, SIMULATED, layer_breakdown, layer_breakdown_figure
from reports.roofline import MATRIX_LAYERS, VECTOR_LAYERS, roofline_figure, roofline_points, roofs_of
from reports.simulation_report import simulation_report
from reports.style import Format, render
from reports.timeline import LAYERS_ROW, _merge, engine_bars, layer_spans, timeline_figure
from simulator.result import StallCause
from tessera.api import simulate

EDGE = Path(__file__).resolve().parents[2] / "examples" / "accelerators" / "edge.yaml"
MODEL = "mobilenetv2:width=0.5,resolution=96"


@pytest.fixture(scope="module")
def simulation():
    return simulate(EDGE, MODEL, trace=True)


def test_roofline_points_are_ops_per_byte_and_ops_per_second(simulation) -> None:
    points = roofline_points(simulation)
    layers = {layer.name: layer for layer in simulation.result.layers}
    assert len(points.names) + points.skipped == len(layers)
    for name, intensity, performance, matrix in zip(points.names, points.intensity, points.performance, points.matrix):
        layer = layers[name]
        ops = 2 * layer.macs if matrix else sum(layer.vector_ops)
        assert intensity == pytest.approx(ops / (layer.dram_read_bytes + layer.dram_write_bytes))
        assert performance == pytest.approx(ops / (layer.cycles / simulation.result.clock))


def test_roofline_figure_marks_the_ridge_and_draws_every_layer(simulation) -> None:
    accel = simulation.accel
    roofs = roofs_of(accel)
    assert roofs.ridge == pytest.approx(2 * accel.matrix.rows * accel.matrix.cols * accel.clock / accel.dram.bandwidth)
    figure = roofline_figure(simulation)
    ax = figure.axes[0]
    ridge = [line for line in ax.lines if len(set(line.get_xdata())) == 1]
    assert [line.get_xdata()[0] for line in ridge] == [pytest.approx(roofs.ridge)]
    drawn = sum(len(c.get_offsets()) for c in ax.collections if c.get_label() in (MATRIX_LAYERS, VECTOR_LAYERS))
    assert drawn == len(roofline_points(simulation).names)
    assert "[ops/byte" in ax.get_xlabel() and ax.get_ylabel().endswith("ops/s]")
    assert 0 < sum(1 for t in ax.texts if t.get_text() in roofline_points(simulation).names) <= 12


def test_breakdown_segments_are_the_engines_busy_and_stall_cycles(simulation) -> None:
    breakdown = layer_breakdown(simulation)
    for index, layer in enumerate(simulation.result.layers):
        stall = layer.stall[layer.compute_engine]
        expected = (layer.busy[Engine.MATRIX], layer.busy[Engine.VECTOR], stall[StallCause.DRAM],
                    stall[StallCause.DEPENDENCY] + stall[StallCause.BUFFER])
        assert tuple(breakdown.segments[:, index]) == expected
    assert tuple(breakdown.lower_bound) == simulation.lower_bounds


def test_breakdown_figure_stacks_bars_and_marks_cycles_and_lower_bounds(simulation) -> None:
    figure = layer_breakdown_figure(simulation)
    ax = figure.axes[0]
    layers = simulation.result.layers
    assert len(ax.patches) == len(SEGMENTS) * len(layers)
    heights = np.array([p.get_height() for p in ax.patches]).reshape(len(SEGMENTS), len(layers))
    breakdown = layer_breakdown(simulation)
    factor = heights.sum() / breakdown.segments.sum()
    np.testing.assert_allclose(heights, breakdown.segments * factor)
    markers = {c.get_label(): np.asarray(c.get_offsets())[:, 1] / factor for c in ax.collections}
    np.testing.assert_allclose(markers[SIMULATED], [layer.cycles for layer in layers])
    np.testing.assert_allclose(markers[LOWER_BOUND], simulation.lower_bounds)
    assert "cycles]" in ax.get_ylabel() and "[" in ax.get_xlabel()


def test_energy_and_area_bars_add_up_to_the_totals(simulation) -> None:
    figure = energy_area_figure(simulation)
    energy_ax, area_ax = figure.axes
    result = simulation.result
    energy = [p.get_width() for p in energy_ax.patches]
    area = [p.get_width() for p in area_ax.patches]
    assert len(energy) == len(result.energy_breakdown) and len(area) == len(result.area_breakdown_mm2)
    assert "SRAM weights" in [t.get_text() for t in energy_ax.get_yticklabels()]
    assert sum(area) == pytest.approx(result.area_mm2)
    unit = energy_ax.get_xlabel().split("[")[1].rstrip("]")
    factor = {"J": 1.0, "mJ": 1e3, "µJ": 1e6, "nJ": 1e9}[unit]
    assert sum(energy) == pytest.approx(result.energy_j * factor)
    assert area_ax.get_xlabel() == "area [mm²]"


def test_merge_joins_close_instructions_of_one_layer_only() -> None:
    bars = _merge(Engine.LOAD, np.array([0, 5, 20, 30, 36]), np.array([5, 10, 25, 35, 40]), np.array([0, 0, 0, 1, 1]), 2.0)
    assert bars.start.tolist() == [0, 20, 30] and bars.end.tolist() == [10, 25, 40] and bars.layer.tolist() == [0, 0, 1]


def test_timeline_bars_cover_every_busy_cycle_within_the_run(simulation) -> None:
    bars = engine_bars(simulation)
    total = simulation.result.total_cycles
    for engine_bars_ in bars:
        busy = simulation.result.total.busy[engine_bars_.engine]
        covered = int((engine_bars_.end - engine_bars_.start).sum())
        assert busy <= covered <= total
        assert np.all(engine_bars_.end <= total)
    first, last = layer_spans(simulation)
    assert first[0] == 0 and last[-1] == total and np.all(first[1:] == last[:-1])
    figure = timeline_figure(simulation)
    ax = figure.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == [LAYERS_ROW, "load", "matrix", "vector", "store"]
    assert "[" in ax.get_xlabel() and "s]" in ax.get_xlabel()
    pixels = mpimg.imread(io.BytesIO(render(figure, Format.PNG)))
    assert pixels.std() > 0.05


def test_simulation_report_lists_every_figure(simulation, tmp_path: Path) -> None:
    report = simulation_report(simulation, tmp_path / "sim", (Format.PDF,))
    assert report.figures == ("roofline", "layer_breakdown", "energy_area", "timeline")
    assert sorted(p.name for p in report.files) == sorted(f"{s}.pdf" for s in report.figures)
    page = report.html.read_text()
    assert "http://" not in page and "https://" not in page
    for stem in report.figures:
        assert f'id="{stem}"' in page
    for layer in simulation.result.layers:
        assert layer.name in page


def test_untraced_simulation_report_has_no_timeline(tmp_path: Path) -> None:
    report = simulation_report(simulate(EDGE, MODEL), tmp_path / "sim", (Format.PNG,))
    assert "timeline" not in report.figures and len(report.figures) == 3
