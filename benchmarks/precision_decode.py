"""A Llama-3-8B-class decode step at several per-operand precisions, on the datacenter chip.

Prints, per `--precision`, the simulated latency per token, the DRAM bytes read and written,
the energy and the array's utilisation of one decode step (batch 1, 2048 cached tokens): the
figures docs/model.md#precision-per-operand quotes. Simulated, so deterministic; not run by CI:
    python benchmarks/precision_decode.py
"""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.table import Table

from tessera.api import simulate

CHIP = Path(__file__).resolve().parents[1] / "examples" / "accelerators" / "datacenter_bf16.yaml"
MODEL = "llama:layers=32,hidden=4096,heads=32,kv_heads=8,ffn=14336,vocab=128256,phase=decode,kv_len=2048"
PRECISIONS = ("bf16", "w4a16", "w8a8kv8", "w4a16kv8")


def main() -> None:
    table = Table(title=f"{MODEL} on {CHIP.name}")
    for header in ("--precision", "label", "MAC format", "latency/token", "DRAM read", "DRAM write", "energy", "util"):
        table.add_column(header, justify="left" if header in ("--precision", "label", "MAC format") else "right")
    for precision in PRECISIONS:
        run = simulate(CHIP, MODEL, precision=precision)
        summary = run.summary()
        table.add_row(
            precision,
            run.compiled.formats.label,
            run.compiled.precision.value,
            f"{summary['latency_s'] * 1e3:.1f} ms",
            f"{summary['dram_read_bytes'] / 1e9:.2f} GB",
            f"{summary['dram_write_bytes'] / 1e6:.2f} MB",
            f"{summary['energy_j'] * 1e3:.0f} mJ",
            f"{summary['utilization']:.4f}",
        )
    Console(width=160).print(table)


if __name__ == "__main__":
    main()
