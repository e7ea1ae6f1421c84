"""The same sweep with the same seed writes byte-identical results, whatever the run or executor.

What is compared: the bytes of the compacted Parquet table (`results.parquet/part-00000.parquet`,
rows sorted by trial) and of `pareto.csv`. Rows carry no timestamps, and the Parquet file
embeds nothing run-specific (its metadata holds the Arrow schema and the `created_by`
string of the pyarrow version), so the bytes match exactly. Only `manifest.json` records
the run: `started`, `resumed`, `finished`, `host`, `python` and `command` (which names the
executor and the output folder) differ; every other manifest field must match.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from explorer.table import UNITS_KEY

ROOT = Path(__file__).resolve().parents[2]
TINY = ROOT / "examples" / "accelerators" / "tiny.yaml"
FAKE = f"""\
base: {TINY}
hardware:
  matrix.rows: [2, 4, 8]
  buffers.inputs.capacity: {{log_range: [1 KiB, 16 KiB], points: 5}}
  buffers.weights.capacity: [1 KiB, 2 KiB, 4 KiB, 8 KiB]
models: ["gemm:m=16,k=16,n=16", "gemm:m=32,k=16,n=8"]
objectives: [latency, area]
strategy: nsga2
population: 8
budget: 48
seed: 11
"""
REAL = f"""\
base: {TINY}
hardware:
  matrix.rows: [2, 4]
  buffers.inputs.capacity: [1 KiB, 4 KiB]
models: ["gemm:m=32,k=24,n=16", "conv2d:h=8,w=8,c=4,k=8,r=3,s=3,stride=1"]
objectives: [latency, energy, area]
seed: 3
"""
RUN_SPECIFIC = {"started", "resumed", "finished", "host", "python", "command"}


def run(sweep: Path, out: Path, executor: str, fake: bool) -> Path:
    env = {**os.environ, "TESSERA_TEST_EVALUATOR": "fake"} if fake else {k: v for k, v in os.environ.items() if k != "TESSERA_TEST_EVALUATOR"}
    done = subprocess.run(
        [sys.executable, "-m", "tessera", "sweep", str(sweep), "--out", str(out), "--quiet", "--executor", executor, "--workers", "2"],
        env=env, cwd=ROOT, capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stderr
    return out


def outputs(out: Path) -> tuple[bytes, bytes, dict]:
    parts = sorted((out / "results.parquet").iterdir())
    assert [p.name for p in parts] == ["part-00000.parquet"]
    manifest = json.loads((out / "manifest.json").read_text())
    return parts[0].read_bytes(), (out / "pareto.csv").read_bytes(), {k: v for k, v in manifest.items() if k not in RUN_SPECIFIC}


@pytest.mark.parametrize(
    ("body", "fake", "runs"),
    [
        (FAKE, True, ("serial", "serial", "local", "dask")),
        (REAL, False, ("serial", "local")),
    ],
    ids=["nsga2-fake-evaluator", "grid-simulator"],
)
def test_same_seed_gives_byte_identical_results_across_runs_and_executors(
    tmp_path: Path, body: str, fake: bool, runs: tuple[str, ...]
) -> None:
    sweep = tmp_path / "sweep.yaml"
    sweep.write_text(body)
    written = [outputs(run(sweep, tmp_path / f"run{i}-{executor}", executor, fake)) for i, executor in enumerate(runs)]
    first = written[0]
    metadata = pq.read_metadata(tmp_path / f"run0-{runs[0]}" / "results.parquet" / "part-00000.parquet")
    assert set(metadata.metadata) == {b"ARROW:schema", UNITS_KEY}  # nothing run-specific in the file metadata
    for executor, other in zip(runs[1:], written[1:]):
        assert other[0] == first[0], f"results.parquet differs ({executor})"
        assert other[1] == first[1], f"pareto.csv differs ({executor})"
        assert other[2] == first[2], f"manifest differs beyond run-specific fields ({executor})"
    assert first[2]["points"] == (48 if fake else 8)
