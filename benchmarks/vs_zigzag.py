"""Tessera's energy model with ZigZag's constants, beside ZigZag, on ResNet-18.

    python benchmarks/vs_zigzag.py [--objective latency|energy] [--zigzag-out DIR] [--layers]

ZigZag (`zigzag-dse`, plus `six`, which its 3.9.1 wheel imports without declaring) runs in a
throwaway venv (TESSERA_PEERS_VENV, default /tmp/peers-venv/zigzag) on its own resnet18.onnx
and hardware files (zigzag/inputs/hardware/{tpu_like,eyeriss_like}.yaml), LOMA searching each
layer's temporal mapping for --objective (latency, the default, or energy), and Tessera's search
schedules for the same objective (`simulate --objective`), so the two tools pick their mappings
by one rule. Its per-layer results are read from the JSON files it dumps; with --zigzag-out, a
folder that already holds them (for that objective) is reused instead of re-running it.

Tessera models the same chips with ZigZag's constants as `overrides` (the YAML below, one
comment per constant naming the ZigZag figure it restates) and simulates each of the 21 Conv
and Gemm layers of the same ONNX file on its own, as ZigZag evaluates them: every layer reads
its inputs and weights from DRAM and writes its outputs there. Energies are compared over the
components both tools count (MACs, per-PE register files, SRAMs, DRAM); Tessera's clock,
leakage, pipeline registers, wires and vector unit have no counterpart in ZigZag and are left
out. ZigZag's cost per access of `bandwidth_max` bits becomes Tessera's cost per byte.

The second table runs the same chips with Tessera's own cited constants (no overrides) and
counts every component: the gap to ZigZag there is the constants (docs/technology.md).

The last table times both tools on the whole network, ZigZag's resnet18.onnx, on each chip
(Tessera's weight-stationary chip with ZigZag's constants), two ways, each labelled:
* in-process (warm): ZigZag's `get_hardware_performance_zigzag` call (its LOMA search and
  evaluation of every layer) against Tessera's `simulate(chip, resnet18.onnx)`, the median of
  --repeats after one untimed run (kernels loaded, compile caches filled);
* whole process (CLI): the fresh interpreter that imported ZigZag and made that call against
  a fresh `python -m tessera simulate --accel CHIP.yaml --model resnet18.onnx` (median of
  --repeats), wall and CPU seconds (user + system, with children).
ZigZag is timed on the run that produces the energy tables, so it runs once per chip; with
--zigzag-out reusing earlier dumps it does not run and its times are not given.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from accel_spec import load_accelerator_text  # noqa: E402
from interop.peers import PEERS_ROOT, ProcessTime, peer_python, tessera_cli, timed_process  # noqa: E402

ZIGZAG_REQUIREMENTS = ("zigzag-dse==3.9.1", "six")
SHARED = ("mac", "pe_storage", "dram")
"""Tessera energy components ZigZag also counts (with every `sram:<buffer>`)."""

TPU_LIKE = """
name: zigzag_tpu_like
description: ZigZag inputs/hardware/tpu_like.yaml in Tessera terms, with ZigZag's energies
clock: 1 GHz
technology: 28 nm
matrix:
  rows: 32
  cols: 32
  dataflows: [{dataflows}]
  input_precision: int8
  accumulator_precision: int16        # ZigZag's partial sums: O precision 16 bits
  pe_storage: {{weight: 128 B, output: 2 B}}   # rf_128B (I2) and rf_2B (O) in each PE
buffers:
  sram_2MB: {{capacity: 2 MiB, holds: [input, output]}}
  weight_rf: {{capacity: 128 KiB, holds: [weight]}}  # the PEs' rf_128B seen as one buffer
