"""The console tables of `tessera serve`, built from its `--json` document."""

from __future__ import annotations

from typing import Any

from rich.table import Table

from accel_spec.units import Dimension, format_quantity
from reports.units import format_si

_LATENCIES = (("ttft_s", "time to first token"), ("tpot_s", "time per output token"), ("e2e_s", "end to end"))


def latency_table(document: dict[str, Any]) -> Table:
    """TTFT, TPOT and end-to-end latency: p50, p90, p99 and mean over requests."""
    table = Table(title=f"{document['model']} served on {document['accelerator']} ({len(document['requests']):,} requests)")
    table.add_column("latency")
    for column in ("p50", "p90", "p99", "mean"):
        table.add_column(column, justify="right")
    for key, label in _LATENCIES:
        figures = document[key]
        table.add_row(label, *("-" if figures[c] is None else format_si(figures[c], "s") for c in ("p50", "p90", "p99", "mean")))
    return table


def capacity_table(document: dict[str, Any]) -> Table:
    """Throughput, goodput, the KV cache and what the scheduler did."""
    table = Table(title="serving", show_header=False)
    table.add_column("metric")
    table.add_column("value", justify="right")
    slos = [f"{name} ≤ {format_si(document[key], 's')}" for key, name in (("slo_ttft_s", "TTFT"), ("slo_tpot_s", "TPOT"))
            if document[key] is not None]
    table.add_row("throughput", f"{document['throughput_tokens_s']:,.1f} tokens/s over {format_si(document['span_s'], 's')}")
    table.add_row("goodput", f"{document['goodput_rps']:,.2f} requests/s ({', '.join(slos) or 'no SLO given'})")
    table.add_row("KV cache", f"{document['kv_capacity_tokens']:,} tokens × {document['kv_bytes_per_token']:g} B "
                  f"(weights {format_quantity(document['weight_bytes'], Dimension.BYTES)}); peak use "
                  f"{document['peak_kv_tokens']:,} tokens")
    table.add_row("scheduler", f"{document['iterations']:,} iterations, {document['preemptions']:,} preemptions, "
                  f"batch ≤ {document['max_batch']}, ≤ {document['max_batched_tokens']:,} tokens per iteration")
    table.add_row("step grid", f"{document['grid_points']} prefill/decode programs simulated")
    return table
