"""Every committed real-network export compiles and simulates, with MACs conserved end to end.

The reference MACs are torch's FlopCounterMode / 2 (plus hand-added fused attention, see the
manifest notes): lowering must reproduce them exactly, and the simulated program must execute
every one of them.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from accel_spec import load_accelerator
from compiler.frontend import load_onnx
from compiler.lowering import lower
from compiler.scheduling import InfeasibleSchedule
from tessera.api import simulate

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "tests" / "data" / "onnx"
ENTRIES = [e for e in json.loads((DATA / "manifest.json").read_text()) if "file" in e]
# Example chips with room for real networks (the 4x4 test chip takes millions of instructions).
# Eyeriss slices the position-embedding constant of batched BERT per chunk: it does not fit
# its weight buffer whole (see `scheduling.footprint`).
CHIPS = ("edge", "gemmini", "tpu_v1", "datacenter_bf16", "eyeriss")


def _batch(entry: dict) -> int | None:
    return entry["export_batch"] if entry["dynamic_batch"] else None


@pytest.mark.parametrize("entry", ENTRIES, ids=[e["file"] for e in ENTRIES])
def test_lowered_macs_equal_torch_reference(entry: dict) -> None:
    workloads = lower(load_onnx(DATA / entry["file"], batch=_batch(entry)))
    assert sum(w.macs for w in workloads) == entry["reference_macs"]


@pytest.mark.parametrize("chip", CHIPS)
@pytest.mark.parametrize("entry", ENTRIES, ids=[e["file"] for e in ENTRIES])
def test_simulates_with_verified_program_and_physical_bounds(entry: dict, chip: str) -> None:
    accel = load_accelerator(REPO / "examples" / "accelerators" / f"{chip}.yaml")
    try:
        run = simulate(accel, str(DATA / entry["file"]), batch=_batch(entry), verify=True)
    except InfeasibleSchedule as infeasible:
        pytest.fail(f"{entry['file']} does not fit {chip}: {infeasible}")
    assert run.result.macs == entry["reference_macs"]
    for layer, bound in zip(run.result.layers, run.lower_bounds, strict=True):
        assert layer.cycles >= bound, layer.name