vector: {{lanes: 32}}
dram: {{type: DDR4, bandwidth: 8 GB/s, latency: 1 ns}}
overrides:
  mac_energy: 0.04 pJ                                   # operational_array unit_energy
  pe_storage_energy_per_byte:
    weight: 0.095 pJ                                    # rf_128B: 0.095 pJ per 8-bit access
    output: 0.0105 pJ                                   # rf_2B: 0.021 pJ per 16-bit access
  buffers:
    sram_2MB: {{read_energy_per_byte: 1.6256 pJ, write_energy_per_byte: 1.478125 pJ}}  # 416.16, 378.4 pJ / 2048 bits
    weight_rf: {{read_energy_per_byte: 1e-9 pJ, write_energy_per_byte: 0.095 pJ}}     # filled from DRAM; read = the PEs' rf
  dram_read_energy_per_bit: 10.9375 pJ                 # 700 pJ / 64 bits
  dram_write_energy_per_bit: 11.71875 pJ               # 750 pJ / 64 bits
"""

EYERISS_LIKE = """
name: zigzag_eyeriss_like
description: ZigZag inputs/hardware/eyeriss_like.yaml in Tessera terms, with ZigZag's energies
clock: 1 GHz
technology: 65 nm
matrix:
  rows: 12
  cols: 14
  dataflows: [{dataflows}]
  input_precision: int8
  accumulator_precision: int16        # ZigZag's partial sums: O precision 16 bits
  pe_storage: {{input: 64 B, weight: 64 B, output: 16 B}}   # rf_64B_A, rf_64B_W, rf_16B
buffers:
  sram_1M: {{capacity: 1 MiB, holds: [input, output]}}
  sram_64KB: {{capacity: 64 KiB, holds: [weight]}}
vector: {{lanes: 14}}
dram: {{type: DDR3, bandwidth: 8 GB/s, latency: 1 ns}}
overrides:
  mac_energy: 0.5 pJ                                    # operational_array unit_energy
  pe_storage_energy_per_byte:
    input: 1.25 pJ                                      # rf_64B_A: read 1.0, write 1.5 pJ per 8 bits (mean)
    weight: 1.0 pJ                                      # rf_64B_W: read 1.0 pJ per 8 bits
    output: 0.875 pJ                                    # rf_16B: read 1.5 + write 2.0 pJ per 16-bit sum
  buffers:
    sram_1M: {{read_energy_per_byte: 2.083333 pJ, write_energy_per_byte: 2.708333 pJ}}   # 100, 130 pJ / 384 bits
    sram_64KB: {{read_energy_per_byte: 1.25 pJ, write_energy_per_byte: 1.5625 pJ}}       # 20, 25 pJ / 128 bits
  dram_read_energy_per_bit: 15.625 pJ                  # 1000 pJ / 64 bits
  dram_write_energy_per_bit: 15.625 pJ
"""

EYERISS_MAPPING = """- name: default
  spatial_mapping:
    D1:
      - K, 14
    D2:
      - C, 12
  memory_operand_links:
    O: O
    W: I2
    I: I1
"""
"""ZigZag ships no mapping for eyeriss_like; this unrolls K over its 14 and C over its 12 PEs."""


@dataclass(frozen=True)
class Case:
    """One chip: ZigZag's files, Tessera's chip template, and which Tessera component each ZigZag
    memory level corresponds to (None: Tessera has no such level)."""

    label: str
    hardware: str
    mapping: str
    chip: str
    levels: Mapping[str, str | None]


CASES = (
    Case("TPU-like", "tpu_like.yaml", "tpu_like.yaml", TPU_LIKE,
         {"rf_128B": "pe_storage", "rf_2B": "pe_storage", "sram_2MB": "sram:sram_2MB", "dram": "dram"}),
    Case("Eyeriss-like", "eyeriss_like.yaml", "eyeriss_like_mapping.yaml", EYERISS_LIKE,
         {"rf_64B_A": "pe_storage", "rf_64B_W": "pe_storage", "rf_16B": "pe_storage", "sram_8KB": None,
          "sram_64KB": "sram:sram_64KB", "sram_1M": "sram:sram_1M", "dram": "dram"}),
)  # fmt: skip
DATAFLOWS = ("weight-stationary", "output-stationary", "weight-stationary, output-stationary")

_DRIVER = """
import json, os, sys, time
import zigzag
from zigzag.api import get_hardware_performance_zigzag

inputs = os.path.join(os.path.dirname(zigzag.__file__), "inputs")
hardware, mapping, dump, objective = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
if not os.path.isabs(mapping):
    mapping = os.path.join(inputs, "mapping", mapping)
