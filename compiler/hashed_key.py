"""A tuple that hashes once: the keys the compile caches look up again and again.

A cache key of a compile is a tuple of a workload's shape (`Workload.shape_key`: its GEMM,
convolution, placement and a dozen more fields) or of a chip's fields
(`Target.key_without_capacity`), nested in the keys of every memo (`scheduling.memo`,
`codegen.memo`, `scheduling.batched.SPACES`). A tuple does not keep its hash, and each
frozen dataclass in it hashes by a Python call, so a MobileNetV2 sweep point hashed some
5,000 shapes, placements and geometries a point, each key anew at every lookup. `HashedKey`
hashes its items once, when made.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


class HashedKey(tuple):
    """A tuple that computes its hash once, equal to (and hashing like) the plain tuple of
    its items. Pickled as its items: the hash of an enum member (`IdentityHashed`) or a
    string differs between processes, so an unpickled key hashes its items again."""

    _hash: int

    def __new__(cls, items: Iterable[Any]) -> HashedKey:
        key = super().__new__(cls, items)
        key._hash = tuple.__hash__(key)
        return key

    def __hash__(self) -> int:
        return self._hash

    def __reduce__(self) -> tuple[type[HashedKey], tuple[tuple[Any, ...]]]:
        return type(self), (tuple(self),)
