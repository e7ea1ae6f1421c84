"""`njit` for every kernel, with Numba's NumPy implementations imported without SciPy.

The first jitted call of a process, even one that Numba answers from its on-disk cache, makes
Numba load its implementations of Python and NumPy (`BaseContext.refresh`). One of them,
`numba.np.arraymath`, probes for SciPy's BLAS as it is imported (`_check_blas`, which runs
`import scipy.linalg.cython_blas`): that imports most of SciPy, about 0.25 s of the 1.9 s a warm
`tessera simulate --model resnet50` took. The kernels call no BLAS, and Numba needs SciPy only
when it compiles a function that does (`np.dot`, `np.linalg`: `numba.np.linalg.ensure_blas`
imports it then).

So this module imports `numba.np.arraymath` while importing `scipy.linalg` fails (in this
thread only), then gives the probe's flag the answer the probe would have given had SciPy been
imported. Numba behaves as before; a process that compiles no BLAS call never imports SciPy.
Every kernel module takes `njit` from here, so whichever is imported first has done it before
any kernel runs (`tests/e2e/test_cli_startup.py` checks both).
"""

from __future__ import annotations

import importlib.util
import sys
import threading

from numba import njit

__all__ = ["njit"]

_LINALG = "scipy.linalg"


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


_import_arraymath()