start = time.perf_counter()
get_hardware_performance_zigzag(
    workload=os.path.join(inputs, "workload", "resnet18.onnx"),
    accelerator=os.path.join(inputs, "hardware", hardware),
    mapping=mapping, opt=objective, dump_folder=dump, loma_show_progress_bar=False)
print(json.dumps({"seconds": time.perf_counter() - start}))
"""


@dataclass(frozen=True)
class ZigZagLayer:
    """One layer's ZigZag result: pJ by Tessera component (and `mac`), cycles."""

    name: str
    energy_pj: Mapping[str, float]
    cycles: float

    @property
    def total_pj(self) -> float:
        return sum(self.energy_pj.values())


@dataclass(frozen=True)
class PeerTime:
    """One ZigZag run: its call in process, and its whole process."""

    in_process_s: float
    process: ProcessTime


def run_zigzag(python: Path, case: Case, folder: Path, objective: str) -> PeerTime | None:
    """Run ZigZag for `case`, its mappings searched for `objective`, dumping its layers into
    `folder`, and its times; None (not run) when the dumps are already there."""
    if any(folder.glob("*_complete.json")):
        return None
    with tempfile.TemporaryDirectory(prefix="tessera-vs-zigzag-") as tmp:
        mapping = case.mapping
        if mapping.endswith("_mapping.yaml"):
            mapping = str(Path(tmp) / mapping)
            Path(mapping).write_text(EYERISS_MAPPING)
        driver = Path(tmp) / "driver.py"
        driver.write_text(_DRIVER)
        done, process = timed_process([str(python), str(driver), case.hardware, mapping, str(folder), objective], cwd=tmp)
    if done.returncode != 0:
        raise RuntimeError(f"ZigZag failed:\n{done.stderr[-3000:]}")
    return PeerTime(json.loads(done.stdout.splitlines()[-1])["seconds"], process)


def zigzag_workload(python: Path) -> Path:
    """The resnet18.onnx inside ZigZag's wheel."""
    code = "import os, zigzag; print(os.path.join(os.path.dirname(zigzag.__file__), 'inputs', 'workload', 'resnet18.onnx'))"
    return Path(subprocess.run([str(python), "-c", code], capture_output=True, text=True, check=True).stdout.strip())


def zigzag_layers(folder: Path, case: Case) -> dict[str, ZigZagLayer]:
    """ZigZag's per-layer energy by Tessera component, from the JSON files it dumped."""
    layers = {}
    for path in sorted(folder.glob("*_complete.json")):
        data = json.loads(path.read_text())
        layer, energy, latency = data["inputs"]["layer"], data["outputs"]["energy"], data["outputs"]["latency"]
        hierarchy = data["inputs"]["accelerator"]["mem_hierarchy_dict"]
        by_component: dict[str, float] = {"mac": energy["operational_energy"]}
        for operand, levels in energy["memory_energy_breakdown_per_level"].items():
            memory_operand = layer["memory_operand_links"][operand]
            for level, pj in zip(hierarchy[memory_operand], levels, strict=True):
                component = case.levels[level.split("instance=")[1].split(",")[0]] or "ZigZag only"
                by_component[component] = by_component.get(component, 0.0) + pj
        cycles = sum(latency.values())
        layers[layer["name"]] = ZigZagLayer(layer["name"], by_component, cycles)
    return layers


