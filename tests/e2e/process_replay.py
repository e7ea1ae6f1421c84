"""Process replay: what the compiler produced for every example chip × reference network.

Refactors of scheduling and codegen must not change a single schedule, cycle or instruction
(tinygrad's "process replay"). `record` captures, per case, the schedule chosen for every
layer (`describe()`), the simulated total cycles and a SHA-256 of the program's arrays;
`tests/data/golden/process_replay.json` holds the record made before a refactor, and
`test_process_replay.py` compares against it. Regenerate only for an intended change of
output, and say why in the commit:

    python tests/e2e/process_replay.py --write
"""

from __future__ import annotations

import argparse
import hashlib
import json
from pathlib import Path

import numpy as np

from accel_spec import load_accelerator
from compiler.lowering import lower
from compiler.models import load_model
from compiler.pipeline import CompileOptions
from compiler.scheduling import InfeasibleSchedule, SchedulerKind
from compiler.target.isa import Program
from tessera.api import simulate_workloads

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples" / "accelerators"
GOLDEN = ROOT / "tests" / "data" / "golden" / "process_replay.json"
CHIPS = tuple(sorted(path.stem for path in EXAMPLES.glob("*.yaml")))
LLAMA = "llama:layers=2,hidden=512,heads=8,kv_heads=2,seq=128"
MODELS = ("resnet50", "mobilenetv2", "bert:layers=2", LLAMA, f"{LLAMA},phase=decode,kv_len=256")
TOO_LARGE = {("tiny", "resnet50"), ("tiny", "bert:layers=2"), ("tiny", LLAMA)}
"""More than 2 M instructions on the 4×4 array (20.5 M, 12 M, 10 M): seconds each, not for a
replay test (`test_simulate_invariants` runs the two transformers)."""
EXHAUSTIVE = (("edge", "bert:layers=2"), ("gemmini", LLAMA), ("eyeriss", f"{LLAMA},phase=decode,kv_len=256"))
"""A few cases searched exhaustively too, so that search space is replayed as well."""
CASES: tuple[tuple[str, str, SchedulerKind], ...] = tuple(
    (chip, model, SchedulerKind.HEURISTIC) for chip in CHIPS for model in MODELS if (chip, model) not in TOO_LARGE
) + tuple((chip, model, SchedulerKind.EXHAUSTIVE) for chip, model in EXHAUSTIVE)


def case_id(chip: str, model: str, kind: SchedulerKind) -> str:
    """The key of a case in the golden file."""
    return f"{chip}|{model}|{kind.value}"


def program_digest(program: Program) -> str:
    """SHA-256 of the instruction records, the CSR dependencies (as int64) and layer names."""
    digest = hashlib.sha256()
    digest.update(np.ascontiguousarray(program.instructions).tobytes())
    digest.update(np.ascontiguousarray(program.dep_ptr, dtype=np.int64).tobytes())
    digest.update(np.ascontiguousarray(program.deps, dtype=np.int64).tobytes())
    digest.update("\n".join(program.layer_names).encode())
    return digest.hexdigest()


def record(chip: str, model: str, kind: SchedulerKind, workloads=None) -> dict:
    """What compiling and simulating `model` on `chip` produces (or why it is infeasible)."""
    accel = load_accelerator(EXAMPLES / f"{chip}.yaml")
    workloads = workloads if workloads is not None else lower(load_model(model))
    try:
        sim = simulate_workloads(accel, workloads, model, CompileOptions(scheduler=kind))
    except InfeasibleSchedule as infeasible:
        return {"infeasible": str(infeasible)}
    return {
        "schedules": [schedule.describe() for schedule in sim.compiled.schedules],
        "total_cycles": int(sim.result.total_cycles),
        "program_sha256": program_digest(sim.compiled.program),
    }


def record_all() -> dict[str, dict]:
    """Every case, each model lowered once."""
    lowered = {model: lower(load_model(model)) for model in {case[1] for case in CASES}}
    return {case_id(*case): record(*case, workloads=lowered[case[1]]) for case in CASES}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help=f"overwrite {GOLDEN.relative_to(ROOT)}")
    args = parser.parse_args()
    records = record_all()
    text = json.dumps(records, indent=1, sort_keys=True) + "\n"
    if args.write:
        GOLDEN.write_text(text)
        print(f"wrote {len(records)} cases to {GOLDEN}")
    else:
        print(text)


if __name__ == "__main__":
    main()
