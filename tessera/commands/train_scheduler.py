"""`tessera train-scheduler`: train the schedule ranker of `--scheduler learned` and judge it.

Measures sampled schedules of the training networks' layers on the chips (the simulator is the
teacher), fits the `rank:pairwise` model, saves it, then prints how often its pick is within 5 %
of the exhaustive search's on held-out networks, against a random ranking, and how long each
takes to choose. The model shipped in the package was built with the defaults:

    tessera train-scheduler --out compiler/scheduling/data/schedule_ranker.json
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import TYPE_CHECKING

from tessera.commands._common import console, positive_int
from tessera.errors import InputError, Problem

if TYPE_CHECKING:
    from rich.table import Table

TRAINING_MODELS = (
    "resnet18:resolution=96",
    "mobilenetv2:width=0.5,resolution=96",
    "bert:layers=1,hidden=256,heads=4,seq=128",
)
HELD_OUT_MODELS = (
    "resnet50:resolution=64",
    "vit:layers=1,hidden=192,heads=3,resolution=64,patch=8",
    "llama:layers=1,hidden=512,heads=8,kv_heads=2,seq=64",
)
EXAMPLE_CHIPS = Path(__file__).resolve().parents[2] / "examples" / "accelerators"
DEFAULT_CHIPS = ("edge", "gemmini", "eyeriss", "tpu_v1", "tiny")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "train-scheduler",
        help="train the schedule ranker of --scheduler learned from simulated schedules",
        description="Sample schedules of the layers of --models on --chips, simulate each, fit an "
        "XGBoost rank:pairwise model, save it to --out, and print how often its pick is within 5%% "
        "of the exhaustive search on the --held-out networks.",
    )
    parser.add_argument("--out", default="schedule_ranker.json", metavar="FILE", help="where to save the model")
    parser.add_argument("--models", nargs="+", default=list(TRAINING_MODELS), metavar="MODEL", help="training networks")
    parser.add_argument("--held-out", nargs="+", default=list(HELD_OUT_MODELS), metavar="MODEL",
                        help="networks to judge the model on (never trained on)")
    parser.add_argument("--chips", nargs="+", metavar="FILE",
                        default=[str(EXAMPLE_CHIPS / f"{name}.yaml") for name in DEFAULT_CHIPS],
                        help="accelerator YAML files (default: five of the example chips)")
    parser.add_argument("--per-layer", type=positive_int, default=32, metavar="N",
                        help="candidates measured per layer and chip (drawn among those the ranker scores)")
    parser.add_argument("--top-k", type=positive_int, default=None, metavar="K",
                        help="candidates the learned scheduler measures per layer (default: its TOP_K)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the sampling and of the model")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from accel_spec import load_accelerator
    from compiler.lowering import lower
    from compiler.models import load_model
    from compiler.scheduling.learned import TOP_K
    from compiler.scheduling.ranker_training import judge, layer_cases, training_set

    try:
        from explorer.cost_model import RandomModel
        from explorer.xgboost_cost_model import BoostParams, Task, XGBoostModel
    except ImportError as error:
        raise InputError("train-scheduler", Problem("", f"needs the xgboost package, which cannot be imported: {error}")) from None
    overlap = sorted(set(args.models) & set(args.held_out))
    if overlap:
        raise InputError("--held-out", Problem("", f"network(s) also in --models: {', '.join(overlap)}"))
    chips = {Path(path).stem: load_accelerator(path) for path in args.chips}
    training = {model: lower(load_model(model)) for model in args.models}
    held_out = {model: lower(load_model(model)) for model in args.held_out}
    top_k = args.top_k or TOP_K

    started = time.perf_counter()
    data = training_set(list(layer_cases(training, chips)), args.per_layer, args.seed)
    ranker = XGBoostModel(Task.RANKING, BoostParams(rounds=150, max_depth=6, eta=0.1, seed=args.seed))
    ranker.fit(data.features, data.labels, data.groups)
    ranker.save(args.out)
    console.print(
        f"trained on {data.measurements} simulated schedules of {len(set(data.groups.tolist()))} layer×chip queries "
        f"({len(training)} networks × {len(chips)} chips) in {time.perf_counter() - started:.0f} s; saved {args.out} "
        f"({Path(args.out).stat().st_size / 1024:.0f} KiB)"
    )
    judged = judge(list(layer_cases(held_out, chips)), ranker, RandomModel(args.seed), top_k)
    console.print(_table(judged, top_k))
    return 0


def _table(judged, top_k: int) -> Table:
    from rich.table import Table

    table = Table(title=f"Held-out networks: learned pick (best of its top {top_k}, measured) vs exhaustive search")
    for column in ("network", "chip", "layers", "learned within 5%", "random within 5%", "exhaustive s", "learned s"):
        table.add_column(column, justify="left" if column in ("network", "chip") else "right")
    groups: dict[tuple[str, str], list] = {}
    for result in judged:
        groups.setdefault((result.case.network, result.case.chip_name), []).append(result)
    for (network, chip), results in [*groups.items(), (("all", ""), judged)]:
        n = len(results)
        if n == 0:
            continue
        table.add_row(
            network, chip, str(n),
            f"{sum(r.learned_within for r in results) / n:.0%}",
            f"{sum(r.random_within for r in results) / n:.0%}",
            f"{sum(r.exhaustive_s for r in results):.2f}",
            f"{sum(r.learned_s for r in results):.2f}",
        )
    return table
