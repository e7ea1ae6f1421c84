"""Values derived from an object that cannot key a dict by content, kept by its identity.

A sweep evaluates one chip spec, or one tuple of lowered workloads, several times over: the
spec holds dicts, so it does not hash, and a network's tuple of workloads hashes only by
hashing every layer. `IdentityMemo` keys what is derived from such an object by the object's
`id` (and any hashable parts the value also depends on). An entry holds the object itself,
so no other object takes that id while the entry lives, and a lookup checks it is the very
object. The least recently used entries go first.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

V = TypeVar("V")


class IdentityMemo(Generic[V]):
    """At most `capacity` values, each by (the identity of its owner, its other parts)."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._entries: dict[tuple[object, Hashable], tuple[object, V]] = {}

    def get(self, owner: object, parts: Hashable, make: Callable[[], V]) -> V:
        """The value kept for `owner` and `parts`, or `make()`'s, then kept (not when it raises)."""
        key = (id(owner), parts)
        found = self._entries.pop(key, None)
        return self._kept(key, owner, found if found is not None and found[0] is owner else None, make)

    def get_each(self, owners: tuple, make: Callable[[], V]) -> V:
        """The value kept for the objects of `owners`, each by its identity (the tuple itself
        may be made anew for every lookup), or `make()`'s, then kept (not when it raises)."""
        key = (tuple(map(id, owners)), None)
        found = self._entries.pop(key, None)
        same = found is not None and all(kept is owner for kept, owner in zip(found[0], owners, strict=True))  # type: ignore[arg-type]
        return self._kept(key, owners, found if same else None, make)

    def _kept(self, key: tuple[object, Hashable], owner: object, found: tuple[object, V] | None, make: Callable[[], V]) -> V:
        """`found` (an entry for `owner`), or a new one of `make()`'s, kept as the most recent."""
        if found is None:
            found = (owner, make())
        self._entries[key] = found  # the most recent last
        while len(self._entries) > self.capacity:
            del self._entries[next(iter(self._entries))]
        return found[1]

    def clear(self) -> None:
        """Forget every entry."""
        self._entries.clear()
