"""The never-seen-chips sweep of `benchmarks/sweep_throughput.py`: every point is a chip of its
own, and a row evaluated by two sweep workers is what that chip gives evaluated alone, exactly."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

from accel_spec import load_accelerator, with_overrides
from explorer import load_sweep, run_sweep
from explorer.space import DesignSpace, Point
from explorer.strategies import make_strategy
from tessera.api import simulate

ROOT = Path(__file__).resolve().parents[2]
MODEL = "mobilenetv2:width=0.5,resolution=96"
COMPARED = ("total_cycles", "latency_s", "energy_j", "dram_read_bytes", "dram_write_bytes")


@pytest.fixture(scope="module")
def benchmark() -> ModuleType:
    found = importlib.util.spec_from_file_location("sweep_throughput", ROOT / "benchmarks" / "sweep_throughput.py")
    module = importlib.util.module_from_spec(found)
    found.loader.exec_module(module)
    return module


def _points(benchmark: ModuleType, tmp_path: Path, count: int) -> list[Point]:
    path = tmp_path / "never_seen.yaml"
    path.write_text(benchmark.never_seen_sweep_text(MODEL, count))
    space = DesignSpace(load_sweep(path))
    strategy = make_strategy(space.spec, space)
    points: list[Point] = []
    while batch := strategy.propose():
        points.extend(space.point(indices) for indices in batch)
    return points


def test_every_point_is_a_chip_of_its_own(benchmark: ModuleType, tmp_path: Path) -> None:
    """768 points (the benchmark's default): 768 chips, each varying rows, cols, the three
    buffers and the DRAM bandwidth, and no two with the same three buffer capacities, so no
    point can reuse another's schedule."""
    points = _points(benchmark, tmp_path, 768)
    chips = [dict(point.overrides) for point in points]
    assert len(chips) == 768
    assert all(set(chip) == {
        "matrix.rows", "matrix.cols", "buffers.activations.capacity", "buffers.weights.capacity",
        "buffers.accumulators.capacity", "dram.bandwidth",
    } for chip in chips)  # fmt: skip
    assert len({tuple(sorted(chip.items())) for chip in chips}) == 768
    buffers = {tuple(chip[f"buffers.{name}.capacity"] for name in ("activations", "weights", "accumulators")) for chip in chips}
    assert len(buffers) == 768


def test_rows_of_two_workers_equal_each_chip_alone(benchmark: ModuleType, tmp_path: Path) -> None:
    points = {point.point_id: point for point in _points(benchmark, tmp_path, 6)}
    table = run_sweep(tmp_path / "never_seen.yaml", workers=2, executor="local")
    assert len(table) == 6 and (table["status"] == "ok").all()
    assert set(table["point_id"]) == set(points)
    assert table["total_cycles"].nunique() > 1  # the chips differ where it shows, so the check can fail
    base = load_accelerator(ROOT / "examples" / "accelerators" / "edge.yaml")
    for row in table.itertuples(index=False):
        point = points[row.point_id]
        alone = simulate(with_overrides(base, dict(point.overrides)), point.model).summary()
        assert {column: getattr(row, column) for column in COMPARED} == {column: alone[column] for column in COMPARED}, point
