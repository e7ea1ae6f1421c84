"""docs/technology.md lists every default constant with the value the code uses."""

from __future__ import annotations

import re
from pathlib import Path

from accel_spec.components import all_constants

DOC = Path(__file__).resolve().parents[2] / "docs" / "technology.md"


def _table() -> dict[str, tuple[float, str]]:
    rows = {}
    for line in DOC.read_text(encoding="utf-8").splitlines():
        match = re.match(r"\| `([^`]+)` \| ([-+0-9.e]+) \| [^|]* \| (.+) \|$", line)
        if match:
            rows[match.group(1)] = (float(match.group(2)), match.group(3))
    return rows


def test_every_constant_is_in_the_doc_with_its_value_and_source() -> None:
    table = _table()
    for constant in all_constants():
        assert constant.name in table, constant.name
        value, source = table[constant.name]
        assert value == float(f"{constant.value:.6g}"), constant.name
        assert source == constant.source, constant.name
        assert constant.source, constant.name


def test_the_doc_lists_no_constant_the_code_does_not_have() -> None:
    assert set(_table()) == {constant.name for constant in all_constants()}
