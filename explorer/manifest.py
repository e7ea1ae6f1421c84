"""`manifest.json`: what a sweep was, who ran it, and where its front's reference point lies.

Written when a sweep starts (so a crashed run can be recognised and resumed) and rewritten
atomically when it ends. A resumed sweep must have the same spec hash; `--force-new` starts
the folder over instead.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import socket
import sys
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter

from accel_spec import load_accelerator
from accel_spec.technology import resolve
from accel_spec.precision import PrecisionAssignment
from explorer.spec import SweepSpec
from tessera.input_files import MiB, read_input

MANIFEST_NAME = "manifest.json"
MAX_MANIFEST_BYTES = 64 * MiB
"""A manifest holds the sweep spec and a few counts: kilobytes, so anything this big is not one."""


def now() -> str:
    """Current UTC time in ISO 8601."""
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


@dataclass(frozen=True)
class Manifest:
    """The provenance of a sweep folder (see the module docstring)."""

    spec_hash: str
    spec: dict[str, Any]
    evaluator: str
    tool_version: str
    seed: int
    host: str
    python: str
    command: str
    started: str
    resumed: tuple[str, ...] = ()
    finished: str | None = None
    points: int = 0
    status_counts: dict[str, int] = field(default_factory=dict)
    pareto_points: int = 0
    hypervolume: float | None = None
    hypervolume_reference: dict[str, float] | None = None
    technology_sources: dict[str, str] = field(default_factory=dict)
    units: dict[str, str] = field(default_factory=dict)

    @classmethod
    def start(
        cls, spec: SweepSpec, evaluator: str, tool_version: str, command: str, units: dict[str, str] | None = None
    ) -> "Manifest":
        """The manifest of a sweep starting now on this host; `units` maps each results column to its unit."""
        return cls(
            spec_hash=sweep_hash(spec, evaluator),
            spec=spec.model_dump(mode="json"),
            evaluator=evaluator,
            tool_version=tool_version,
            seed=spec.seed,
            host=socket.gethostname(),
            python=f"{platform.python_implementation()} {platform.python_version()}",
            command=command,
            started=now(),
            technology_sources=technology_sources(spec),
            units=dict(units or {}),
        )

    def resumed_now(self) -> "Manifest":
        """This manifest with one more resume time and no end time."""
        return replace(self, resumed=(*self.resumed, now()), finished=None)

    def write(self, folder: Path) -> None:
        """Write atomically (temporary file, fsync, rename)."""
        target = folder / MANIFEST_NAME
        temporary = target.with_suffix(".json.tmp")
        with open(temporary, "w", encoding="utf-8") as handle:
            json.dump(asdict(self), handle, indent=2, allow_nan=False)
            handle.write("\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, target)

    @classmethod
    def read(cls, folder: Path) -> "Manifest | None":
        """The folder's manifest, or None if it has none (or one that is not a manifest).

        InputError when manifest.json is not a regular file (a FIFO would block the read).
        """
        path = folder / MANIFEST_NAME
        if not path.exists():
            return None
        try:
            document = json.loads(read_input(path, limit=MAX_MANIFEST_BYTES, what="a sweep manifest"))
            return TypeAdapter(cls).validate_python(document, strict=False)
        except ValueError:  # not JSON, or not a manifest (pydantic's ValidationError is a ValueError)
            return None


def identity_changes(previous: Manifest, current: Manifest) -> list[str]:
    """What makes `current` a different sweep from `previous` (empty when they are the same)."""
    if previous.spec_hash == current.spec_hash:
        return []
    changes = []
    if previous.evaluator != current.evaluator:
        changes.append(f"the evaluator changed ({previous.evaluator} -> {current.evaluator})")
    if previous.spec.get("base_hash") != current.spec.get("base_hash"):
        changes.append("the base chip's content changed")
    before = {m.get("spec"): m.get("file_sha256") for m in previous.spec.get("models", []) if isinstance(m, dict)}
    for model in current.spec.get("models", []):
        old, new = before.get(model["spec"]), model.get("file_sha256")
        if model["spec"] in before and old != new:
            changes.append(f"model file {model['spec']} changed (sha256 {str(old)[:12]}... is now {str(new)[:12]}...)")
    return changes or ["the sweep file changed"]


def technology_sources(spec: SweepSpec) -> dict[str, str]:
    """Where each energy/area constant of the sweep's chips comes from.

    The base chip's sources (``default: <citation>`` or ``override``, at the sweep's operand
    precision when it fixes one), with every constant that an ``overrides.*`` axis sweeps
    marked as such: a sweep never hides that its energies rest on cited defaults.
    """
    precisions = {PrecisionAssignment.parse(p).compute for p in spec.precisions if p is not None}
    precision = precisions.pop() if len(precisions) == 1 else None
    sources = dict(resolve(load_accelerator(spec.base), precision).sources)
    for axis in spec.hardware:
        section, _, name = axis.path.partition(".")
        if section == "overrides":
            sources[name] = f"override (swept: {axis.path})"
    return sources


def sweep_hash(spec: SweepSpec, evaluator: str) -> str:
    """Identity of a sweep's results: the spec's content hash and the evaluator that made them."""
    text = f"{spec.content_hash()}\n{evaluator}"
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def command_line() -> str:
    """How this process was started, for the manifest."""
    return " ".join([Path(sys.executable).name, *sys.argv])
