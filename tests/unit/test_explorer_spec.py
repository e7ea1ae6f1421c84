"""Sweep files: axis forms, units, ties, model variants, and every problem reported at once."""

from __future__ import annotations

from pathlib import Path

import pytest

from explorer.axes import log_range_values, range_values
from explorer.objectives import Constraint, Objective
from explorer.space import SCHEDULE_COLUMNS, DesignSpace, schedule_choices
from explorer.spec import StrategyKind
from explorer.spec_loader import load_sweep
from tessera.errors import InputError

TINY = Path(__file__).resolve().parents[2] / "examples" / "accelerators" / "tiny.yaml"


def write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "sweep.yaml"
    path.write_text(f"base: {TINY}\n" + body)
    return path


GOOD = """\
hardware:
  matrix.rows: [4, 8]
  matrix.cols: =matrix.rows
  buffers.inputs.capacity: {log_range: [1 KiB, 16 KiB], points: 3}
  clock: {range: [100 MHz, 300 MHz], step: 100 MHz}
  dram.type: [DDR4, LPDDR5]
models:
  - "gemm:m=64,k=64,n=64"
  - mobilenetv2:width: [0.5, 1.0]
    mobilenetv2:resolution: [96]
schedule: {precision: int8, batch: [1, 2]}
objectives: [latency, throughput_per_watt]
constraints: ["area_mm2 <= 50", "power_w < 5"]
strategy: random
budget: 1000
seed: 3
"""


def test_good_sweep_resolves_units_ties_ranges_and_models(tmp_path: Path) -> None:
    spec = load_sweep(write(tmp_path, GOOD))
    axes = {axis.path: axis for axis in spec.hardware}
    assert axes["buffers.inputs.capacity"].values == (1024, 4096, 16384)
    assert axes["clock"].values == pytest.approx((1e8, 2e8, 3e8))
    assert axes["matrix.cols"].tied_to == "matrix.rows" and axes["matrix.cols"].values == (4, 8)
    assert axes["dram.type"].values == ("DDR4", "LPDDR5")
    assert [m.spec for m in spec.models] == [
        "gemm:batch=1,k=64,m=64,n=64",
        "mobilenetv2:batch=1,classes=1000,resolution=96,width=0.5",
        "mobilenetv2:batch=1,classes=1000,resolution=96,width=1.0",
    ]
    assert spec.model_axes == ("mobilenetv2:width", "mobilenetv2:resolution")
    assert spec.precisions == ("int8",) and spec.batches == (1, 2)
    assert spec.objectives == (Objective.LATENCY, Objective.THROUGHPUT_PER_WATT)
    assert spec.constraints[1] == Constraint.parse("power_w < 5")
    assert spec.strategy is StrategyKind.RANDOM and spec.seed == 3
    size = 2 * 3 * 3 * 2 * 3 * 2  # rows, capacity, clock, dram, models, batch (cols tied)
    assert DesignSpace(spec).size == size and spec.budget == size  # budget capped by the space


def test_point_ids_are_deterministic_and_ties_follow(tmp_path: Path) -> None:
    spec = load_sweep(write(tmp_path, GOOD))
    space = DesignSpace(spec)
    a, b = space.point((1, 2, 0, 1, 2, 0, 0, 1, 0, 0, 0)), DesignSpace(load_sweep(write(tmp_path, GOOD))).point((1, 2, 0, 1, 2, 0, 0, 1, 0, 0, 0))
    assert a.point_id == b.point_id and len(a.point_id) == 16
    params = dict(a.params)
    assert params["matrix.rows"] == params["matrix.cols"] == 8
    assert params["mobilenetv2:width"] == 1.0 and params["batch"] == 2
    assert (params["timing"], params["weights"], params["objective"]) == ("tessera", "streamed", "latency")
    assert tuple(schedule_choices(spec)) == SCHEDULE_COLUMNS == tuple(axis.name for axis in space.axes[-6:])
    assert dict(a.overrides)["clock"] == "100000000.0 Hz"  # SI value with its unit, as with_overrides reads it
    assert a.point_id != space.point((0, 2, 0, 1, 2, 0, 0, 1, 0, 0, 0)).point_id


def test_unswept_schedule_options_are_the_compilers_defaults() -> None:
    """A sweep without timing, weights or objective axes compiles as `tessera simulate` does."""
    from compiler.pipeline import CompileOptions
    from explorer.spec import SweepSpec

    options = CompileOptions()
    defaults = {name: SweepSpec.model_fields[name].default for name in ("timings", "weight_modes", "schedule_objectives")}
    assert defaults == {"timings": (options.timing.value,), "weight_modes": (options.weights.value,),
                        "schedule_objectives": (options.objective.value,)}


