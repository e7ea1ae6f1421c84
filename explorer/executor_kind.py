"""Where a sweep's points are evaluated: the choice `tessera sweep --executor` names, in a
module of its own so the command can read it before importing the sweep stack."""

from __future__ import annotations

from enum import Enum


class ExecutorKind(Enum):
    """Where points are evaluated."""

    LOCAL = "local"
    DASK = "dask"
    SERIAL = "serial"
