"""Tessera beside SCALE-Sim on the same layers and arrays: cycles, their ratio, wall time, speed-up.

    python benchmarks/vs_scalesim.py                 # every table
    python benchmarks/vs_scalesim.py --record        # also rewrite validation/scalesim_*.json
    python benchmarks/vs_scalesim.py --skip-networks # single layers only (a few minutes)
    python benchmarks/vs_scalesim.py --skip-layers   # whole networks only (SCALE-Sim: ~20 min)

SCALE-Sim 3.0.0 is installed into a throwaway venv outside the repository (TESSERA_PEERS_VENV,
default /tmp/peers-venv/scalesim) with numpy<2.4, because it crashes with numpy 2.4. Its
configs and topologies are not in its wheel: every config is written here with
`scalesim_config_text` and every topology from the copies in tests/data/scalesim (or the
layer tables below) with `format_scalesim_topology`, so both tools read the same layers.

Tables:
1. compute cycles, no stalls (SCALE-Sim CALC mode, large SRAMs) for 4 layers × 8×8, 32×32,
   128×128 × OS, WS, IS: SCALE-Sim (Total − Stall) + 1 against Tessera's pipeline on the
   no-stall chip (see interop/scalesim.py for the +1);
2. total cycles with bandwidth stalls (USER mode, small SRAMs): SCALE-Sim Total Cycles against
   Tessera's layer cycles on the imported chip, with Tessera's stall causes;
3. whole networks (SCALE-Sim's ResNet-18, ResNet-50, MobileNet topologies) on 32×32 WS:
   Σ fold cycles by the timing model and Tessera's scheduled pipeline beside SCALE-Sim.
Wall times are medians over --repeats runs in one process each (SCALE-Sim: construction and
run_scale with traces off; Tessera: topology parse, compile and simulate).

Table 3 gives two speed-ups, each labelled:
* in-process (warm): those medians, with both tools imported in their process; Tessera's
  after one untimed run, so its kernels are loaded and its compile caches (schedules, code)
  filled, as in a notebook or a sweep worker that simulates the network again;
* whole process (CLI): one fresh interpreter per run, as a user runs each tool: for Tessera
  `python -m tessera simulate --accel CHIP.yaml --model TOPOLOGY.csv` (median over --repeats
  runs; the total cycles its --json reports are checked against the in-process run); for
  SCALE-Sim the process that made its in-process run, a fresh interpreter that imports
  scalesim and runs it (traces off, as `python -m scalesim.scale` would run it with `-s N`,
  were its `-s` not ignored: SCALE-Sim 3.0.0's scale.py always passes save_disk_space=False,
  so its CLI writes traces and is slower still). Wall seconds and CPU seconds (user + system
  of the process and its children) are both given; the machine may be shared, so CPU time is
  the steadier figure.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from accel_spec.scalesim_import import BandwidthMode, ScaleSimConfig, chip_yaml, scalesim_config_text  # noqa: E402
from accel_spec.types import Dataflow  # noqa: E402
from compiler.frontend.scalesim_topology import (  # noqa: E402
    ScaleSimTopology,
    TopologyLayout,
    format_scalesim_topology,
    parse_scalesim_topology,
    read_scalesim_topology,
    topology_graph,
)
from interop.peers import PEERS_ROOT, ProcessTime, peer_python, tessera_cli, timed_process  # noqa: E402
from compiler.target import TimingMode
from interop.scalesim import (  # noqa: E402
    SCALESIM_CYCLE_OFFSET,
    ScaleSimCase,
    ScaleSimReport,
    case_to_json,
    config_chip,
    fold_cycles,
    no_stall_config,
    simulate_case,
)

SCALESIM_REQUIREMENTS = ("scalesim==3.0.0", "numpy<2.4")
VALIDATION = ROOT / "validation"
TOPOLOGIES = ROOT / "tests" / "data" / "scalesim" / "topologies"

LAYERS = {
    "gemm_a": "Layer, M, N, K,\ngemm_a,100,70,50,\n",
    "gemm_b": "Layer, M, N, K,\ngemm_b,300,200,130,\n",
    "conv_c": "Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, Strides,\n"
    "conv_c,16,16,3,3,20,40,1,\n",
    "conv_d": "Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, Strides,\n"
    "conv_d,15,15,5,5,3,24,2,\n",
}
"""Single layers: several folds and partial folds on every array (M, K, N not multiples of 8)."""

ARRAYS = (8, 32, 128)
LARGE_SRAM_KB = 4096
STALL_CASES = (
    ("gemm_b", 8, Dataflow.WEIGHT_STATIONARY),
    ("gemm_b", 32, Dataflow.OUTPUT_STATIONARY),
    ("gemm_b", 32, Dataflow.INPUT_STATIONARY),
    ("conv_c", 8, Dataflow.OUTPUT_STATIONARY),
    ("conv_c", 32, Dataflow.WEIGHT_STATIONARY),
    ("conv_c", 32, Dataflow.INPUT_STATIONARY),
)
STALL_SRAM_KB = 8
STALL_WORDS_PER_CYCLE = 4
NETWORKS = (("ResNet-18", "Resnet18.csv"), ("ResNet-50", "Resnet50.csv"), ("MobileNet", "mobilnet_paper.csv"))
NETWORK_ARRAY = 32


@dataclass(frozen=True)
class PeerRun:
    """SCALE-Sim's per-layer reports for one topology on one config, its in-process wall times,
    and the whole process that ran every job of its batch."""

    layers: tuple[ScaleSimReport, ...]
    seconds: tuple[float, ...]
    process: ProcessTime


def config_for(name: str, size: int, dataflow: Dataflow, *, stalls: bool) -> ScaleSimConfig:
    """The SCALE-Sim config of a case: CALC with large SRAMs, or USER with small ones."""
    sram = STALL_SRAM_KB if stalls else LARGE_SRAM_KB
    return ScaleSimConfig(
        run_name=name,
        rows=size,
        cols=size,
        ifmap_kb=sram,
        filter_kb=sram,
        ofmap_kb=sram,
        dataflow=dataflow,
        bandwidth_mode=BandwidthMode.USER if stalls else BandwidthMode.CALC,
        bandwidth_words=(STALL_WORDS_PER_CYCLE if stalls else 10,),
    )


def run_scalesim(python: Path, jobs: list[tuple[ScaleSimConfig, ScaleSimTopology]], repeats: int) -> list[PeerRun]:
    """Run SCALE-Sim on every (config, topology) in one subprocess of its venv."""
    with tempfile.TemporaryDirectory(prefix="tessera-vs-scalesim-") as tmp:
        work = Path(tmp)
        specs = []
        for index, (config, topology) in enumerate(jobs):
            paths = {kind: work / f"{index}.{kind}" for kind in ("cfg", "csv", "layout")}
            paths["cfg"].write_text(scalesim_config_text(config))
            paths["csv"].write_text(format_scalesim_topology(topology))
            paths["layout"].write_text(_layout_csv(topology))
            specs.append(
                {
                    "config": str(paths["cfg"]),
                    "topology": str(paths["csv"]),
                    "layout": str(paths["layout"]),
                    "gemm": topology.layout is TopologyLayout.GEMM,
                    "out": str(work / f"out{index}"),
                    "repeats": repeats,
                }
            )
        (work / "jobs.json").write_text(json.dumps(specs))
        (work / "driver.py").write_text(_DRIVER)
        done, process = timed_process([str(python), str(work / "driver.py"), str(work / "jobs.json")], cwd=work)
        if done.returncode != 0:
            raise RuntimeError(f"SCALE-Sim failed:\n{done.stderr[-3000:]}")
        results = json.loads(done.stdout.splitlines()[-1])
    return [
        PeerRun(tuple(ScaleSimReport(**layer) for layer in run["layers"]), tuple(run["seconds"]), process)
        for run in results
    ]


def _layout_csv(topology: ScaleSimTopology) -> str:
    """A layout file for SCALE-Sim 3 (it reads one even with custom layouts off; values unused)."""
    header = "Layer name," + ",".join(f"c{i}" for i in range(20)) + ",\n"
    return header + "".join(f"{layer.name}," + ",".join(["1"] * 20) + ",\n" for layer in topology.layers)


_DRIVER = """
import contextlib, io, json, os, sys, time
from scalesim.scale_sim import scalesim