def test_content_hash_ignores_location_but_not_content(tmp_path: Path) -> None:
    first = load_sweep(write(tmp_path, GOOD))
    other = tmp_path / "elsewhere"
    other.mkdir()
    moved = load_sweep(write(other, GOOD))
    changed = load_sweep(write(tmp_path, GOOD.replace("seed: 3", "seed: 4")))
    assert first.content_hash() == moved.content_hash() != changed.content_hash()


BAD = """\
hardware:
  matrix.rowz: [4, 8]
  matrix.cols: []
  buffers.inputs.capacity: [1 GHz]
  matrix: [1]
models:
  - nosuchnet
  - mobilenetv2:widthx: [0.5]
schedule: {scheduler: magic}
objectives: [latency, speed]
constraints: ["area_mm2 <= 5 0"]
strategy: annealing
budget: 0
"""


def test_every_problem_is_reported_with_its_path_and_line(tmp_path: Path) -> None:
    with pytest.raises(InputError) as caught:
        load_sweep(write(tmp_path, BAD))
    found = {(p.location, p.line): p.message for p in caught.value.problems}
    expected = {
        ("hardware.matrix.rowz", 3): "unknown key 'rowz' under matrix",
        ("hardware.matrix.cols", 4): "empty axis",
        ("hardware.buffers.inputs.capacity[0]", 5): "is a frequency, but a size in bytes is expected",
        ("hardware.matrix", 6): "is a section",
        ("models[0]", 8): "unknown model 'nosuchnet'",
        ("models[1]", 9): "unknown parameter",
        ("schedule.scheduler", 10): "unknown scheduler 'magic'",
        ("objectives[1]", 11): "'latency'",
        ("constraints[0]", 12): "expected `metric <= number`",
        ("strategy", 13): "'nsga2'",
        ("budget", 14): "greater than or equal to 1",
    }
    for where, fragment in expected.items():
        assert where in found, f"{where} not reported; got {sorted(found)}"
        assert fragment in found[where]
    assert len(found) == len(expected)


def test_whole_chip_check_of_the_first_point(tmp_path: Path) -> None:
    # a 64x64 array cannot keep one int32 tile in tiny's 256 B accumulator buffer
    body = 'hardware:\n  matrix.rows: [64]\nmodels: ["gemm:m=8,k=8,n=8"]\nobjectives: [latency]\n'
    with pytest.raises(InputError) as caught:
        load_sweep(write(tmp_path, body))
    assert "first point's chip is invalid" in caught.value.render()
    assert "buffers.accumulators.capacity" in caught.value.render()


def test_non_grid_strategies_need_a_budget(tmp_path: Path) -> None:
    body = 'models: ["gemm:m=8,k=8,n=8"]\nobjectives: [area]\nstrategy: lhs\n'
    with pytest.raises(InputError, match="budget.*required for strategy lhs"):
        load_sweep(write(tmp_path, body))


def test_range_and_log_range_values() -> None:
    assert range_values(16, 64, 16, integer=True) == (16, 32, 48, 64)
    assert range_values(0.1, 0.3, 0.1, integer=False) == pytest.approx((0.1, 0.2, 0.3))
    assert log_range_values(16, 256, 5, integer=True) == (16, 32, 64, 128, 256)
    assert log_range_values(1.0, 100.0, 3, integer=False) == pytest.approx((1.0, 10.0, 100.0))
    with pytest.raises(ValueError, match="more than"):
        range_values(1, 10**6, 1, integer=True)


def test_constraint_parsing_and_violation() -> None:
    constraint = Constraint.parse("area_mm2 <= 50")
    assert constraint.satisfied({"area_mm2": 50.0}) and not constraint.satisfied({"area_mm2": 50.5})
    assert constraint.violation({"area_mm2": 52.0}) == pytest.approx(2.0)
    assert constraint.violation({"area_mm2": 40.0}) == pytest.approx(-10.0)
    assert Constraint.parse("latency_s < 0.01").violation({"latency_s": 0.01}) > 0  # strict bound met exactly
    with pytest.raises(ValueError, match="unknown metric"):
        Constraint.parse("speed <= 3")


def test_precision_axis_values_are_stored_as_their_labels(tmp_path: Path) -> None:
    """A uniform format keeps its name (so its points keep their ids); a per-operand one is
    stored as its label; a bad one names the key, the value and the allowed forms."""
    head = 'models: ["gemm:m=8,k=8,n=8"]\nobjectives: [latency]\nschedule: {precision: '
    spec = load_sweep(write(tmp_path, head + "[INT8, W4A16, wint4abf16kvfp8]}\n"))
    assert spec.precisions == ("int8", "w4a16kv16", "w4a16kvfp8")
    with pytest.raises(InputError) as caught:
        load_sweep(write(tmp_path, head + "[int8, w4a]}\n"))
    assert "schedule.precision" in str(caught.value) and "w<W>a<A>[kv<KV>]" in str(caught.value)
    with pytest.raises(InputError, match="'int8' is listed twice"):
        load_sweep(write(tmp_path, head + "[int8, w8a8kv8]}\n"))
