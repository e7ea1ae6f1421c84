"""Validation is the one gate: a chip at the edge of every accepted range simulates to finite JSON.

The ranges of `accel_spec.loader` (clock ≥ 1 Hz, energies per event up to 1 J, areas up to
1 m², leakage up to 1000 W/mm²) are wide enough for any chip and narrow enough that every
figure of a run stays finite; just past each edge, check-spec refuses the chip naming the field.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from cli_runner import EXAMPLES, assert_bad_input, tessera

EDGES = {
    "clock": "1 Hz",
    "overrides.mac_energy": "1 J",
    "overrides.sram_energy_per_byte": "1 J",
    "overrides.dram_energy_per_bit": "1 J",
    "overrides.vector_op_energy": "1 J",
    "overrides.leakage_power_per_mm2": "1000 W",
    "overrides.mac_area": "1 m2",
    "overrides.sram_area_per_kib": "1 m2",
    "overrides.vector_lane_area": "1 m2",
}
PAST = {
    "clock": "0.999 Hz",
    "overrides.mac_energy": "1.001 J",
    "overrides.leakage_power_per_mm2": "1001 W",
    "overrides.mac_area": "1e-25 m2",
}


def _chip(tmp_path: Path, values: dict[str, str]) -> Path:
    text = (EXAMPLES / "tiny.yaml").read_text().replace("clock: 100 MHz", f"clock: {values.get('clock', '100 MHz')}")
    overrides = [f"  {path.split('.', 1)[1]}: {value}" for path, value in values.items() if path.startswith("overrides.")]
    path = tmp_path / "edge.yaml"
    path.write_text(text + ("overrides:\n" + "\n".join(overrides) + "\n" if overrides else ""))
    return path


def _finite(value: object) -> bool:
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, dict):
        return all(_finite(v) for v in value.values())
    if isinstance(value, list):
        return all(_finite(v) for v in value)
    return True


def test_a_chip_at_every_edge_simulates_to_finite_numbers(tmp_path: Path) -> None:
    chip = _chip(tmp_path, EDGES)
    result = tessera("simulate", "--accel", str(chip), "--model", "gemm:m=64,k=64,n=64", "--json", str(tmp_path / "r.json"))
    assert result.returncode == 0, result.stderr
    document = json.loads((tmp_path / "r.json").read_text())
    assert _finite(document) and document["energy_j"] > 0 and document["latency_s"] > 0


@pytest.mark.parametrize("field", sorted(PAST))
def test_just_past_an_edge_check_spec_refuses_naming_the_field(tmp_path: Path, field: str) -> None:
    chip = _chip(tmp_path, {field: PAST[field]})
    assert_bad_input(tessera("check-spec", str(chip)), str(chip), field)
