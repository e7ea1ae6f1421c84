"""`IdentityMemo`: values kept by their owner's identity, least recently used first out."""

from __future__ import annotations

import pytest

from tessera.identity_memo import IdentityMemo


def test_a_value_is_made_once_per_owner_and_parts_and_an_equal_owner_is_another() -> None:
    memo: IdentityMemo[int] = IdentityMemo(capacity=4)
    made = []
    owner, twin = [1, 2], [1, 2]  # equal, not the same object (and not hashable)

    def make(value: int):
        return lambda: made.append(value) or value

    assert memo.get(owner, "a", make(1)) == 1
    assert memo.get(owner, "a", make(2)) == 1  # kept
    assert memo.get(owner, "b", make(3)) == 3  # other parts
    assert memo.get(twin, "a", make(4)) == 4  # identity, not equality
    assert made == [1, 3, 4]


def test_the_least_recently_used_goes_first_and_a_failed_make_keeps_nothing() -> None:
    memo: IdentityMemo[str] = IdentityMemo(capacity=2)
    owners = [object() for _ in range(3)]
    memo.get(owners[0], (), lambda: "0")
    memo.get(owners[1], (), lambda: "1")
    memo.get(owners[0], (), lambda: "0 again")  # a hit: now the most recent
    memo.get(owners[2], (), lambda: "2")  # evicts owners[1]
    assert memo.get(owners[0], (), lambda: "new") == "0"
    assert memo.get(owners[1], (), lambda: "1 again") == "1 again"

    def fail() -> str:
        raise ValueError("no")

    with pytest.raises(ValueError):
        memo.get(owners[2], "x", fail)
    assert memo.get(owners[2], "x", lambda: "made") == "made"


def test_a_value_kept_for_several_owners_needs_every_one_of_them_itself() -> None:
    memo: IdentityMemo[str] = IdentityMemo(capacity=4)
    first, second, twin = [1], [2], [2]  # twin: equal to second, another object
    assert memo.get_each((first, second), lambda: "made") == "made"
    assert memo.get_each((first, second), lambda: "again") == "made"  # a new tuple of the same objects
    assert memo.get_each((first, twin), lambda: "twin") == "twin"
    assert memo.get_each((second, first), lambda: "swapped") == "swapped"  # order matters
    assert memo.get_each((first,), lambda: "shorter") == "shorter"
