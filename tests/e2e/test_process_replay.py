"""Process replay: scheduling and codegen produce exactly the recorded output.

Every example chip × reference network (and a few exhaustive searches) must choose the same
schedule for every layer, simulate to the same total cycles and emit a byte-identical
program as recorded in `tests/data/golden/process_replay.json` (see `process_replay`).
A speed-up of the compiler that changes any of them is a behaviour change, not a refactor.
"""

from __future__ import annotations

import json
from functools import cache

import pytest
from process_replay import CASES, GOLDEN, case_id, record

from compiler.codegen.memo import CODE
from compiler.lowering import lower
from compiler.models import load_model
from compiler.scheduling.memo import SCHEDULES


@cache
def _lowered(model: str):
    return lower(load_model(model))


@cache
def _golden() -> dict[str, dict]:
    return json.loads(GOLDEN.read_text())


def test_golden_file_covers_every_case():
    assert sorted(_golden()) == sorted(case_id(*case) for case in CASES)


@pytest.mark.parametrize(("chip", "model", "kind"), CASES, ids=[case_id(*case) for case in CASES])
def test_replay_matches_golden(chip, model, kind):
    """Searched from scratch, then again from the memos (`scheduling.memo`, `codegen.memo`)."""
    expected = _golden()[case_id(chip, model, kind)]
    SCHEDULES.clear()
    CODE.clear()
    for _ in ("searched", "memoised"):
        actual = record(chip, model, kind, workloads=_lowered(model))
        if "schedules" in expected and "schedules" in actual:
            changed = [
                (index, old, new)
                for index, (old, new) in enumerate(zip(expected["schedules"], actual["schedules"], strict=True))
                if old != new
            ]
            assert not changed, f"schedules changed (layer, golden, now): {changed[:5]}"
        assert actual == expected
