"""The resolved sweep specification: a frozen, validated description of what to evaluate.

`explorer.spec_loader.load_sweep` builds one from a sweep YAML file; everything in it is
already checked against the base chip and the model zoo, so a sweep that starts never fails
on its own description. Values are stored in SI units (bytes, hertz, ...), the units of the
results table.
"""

from __future__ import annotations

import hashlib
import json
from enum import Enum
from typing import Any

from pydantic import BaseModel, ConfigDict

from accel_spec.units import Dimension
from explorer.objectives import Constraint, Objective
from explorer.spec_serving import ServingSpec


class StrategyKind(Enum):
    """How points are chosen: the whole grid, uniform random, Latin hypercube, NSGA-II, or a
    learned surrogate (`explorer.surrogate`)."""

    GRID = "grid"
    RANDOM = "random"
    LHS = "lhs"
    NSGA2 = "nsga2"
    SURROGATE = "surrogate"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class HardwareAxis(_Frozen):
    """One swept chip field, by dotted path; values in SI units (or enum spellings).

    `tied_to` names the axis whose value this one copies at every point (``=matrix.rows``);
    a tied axis has the values of its target and adds no dimension to the space.
    """

    path: str
    values: tuple[Any, ...]
    dimension: Dimension | None = None
    tied_to: str | None = None


class ModelVariant(_Frozen):
    """One network: a canonical zoo spec, or an ONNX path as written in the sweep file.

    `axes` holds the model-axis values that produced it (``mobilenetv2:width`` → 0.5), which
    become result columns. `file_sha256` is the content hash of an ONNX file (None for a zoo
    spec): part of the sweep's identity, so a file replaced between a crash and the resume is
    noticed instead of mixing two networks' rows under one name.
    """

    spec: str
    axes: tuple[tuple[str, Any], ...] = ()
    file_sha256: str | None = None


class SweepSpec(_Frozen):
    """Everything a sweep needs, resolved and validated.

    Attributes:
        source: the sweep file (for messages); `base` the chip file it starts from, and
            `base_hash` that chip's `spec_hash`; `model_root` the folder ONNX paths are
            relative to. None of these paths enter `content_hash`, so a moved folder resumes.
        hardware: swept chip fields, in file order; `models` the network variants.
        schedulers / precisions / batches / timings / weight_modes / schedule_objectives: the
            swept schedule options (`CompileOptions`; a precision or batch of None is the chip's
            or the model's own). The last three default to the compiler's defaults, so the
            manifest of a sweep written before they existed still reads.
        objectives, constraints: what the Pareto front is over, and which points may be on it.
        strategy, population, budget, seed: how points are proposed; `population` is the
            NSGA-II generation size; `budget` the number of distinct points to evaluate.
        reference: hypervolume reference point per objective (natural units), or None for
            the default (worst value × 1.1).
        serving: the requests every point serves (`explorer.spec_serving`), or None for a sweep
            that simulates one inference per point. None leaves `content_hash` as it was before
            serving sweeps existed, so older sweep folders still resume.
    """

    source: str
    base: str
    base_hash: str
    model_root: str
    hardware: tuple[HardwareAxis, ...]
    models: tuple[ModelVariant, ...]
    model_axes: tuple[str, ...]
    schedulers: tuple[str, ...]
    precisions: tuple[str | None, ...]
    batches: tuple[int | None, ...]
    timings: tuple[str, ...] = ("tessera",)
    weight_modes: tuple[str, ...] = ("streamed",)
    schedule_objectives: tuple[str, ...] = ("latency",)
    objectives: tuple[Objective, ...]
    constraints: tuple[Constraint, ...]
    strategy: StrategyKind
    population: int
    budget: int
    seed: int
    reference: tuple[float, ...] | None = None
    serving: ServingSpec | None = None

    def content_hash(self) -> str:
        """sha256 of everything that determines the results (not where the files are)."""
        exclude = {"source", "base", "model_root"} | ({"serving"} if self.serving is None else set())
        document = self.model_dump(mode="json", exclude=exclude)
        text = json.dumps(document, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode("utf-8")).hexdigest()