def layer_specs(onnx: Path) -> dict[str, str]:
    """Each Conv and Gemm layer of the ONNX file as a single-layer zoo spec, by node name."""
    from compiler.lowering import lower
    from compiler.models import load_model

    specs = {}
    for workload in lower(load_model(str(onnx))):
        conv, gemm = workload.conv, workload.gemm
        if conv is not None:
            pad = max(0, -(-((conv.out_h - 1) * conv.stride_h + conv.kernel_h - conv.in_h) // 2))
            specs[workload.name] = (
                f"conv2d:h={conv.in_h},w={conv.in_w},c={conv.in_c},k={conv.out_c},r={conv.kernel_h},"
                f"s={conv.kernel_w},stride={conv.stride_h},pad={pad},groups={conv.groups}"
            )
        elif gemm is not None:
            specs[workload.name] = f"gemm:m={gemm.m},k={gemm.k},n={gemm.n}"
    return specs


def run_tessera(
    chip_yaml: str, specs: Mapping[str, str], shared_only: bool, objective: str
) -> dict[str, tuple[dict[str, float], float]]:
    """Each layer alone on the chip, scheduled for `objective`: (pJ by component, cycles), by layer name."""
    from tessera.api import simulate

    chip = load_accelerator_text(chip_yaml, "vs_zigzag chip")
    results = {}
    for name, spec in specs.items():
        result = simulate(chip, spec, objective=objective).result
        energy = {
            key: value * 1e12
            for key, value in result.energy_breakdown.items()
            if not shared_only or key in SHARED or key.startswith("sram:")
        }
        results[name] = (energy, float(result.total_cycles))
    return results


def tessera_times(chip_yaml: str, model: str, repeats: int) -> tuple[float, ProcessTime]:
    """Tessera on the whole network: the median in-process (warm) seconds of `simulate` after
    one untimed run, and the median whole `python -m tessera simulate` process; the two must
    report the same cycles."""
    from tessera.api import simulate

    chip = load_accelerator_text(chip_yaml, "vs_zigzag chip")
    seconds = []
    for _ in range(repeats + 1):
        start = time.perf_counter()
        cycles = simulate(chip, model).result.total_cycles
        seconds.append(time.perf_counter() - start)
    with tempfile.TemporaryDirectory(prefix="tessera-vs-zigzag-cli-") as tmp:
        path = Path(tmp) / "chip.yaml"
        path.write_text(chip_yaml)
        process, document = tessera_cli(path, model, repeats)
    if document["total_cycles"] != cycles:
        raise RuntimeError(f"tessera simulate reports {document['total_cycles']} cycles, in process {cycles}")
    return statistics.median(seconds[1:]), process


def _print_times(rows: list[tuple[str, PeerTime | None, float, ProcessTime]], model: str) -> None:
    """The timing table: ZigZag (None: not run here) beside Tessera, in process and whole process."""
    widths = (14, 10, 10, 8, 9, 8, 9, 9, 8, 9)
    print(f"\nTime for the whole network ({model}): in-process (warm) and whole process (CLI), seconds and ZigZag / Tessera")
    print(_row(("chip", "ZigZag s", "Tessera s", "warm", "ZZ wall", "T wall", "CLI wall", "ZZ CPU", "T CPU", "CLI CPU"), widths))
    for label, peer, seconds, cli in rows:
        if peer is None:
            na = "n/a"
            cells = (label, na, f"{seconds:.3f}", na, na, f"{cli.wall_s:.2f}", na, na, f"{cli.cpu_s:.2f}", na)
        else:
            cells = (
                label, f"{peer.in_process_s:.1f}", f"{seconds:.3f}", f"{peer.in_process_s / seconds:.0f}x",
                f"{peer.process.wall_s:.1f}", f"{cli.wall_s:.2f}", f"{peer.process.wall_s / cli.wall_s:.0f}x",
                f"{peer.process.cpu_s:.1f}", f"{cli.cpu_s:.2f}", f"{peer.process.cpu_s / cli.cpu_s:.0f}x",
            )  # fmt: skip
        print(_row(cells, widths))


def _row(cells: tuple[object, ...], widths: tuple[int, ...]) -> str:
    return "  ".join(str(cell).rjust(width) for cell, width in zip(cells, widths, strict=True))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--zigzag-out", type=Path, help="folder for ZigZag's per-layer dumps (reused when present)")
    parser.add_argument("--layers", action="store_true", help="also print every layer")
    parser.add_argument("--repeats", type=int, default=3, help="Tessera runs per timing (median)")
    parser.add_argument("--objective", choices=("latency", "energy"), default="latency",
                        help="what both tools search each layer's mapping for")
    args = parser.parse_args()
    try:
        python = peer_python("zigzag", ZIGZAG_REQUIREMENTS, "zigzag.api")
    except (OSError, subprocess.CalledProcessError, RuntimeError) as error:
        print(f"ZigZag could not run (no venv at {PEERS_ROOT / 'zigzag'} and installing it failed: {error}).\n"
              "No energy comparison; the timing table gives Tessera's side only (n/a: ZigZag's), on Tessera's zoo "
              "resnet18 in place of ZigZag's resnet18.onnx.")  # fmt: skip
        _print_times([(case.label, None, *tessera_times(case.chip.format(dataflows=DATAFLOWS[0]), "resnet18", args.repeats))
                      for case in CASES], "Tessera's zoo resnet18")  # fmt: skip
        return
    onnx = zigzag_workload(python)
    specs = layer_specs(onnx)
    times = []
    with tempfile.TemporaryDirectory() as tmp:
        root = args.zigzag_out or Path(tmp)
        for case in CASES:
            folder = root / args.objective / case.label
            folder.mkdir(parents=True, exist_ok=True)
            peer_time = run_zigzag(python, case, folder, args.objective)
            peer = zigzag_layers(folder, case)
            missing = sorted(set(peer) ^ set(specs))
            if missing:
                raise RuntimeError(f"layers differ between ZigZag and Tessera: {missing}")
            _print_case(case, peer, specs, args.layers, args.objective)
            times.append((case.label, peer_time, *tessera_times(case.chip.format(dataflows=DATAFLOWS[0]), str(onnx), args.repeats)))
    _print_times(times, f"ZigZag's {onnx.name}")


def _print_case(
    case: Case, peer: Mapping[str, ZigZagLayer], specs: Mapping[str, str], layers: bool, objective: str
) -> None:
    peer_total = sum(layer.total_pj for layer in peer.values())
    peer_components: dict[str, float] = {}
    for layer in peer.values():
        for key, value in layer.energy_pj.items():
            peer_components[key] = peer_components.get(key, 0.0) + value
    print(f"\n{case.label}: ResNet-18, 21 Conv/Gemm layers, each alone; ZigZag LOMA vs Tessera heuristic, both for {objective}")
    print(f"ZigZag: {peer_total / 1e6:.1f} uJ, " + ", ".join(f"{k} {v / 1e6:.1f}" for k, v in sorted(peer_components.items())))
    header, widths = (
        ("Tessera dataflows", "ZigZag's constants uJ", "ratio", "cited constants uJ", "ratio", "cycles ratio"),
        (38, 21, 6, 18, 6, 12),
    )
    print(_row(header, widths))
    for dataflows in DATAFLOWS:
        chip = case.chip.format(dataflows=dataflows)
        same = run_tessera(chip, specs, shared_only=True, objective=objective)
        cited = run_tessera(_without_overrides(chip), specs, shared_only=False, objective=objective)
        total = sum(sum(energy.values()) for energy, _ in same.values())
        total_cited = sum(sum(energy.values()) for energy, _ in cited.values())
        cycles = sum(c for _, c in same.values()) / sum(layer.cycles for layer in peer.values())
        print(_row((f"[{dataflows}]", f"{total / 1e6:.1f}", f"{total / peer_total:.2f}", f"{total_cited / 1e6:.1f}",
                    f"{total_cited / peer_total:.2f}", f"{cycles:.2f}"), widths))  # fmt: skip
        components: dict[str, float] = {}
        for energy, _ in same.values():
            for key, value in energy.items():
                components[key] = components.get(key, 0.0) + value
        print(
            " " * 40
            + "Tessera with ZigZag's constants: "
            + ", ".join(f"{k} {v / 1e6:.1f}" for k, v in sorted(components.items()))
        )
        if layers:
            for name, (energy, _) in same.items():
                mine, theirs = sum(energy.values()), peer[name].total_pj
                print(f"    {name:48s} {specs[name]:62s} {theirs / 1e6:8.2f} {mine / 1e6:8.2f} {mine / theirs:5.2f}")


def _without_overrides(chip_yaml: str) -> str:
    """The chip with Tessera's cited constants: everything from `overrides:` on dropped."""
    return chip_yaml.split("overrides:")[0]


if __name__ == "__main__":
    main()
