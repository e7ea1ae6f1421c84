"""The Python API takes every option as its enum or its name; a bad value is an InputError.

`tessera.api.simulate(..., precision="int8")` once raised AttributeError deep in the compiler,
while `scheduler="bogus"` ran silently with the heuristic scheduler.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from accel_spec.precision import PrecisionAssignment
from accel_spec.types import Precision
from cli_runner import EXAMPLES
from compiler.memory.planner import WeightResidency
from compiler.scheduling import SchedulerKind
from compiler.scheduling.objective import Objective
from compiler.target import TimingMode
from explorer import run_sweep
from tessera.api import simulate
from tessera.errors import InputError

CHIP = EXAMPLES / "tiny.yaml"
MODEL = "gemm:m=16,k=8,n=8"


@pytest.mark.parametrize(
    ("keyword", "name", "member"),
    [
        ("precision", "int8", Precision.INT8),
        ("precision", "FP16", Precision.FP16),
        ("precision", "w4a16kv8", PrecisionAssignment(Precision.INT4, Precision.BF16, Precision.INT8)),
        ("scheduler", "exhaustive", SchedulerKind.EXHAUSTIVE),
        ("scheduler", "Heuristic", SchedulerKind.HEURISTIC),
        ("timing", "scalesim", TimingMode.SCALESIM),
        ("objective", "EDP", Objective.EDP),
        ("weights", "resident", WeightResidency.RESIDENT),
    ],
)
def test_a_keyword_by_name_runs_as_by_enum(keyword: str, name: str, member: object) -> None:
    by_name = simulate(CHIP, MODEL, **{keyword: name})
    by_enum = simulate(CHIP, MODEL, **{keyword: member})
    option = getattr(by_name.compiled.options, keyword)
    if keyword == "precision":  # a format, or its name, is one for every operand class
        assert option == PrecisionAssignment.of(member)  # type: ignore[arg-type]
    else:
        assert option is member
    assert by_name.to_json() == by_enum.to_json()


@pytest.mark.parametrize(
    ("keyword", "value", "fragment"),
    [
        ("precision", "int9", "int8"),
        ("precision", 8, "fp16"),
        ("precision", "w4a8kv", "w<W>a<A>[kv<KV>]"),
        ("scheduler", "bogus", "exhaustive"),
        ("scheduler", None, "heuristic"),
        ("batch", 0, "≥ 1"),
        ("batch", "4", "whole number"),
        ("verify", "yes", "True or False"),
        ("trace", 1, "True or False"),
    ],
)
def test_a_bad_keyword_value_is_an_input_error_naming_it(keyword: str, value: object, fragment: str) -> None:
    with pytest.raises(InputError) as raised:
        simulate(CHIP, MODEL, **{keyword: value})
    assert raised.value.source == keyword and fragment in raised.value.render()


def test_run_sweep_takes_the_executor_by_name_and_refuses_an_unknown_one(tmp_path: Path) -> None:
    sweep = tmp_path / "sweep.yaml"
    sweep.write_text(f"base: {CHIP}\nhardware: {{matrix.rows: [4, 8]}}\nmodels:\n  - {MODEL}\nobjectives: [latency]\n")
    assert list(run_sweep(sweep, executor="SERIAL")["status"]) == ["ok", "ok"]
    with pytest.raises(InputError) as raised:
        run_sweep(sweep, tmp_path / "out", executor="threads")
    assert raised.value.source == "executor" and "local, dask, serial" in raised.value.render()
    assert not (tmp_path / "out").exists()