results = []
for job in json.load(open(sys.argv[1])):
    seconds = []
    for repeat in range(job["repeats"]):
        os.makedirs(job["out"] + "/run" + str(repeat))
        with contextlib.redirect_stdout(io.StringIO()):
            start = time.perf_counter()
            sim = scalesim(save_disk_space=True, verbose=False, config=job["config"],
                           topology=job["topology"], layout=job["layout"], input_type_gemm=job["gemm"])
            sim.run_scale(top_path=job["out"] + "/run" + str(repeat))
            seconds.append(time.perf_counter() - start)
    layers = []
    for layer in sim.runner.single_layer_sim_object_list:
        compute = layer.get_compute_report_items()
        detail = layer.get_detail_report_items()
        layers.append({
            "total_cycles": int(compute[1]), "stall_cycles": int(compute[2]),
            "ifmap_sram_reads": int(detail[2]), "filter_sram_reads": int(detail[5]),
            "ofmap_sram_writes": int(detail[8]), "ifmap_dram_reads": int(detail[11]),
            "filter_dram_reads": int(detail[14]), "ofmap_dram_writes": int(detail[17]),
        })
    results.append({"seconds": seconds, "layers": layers})
print(json.dumps(results))
"""


def tessera_seconds(config: ScaleSimConfig, topology: ScaleSimTopology, repeats: int) -> tuple[float, int, int]:
    """Median wall time of parse + compile + simulate, in process and warm (after one untimed
    run), and (total cycles, compute cycles)."""
    from tessera.api import simulate

    chip = config_chip(config)
    text = format_scalesim_topology(topology)
    times = []
    for _ in range(repeats + 1):
        start = time.perf_counter()
        parsed = parse_scalesim_topology(text, topology.source, name=topology.name)
        result = simulate(chip, topology_graph(parsed)).result
        times.append(time.perf_counter() - start)
    times = times[1:]  # the first run imports, loads the compiled kernels and fills the compile caches
    compute = sum(layer.compute_cycles for layer in result.layers)
    return statistics.median(times), int(result.total_cycles), int(compute)


def tessera_process(config: ScaleSimConfig, topology: ScaleSimTopology, repeats: int) -> tuple[ProcessTime, int]:
    """Median wall and CPU time of a fresh `python -m tessera simulate` process on the config's
    chip and the topology file, and the total cycles it reports."""
    with tempfile.TemporaryDirectory(prefix="tessera-vs-scalesim-cli-") as tmp:
        chip, model = Path(tmp) / "chip.yaml", Path(tmp) / f"{topology.name}.csv"
        chip.write_text(chip_yaml(config, f"{config.run_name}.cfg"))
        model.write_text(format_scalesim_topology(topology))
        process, document = tessera_cli(chip, str(model), repeats)
    return process, int(document["total_cycles"])


def _row(*cells: object, widths: tuple[int, ...]) -> str:
    return "  ".join(str(cell).rjust(width) for cell, width in zip(cells, widths))


def single_layers(python: Path, repeats: int) -> tuple[list[ScaleSimCase], list[ScaleSimCase]]:
    """Tables 1 and 2; returns the compute and stall cases for --record."""
    compute_jobs = [
        (name, size, dataflow)
        for name in LAYERS
        for size in ARRAYS
        for dataflow in Dataflow
    ]
    jobs = [
        (config_for(f"{name}-{size}x{size}-{dataflow.short.lower()}", size, dataflow, stalls=False), _topology(name))
        for name, size, dataflow in compute_jobs
    ] + [
        (config_for(f"{name}-{size}x{size}-{dataflow.short.lower()}-bw{STALL_WORDS_PER_CYCLE}", size, dataflow, stalls=True), _topology(name))
        for name, size, dataflow in STALL_CASES
    ]
    runs = run_scalesim(python, jobs, repeats)
    cases = [ScaleSimCase(config.run_name, topology, config, run.layers[0]) for (config, topology), run in zip(jobs, runs)]
    compute_cases, stall_cases = cases[: len(compute_jobs)], cases[len(compute_jobs) :]

    widths = (22, 12, 12, 9, 10, 10, 9)
    print("\n1. Compute cycles without stalls: SCALE-Sim (Total - Stall) + 1 vs Tessera (no-stall chip)")
    print(_row("case", "SCALE-Sim+1", "Tessera", "ratio", "SS s", "Tessera s", "speed-up", widths=widths))
    for case, run in zip(compute_cases, runs):
        seconds, _, compute = tessera_seconds(no_stall_config(case.config), case.topology, repeats)
        reference = case.report.compute_cycles + SCALESIM_CYCLE_OFFSET
        peer = statistics.median(run.seconds)
        print(_row(case.id, reference, compute, f"{compute / reference:.4f}", f"{peer:.3f}", f"{seconds:.4f}", f"{peer / seconds:.0f}x", widths=widths))

    widths = (26, 10, 10, 8, 9, 9, 9, 9, 40)
    print(f"\n2. Total cycles with bandwidth stalls ({STALL_SRAM_KB} KiB SRAMs, USER bandwidth {STALL_WORDS_PER_CYCLE} words/cycle),"
          " Tessera's own mapping (--timing tessera)")
    print(_row("case", "SCALE-Sim", "Tessera", "ratio", "SS stall", "T stall", "SS DRAMrd", "T DRAMrd", "Tessera stall causes", widths=widths))
    for case in stall_cases:
        layer = simulate_case(case, no_stall=False, timing=TimingMode.TESSERA)
        report = case.report
        causes = ", ".join(f"{k}={v}" for k, v in layer.stall_by_cause.items() if v)
        ss_reads = report.ifmap_dram_reads + report.filter_dram_reads
        print(_row(
            case.id, report.total_cycles, layer.cycles, f"{layer.cycles / report.total_cycles:.3f}",
            report.stall_cycles, layer.cycles - layer.compute_cycles, ss_reads, layer.dram_read_bytes, causes,
            widths=widths,
        ))  # fmt: skip
    return compute_cases, stall_cases


def _topology(name: str) -> ScaleSimTopology:
    return parse_scalesim_topology(LAYERS[name], f"benchmarks/vs_scalesim.py:{name}", name=name)


def networks(python: Path | None, repeats: int, chosen: tuple[str, ...]) -> None:
    """Table 3: SCALE-Sim's shipped network topologies on a 32×32 WS array.

    "formula" is Σ `fold_cycles` over the layers (the timing model on each whole layer);
    "pipeline" is Tessera's scheduled program on the no-stall chip, which may split a layer's
    streamed dimension into tiles that each pay the array's fill and drain again. Speed-ups
    are SCALE-Sim's time over Tessera's, in-process (warm) and whole process (CLI): module
    docstring. With `python` None (SCALE-Sim could not run) only Tessera's side is filled in.
    """
    widths = (10, 7, 12, 12, 12, 7, 8, 10, 9, 8, 8, 10, 8, 8, 10)
    print(f"\n3. Whole networks, {NETWORK_ARRAY}x{NETWORK_ARRAY} WS, no stalls: Σ compute cycles (SCALE-Sim: Σ (Total - Stall) + 1 per layer)")
    print("   speed-up in-process (warm): SS s / Tessera s; whole process (CLI): SCALE-Sim's process / `tessera simulate`'s, wall and CPU")
    print(_row("network", "layers", "SCALE-Sim+1", "formula", "pipeline", "ratio", "SS s", "Tessera s", "warm",
               "SS wall", "T wall", "CLI wall", "SS CPU", "T CPU", "CLI CPU", widths=widths))  # fmt: skip
    for label, file in NETWORKS:
        if label not in chosen:
            continue
        topology = read_scalesim_topology(TOPOLOGIES / file)
        config = config_for(label, NETWORK_ARRAY, Dataflow.WEIGHT_STATIONARY, stalls=False)
        formula = sum(fold_cycles(layer, config.dataflow, config.rows, config.cols) for layer in topology.layers)
        seconds, total, compute = tessera_seconds(no_stall_config(config), topology, repeats)
        cli, cli_total = tessera_process(no_stall_config(config), topology, repeats)
        if cli_total != total:
            raise RuntimeError(f"{label}: tessera simulate reports {cli_total} cycles, in process {total}")
        if python is None:
            na = "n/a"
            cells = (na, formula, compute, na, na, f"{seconds:.3f}", na, na, f"{cli.wall_s:.2f}", na, na, f"{cli.cpu_s:.2f}", na)
        else:
            (run,) = run_scalesim(python, [(config, topology)], 1)  # one job: its process is SCALE-Sim's whole run
            reference = sum(layer.compute_cycles + SCALESIM_CYCLE_OFFSET for layer in run.layers)
            peer = statistics.median(run.seconds)
            cells = (
                reference, formula, compute, f"{compute / reference:.4f}",
                f"{peer:.1f}", f"{seconds:.3f}", f"{peer / seconds:.0f}x",
                f"{run.process.wall_s:.1f}", f"{cli.wall_s:.2f}", f"{run.process.wall_s / cli.wall_s:.0f}x",
                f"{run.process.cpu_s:.1f}", f"{cli.cpu_s:.2f}", f"{run.process.cpu_s / cli.cpu_s:.0f}x",
            )  # fmt: skip
        print(_row(label, len(topology.layers), *cells, widths=widths))


def record(compute_cases: list[ScaleSimCase], stall_cases: list[ScaleSimCase], python: Path) -> None:
    """Write the reference figures with their provenance into validation/."""
    version = subprocess.run(
        [str(python), "-c", "import importlib.metadata as m; print(m.version('scalesim'), m.version('numpy'))"],
        capture_output=True, text=True, check=True,
    ).stdout.split()  # fmt: skip
    provenance = {
        "tool": f"SCALE-Sim {version[0]} (pip install scalesim=={version[0]}, numpy {version[1]})",
        "command": "python benchmarks/vs_scalesim.py --record: scalesim.scale_sim.scalesim(save_disk_space=True, "
        "config=CFG, topology=CSV, layout=LAYOUT, input_type_gemm=GEMM).run_scale(); figures from "
        "single_layer_sim.get_compute_report_items() / get_detail_report_items() (= COMPUTE_REPORT.csv, "
        "DETAILED_ACCESS_REPORT.csv)",
        "config": "each case's config block, written as a SCALE-Sim 3 .cfg by "
        "accel_spec.scalesim_import.scalesim_config_text (offsets 0/1e7/2e7, request buffers 32, "
        "custom layouts off, sparsity off, SRAM bank bandwidth = Bandwidth when null)",
        "recorded": time.strftime("%Y-%m-%d"),
    }
    for name, cases, note in (
        ("scalesim_compute.json", compute_cases, "CALC bandwidth mode and large SRAMs: no stalls"),
        ("scalesim_stalls.json", stall_cases, "USER bandwidth mode and small SRAMs: bandwidth stalls"),
    ):
        document = {"provenance": {**provenance, "cases": note}, "cases": [case_to_json(case) for case in cases]}
        (VALIDATION / name).write_text(json.dumps(document, indent=1) + "\n")
        print(f"wrote {VALIDATION / name} ({len(cases)} cases)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=3, help="runs per timing (median)")
    parser.add_argument("--record", action="store_true", help="rewrite validation/scalesim_*.json")
    parser.add_argument("--skip-networks", action="store_true", help="single layers only")
    parser.add_argument("--skip-layers", action="store_true", help="whole networks only")
    parser.add_argument("--networks", default=",".join(label for label, _ in NETWORKS),
                        help="comma-separated whole networks to run (default: all)")  # fmt: skip
    args = parser.parse_args()
    chosen = tuple(args.networks.split(","))
    unknown = sorted(set(chosen) - {label for label, _ in NETWORKS})
    if unknown:
        parser.error(f"--networks: unknown {unknown}; choose from {[label for label, _ in NETWORKS]}")
    try:
        python = peer_python("scalesim", SCALESIM_REQUIREMENTS, "scalesim.scale_sim")
    except (OSError, subprocess.CalledProcessError, RuntimeError) as error:
        python = None
        print(f"SCALE-Sim could not run (no venv at {PEERS_ROOT / 'scalesim'} and installing it failed: {error}).\n"
              "Tables 1 and 2 need its reports and are skipped; table 3 gives Tessera's side only (n/a: SCALE-Sim's).")  # fmt: skip
    if python is not None and not args.skip_layers:
        compute_cases, stall_cases = single_layers(python, args.repeats)
        if args.record:
            record(compute_cases, stall_cases, python)
    if not args.skip_networks:
        networks(python, args.repeats, chosen)


if __name__ == "__main__":
    main()
