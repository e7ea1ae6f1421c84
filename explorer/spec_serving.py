"""The `serving:` block of a sweep file: the requests every design point serves.

With it, each point serves its decoder (`serving.run.serve`, the scheduler of `tessera serve`)
instead of simulating one inference::

    serving:
      requests: 32            # how many requests
      rate: 20                # Poisson arrivals per second (absent: all at t = 0)
      prompt_len: 64-128      # tokens: N, or LO-HI uniform (as `tessera serve --prompt-len`)
      output_len: 16-32
      max_batch: 16           # requests running at once (default vLLM's 128)
      max_batched_tokens: 512 # tokens per iteration (default vLLM's 2048)
      kv_block_tokens: 16     # tokens per block of the paged KV cache (default vLLM's 16)
      slo_ttft: 200 ms        # a duration with its unit; a request meeting both SLOs is goodput
      slo_tpot: 20 ms
      seed: 0                 # of the arrivals and lengths: every point serves the same requests

`requests`, `prompt_len` and `output_len` are required (`tessera serve`'s defaults, 1000
requests of 1024 + 128 tokens, cost minutes a point); the rest default as in `tessera serve`, so
a block and the command with the same options serve the same requests.
"""

from __future__ import annotations

import math
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictInt, ValidationError, field_validator

from accel_spec.units import Dimension, parse_quantity
from accel_spec.yaml_lines import Loc
from serving.metrics import Slo
from serving.run import DECODERS, PER_STEP
from serving.scheduler import SchedulerConfig
from serving.workload import LengthDistribution, Request, poisson_requests
from tessera.errors import InputError

_DEFAULTS = SchedulerConfig()
"""vLLM's iteration limits (`serving.scheduler.SchedulerConfig` cites them), as `tessera serve` uses."""

MAX_REQUESTS = 1_000_000
"""Most requests a point serves: every point replays them all, and the scheduler takes one to two
seconds per 10,000 requests (docs/serving.md, Speed), so a million is minutes a point."""


def _length(value: Any) -> str:
    """``N`` or ``LO-HI``, checked as `tessera serve` checks --prompt-len; kept as written."""
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise ValueError(f"expected N or LO-HI (whole numbers ≥ 1), got {value!r}")
    try:
        LengthDistribution.parse(str(value), "")
    except InputError as error:
        raise ValueError(error.problems[0].message) from None
    return str(value).strip()


class ServingSpec(BaseModel):
    """The requests, scheduler limits and SLOs of a serving sweep (seconds, requests/s)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    requests: StrictInt = Field(ge=1, le=MAX_REQUESTS)
    rate: float | None = Field(default=None, gt=0, allow_inf_nan=False, strict=True)
    prompt_len: str
    output_len: str
    max_batch: StrictInt = Field(default=_DEFAULTS.max_batch, ge=1)
    max_batched_tokens: StrictInt = Field(default=_DEFAULTS.max_batched_tokens, ge=1)
    kv_block_tokens: StrictInt = Field(default=_DEFAULTS.kv_block_tokens, ge=1)
    slo_ttft: float | None = Field(default=None, gt=0, allow_inf_nan=False)
    slo_tpot: float | None = Field(default=None, gt=0, allow_inf_nan=False)
    seed: StrictInt = Field(default=0, ge=0, le=2**32 - 1)

    @field_validator("prompt_len", "output_len", mode="before")
    @classmethod
    def _lengths(cls, value: Any) -> str:
        return _length(value)

    def request_list(self) -> tuple[Request, ...]:
        """The requests every point serves (the same seed, the same requests)."""
        return poisson_requests(
            self.requests,
            math.inf if self.rate is None else self.rate,
            LengthDistribution.parse(self.prompt_len, "prompt_len"),
            LengthDistribution.parse(self.output_len, "output_len"),
            self.seed,
        )

    def scheduler_config(self) -> SchedulerConfig:
        """The iteration limits of the scheduler."""
        return SchedulerConfig(
            max_batch=self.max_batch, max_batched_tokens=self.max_batched_tokens, kv_block_tokens=self.kv_block_tokens
        )

    def slo(self) -> Slo:
        """The SLOs goodput counts against (none: infinite)."""
        return Slo(self.slo_ttft or math.inf, self.slo_tpot or math.inf)


class _ServingFile(ServingSpec):
    """The block as written: SLOs are durations with their unit (stored in seconds, as the
    manifest repeats them, so `ServingSpec` reads them back as plain numbers)."""

    @field_validator("slo_ttft", "slo_tpot", mode="before")
    @classmethod
    def _duration(cls, value: Any) -> float:
        if not isinstance(value, str):
            raise ValueError(f"expected a duration with its unit, like 200 ms or 0.5 s, got {value!r}")
        return parse_quantity(value, Dimension.DURATION)


def resolve_serving(raw: Any) -> tuple[ServingSpec | None, list[tuple[Loc, str]]]:
    """The serving block (None when absent) and (location under `serving`, message) problems."""
    if raw is None:
        return None, []
    if not isinstance(raw, dict):
        return None, [((), f"expected a mapping with keys {', '.join(ServingSpec.model_fields)}")]
    try:
        return ServingSpec.model_validate(_ServingFile.model_validate(raw).model_dump()), []
    except ValidationError as error:
        problems: list[tuple[Loc, str]] = []
        for err in error.errors():
            loc = tuple(err["loc"])
            if err["type"] == "extra_forbidden":
                problems.append((loc, f"unknown key; allowed: {', '.join(ServingSpec.model_fields)}"))
            elif err["type"] == "missing":
                problems.append((loc, "missing required key"))
            else:
                message = str(err["msg"]).removeprefix("Value error, ")
                got = "" if err["type"] == "value_error" else f" (got {err.get('input')!r})"
                problems.append((loc, message + got))
        return None, problems


def served_model(canonical: str) -> str:
    """The `serve` model spec of a canonical zoo spec: without the parameters that `serve`
    sets for every step (canonical specs spell out every default, `phase` and `seq` included)."""
    family, _, params = canonical.partition(":")
    kept = [item for item in params.split(",") if item.partition("=")[0] not in PER_STEP]
    return f"{family}:{','.join(kept)}" if kept else family


def serving_model_problems(raw_models: Any, specs: tuple[str, ...]) -> list[tuple[Loc, str]]:
    """(location under `models`, message) for every model a serving sweep cannot serve: one
    that is not a decoder, or one that fixes a parameter `serve` sets for every step."""
    problems: list[tuple[Loc, str]] = []
    decoders = ", ".join(f"{family}:..." for family in DECODERS)
    for spec in specs:
        if spec.partition(":")[0] not in DECODERS:
            problems.append(((), f"{spec}: a serving sweep serves decoders ({decoders}); this is not one"))
    items = raw_models if isinstance(raw_models, list) else [raw_models]
    for index, item in enumerate(items):
        loc: Loc = (index,) if isinstance(raw_models, list) else ()
        if isinstance(item, str):
            given = [part.partition("=")[0].strip() for part in item.partition(":")[2].split(",")]
        elif isinstance(item, dict):
            given = [str(key).partition(":")[2].strip() for key in item]
        else:
            continue
        fixed = [name for name in PER_STEP if name in given]
        if fixed:
            problems.append((loc, f"{', '.join(fixed)} are set for each prefill and decode step by serving; leave them out"))
    return problems
