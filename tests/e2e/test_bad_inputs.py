"""The bad-input corpus (`bad_inputs/cases.yaml`) through the real command line.

Every case must exit 2 with a message naming the file and the field, node or line, print
no traceback, and write nothing to its output path (a sweep may leave a folder only when
the case says the partial is resumable, and then rerunning the command must resume it).
The cases run in one module-scoped fixture, split over two processes that each call
`tessera.cli.main` for their share (`bad_inputs/run_cases.py`); each case is then its own test.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent / "bad_inputs" / "onnx"))
from make_onnx_cases import CASES as ONNX_CASES  # noqa: E402
from make_onnx_cases import main as make_onnx_cases  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
CORPUS = Path(__file__).resolve().parent / "bad_inputs"
CASES = yaml.safe_load((CORPUS / "cases.yaml").read_text(encoding="utf-8"))
PLACES = {
    "corpus": str(CORPUS),
    "examples": str(REPO / "examples" / "accelerators"),
    "scalesim": str(REPO / "tests" / "data" / "scalesim" / "configs"),
}
PROCESSES = 2
RUNNER = CORPUS / "run_cases.py"


def _fill(text: str, tmp: Path) -> str:
    return text.format(tmp=tmp, **PLACES)


def _case_folder(root: Path, case_id: str) -> Path:
    """A fresh folder with a regular file, an empty folder, a folder named like a model, FIFOs
    named like a chip and a model (reading one waits forever for a writer), a YAML file past
    the size limit, and a sweep folder whose results.parquet links out of it."""
    tmp = root / case_id
    (tmp / "a_folder").mkdir(parents=True)
    (tmp / "folder.onnx").mkdir()
    (tmp / "regular_file").write_text("a regular file: nothing can be created under it\n")
    os.mkfifo(tmp / "fifo.yaml")
    os.mkfifo(tmp / "fifo.onnx")
    (tmp / "oversized.yaml").write_text("# padding\n" * 6554)  # 65,540 bytes: past 64 KiB
    (tmp / "linked_out").mkdir()
    (tmp / "linked_out" / "results.parquet").symlink_to(tmp / "a_folder", target_is_directory=True)
    return tmp


def _run(argv: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "tessera", *argv], cwd=REPO, capture_output=True, text=True, timeout=180
    )


def _run_many(argvs: list[list[str]]) -> list[dict]:
    """Results of several command lines run by one `run_cases.py` process."""
    process = subprocess.run(
        [sys.executable, str(RUNNER)], input=json.dumps(argvs), cwd=REPO, capture_output=True, text=True, timeout=600
    )
    assert process.returncode == 0, process.stderr
    return json.loads(process.stdout)


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, dict]]:
    """Every case run once: case id -> (its tmp folder, returncode/stdout/stderr)."""
    root = tmp_path_factory.mktemp("bad_inputs")
    folders = {case["id"]: _case_folder(root, case["id"]) for case in CASES}
    ids = [case["id"] for case in CASES]
    argvs = [[_fill(arg, folders[case["id"]]) for arg in case["argv"]] for case in CASES]
    shares = [list(range(start, len(CASES), PROCESSES)) for start in range(PROCESSES)]
    with ThreadPoolExecutor(PROCESSES) as pool:
        outputs = list(pool.map(lambda share: _run_many([argvs[i] for i in share]), shares))
    return {ids[i]: (folders[ids[i]], output) for share, done in zip(shares, outputs) for i, output in zip(share, done)}


def test_corpus_is_big_and_ids_are_unique() -> None:
    ids = [case["id"] for case in CASES]
    assert len(ids) == len(set(ids)) >= 60
    kinds = {case_id.split("-")[0] for case_id in ids}
    assert {"chip", "onnx", "sweep", "simulate", "inspect", "check"} <= kinds


def test_every_corpus_file_has_a_case() -> None:
    named = {Path(_fill(arg, Path("/tmp"))).name for case in CASES for arg in case["argv"]}
    for folder in ("chips", "sweeps", "onnx"):
        files = {p.name for p in (CORPUS / folder).iterdir() if p.suffix != ".py"}
        files -= {"valid.yaml", "impossible_constraint.yaml"}  # used by the tests below, not bad input
        assert files <= named, files - named


def test_onnx_cases_are_what_the_generator_writes(tmp_path: Path) -> None:
    make_onnx_cases(tmp_path)
    for name in ONNX_CASES:
        assert (tmp_path / name).read_bytes() == (CORPUS / "onnx" / name).read_bytes(), name


@pytest.mark.parametrize("case", CASES, ids=[case["id"] for case in CASES])
def test_bad_input_exits_2_with_one_clear_message(case: dict, results: dict) -> None:
    tmp, result = results[case["id"]]
    stdout, stderr = result["stdout"], result["stderr"]
    assert result["returncode"] == 2, (result["returncode"], stdout[-2000:], stderr[-4000:])
    assert "Traceback" not in stderr and "Traceback" not in stdout, stderr
    errors = [line for line in stderr.splitlines() if "error:" in line]
    assert len(errors) == 1, stderr  # one message (it may list several problems below it)
    for fragment in case["fragments"]:
        assert _fill(fragment, tmp) in stderr, (fragment, stderr)
    if "output" not in case:
        return
    output = Path(_fill(case["output"], tmp))
    if case.get("partial") == "resumable" and output.exists():
        _assert_resumable(case, tmp, output)
    else:
        assert not output.exists(), sorted(p.name for p in output.parent.iterdir())


def _assert_resumable(case: dict, tmp: Path, output: Path) -> None:
    """A sweep folder left behind holds only a valid start, and the same sweep resumes from it."""
    assert not (output / ".lock").exists()
    assert (output / "journal.jsonl").read_bytes() == b""
    argv = [_fill(arg, tmp) for arg in case["argv"]]
    sweep_file, out = argv[1], argv[argv.index("--out") + 1]
    resumed = _run(["sweep", sweep_file, "--out", out, "--executor", "serial", "--quiet"])
    assert resumed.returncode == 0, resumed.stderr
    manifest = json.loads((output / "manifest.json").read_text())
    assert manifest["finished"] and len(manifest["resumed"]) == 1 and manifest["points"] == 4


def test_a_constraint_no_point_meets_is_not_bad_input(tmp_path: Path) -> None:
    """The sweep runs, every point is recorded, and the output says the front is empty."""
    out = tmp_path / "out"
    env = {**os.environ, "TESSERA_TEST_EVALUATOR": "fake"}
    result = subprocess.run(
        [sys.executable, "-m", "tessera", "sweep", str(CORPUS / "sweeps" / "impossible_constraint.yaml"),
         "--out", str(out), "--executor", "serial", "--quiet"],
        cwd=REPO, capture_output=True, text=True, env=env, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "the front is empty" in result.stdout
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["points"] == 4 and manifest["pareto_points"] == 0
    assert (out / "pareto.csv").read_text().count("\n") == 1  # the header only
