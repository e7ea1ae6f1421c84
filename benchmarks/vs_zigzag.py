"""Tessera beside ZigZag on ResNet-18 for ZigZag's TPU-like and Eyeriss-like chips.

    python benchmarks/vs_zigzag.py [--repeats 5]

ZigZag (`zigzag-dse`, plus `six`, which its 3.9.1 wheel imports without declaring) is installed
into a throwaway venv (TESSERA_PEERS_VENV, default /tmp/peers-venv/zigzag). Both tools read the
same network, the resnet18.onnx that ships inside ZigZag's wheel (zigzag/inputs/workload), and
ZigZag's own hardware files (zigzag/inputs/hardware/{tpu_like,eyeriss_like}.yaml). Tessera's
chips below restate those files in Tessera's terms; ZigZag describes no clock, so cycles are
compared and Tessera's chips run at 1 GHz. ZigZag searches temporal mappings per layer
(LOMA, latency-optimal); Tessera schedules with its heuristic search.

Modelling differences that explain the gaps (printed under the table):
- ZigZag's per-PE register files (TPU-like: 128 B of weights per PE) are one Tessera weight
  buffer of the same total size, and ZigZag's shared input/output SRAM is one Tessera buffer
  holding input and output.
- ZigZag charges each memory level's read/write energy from its YAML (pJ per access) and
  0.04 / 0.5 pJ per MAC; Tessera uses its cited technology tables at 28 nm, so energies are
  compared for order of magnitude only.
- ZigZag evaluates the 21 Conv and Gemm layers of ResNet-18 (its run saves 21 cost-model
  evaluations) and sums them; Tessera also runs the residual adds, ReLUs and pooling on its
  vector unit (fused into the producing layer where it can) and overlaps each layer's DRAM
  transfers with compute by double buffering, so cycles differ by mapping and by what is
  counted, not by the array's arithmetic.
- Energy: ZigZag charges 700/750 pJ per 64-bit DRAM read/write and the per-access SRAM costs
  of its YAML; Tessera adds leakage, vector-unit and accumulator energy from its own tables.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from accel_spec import load_accelerator_text  # noqa: E402
from interop.peers import peer_python  # noqa: E402

ZIGZAG_REQUIREMENTS = ("zigzag-dse==3.9.1", "six")

TPU_LIKE = """
name: zigzag_tpu_like
description: ZigZag inputs/hardware/tpu_like.yaml in Tessera terms
clock: 1 GHz
technology: 28 nm
matrix: {rows: 32, cols: 32, dataflows: [weight-stationary], input_precision: int8, accumulator_precision: int32}
buffers:
  sram_2MB: {capacity: 2 MiB, holds: [input, output]}    # sram_2MB: 16777216 bits, I1 and O
  weight_rf: {capacity: 128 KiB, holds: [weight]}        # rf_128B: 1024 bits in each of 32x32 PEs
vector: {lanes: 32}
dram: {type: DDR4, bandwidth: 8 GB/s, latency: 1 ns}      # dram port: 64 bits/cycle
"""

EYERISS_LIKE = """
name: zigzag_eyeriss_like
description: ZigZag inputs/hardware/eyeriss_like.yaml in Tessera terms
clock: 1 GHz
technology: 65 nm
matrix: {rows: 12, cols: 14, dataflows: [weight-stationary], input_precision: int8, accumulator_precision: int32}
buffers:
  global_buffer: {capacity: 1 MiB, holds: [input, output]}  # 8388608 bits, I1 and O
  weight_buffer: {capacity: 64 KiB, holds: [weight]}         # 524288 bits, I2
vector: {lanes: 14}
dram: {type: DDR3, bandwidth: 8 GB/s, latency: 1 ns}          # dram port: 64 bits/cycle
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
"""ZigZag ships no mapping for eyeriss_like; this unrolls K over its 14 and C over its 12 PEs,
the weight-stationary spatial mapping Tessera's chip uses."""

