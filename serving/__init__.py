"""`tessera serve`: continuous-batching LLM serving of one decoder on one chip.

Requests (`workload`) are admitted by an iteration-level scheduler (`scheduler`) bounded by
the chip's KV-cache capacity (`kv_cache`); each iteration is timed from prefill and decode
programs compiled and simulated on the chip over a batch × context grid (`step_grid`), and
the outcome is summarised as request-level latencies (`metrics`). `serve` joins the stages.
"""

from serving.metrics import ServeReport
from serving.run import serve

__all__ = ["ServeReport", "serve"]
