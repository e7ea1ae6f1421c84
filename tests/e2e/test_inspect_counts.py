"""`tessera inspect --json` keeps counts exact past 2^53 (where a float would round) and refuses 2^63.

A SCALE-Sim GEMM layer of M·N·K = 2^53 + 1 MACs (odd: no float64 holds it) must come back from
the JSON file as exactly that integer, with its operand sizes; one of 2^63 MACs is exit 2
naming the layer and the limit. Once these printed negative bytes.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cli_runner import assert_bad_input, tessera

# (M, N, K) with M·N·K at the extremes; every operand stays below 2^60 elements.
EXACT = [(2**10 + 1, 2**11, 2**10), (3, 3002399751580331, 1), (2**21, 2**21, 2**11 + 1), (2**20, 2**21, 2**21)]


def _topology(tmp_path: Path, m: int, n: int, k: int) -> Path:
    path = tmp_path / "layer.csv"
    path.write_text(f"Layer Name, M, N, K,\nbig, {m}, {n}, {k},\n")
    return path


@pytest.mark.parametrize(("m", "n", "k"), EXACT, ids=["2^31+", "2^53+1", "2^53+", "2^62"])
def test_counts_come_back_exact(tmp_path: Path, m: int, n: int, k: int) -> None:
    out = tmp_path / "inspect.json"
    result = tessera("inspect", "--model", str(_topology(tmp_path, m, n, k)), "--json", str(out))
    assert result.returncode == 0, result.stderr
    document = json.loads(out.read_text())
    (layer,) = document["layers"]
    assert document["macs"] == layer["macs"] == m * n * k
    assert (layer["input_elements"], layer["weight_elements"], layer["output_elements"]) == (m * k, k * n, m * n)
    assert f"{m * n * k:,}" in result.stdout  # the table too, digit for digit


def test_2_to_the_63_macs_are_refused_naming_the_layer(tmp_path: Path) -> None:
    path = _topology(tmp_path, 2**21, 2**21, 2**21)
    assert_bad_input(tessera("inspect", "--model", str(path)), str(path), "node 'big' (MatMul)", f"{2**63:,} MACs", "2^63 - 1")
