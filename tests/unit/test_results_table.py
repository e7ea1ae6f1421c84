"""The results table as a reader sees it: every column's unit in the Parquet schema and the
manifest, the model label is the exact spec that ran, and the console front table is whole."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from rich.console import Console
from rich.text import Text

from explorer import execute_sweep
from explorer.fake_evaluator import FakeEvaluator
from explorer.summary import front_table
from explorer.table import UNITS_KEY

TINY = Path(__file__).resolve().parents[2] / "examples" / "accelerators" / "tiny.yaml"
SWEEP = f"""\
base: {TINY}
hardware:
  matrix.rows: [2, 4]
  buffers.inputs.capacity: [1 KiB, 4 KiB]
  dram.bandwidth: [1 GB/s, 2 GB/s]
  technology: [45 nm, 28 nm]
  matrix.dataflows: [[ws], [os]]
models:
  - mobilenetv2:width: [0.5, 1.0]
    mobilenetv2:resolution: 96
  - gemm:m=8,k=8,n=8
objectives: [latency, energy, area]
"""


@pytest.fixture(scope="module")
def swept(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, object]:
    folder = tmp_path_factory.mktemp("units")
    (folder / "sweep.yaml").write_text(SWEEP + "schedule: {batch: [1, 4]}\n")
    result = execute_sweep(folder / "sweep.yaml", folder / "out", executor="serial", evaluator=FakeEvaluator())
    return folder / "out", result


def _schema(out: Path):
    return pq.read_schema(sorted((out / "results.parquet").glob("*.parquet"))[0])


def test_every_column_has_its_unit_in_the_schema_and_the_manifest(swept) -> None:
    out, result = swept
    schema = _schema(out)
    units = json.loads(schema.metadata[UNITS_KEY])
    assert list(units) == schema.names
    assert {name: schema.field(name).metadata[b"unit"].decode() for name in schema.names} == units
    assert json.loads((out / "manifest.json").read_text())["units"] == units
    assert {k: units[k] for k in ("matrix.rows", "buffers.inputs.capacity", "dram.bandwidth", "technology")} == {
        "matrix.rows": "count", "buffers.inputs.capacity": "B", "dram.bandwidth": "B/s", "technology": "m"}
    assert {k: units[k] for k in ("latency_s", "energy_j", "area_mm2", "edp_js", "accuracy_top1", "batch")} == {
        "latency_s": "s", "energy_j": "J", "area_mm2": "mm²", "edp_js": "J·s", "accuracy_top1": "%", "batch": "count"}
    assert units["matrix.dataflows"] == units["model"] == units["status"] == ""
    # The values stay SI numbers: 28 nm is 2.8e-08 m.
    assert sorted(result.table["technology"].unique()) == pytest.approx([2.8e-8, 4.5e-8])


def test_the_accuracy_column_says_it_is_the_published_fp32_figure(swept) -> None:
    out, _ = swept
    description = _schema(out).field("accuracy_top1").metadata[b"description"].decode()
    assert "FP32" in description and "not re-measured" in description


def test_the_model_column_is_the_exact_spec_that_ran(swept) -> None:
    _, result = swept
    table = result.table
    assert sorted(table["batch"].unique()) == [1, 4]
    for batch, model in zip(table["batch"], table["model"]):
        assert f"batch={batch}," in model


def test_without_a_batch_axis_the_batch_column_is_the_models_own(tmp_path: Path) -> None:
    (tmp_path / "sweep.yaml").write_text(SWEEP)
    table = execute_sweep(tmp_path / "sweep.yaml", None, executor="serial", evaluator=FakeEvaluator()).table
    assert (table["batch"] == 1).all() and table["model"].str.contains("batch=1,").all()


def test_the_console_front_table_cuts_no_cell_and_carries_units(swept) -> None:
    _, result = swept
    table = front_table(result)
    console = Console(width=160, record=True)
    console.print(table)
    assert "…" not in console.export_text()
    headers = [Text.from_markup(str(column.header)).plain for column in table.columns]
    assert [h for h in headers if h.startswith(("latency", "energy", "area"))] == [
        "latency [ms]", "energy [mJ]", "area [mm²]"]
    shown = [Text.from_markup(cell).plain for cell in table.columns[headers.index("model")].cells]
    legend = dict(line.split(" = ") for line in Text.from_markup(str(table.caption)).plain.splitlines())
    assert [legend.get(label, label) for label in shown] == list(result.front.table["model"].head(len(shown)))
