"""How good a learned cost model is: held-out R², MAPE and Spearman per objective.

Records are rows (objective, predicted, simulated, split) with `split` ``train`` (in-sample
predictions) or ``test`` (predictions of a model that never saw the point), the format of
`surrogate.parquet` that `reports.parity` draws. Metrics are computed on natural-unit values,
as the parity figure shows them:

- R² = 1 − SS_res / SS_tot;
- MAPE = mean |predicted − simulated| / |simulated| (points with simulated 0 left out);
- Spearman's ρ, the Pearson correlation of the ranks (ties get their mean rank): the
  number that matters to a search that only ranks candidates.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

RECORD_COLUMNS = ("objective", "predicted", "simulated", "split")
SURROGATE_FILE = "surrogate.parquet"


@dataclass(frozen=True)
class Quality:
    """R², MAPE (a fraction) and Spearman's ρ of `count` predictions (NaN where undefined)."""

    count: int
    r2: float
    mape: float
    spearman: float

    def describe(self) -> str:
        """``n=120 R² 0.981 MAPE 4.2% Spearman 0.990``."""
        return f"n={self.count} R² {self.r2:.3f} MAPE {self.mape:.1%} Spearman {self.spearman:.3f}"


def spearman(a: np.ndarray, b: np.ndarray) -> float:
    """Spearman's rank correlation of two equally long vectors (NaN if either is constant)."""
    ranks_a = pd.Series(np.asarray(a, dtype=np.float64)).rank().to_numpy()
    ranks_b = pd.Series(np.asarray(b, dtype=np.float64)).rank().to_numpy()
    if len(ranks_a) < 2 or np.ptp(ranks_a) == 0 or np.ptp(ranks_b) == 0:
        return float("nan")
    return float(np.corrcoef(ranks_a, ranks_b)[0, 1])


def quality(predicted: np.ndarray, simulated: np.ndarray) -> Quality:
    """The metrics of the module docstring."""
    predicted = np.asarray(predicted, dtype=np.float64)
    simulated = np.asarray(simulated, dtype=np.float64)
    count = len(simulated)
    if count < 2:
        return Quality(count, float("nan"), float("nan"), float("nan"))
    total = float(np.sum((simulated - simulated.mean()) ** 2))
    r2 = 1.0 - float(np.sum((simulated - predicted) ** 2)) / total if total > 0 else float("nan")
    nonzero = simulated != 0
    mape = float(np.mean(np.abs(predicted[nonzero] - simulated[nonzero]) / np.abs(simulated[nonzero])))
    return Quality(count, r2, mape, spearman(predicted, simulated))


def quality_by_objective(records: pd.DataFrame, split: str = "test") -> dict[str, Quality]:
    """Objective → metrics of the records of one split, in order of first appearance."""
    rows = records[records["split"] == split]
    return {
        str(name): quality(group["predicted"].to_numpy(), group["simulated"].to_numpy())
        for name, group in rows.groupby("objective", sort=False)
    }


def quality_lines(records: pd.DataFrame) -> list[str]:
    """One printed line per objective: held-out metrics (and how many points were trained on)."""
    trained = records[records["split"] == "train"].groupby("objective", sort=False).size()
    return [
        f"surrogate {objective} (held out): {metrics.describe()}; trained on {int(trained.get(objective, 0))} points"
        for objective, metrics in quality_by_objective(records).items()
    ]


def write_records(folder: Path, records: pd.DataFrame) -> Path:
    """Write `surrogate.parquet` atomically (temporary file, then rename); returns its path."""
    target = folder / SURROGATE_FILE
    temporary = folder / f".{SURROGATE_FILE}.tmp"
    records.loc[:, list(RECORD_COLUMNS)].to_parquet(temporary, index=False)
    os.replace(temporary, target)
    return target
