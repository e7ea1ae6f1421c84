"""Start-up work of the `tessera` command, bounded by what it imports (not by seconds).

`tessera --help` and `tessera models` must import no heavy library, `tessera simulate` only
those it uses, and no command may import the test-only fake evaluator; each runs in a fresh
interpreter here, so what it imports is exactly what a user's command imports. Their speed
against a bare interpreter is measured by `benchmarks/startup_speed.py`.
"""

from __future__ import annotations

import json
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest

from cli_runner import EXAMPLES, REPO

HEAVY = ("numpy", "pandas", "pyarrow", "onnx", "matplotlib", "numba", "xgboost", "dask", "optuna", "pydantic", "yaml")
"""Libraries whose import costs tens of milliseconds to seconds."""

TEST_ONLY = "explorer.fake_evaluator"

NOT_SIMULATING = ("pandas", "pyarrow", "matplotlib", "xgboost", "dask", "optuna", "scipy.linalg")
"""What a simulation has no use for: the results table, the figures, the cost models, the
executors, and the part of SciPy that Numba's BLAS probe imports (`simulator.kernels.numba_target`)."""

PROBE = """
import contextlib, io, json, sys
from tessera.cli import main
with contextlib.redirect_stdout(io.StringIO()):
    try:
        code = main(sys.argv[1:])
    except SystemExit as exit:
        code = exit.code
print(json.dumps({"code": code, "modules": sorted(sys.modules)}))
"""


def imported_by(*args: str, cwd: Path = REPO) -> tuple[int, set[str]]:
    """Exit code of `tessera ARGS` run in a fresh interpreter, and every module it imported."""
    done = subprocess.run([sys.executable, "-c", PROBE, *args], cwd=cwd, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.strip().splitlines()[-1])
    return report["code"], set(report["modules"])


def top_level(modules: set[str]) -> set[str]:
    return {name.split(".")[0] for name in modules}


@pytest.mark.parametrize("command", ["--help", "models"])
def test_help_and_models_import_no_heavy_library(command: str) -> None:
    code, modules = imported_by(command)
    assert code == 0
    assert top_level(modules).isdisjoint(HEAVY), sorted(top_level(modules) & set(HEAVY))


