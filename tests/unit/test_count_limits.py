"""Counts are exact integers up to 2^63 - 1 and refused past it: never wrapped, never rounded.

GEMM layers whose MACs, operand and output elements sit at 2^31, 2^53, 2^62 and 2^63 go
through the frontend, lowering and the inspect report; below the limit every count equals
the product computed here with Python ints (and survives JSON), above it the model is refused
naming the node and the limit. The CLI cases are in tests/e2e/bad_inputs (inspect-topology_*).
"""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from compiler.frontend.scalesim_topology import parse_scalesim_topology, topology_graph
from compiler.graph import MAX_COUNT
from compiler.inspect_report import build_inspect_report
from compiler.lowering import lower
from tessera.errors import InputError

EXTREMES = (31, 53, 62, 63, 64)
"""Exponents of the MAC counts tried: 2^31 and 2^53 (where int32 and float64 stop being exact),
2^62 (fits), 2^63 and 2^64 (past the signed 64-bit limit)."""


def _report(m: int, n: int, k: int, layers: int = 1):
    rows = "".join(f"layer{i}, {m}, {n}, {k},\n" for i in range(layers))
    graph = topology_graph(parse_scalesim_topology("Layer Name, M, N, K,\n" + rows, "big.csv"))
    return build_inspect_report(graph, lower(graph))


@st.composite
def _gemm_exponents(draw: st.DrawFn) -> tuple[int, int, int]:
    """(log2 m, log2 n, log2 k) with m·n·k at one of EXTREMES and every operand < 2^60 elements."""
    total = draw(st.sampled_from(EXTREMES))
    m = draw(st.integers(max(0, total - 59), min(30, total)))
    n = draw(st.integers(max(0, total - m - 59), min(59 - m, total - m)))
    k = total - m - n
    assume(m + k <= 59 and n + k <= 59)
    return m, n, k


@settings(max_examples=40, deadline=None)
@given(_gemm_exponents(), st.integers(-1, 1))
def test_gemm_counts_are_exact_or_refused(exponents: tuple[int, int, int], nudge: int) -> None:
    m, n, k = (2**e for e in exponents)
    k = max(1, k + nudge)  # one off the power of two, either way
    macs = m * n * k
    if macs > MAX_COUNT:
        with pytest.raises(InputError, match=r"2\^63 - 1"):
            _report(m, n, k)
        return
    report = _report(m, n, k)
    (row,) = report.layers
    assert (row.macs, report.macs) == (macs, macs)
    assert (row.input_elements, row.weight_elements, row.output_elements) == (m * k, k * n, m * n)
    document = json.loads(json.dumps(report.to_json()))
    assert document["macs"] == macs and document["layers"][0]["output_elements"] == m * n


@pytest.mark.parametrize("exponent", [31, 53, 62])
def test_two_layers_sum_exactly_below_the_limit(exponent: int) -> None:
    m, n, k = 2**10, 2**10, 2 ** (exponent - 21)
    assert _report(m, n, k, layers=2).macs == 2**exponent


def test_the_total_of_layers_that_each_fit_is_refused_past_the_limit() -> None:
    with pytest.raises(InputError) as error:
        _report(2**20, 2**22, 2**20, layers=2)  # 2^62 MACs each, 2^63 together
    (problem,) = error.value.problems
    assert problem.location == "network" and f"{2**63:,} MACs in total" in problem.message


def test_a_tensor_past_2_to_the_60_elements_is_refused_naming_it() -> None:
    with pytest.raises(InputError) as error:
        _report(2**31, 2**30, 1)  # output 2^61 elements
    assert any(f"{2**61:,} elements" in p.message for p in error.value.problems)
    assert math.prod((2**31, 2**30)) > MAX_COUNT // 8
