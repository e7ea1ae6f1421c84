"""`tessera import-scalesim`, `tessera validate` and `--model layers.csv` through `tessera.cli.main`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import tessera.cli
from accel_spec import load_accelerator
from tessera.commands import COMMANDS, import_scalesim, validate

DATA = Path(__file__).resolve().parents[1] / "data" / "scalesim"


@pytest.fixture(autouse=True)
def _registered(monkeypatch):
    """Register the two commands even before the lead lists them in tessera.commands."""
    extra = tuple(module for module in (import_scalesim, validate) if module not in COMMANDS)
    monkeypatch.setattr(tessera.cli, "COMMANDS", COMMANDS + extra)


def test_import_writes_a_loadable_chip(tmp_path, capsys):
    out = tmp_path / "chip.yaml"
    assert tessera.cli.main(["import-scalesim", str(DATA / "configs" / "eyeriss.cfg"), "-o", str(out)]) == 0
    chip = load_accelerator(out)
    assert (chip.matrix.rows, chip.matrix.cols) == (12, 14)
    assert "wrote" in capsys.readouterr().out


def test_import_prints_yaml_to_stdout(capsys):
    assert tessera.cli.main(["import-scalesim", str(DATA / "configs" / "scale.cfg")]) == 0
    assert "rows: 32" in capsys.readouterr().out


def test_bad_config_exits_2_naming_the_line(tmp_path, capsys):
    bad = tmp_path / "bad.cfg"
    bad.write_text((DATA / "configs" / "eyeriss.cfg").read_text().replace("ArrayWidth:     14", "ArrayWidth: 14x"))
    assert tessera.cli.main(["import-scalesim", str(bad)]) == 2
    err = capsys.readouterr().err
    assert str(bad) in err and "line 6" in err and "arraywidth" in err


def test_simulate_accepts_a_topology_csv(tmp_path):
    report = tmp_path / "out.json"
    code = tessera.cli.main(
        ["simulate", "--accel", "examples/accelerators/edge.yaml", "--model", str(DATA / "topologies" / "test_mnk_input.csv"),
         "--json", str(report)]
    )  # fmt: skip
    assert code == 0
    (layer,) = json.loads(report.read_text())["layers"]
    assert (layer["name"], layer["macs"]) == ("Test 1", 256 * 128 * 256)


def test_validate_eyeriss_suite_passes_and_writes_json(tmp_path, capsys):
    out = tmp_path / "v.json"
    assert tessera.cli.main(["validate", "--suite", "eyeriss", "--json", str(out)]) == 0
    assert "25 of 25 comparisons within tolerance" in capsys.readouterr().out
    assert all(item["ok"] for item in json.loads(out.read_text()))


def test_validate_bad_suite_exits_2():
    with pytest.raises(SystemExit) as error:
        tessera.cli.main(["validate", "--suite", "nope"])
    assert error.value.code == 2


def test_validate_exits_3_when_out_of_tolerance(tmp_path, capsys):
    from interop import validation

    document = json.loads((validation.VALIDATION_DIR / "eyeriss_alexnet.json").read_text())
    document["layers"] = document["layers"][:1]
    document["layers"][0]["figures"][0]["reference"] *= 2
    document["chip"] = str(validation.VALIDATION_DIR / document["chip"])
    (tmp_path / "eyeriss_alexnet.json").write_text(json.dumps(document))
    code = tessera.cli.main(["validate", "--suite", "eyeriss", "--data", str(tmp_path)])
    assert code == validate.EXIT_OUT_OF_TOLERANCE
    assert "FAIL" in capsys.readouterr().out


def test_validate_missing_data_exits_2(tmp_path, capsys):
    assert tessera.cli.main(["validate", "--suite", "eyeriss", "--data", str(tmp_path)]) == 2
    assert "validation data file not found" in capsys.readouterr().err


def test_a_config_named_with_a_newline_cannot_inject_yaml(tmp_path, capsys):
    """A file name once pasted into the chip file's first comment: a newline in it added keys."""
    config = tmp_path / "evil\noverrides: {mac_energy: 1 J}\n#.cfg"
    text = (DATA / "configs" / "eyeriss.cfg").read_text().replace("run_name", "# run_name")  # the name from the file
    config.write_text(text)
    out = tmp_path / "chip.yaml"
    assert tessera.cli.main(["import-scalesim", str(config), "-o", str(out)]) == 0
    chip = load_accelerator(out)
    assert chip.overrides.mac_energy is None and str(config) in chip.description


def test_validate_names_a_bad_zero_fraction_in_the_data_file(tmp_path, capsys):
    from interop import validation

    document = json.loads((validation.VALIDATION_DIR / "eyeriss_alexnet.json").read_text())
    document["layers"][1]["activation_zeros"] = 1.5
    document["chip"] = str(validation.VALIDATION_DIR / document["chip"])
    (tmp_path / "eyeriss_alexnet.json").write_text(json.dumps(document))
    assert tessera.cli.main(["validate", "--suite", "eyeriss", "--data", str(tmp_path)]) == 2
    error = capsys.readouterr().err
    assert "eyeriss_alexnet.json" in error and "layers[1].activation_zeros" in error and "[0, 1)" in error