def test_the_version_is_looked_up_only_for_version() -> None:
    """Finding the installed distribution imports `importlib.metadata` and reads metadata."""
    assert "importlib.metadata" not in imported_by("--help")[1]
    done = subprocess.run([sys.executable, "-m", "tessera", "--version"], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert (done.returncode, done.stdout, done.stderr) == (0, f"tessera {metadata.version('tessera')}\n", "")


def test_simulate_imports_only_what_it_uses() -> None:
    code, modules = imported_by("simulate", "--accel", str(EXAMPLES / "tiny.yaml"), "--model", "gemm:m=8,k=8,n=8")
    assert code == 0
    unused = (modules | top_level(modules)) & set(NOT_SIMULATING)
    assert not unused, sorted(unused)


def test_a_sweep_worker_imports_only_what_simulating_uses() -> None:
    """Local sweep workers fork from a server that imports `fork_server.WORKER_PRELOAD`, before
    the first worker can start: the results table and the rest stay in the sweep's own process."""
    probe = "import importlib, json, sys\nfrom explorer.fork_server import WORKER_PRELOAD\n" \
            "for name in WORKER_PRELOAD: importlib.import_module(name)\nprint(json.dumps(sorted(sys.modules)))"
    done = subprocess.run([sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    modules = set(json.loads(done.stdout.strip().splitlines()[-1]))
    unused = (modules | top_level(modules)) & set(NOT_SIMULATING)
    assert not unused, sorted(unused)


WARM_UP_PROBE = """
import gc, json
from numba.core.registry import CPUDispatcher
from explorer.fork_server import WORKER_PRELOAD
from explorer.kernel_warmup import load_kernels

def loaded():
    return {f"{d.py_func.__module__}.{d.__name__}": len(d.signatures) for d in gc.get_objects() if isinstance(d, CPUDispatcher)}

load_kernels()
warm = loaded()
from accel_spec import load_accelerator, with_overrides
from compiler.lowering import lower
from compiler.models import load_model
from tessera.api import simulate_workloads
chip = with_overrides(load_accelerator("examples/accelerators/edge.yaml"),
                      {"matrix.rows": 48, "matrix.cols": 24, "buffers.activations.capacity": "300 KiB",
                       "dram.bandwidth": "7.5 GB/s"})
simulate_workloads(chip, lower(load_model("mobilenetv2")), "mobilenetv2")
after = loaded()
print(json.dumps({"preload": list(WORKER_PRELOAD), "warm": sum(1 for n in warm.values() if n),
                  "more": {name: [warm.get(name, 0), n] for name, n in after.items() if n != warm.get(name, 0)}}))
"""


def test_the_fork_servers_warm_up_loads_every_kernel_a_mobilenetv2_point_calls() -> None:
    """The fork server loads the Numba kernels (`explorer.kernel_warmup`, last in its
    preload) so that a worker forked from it loads none for a MobileNetV2 point on a chip of
    its own (another array, buffers and bandwidth than the warm-up's)."""
    done = subprocess.run([sys.executable, "-c", WARM_UP_PROBE], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["preload"][0] == "explorer.forkserver_setup" and report["preload"][-1] == "explorer.kernel_warmup"
    assert report["warm"] >= 12 and report["more"] == {}


NUMBA_IMPLEMENTATIONS = ("numba.np.arraymath", "numba.np.linalg", "numba.np.random.legacy", "numba.typed.typeddict")
"""Some of what Numba imports to compile, and needs not to load a compiled kernel from its cache."""


def test_warm_simulate_loads_kernels_without_compiling_machinery() -> None:
    """The second run finds every kernel in Numba's cache, so it imports none of Numba's
    implementations (`simulator.kernels.numba_target._KernelCache`); the first may compile."""
    args = ("simulate", "--accel", str(EXAMPLES / "tiny.yaml"), "--model", "conv2d:h=8,w=8,c=8,k=8,r=3,s=3,stride=1")
    assert imported_by(*args)[0] == 0
    code, modules = imported_by(*args)
    assert code == 0
    assert modules.isdisjoint(NUMBA_IMPLEMENTATIONS), sorted(modules & set(NUMBA_IMPLEMENTATIONS))


NEVER_SEEN_POINT = """
import json, sys
from accel_spec import load_accelerator, with_overrides
from compiler.lowering import lower
from compiler.models import load_model
from tessera.api import simulate_workloads
chip = with_overrides(load_accelerator("examples/accelerators/edge.yaml"),
                      {"matrix.rows": 48, "matrix.cols": 24, "buffers.activations.capacity": "300 KiB",
                       "dram.bandwidth": "7.5 GB/s"})
simulate_workloads(chip, lower(load_model("mobilenetv2")), "mobilenetv2")
print(json.dumps(sorted(sys.modules)))
"""


def test_a_warm_sweep_point_loads_every_kernel_without_compiling_machinery() -> None:
    """A MobileNetV2 point on a chip of its own runs every kernel of the batched search (the
    tiny layers above reach fewer: no capacity challenger, for one), and with the cache warm
    (the second run) it imports none of Numba's implementations: a kernel whose code calls one
    (an array method, `np.iinfo`) would import them, and SciPy's linear algebra with them, in
    every sweep worker."""
    runs = [subprocess.run([sys.executable, "-c", NEVER_SEEN_POINT], cwd=REPO, capture_output=True, text=True, timeout=300)
            for _ in range(2)]  # fmt: skip
    assert all(run.returncode == 0 for run in runs), runs[-1].stderr
    modules = set(json.loads(runs[-1].stdout.strip().splitlines()[-1]))
    assert modules.isdisjoint(NUMBA_IMPLEMENTATIONS + ("scipy.linalg",)), sorted(modules & {*NUMBA_IMPLEMENTATIONS, "scipy.linalg"})


KERNEL_SIGNATURES = """
import contextlib, io, json, sys
from tessera.cli import main
with contextlib.redirect_stdout(io.StringIO()):
    code = main(sys.argv[1:])
from compiler.codegen.gemm_kernel import _gemm_code
from compiler.codegen.program_kernel import _join
from compiler.scheduling.footprint_kernel import arranged_footprint, tiling_bytes
from compiler.scheduling.shortlist_kernel import space_finalists
from compiler.scheduling.space_kernel import space_tables
from compiler.scheduling.terms_kernel import grid_channel_bytes, pass_terms
from simulator.kernels.engines import _problems, _serial_cycles, _simulate
kernels = (_gemm_code, _join, pass_terms, grid_channel_bytes, tiling_bytes, arranged_footprint, space_finalists, space_tables,
           _problems, _serial_cycles, _simulate)
print(json.dumps({"code": code, "signatures": {kernel.__name__: len(kernel.signatures) for kernel in kernels}}))
"""
KERNELS = ("_gemm_code", "_join", "pass_terms", "grid_channel_bytes", "tiling_bytes", "arranged_footprint", "space_finalists",
           "space_tables", "_problems", "_serial_cycles", "_simulate")


def test_simulate_loads_each_kernel_once(tmp_path: Path) -> None:
    """Scheduling runs the kernels on memoised layer code, a trace on the whole program:
    both must reach them with the same argument types, or Numba types and loads a kernel
    twice."""
    args = ("simulate", "--accel", str(EXAMPLES / "tiny.yaml"), "--model", "conv2d:h=8,w=8,c=8,k=8,r=3,s=3,stride=1",
            "--trace", str(tmp_path / "trace.json"))  # fmt: skip
    done = subprocess.run([sys.executable, "-c", KERNEL_SIGNATURES, *args], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report == {"code": 0, "signatures": dict.fromkeys(KERNELS, 1)}


def test_no_command_imports_the_fake_evaluator(tmp_path: Path) -> None:
    sweep = tmp_path / "sweep.yaml"
    sweep.write_text(
        f"base: {EXAMPLES / 'tiny.yaml'}\n"
        "hardware: {matrix.rows: [4, 8]}\n"
        "models:\n  - gemm:m=8,k=8,n=8\n"
        "objectives: [latency, area]\n"
    )
    commands = [
        ("sweep", str(sweep), "--out", str(tmp_path / "run"), "--executor", "serial", "--quiet"),
        ("report", str(tmp_path / "run"), "--format", "png"),
        ("simulate", "--accel", str(EXAMPLES / "tiny.yaml"), "--model", "gemm:m=8,k=8,n=8"),
        ("inspect", "--model", "gemm:m=8,k=8,n=8"),
        ("check-spec", str(EXAMPLES / "tiny.yaml")),
    ]
    for args in commands:
        code, modules = imported_by(*args)
        assert code == 0, args
        assert TEST_ONLY not in modules, args


def test_a_local_sweep_starts_its_fork_server_before_importing_the_sweep_stack(tmp_path: Path) -> None:
    """`tessera sweep` starts the fork server first (`explorer.fork_server`), before it reads
    the sweep file, so the server's imports overlap the command's own: by then the command has
    imported no heavy library. (The probe records the call instead of starting a server; the
    sweep file is broken, so the command then stops with exit 2.)"""
    broken = tmp_path / "broken.yaml"
    broken.write_text("base: [unclosed\n")
    probe = (
        "import contextlib, io, json, sys\nimport explorer.fork_server as fork_server\ncalls = []\n"
        "fork_server.start_fork_server = lambda: calls.append(sorted(sys.modules))\nfrom tessera.cli import main\n"
        "with contextlib.redirect_stderr(io.StringIO()):\n    code = main(sys.argv[1:])\n"
        "print(json.dumps({'code': code, 'calls': calls}))"
    )
    command = [sys.executable, "-c", probe, "sweep", str(broken), "--out", str(tmp_path / "out")]
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=300)
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["code"] == 2 and len(report["calls"]) == 1, done.stderr
    modules = top_level(set(report["calls"][0]))
    assert modules.isdisjoint(HEAVY), sorted(modules & set(HEAVY))
