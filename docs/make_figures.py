"""Regenerate the pictures of docs/reports.md and the README: `python docs/make_figures.py`.

Runs the quickstart sweep (examples/sweeps/quickstart.yaml, about a minute on 2 cores) into a
temporary folder, or reads an existing run given with --sweep, runs the same question with the
surrogate strategy (examples/sweeps/quickstart_surrogate.yaml, for the cost-model parity
figure), and simulates the edge chip on MobileNetV2 (width 0.5, 160×160) with a trace. Writes every figure of `tessera report` and of
`tessera simulate --report` as PNG into docs/figures/. Output is deterministic for a given
matplotlib version, so an unchanged model and simulator leave the files byte-identical.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from pathlib import Path

from explorer import execute_sweep
from reports.simulation_report import simulation_report
from reports.style import Format
from reports.sweep_report import sweep_report
from tessera.api import simulate

REPO = Path(__file__).resolve().parents[1]
FIGURES = REPO / "docs" / "figures"
QUICKSTART = REPO / "examples" / "sweeps" / "quickstart.yaml"
QUICKSTART_SURROGATE = REPO / "examples" / "sweeps" / "quickstart_surrogate.yaml"
CHIP = REPO / "examples" / "accelerators" / "edge.yaml"
MODEL = "mobilenetv2:width=0.5,resolution=160"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sweep", type=Path, help="an existing output folder of the quickstart sweep")
    args = parser.parse_args()
    FIGURES.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as scratch:
        folder = args.sweep
        if folder is None:
            folder = Path(scratch) / "quickstart"
            execute_sweep(QUICKSTART, folder)
        sweep = sweep_report(folder, Path(scratch) / "sweep_report", (Format.PNG,))
        learned = Path(scratch) / "quickstart_surrogate"
        execute_sweep(QUICKSTART_SURROGATE, learned)
        parity = [p for p in sweep_report(learned, Path(scratch) / "surrogate_report", (Format.PNG,)).files if p.stem == "cost_model_parity"]
        simulation = simulation_report(simulate(CHIP, MODEL, trace=True), Path(scratch) / "sim_report", (Format.PNG,))
        for path in (*sweep.files, *parity, *simulation.files):
            shutil.copyfile(path, FIGURES / path.name)
            print(FIGURES / path.name)


if __name__ == "__main__":
    main()
