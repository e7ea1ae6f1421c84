"""`njit` for every kernel: cached kernels load without Numba's implementation registry, and
Numba's NumPy implementations are imported without SciPy.

Loading a cached kernel. Numba answers the first call of a `cache=True` kernel from its
on-disk cache, but before it looks there it refreshes its target context
(`Cache.load_overload` → `BaseContext.refresh`): it imports and registers every Python and
NumPy implementation it has (`numba.cpython.*`, `numba.np.arraymath`, `numba.np.random`, …),
about 0.3 s of a warm `tessera simulate --model resnet50`. A compiled kernel needs none of
that: it is machine code that links only against Numba's runtime (NRT) and C helpers, and the
helpers are registered when the context is created. So the kernels' cache (`_KernelCache`)
starts the runtime instead, and leaves the refresh to the compiler, which does it before every
compilation (`CompilerBase.__init__`): on a cache miss, or for a kernel never cached, Numba
behaves as before. One module registers symbols that compiled code may link to as it is
imported: `numba.cpython.hashing` (the hash secret of a kernel that hashes: dict, set,
`hash()`); a cached kernel whose code names them has it imported before it is linked.

Importing without SciPy. `numba.np.arraymath`, one of those implementations, probes for
SciPy's BLAS as it is imported (`_check_blas`, which runs `import scipy.linalg.cython_blas`):
that imports most of SciPy, about 0.25 s. The kernels call no BLAS, and Numba needs SciPy only
when it compiles a function that does (`np.dot`, `np.linalg`: `numba.np.linalg.ensure_blas`
imports it then). So before anything here can compile (a cache miss, or a kernel not cached),
`numba.np.arraymath` is imported while importing `scipy.linalg` fails (in this thread only),
and the probe's flag is given the answer the probe would have given had SciPy been imported.
Every kernel module takes `njit` from here (`tests/kernels/test_numba_target.py` checks it,
and `tests/e2e/test_cli_startup.py` that a simulation imports neither SciPy's linear algebra
nor, once the cache is warm, Numba's implementations).
"""

from __future__ import annotations

import importlib.util
import sys
import threading
from collections.abc import Callable
from typing import Any

import numba
from numba.core.caching import CompileResultCacheImpl, FunctionCache
from numba.core.dispatcher import Dispatcher
from numba.core.runtime import rtsys

__all__ = ["njit"]

_LINALG = "scipy.linalg"
_HASH_SECRET = b"_numba_hashsecret_"
"""Prefix of the symbols `numba.cpython.hashing` registers as it is imported."""


def njit(function: Callable[..., Any] | None = None, **options: Any) -> Any:
    """`numba.njit(**options)`, used bare (`@njit`) or with options (`@njit(cache=True)`);
    a `cache=True` kernel is loaded from the cache by `_KernelCache`."""
    if function is None:
        return lambda function: njit(function, **options)
    cached = options.pop("cache", False)
    dispatcher = numba.njit(**options)(function)
    if not cached:
        _import_arraymath()  # its first call compiles
    elif isinstance(dispatcher, Dispatcher):  # not NUMBA_DISABLE_JIT's Python function
        if _loads_without_refresh():
            dispatcher._cache = _KernelCache(dispatcher.py_func)  # what `Dispatcher.enable_caching` does
        else:  # a Numba whose cache internals differ: its own cache, refresh included
            _import_arraymath()
            dispatcher.enable_caching()
    return dispatcher


def _loads_without_refresh() -> bool:
    """Whether this Numba has the cache internals `_KernelCache` builds on (Numba 0.59–0.68 do)."""
    return (
        hasattr(rtsys, "initialize")
        and all(hasattr(FunctionCache, name) for name in ("_impl_class", "_load_overload", "_guard_against_spurious_io_errors"))
        and hasattr(CompileResultCacheImpl, "rebuild")
    )


class _KernelCacheImpl(CompileResultCacheImpl):
    """Rebuilds a cached kernel after importing the modules whose symbols its code names."""

    def rebuild(self, target_context: Any, payload: tuple) -> Any:
        try:
            _name, kind, data = payload[0]  # `CodeLibrary.serialize_using_object_code()`
            hashes = kind == "object" and _HASH_SECRET in data[0]
        except (TypeError, ValueError, IndexError):  # another layout: import it, to be safe
            hashes = True
        if hashes:
            import numba.cpython.hashing  # noqa: F401  (registers the hash secret's symbols)
        return super().rebuild(target_context, payload)


class _KernelCache(FunctionCache):
    """Numba's per-function cache, loading without the registry refresh (module docstring)."""

    _impl_class = _KernelCacheImpl

    def load_overload(self, sig: Any, target_context: Any) -> Any:
        rtsys.initialize(target_context)  # what the loaded code links against
        loaded = None
        with self._guard_against_spurious_io_errors():
            loaded = self._load_overload(sig, target_context)
        if loaded is None:
            _import_arraymath()  # Numba compiles it next
        return loaded


class _Refuse:
    """Import finder that makes importing one module fail, in one thread only (other threads
    may import SciPy meanwhile: a Dask worker runs several points at once)."""

    def __init__(self, name: str, thread: int) -> None:
        self.name = name
        self.thread = thread

    def find_spec(self, name: str, path: object = None, target: object = None) -> None:
        if name == self.name and threading.get_ident() == self.thread:
            raise ModuleNotFoundError(f"{name} is not imported while Numba probes for BLAS", name=name)
        return None


def _import_arraymath() -> None:
    """Import `numba.np.arraymath` without its probe importing SciPy (nothing to do once it is
    imported, or once SciPy's linear algebra is: then the probe costs nothing)."""
    if "numba.np.arraymath" in sys.modules or _LINALG in sys.modules:
        return
    refusal = _Refuse(_LINALG, threading.get_ident())
    sys.meta_path.insert(0, refusal)
    try:
        from numba.np import arraymath
    finally:
        sys.meta_path.remove(refusal)
    if hasattr(arraymath, "_HAVE_BLAS"):  # read when np.correlate / np.convolve are typed
        arraymath._HAVE_BLAS = importlib.util.find_spec("scipy") is not None
