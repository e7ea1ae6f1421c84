"""Regenerate `accel_spec/components/cacti_sram_45nm.json`: CACTI 7 SRAM macros at 45 nm.

    python tools/sram_cacti_table.py [--out accel_spec/components/cacti_sram_45nm.json]

Tessera's SRAM model (`accel_spec.components.sram`) interpolates this table. The table comes
from CACTI 7 as packaged by Accelergy's `hwcomponents-cacti` (PyPI), which needs Python >= 3.12,
so this script installs it into a throwaway venv (TESSERA_PEERS_VENV/cacti, default
/tmp/peers-venv/cacti) with the first python3.12 or python3.13 on PATH or under pyenv. The
wheel's prebuilt `cacti` binary needs glibc 2.38; where it does not start, the script rebuilds
it from the C++ sources shipped in the same wheel (`make opt`, g++ needed). Tessera itself never
imports hwcomponents: the table is data, committed with its provenance.

Grid: total capacity 256 B .. 16 MiB (x4 steps), word width 16..1024 bits (x4), banks 1..64
(x4), read/write ports 1 and 2; one CACTI run each (about 5 minutes in all).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "accel_spec" / "components" / "cacti_sram_45nm.json"
REQUIREMENT = "hwcomponents-cacti==1.0.40"
CAPACITIES = tuple(256 * 4**i for i in range(9))  # 256 B .. 16 MiB
WIDTHS = (16, 64, 256, 1024)
BANKS = (1, 4, 16, 64)
PORTS = (1, 2)
NODE_M = 45e-9

_DRIVER = """
import json, sys
from hwcomponents_cacti import SRAM
rows = []
for capacity, width, banks, ports in json.loads(sys.argv[1]):
    s = SRAM(tech_node=%r, width=width, size=capacity * 8, n_banks=banks, n_rw_ports=ports)
    rows.append([capacity, width, banks, ports, s.read_energy, s.write_energy, s.cacti_leak_power, s.cacti_area])
print(json.dumps(rows))
""" % NODE_M


def _python312() -> str:
    for name in ("python3.12", "python3.13"):
        found = shutil.which(name)
        if found and subprocess.run([found, "--version"], capture_output=True).returncode == 0:
            return found
    pyenv = Path.home() / ".pyenv" / "versions"
    for candidate in sorted(pyenv.glob("3.1[23]*/bin/python3")):
        return str(candidate)
    raise SystemExit("hwcomponents-cacti needs Python >= 3.12 and none was found")


def _venv() -> Path:
    home = Path(os.environ.get("TESSERA_PEERS_VENV", "/tmp/peers-venv")) / "cacti"
    python = home / "bin" / "python"
    if not python.exists():
        subprocess.run([_python312(), "-m", "venv", str(home)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "--quiet", REQUIREMENT], check=True)
    package = Path(
        subprocess.run(
            [str(python), "-c", "import hwcomponents_cacti, os; print(os.path.dirname(hwcomponents_cacti.__file__))"],
            capture_output=True, text=True, check=True,
        ).stdout.strip()
    )  # fmt: skip
    cacti = package / "cacti"
    if subprocess.run(["./cacti"], cwd=cacti, capture_output=True).returncode == 127 or _missing_glibc(cacti):
        shutil.rmtree(cacti / "obj_opt", ignore_errors=True)
        shutil.rmtree(cacti / "obj_dbg", ignore_errors=True)
        subprocess.run(["make", "opt", "-j2"], cwd=cacti, check=True, capture_output=True)
        shutil.copy(cacti / "obj_opt" / "cacti", cacti / "cacti")
    return python


def _missing_glibc(cacti: Path) -> bool:
    done = subprocess.run(["./cacti"], cwd=cacti, capture_output=True, text=True)
    return "GLIBC" in done.stderr or "GLIBCXX" in done.stderr


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    python = _venv()
    grid = [[c, w, b, p] for c in CAPACITIES for w in WIDTHS for b in BANKS for p in PORTS]
    done = subprocess.run([str(python), "-c", _DRIVER, json.dumps(grid)], capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"CACTI runs failed:\n{done.stderr[-3000:]}")
    rows = json.loads(done.stdout.splitlines()[-1])
    document = {
        "provenance": {
            "source": "CACTI 7.0 (N. Muralimanohar, R. Balasubramonian, N. P. Jouppi, 'CACTI 6.0', HP Labs "
            "HPL-2009-85; R. Balasubramonian et al., 'CACTI 7', ACM TACO 14(2), 2017) as packaged by "
            f"{REQUIREMENT} (Accelergy project), SRAM model class, run by tools/sram_cacti_table.py",
            "configuration": "UCA RAM, 45 nm, itrs-lstp data-array cells and periphery, 300 K, 'fast' access "
            "mode, hwcomponents-cacti's default objective weights; one read/write port unless stated",
            "units": "capacity bytes (all banks together); width bits per access; energies J per access of "
            "one word; leakage W for all banks; area m^2",
        },
        "node_nm": NODE_M * 1e9,
        "columns": ["capacity", "width", "banks", "ports", "read_j", "write_j", "leakage_w", "area_m2"],
        "rows": rows,
    }
    args.out.write_text(json.dumps(document, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {len(rows)} CACTI macros to {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
