"""`ResolvedPoints` answers as the dict of `Feedback` by point id it replaces, across merges."""

from __future__ import annotations

import numpy as np

from explorer.resolved import MERGE_EVERY, ResolvedPoints
from explorer.strategies import Feedback


def test_resolved_points_remember_every_id_and_its_feedback_exactly() -> None:
    rng = np.random.default_rng(3)
    ids = [f"{value:016x}" for value in rng.integers(0, 2**63, size=2 * MERGE_EVERY + 17, dtype=np.uint64) * 2 + 1]
    reference: dict[str, Feedback] = {}
    resolved = ResolvedPoints(objectives=2, constraints=1)
    for number, pid in enumerate(ids):
        values = rng.normal(size=2)
        feedback = Feedback(values=None) if number % 7 == 0 else Feedback(values=(float(values[0]), -0.0), violations=(float(values[1]),))
        resolved.add(pid, feedback)
        reference[pid] = feedback
        if number in (0, MERGE_EVERY - 1, MERGE_EVERY, len(ids) - 1):  # before, at and after a merge
            assert all(resolved.get(seen) == reference[seen] for seen in reference)
    assert len(resolved) == len(ids)
    assert all(pid in resolved and resolved.get(pid) == reference[pid] for pid in ids)
    assert np.signbit(resolved.get(ids[1]).values[1])  # -0.0 stays -0.0
    absent = [f"{int(pid, 16) - 1:016x}" for pid in ids[:100]]  # even ids: never added
    assert not any(pid in resolved for pid in absent) and all(resolved.get(pid) is None for pid in absent)
    assert "ffffffffffffffff" not in resolved and "0000000000000000" not in resolved