_DRIVER = """
import contextlib, io, json, os, sys, time
import zigzag
from zigzag.api import get_hardware_performance_zigzag

inputs = os.path.join(os.path.dirname(zigzag.__file__), "inputs")
hardware, mapping, dump, repeats = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
if not os.path.isabs(mapping):
    mapping = os.path.join(inputs, "mapping", mapping)
seconds = []
for repeat in range(repeats):
    start = time.perf_counter()
    energy, latency, _ = get_hardware_performance_zigzag(
        workload=os.path.join(inputs, "workload", "resnet18.onnx"),
        accelerator=os.path.join(inputs, "hardware", hardware),
        mapping=mapping, opt="latency", dump_folder=dump + str(repeat), loma_show_progress_bar=False)
    seconds.append(time.perf_counter() - start)
print(json.dumps({"energy_pj": energy, "latency_cycles": latency, "seconds": seconds,
                  "workload": os.path.join(inputs, "workload", "resnet18.onnx")}))
"""


def run_zigzag(python: Path, hardware: str, mapping: str, repeats: int) -> dict:
    """ZigZag on ResNet-18 in its venv: energy (pJ), latency (cycles), wall seconds per run."""
    with tempfile.TemporaryDirectory(prefix="tessera-vs-zigzag-") as tmp:
        driver = Path(tmp) / "driver.py"
        driver.write_text(_DRIVER)
        done = subprocess.run(
            [str(python), str(driver), hardware, mapping, str(Path(tmp) / "out"), str(repeats)],
            capture_output=True, text=True, check=False, cwd=tmp,
        )  # fmt: skip
        if done.returncode != 0:
            raise RuntimeError(f"ZigZag failed:\n{done.stderr[-3000:]}")
        return json.loads(done.stdout.splitlines()[-1])


def run_tessera(chip_yaml: str, workload: str, repeats: int) -> tuple[float, float, float]:
    """Tessera on the same ONNX file: (total cycles, energy in pJ, median wall seconds)."""
    from compiler.models import load_model
    from tessera.api import simulate

    chip = load_accelerator_text(chip_yaml, "vs_zigzag chip")
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        result = simulate(chip, load_model(workload)).result
        times.append(time.perf_counter() - start)
    return float(result.total_cycles), result.energy_j * 1e12, statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=5, help="Tessera runs per timing (median)")
    parser.add_argument("--zigzag-repeats", type=int, default=1, help="ZigZag runs per timing (median)")
    args = parser.parse_args()
    python = peer_python("zigzag", ZIGZAG_REQUIREMENTS, "zigzag.api")
    with tempfile.TemporaryDirectory() as tmp:
        eyeriss_mapping = Path(tmp) / "eyeriss_like_mapping.yaml"
        eyeriss_mapping.write_text(EYERISS_MAPPING)
        cases = (
            ("TPU-like", "tpu_like.yaml", "tpu_like.yaml", TPU_LIKE),
            ("Eyeriss-like", "eyeriss_like.yaml", str(eyeriss_mapping), EYERISS_LIKE),
        )
        header = ("chip", "ZZ cycles", "T cycles", "ratio", "ZZ energy uJ", "T energy uJ", "ratio", "ZZ s", "T s", "speed-up")
        widths = (13, 11, 11, 7, 13, 12, 7, 8, 8, 9)
        print("ResNet-18 (ZigZag's resnet18.onnx): ZigZag LOMA latency-optimal mapping vs Tessera heuristic")
        print("  ".join(h.rjust(w) for h, w in zip(header, widths)))
        for label, hardware, mapping, chip in cases:
            peer = run_zigzag(python, hardware, mapping, args.zigzag_repeats)
            cycles, energy_pj, seconds = run_tessera(chip, peer["workload"], args.repeats)
            peer_seconds = statistics.median(peer["seconds"])
            row = (
                label, f"{peer['latency_cycles']:.0f}", f"{cycles:.0f}", f"{cycles / peer['latency_cycles']:.2f}",
                f"{peer['energy_pj'] / 1e6:.1f}", f"{energy_pj / 1e6:.1f}", f"{energy_pj / peer['energy_pj']:.2f}",
                f"{peer_seconds:.1f}", f"{seconds:.3f}", f"{peer_seconds / seconds:.0f}x",
            )  # fmt: skip
            print("  ".join(str(cell).rjust(width) for cell, width in zip(row, widths)))


if __name__ == "__main__":
    main()
