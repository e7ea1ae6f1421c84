"""Every example of docs/sweep-files.md is a sweep file that loads, and means what the text says."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from explorer.space import DesignSpace
from explorer.spec import StrategyKind
from explorer.spec_loader import load_sweep

REPO = Path(__file__).resolve().parents[2]
DOC = REPO / "docs" / "sweep-files.md"
EXAMPLE = re.compile(r"<!-- example: ([\w-]+) -->\n```yaml\n(.*?)```", re.DOTALL)
EXAMPLES = dict(EXAMPLE.findall(DOC.read_text(encoding="utf-8")))


@pytest.fixture(scope="module")
def sweeps(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder laid out like examples/: sweeps/ beside accelerators/, an ONNX file in sweeps/nets/."""
    root = tmp_path_factory.mktemp("docs")
    shutil.copytree(REPO / "examples" / "accelerators", root / "accelerators")
    (root / "sweeps" / "nets").mkdir(parents=True)
    shutil.copy(REPO / "tests" / "data" / "onnx" / "resnet18.ts17.onnx", root / "sweeps" / "nets" / "resnet18.onnx")
    return root / "sweeps"


def load(sweeps: Path, name: str):
    path = sweeps / f"{name}.yaml"
    path.write_text(EXAMPLES[name], encoding="utf-8")
    return load_sweep(path)


def test_the_document_has_an_example_of_every_construct() -> None:
    assert set(EXAMPLES) == {
        "axis-list", "axis-range", "axis-log-range", "axis-tie", "chip-paths", "models", "schedule", "objectives",
        "constraints", "strategy-random", "strategy-nsga2", "strategy-surrogate", "reference", "serving",
    }


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_every_example_loads(sweeps: Path, name: str) -> None:
    assert load(sweeps, name).budget >= 1


def test_the_examples_mean_what_the_text_says(sweeps: Path) -> None:
    axes = {axis.path: axis for axis in load(sweeps, "axis-list").hardware}
    assert axes["buffers.activations.capacity"].values == (512 * 1024, 1024**2, 4 * 1024**2)
    assert axes["vector.lanes"].values == (32,)
    ranged = {axis.path: axis.values for axis in load(sweeps, "axis-range").hardware}
    assert ranged["buffers.weights.capacity"] == (256 * 1024, 512 * 1024, 768 * 1024, 1024 * 1024)
    assert ranged["clock"] == pytest.approx((4e8, 6e8, 8e8, 1e9))
    logged = {axis.path: axis.values for axis in load(sweeps, "axis-log-range").hardware}
    assert len(logged["buffers.activations.capacity"]) == 8 and logged["dram.bandwidth"][-1] == 64e9
    assert DesignSpace(load(sweeps, "axis-tie")).size == 3
    paths = {axis.path: axis.values for axis in load(sweeps, "chip-paths").hardware}
    assert paths["matrix.dataflows"] == (["weight-stationary"], ["output-stationary"],
                                         ["weight-stationary", "output-stationary"])
    models = load(sweeps, "models")
    assert len(models.models) == 1 + 1 + 6 + 4  # resnet18, the ONNX file, 3 x 2 MobileNetV2, seq 64..256
    assert all("layers=2" in v.spec for v in models.models if v.spec.startswith("bert:"))
    schedule = load(sweeps, "schedule")
    assert (schedule.schedulers, schedule.precisions, schedule.batches) == (
        ("heuristic", "exhaustive"), ("int8", "fp16"), (1, 4, 16))
    assert [str(c) for c in load(sweeps, "constraints").constraints] == ["area_mm2 <= 6", "power_w < 2.5",
                                                                        "utilization >= 0.1"]
    assert load(sweeps, "strategy-nsga2").population == 12
    assert load(sweeps, "strategy-surrogate").strategy is StrategyKind.SURROGATE
    assert load(sweeps, "reference").reference == (0.05, 0.02, 20)
    serving = load(sweeps, "serving").serving
    assert serving is not None and serving.slo().ttft_s == 0.1 and serving.max_batched_tokens == 2048
