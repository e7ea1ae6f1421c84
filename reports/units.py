"""Display units: pick an SI prefix so a person reads 1.6 ms rather than 0.0016 s.

Every axis of every figure carries its unit in brackets (``latency [ms]``); `Scale` holds the
factor that turns stored SI values into the displayed ones and that bracketed unit.
`format_si` does the same for one number printed on the console (``234.8 mJ``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

_PREFIXES = ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k"), (1.0, ""), (1e-3, "m"), (1e-6, "µ"), (1e-9, "n"), (1e-12, "p"))

PREFIXABLE = ("s", "J", "W", "J·s", "ops/s", "Hz", "cycles")
"""Units that take an SI prefix; others (mm², TOPS/W, ratios) are shown as stored."""


@dataclass(frozen=True)
class Scale:
    """Display values = stored values × `factor`, in `unit`."""

    factor: float
    unit: str

    def label(self, name: str) -> str:
        """Axis label ``name [unit]``."""
        return f"{name} [{self.unit}]"


def si_scale(values: np.ndarray | float, unit: str) -> Scale:
    """The prefix that puts the median magnitude of `values` in [1, 1000) (for prefixable units)."""
    if unit not in PREFIXABLE:
        return Scale(1.0, unit)
    magnitudes = np.abs(np.asarray(values, dtype=np.float64))
    magnitudes = magnitudes[np.isfinite(magnitudes) & (magnitudes > 0)]
    if magnitudes.size == 0:
        return Scale(1.0, unit)
    typical = float(np.median(magnitudes))
    for size, prefix in _PREFIXES:
        if typical >= size:
            return Scale(1.0 / size, prefix + unit)
    size, prefix = _PREFIXES[-1]
    return Scale(1.0 / size, prefix + unit)


def format_si(value: float, unit: str, digits: int = 4) -> str:
    """One value with the SI prefix that puts it in [1, 1000): 0.2348 J -> ``234.8 mJ``.

    Units that take no prefix (`PREFIXABLE`) are printed as stored: ``3.2 mm²``.
    """
    if not math.isfinite(value) or value == 0:
        return f"{value:g} {unit}"
    scale = si_scale(value, unit)
    return f"{value * scale.factor:.{digits}g} {scale.unit}"


def wide_range(values: np.ndarray, ratio: float = 30.0) -> bool:
    """True when positive values span at least `ratio`: such an axis reads better in log scale."""
    finite = np.asarray(values, dtype=np.float64)
    finite = finite[np.isfinite(finite)]
    if finite.size == 0 or finite.min() <= 0:
        return False
    return bool(finite.max() / finite.min() >= ratio)
