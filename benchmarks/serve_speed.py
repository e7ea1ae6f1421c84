"""Wall time of `tessera serve`'s scheduler loop for 10,000 requests, on one core.

The step grids are simulated once (their time printed first); each row then serves 10,000
requests with 1024-token prompts and 64-192-token outputs (vLLM's benchmark lengths, 1024 and
128, on average) and prints requests, arrival rate, scheduler iterations, output tokens per
iteration and the median wall time over RUNS runs. Not run by CI:
    python benchmarks/serve_speed.py
"""

from __future__ import annotations

import math
import statistics
import time
from pathlib import Path

from accel_spec import load_accelerator
from compiler.zoo import parse_model_spec
from serving import serve
from serving.run import GridBounds, iteration_timer
from serving.scheduler import SchedulerConfig
from serving.workload import LengthDistribution, LengthKind, poisson_requests

RUNS = 3
REQUESTS = 10_000
CHIP = Path(__file__).resolve().parents[1] / "examples" / "accelerators" / "edge.yaml"
MODEL = "llama:layers=2,hidden=256,heads=4,kv_heads=2,vocab=1000"
PROMPT = LengthDistribution(LengthKind.FIXED, 1024, 1024)
OUTPUT = LengthDistribution(LengthKind.UNIFORM, 64, 192)
RATES = (math.inf, 50.0, 20.0, 5.0)
"""All at once (the batch stays full), near the ~57 requests/s this chip sustains, and light
loads (small batches, one iteration per token: the loop's worst case)."""


def main() -> None:
    accel = load_accelerator(CHIP)
    config = SchedulerConfig()
    start = time.perf_counter()
    bounds = GridBounds(config.max_batched_tokens, config.max_batch, PROMPT.high + OUTPUT.high - 1)
    timer = iteration_timer(accel, parse_model_spec(MODEL), bounds)
    print(f"step grids: {time.perf_counter() - start:.1f} s to simulate (once per chip and model)")
    print(f"{'requests':>9}{'rate /s':>10}{'iterations':>12}{'mean batch':>12}{'wall s':>9}")
    for rate in RATES:
        requests = poisson_requests(REQUESTS, rate, PROMPT, OUTPUT, seed=0)
        walls = []
        for _ in range(RUNS):
            start = time.perf_counter()
            report = serve(accel, MODEL, requests, config, timer=timer)
            walls.append(time.perf_counter() - start)
        schedule = report.schedule
        tokens = sum(r.output_len for r in requests)
        print(f"{REQUESTS:>9,}{rate:>10g}{schedule.iterations:>12,}{tokens / schedule.iterations:>12.1f}"
              f"{statistics.median(walls):>9.2f}")


if __name__ == "__main__":
    main()
