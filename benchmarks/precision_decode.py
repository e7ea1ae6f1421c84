"""A Llama-3-8B-class decode step at several per-operand precisions, on two chips.

Prints, per chip and `--precision`, the simulated latency per token, the DRAM bytes read and
written, the energy, the array's utilisation and the latency over the DRAM roofline (the bytes
read at the chip's DRAM bandwidth) of one decode step (batch 1, 2048 cached tokens): the figures
docs/model.md#precision-per-operand quotes. The datacenter chip is one 128×128 MXU with 150 GB/s;
the TPU v5e-class chip has four MXUs (`matrix.units: 4`) and 819 GB/s, so its step is DRAM-bound
(its MXUs execute bf16 only: the int8 row is skipped there). Simulated, so deterministic; not
run by CI:
    python benchmarks/precision_decode.py
"""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.table import Table

from accel_spec.precision import PrecisionAssignment, unsupported
from tessera.api import load_accelerator, simulate

EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "accelerators"
CHIPS = (EXAMPLES / "datacenter_bf16.yaml", EXAMPLES / "tpu_v5e.yaml")
MODEL = "llama:layers=32,hidden=4096,heads=32,kv_heads=8,ffn=14336,vocab=128256,phase=decode,kv_len=2048"
PRECISIONS = ("bf16", "w4a16", "w8a8kv8", "w4a16kv8")


def main() -> None:
    table = Table(title=MODEL)
    headers = ("chip", "--precision", "label", "MAC format", "latency/token", "DRAM read", "DRAM write", "energy", "util",
               "over DRAM roofline")  # fmt: skip
    for header in headers:
        table.add_column(header, justify="left" if header in headers[:4] else "right")
    for chip in CHIPS:
        accel = load_accelerator(chip)
        for precision in PRECISIONS:
            if unsupported(accel, PrecisionAssignment.parse(precision)) is not None:
                continue
            run = simulate(chip, MODEL, precision=precision)
            summary = run.summary()
            roofline_s = summary["dram_read_bytes"] / accel.dram.bandwidth
            table.add_row(
                chip.stem,
                precision,
                run.compiled.formats.label,
                run.compiled.precision.value,
                f"{summary['latency_s'] * 1e3:.1f} ms",
                f"{summary['dram_read_bytes'] / 1e9:.2f} GB",
                f"{summary['dram_write_bytes'] / 1e6:.2f} MB",
                f"{summary['energy_j'] * 1e3:.0f} mJ",
                f"{summary['utilization']:.4f}",
                f"{summary['latency_s'] / roofline_s - 1:+.1%}",
            )
    Console(width=180).print(table)


if __name__ == "__main__":
    main()
