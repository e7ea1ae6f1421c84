"""`--executor dask --scheduler-address`: every way the scheduler can be wrong or go away is exit 2.

Before, a scheduler with no workers, a port answering HTTP and a scheduler that dies each
ended in a traceback, and a port that accepts and never answers hung past the 10 s timeout.
"""

from __future__ import annotations

import http.server
import json
import os
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from distributed import LocalCluster

from explorer.dask_executor import CONNECT_TIMEOUT_S

ROOT = Path(__file__).resolve().parents[2]
TINY = ROOT / "examples" / "accelerators" / "tiny.yaml"
SWEEP = f"""\
base: {TINY}
hardware:
  matrix.rows: [2, 4, 8]
  buffers.inputs.capacity: {{log_range: [1 KiB, 16 KiB], points: 10}}
models: ["gemm:m=16,k=16,n=16"]
objectives: [latency, area]
"""


def _env(delay_s: float = 0.0) -> dict[str, str]:
    return {**os.environ, "TESSERA_TEST_EVALUATOR": "fake", "TESSERA_TEST_EVALUATOR_OPTIONS": json.dumps({"delay_s": delay_s})}


def _sweep_argv(tmp_path: Path, address: str, name: str) -> list[str]:
    sweep = tmp_path / "sweep.yaml"
    sweep.write_text(SWEEP)
    out = tmp_path / name
    return [sys.executable, "-m", "tessera", "sweep", str(sweep), "--out", str(out), "--executor", "dask",
            "--scheduler-address", address, "--quiet"]


@pytest.fixture
def silent_port() -> int:
    """A port that accepts connections and never says a word."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    accepted: list[socket.socket] = []

    def accept_forever() -> None:
        try:
            while True:
                accepted.append(server.accept()[0])
        except OSError:  # closed at the end of the test
            pass

    threading.Thread(target=accept_forever, daemon=True).start()
    yield server.getsockname()[1]
    server.close()
    for connection in accepted:
        connection.close()


@pytest.fixture
def http_port() -> int:
    """A port where a web server answers."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), http.server.SimpleHTTPRequestHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1]
    server.shutdown()


def test_silent_port_web_server_and_workerless_scheduler_are_exit_2_within_the_timeout(
    tmp_path: Path, silent_port: int, http_port: int
) -> None:
    with LocalCluster(n_workers=0, processes=False, protocol="tcp://", dashboard_address=None) as empty:
        cases = {
            "silent": (f"tcp://127.0.0.1:{silent_port}", "cannot connect: no Dask scheduler answered at this address within 10 s"),
            "http": (f"tcp://127.0.0.1:{http_port}", "cannot connect: no Dask scheduler answered at this address within 10 s"),
            "no-worker": (empty.scheduler_address, "the Dask scheduler has no worker"),
        }

        def run(name: str) -> tuple[subprocess.CompletedProcess, float]:
            start = time.monotonic()
            done = subprocess.run(_sweep_argv(tmp_path, cases[name][0], name), cwd=ROOT, env=_env(),
                                  capture_output=True, text=True, timeout=120)
            return done, time.monotonic() - start

        with ThreadPoolExecutor(len(cases)) as pool:
            results = dict(zip(cases, pool.map(run, cases)))
    for name, (done, seconds) in results.items():
        address, message = cases[name]
        assert done.returncode == 2, (name, done.stderr)
        assert f"{address}: --scheduler-address: {message}" in done.stderr and "Traceback" not in done.stderr
        assert seconds < 6 * CONNECT_TIMEOUT_S, (name, seconds)  # bounded, not hung: generous for a busy machine


def test_a_scheduler_that_dies_mid_sweep_is_exit_2_and_the_folder_resumes(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    address = f"tcp://127.0.0.1:{port}"
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    scheduler = subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1",
                                  "--port", str(port), "--no-dashboard"], **quiet)
    worker = subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_worker", address, "--nthreads", "1",
                               "--no-nanny", "--no-dashboard"], env=_env(0.1), **quiet)
    try:
        argv = _sweep_argv(tmp_path, address, "out")
        sweep = subprocess.Popen(argv, cwd=ROOT, env=_env(0.1), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        journal = tmp_path / "out" / "journal.jsonl"
        deadline = time.monotonic() + 120
        while (not journal.exists() or journal.read_bytes().count(b"\n") < 4) and sweep.poll() is None:
            assert time.monotonic() < deadline, "the sweep journaled nothing"
            time.sleep(0.05)
        scheduler.kill()
        _, stderr = sweep.communicate(timeout=120)
    finally:
        scheduler.kill()
        worker.kill()
        scheduler.wait()
        worker.wait()
    assert sweep.returncode == 2 and "Traceback" not in stderr, stderr
    assert f"{address}: --scheduler-address: lost the Dask scheduler mid-sweep" in stderr
    assert "rerun the same command to resume" in stderr
    serial = [*argv[: argv.index("--executor")], "--executor", "serial", "--quiet"]
    resumed = subprocess.run(serial, cwd=ROOT, env=_env(), capture_output=True, text=True, timeout=120)
    assert resumed.returncode == 0, resumed.stderr
