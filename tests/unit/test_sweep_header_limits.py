"""Whole numbers of a sweep file's header at the integer extremes: accepted within their limits,
refused naming the field past them, never crashing later (a seed of 2^63 once crashed after
every point had run, 2^32 crashed NSGA-II, and `budget: true` ran as budget 1)."""

from __future__ import annotations

from pathlib import Path

import pytest

from explorer.spec_loader import MAX_BUDGET, MAX_SEED, load_sweep
from explorer.space import DesignSpace
from explorer.strategies import make_strategy
from tessera.errors import InputError

TINY = Path(__file__).resolve().parents[2] / "examples" / "accelerators" / "tiny.yaml"
EXTREMES = (2**31 - 1, 2**31, 2**32 - 1, 2**32, 2**53, 2**53 + 1, 2**63 - 1, 2**63, 2**64)


def _load(tmp_path: Path, header: str):
    path = tmp_path / "sweep.yaml"
    path.write_text(
        f"base: {TINY}\nhardware:\n  matrix.rows: {{range: [1, 64], step: 1}}\n  vector.lanes: {{range: [1, 64], step: 1}}\n"
        f'models: ["gemm:m=8,k=8,n=8"]\nobjectives: [latency, area]\n{header}'
    )
    return load_sweep(path)


@pytest.mark.parametrize("value", EXTREMES)
@pytest.mark.parametrize("strategy", ["random", "nsga2"])
def test_a_seed_is_accepted_up_to_2_to_the_32_minus_1_and_every_strategy_takes_it(tmp_path, value, strategy) -> None:
    header = f"strategy: {strategy}\nbudget: 8\npopulation: 4\nseed: {value}\n"
    if value > MAX_SEED:
        with pytest.raises(InputError, match=r"seed \(line 10\): Input should be less than or equal to 4294967295"):
            _load(tmp_path, header)
        return
    spec = _load(tmp_path, header)
    assert spec.seed == value
    assert len(make_strategy(spec, DesignSpace(spec)).propose()) > 0


@pytest.mark.parametrize("value", EXTREMES)
@pytest.mark.parametrize("field", ["budget", "population"])
def test_budget_and_population_are_refused_past_a_million(tmp_path, field, value) -> None:
    other = "population: 4" if field == "budget" else "budget: 8"
    header = f"strategy: random\n{other}\n{field}: {value}\n"
    assert value > MAX_BUDGET
    with pytest.raises(InputError, match=rf"{field} \(line 9\): Input should be less than or equal to 1000000"):
        _load(tmp_path, header)


@pytest.mark.parametrize("written", ["true", "false", "8.0", "'8'"])
@pytest.mark.parametrize("field", ["seed", "budget", "population"])
def test_header_numbers_must_be_written_as_whole_numbers(tmp_path, field, written) -> None:
    with pytest.raises(InputError, match=rf"{field} \(line \d+\): Input should be a valid integer"):
        _load(tmp_path, f"strategy: random\nbudget: 8\n{field}: {written}\n".replace("budget: 8\nbudget", "budget"))
