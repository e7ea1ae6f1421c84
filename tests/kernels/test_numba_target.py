"""simulator.kernels.numba_target: kernels load without SciPy, and Numba behaves the same.

The import checks run in a fresh interpreter: what matters is what a process imports first.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
from numba import config

from simulator.kernels.numba_target import _Refuse

REPO = Path(__file__).resolve().parents[2]

PROBE = """
import json, sys
import numpy as np
from simulator.kernels.numba_target import njit

@njit  # not cached: it will compile, so Numba's implementations are imported now
def products(a, b):
    return np.dot(a, b), np.correlate(a, b)

from numba.np import arraymath
report = {"scipy.linalg after import": "scipy.linalg" in sys.modules, "_HAVE_BLAS": arraymath._HAVE_BLAS}

dot, correlate = products(np.arange(1.0, 6.0), np.arange(5.0, 0.0, -1.0))
report.update(dot=float(dot), correlate=correlate.tolist())
report["scipy.linalg after a BLAS call"] = "scipy.linalg" in sys.modules
print(json.dumps(report))
"""


def test_numba_imports_without_scipy_and_blas_calls_still_compile() -> None:
    done = subprocess.run([sys.executable, "-c", PROBE], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.strip().splitlines()[-1])
    a, b = np.arange(1.0, 6.0), np.arange(5.0, 0.0, -1.0)
    assert report == {
        "scipy.linalg after import": False,
        "_HAVE_BLAS": True,  # what Numba's own probe finds: SciPy is installed (xgboost needs it)
        "dot": float(np.dot(a, b)),
        "correlate": np.correlate(a, b).tolist(),
        # compiling the BLAS call imports SciPy; with NUMBA_DISABLE_JIT (CI's second kernel pass)
        # nothing is compiled and numpy runs the call itself
        "scipy.linalg after a BLAS call": not config.DISABLE_JIT,
    }


def test_the_refusal_holds_in_its_own_thread_only() -> None:
    refusal = _Refuse("scipy.linalg", threading.get_ident())
    with pytest.raises(ModuleNotFoundError, match="scipy.linalg"):
        refusal.find_spec("scipy.linalg")
    assert refusal.find_spec("scipy.sparse") is None
    elsewhere = []
    thread = threading.Thread(target=lambda: elsewhere.append(refusal.find_spec("scipy.linalg")))
    thread.start()
    thread.join()
    assert elsewhere == [None]  # another thread imports it as usual


def test_every_kernel_module_takes_njit_from_numba_target() -> None:
    """A kernel module that imported Numba's own `njit` and were imported first would let
    Numba's BLAS probe import SciPy again."""
    skipped = {".venv", "tests", "build"}
    sources = [path for path in REPO.rglob("*.py") if skipped.isdisjoint(path.relative_to(REPO).parts)]
    importing = [str(path.relative_to(REPO)) for path in sources if _imports_numba(path.read_text())]
    assert importing == ["simulator/kernels/numba_target.py"]


def _imports_numba(source: str) -> bool:
    return "from numba import" in source or "import numba" in source or "numba.njit" in source


HASHING_KERNEL = """
from simulator.kernels.numba_target import njit

@njit(cache=True)
def _hash(text):
    return hash(text)
"""

CALL_HASHING_KERNEL = """
import json, sys
from hashing_kernel import _hash
value = _hash("tessera")
hits = sum(_hash.stats.cache_hits.values()) if hasattr(_hash, "stats") else None  # None: NUMBA_DISABLE_JIT
print(json.dumps({"hash": value, "expected": hash("tessera"), "cache_hits": hits}))
"""


def test_a_cached_kernel_that_hashes_strings_loads_in_a_fresh_process(tmp_path: Path) -> None:
    """Hashing a string links against symbols that `numba.cpython.hashing` registers as it
    is imported; `_KernelCache` loads without Numba's implementations, so it must see to them
    (a missing symbol would abort the process). The first process compiles, the second loads."""
    (tmp_path / "hashing_kernel.py").write_text(HASHING_KERNEL)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join((str(tmp_path), str(REPO))), "NUMBA_CACHE_DIR": str(tmp_path / "cache")}
    reports = []
    for _ in range(2):
        done = subprocess.run([sys.executable, "-c", CALL_HASHING_KERNEL], cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr
        reports.append(json.loads(done.stdout.strip().splitlines()[-1]))
    assert all(report["hash"] == report["expected"] for report in reports)
    if not config.DISABLE_JIT:
        assert [report["cache_hits"] for report in reports] == [0, 1]  # compiled, then loaded from the cache


def test_a_numba_without_the_cache_internals_gets_its_own_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    """Where `_KernelCache`'s Numba internals are missing, a cached kernel falls back to Numba's
    own cache (refresh included) and still runs."""
    from numba.core.caching import FunctionCache

    from simulator.kernels import numba_target

    assert numba_target._loads_without_refresh()  # the installed Numba has them
    monkeypatch.setattr(numba_target, "_loads_without_refresh", lambda: False)

    def twice(x):
        return 2 * x

    kernel = numba_target.njit(cache=True)(twice)
    if not config.DISABLE_JIT:
        assert type(kernel._cache) is FunctionCache
    monkeypatch.undo()
    assert kernel(21) == 42
