"""SCALE-Sim config (.cfg) -> a commented Tessera chip YAML: `tessera import-scalesim`.

A SCALE-Sim config describes a systolic array, three SRAMs and the DRAM interface in words per
cycle; it has no clock, no process node, no DRAM technology and no vector unit, and its word is
fixed at one byte (scalesim/single_layer_sim.py, ``word_size = 1``). The chip file written here
maps what SCALE-Sim does describe and fills the rest with the stated defaults below, each
named in a comment of the generated file, so the user sees what to replace.

The config is read with a small INI reader of our own rather than `configparser`, so that every
problem (an unknown section or key, a value that is not a number, a missing required key)
is reported with its line, all at once. Keys are case-insensitive, as in SCALE-Sim, and every
key that any SCALE-Sim release has shipped in its configs/ folder is accepted.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from pathlib import Path

import yaml

from accel_spec.types import Dataflow
from tessera.errors import InputError, Problem
from tessera.input_files import MiB, read_input_text

ASSUMED_CLOCK_HZ = 1e9
"""SCALE-Sim counts cycles only. At 1 GHz one word (one byte) per cycle is 1 GB/s, so the
bandwidths read back as the config's words/cycle."""

ASSUMED_NODE_NM = 28
"""Process node for energy and area: SCALE-Sim has none; 28 nm is the node of the TPU v1
(Jouppi et al., ISCA 2017), the design SCALE-Sim's google.cfg describes."""

ASSUMED_DRAM = "DDR4"
"""DRAM technology for the energy per bit: SCALE-Sim models bandwidth only."""

DRAM_LATENCY_CYCLES = 1
"""SCALE-Sim's DRAM read port answers one cycle after a request (memory/read_port.py,
``self.latency = 1``)."""

WORD_BYTES = 1
"""SCALE-Sim's word size (single_layer_sim.py), hence int8 operands."""


MAX_CONFIG_BYTES = 1 * MiB
"""Largest config read: SCALE-Sim's configs are a few dozen lines (under 1 KiB)."""


class BandwidthMode(Enum):
    """SCALE-Sim's ``InterfaceBandwidth``: the given words/cycle, or whatever is needed."""

    USER = "USER"
    CALC = "CALC"


class _Kind(Enum):
    """How a config value is parsed."""

    INT = "a whole number"
    INT_LIST = "whole numbers separated by commas"
    BOOL = "True or False"
    TEXT = "text"
    DATAFLOW = "os, ws or is"
    MODE = "USER or CALC"


_LAYOUT_KEYS = {
    "ifmapcustomlayout": _Kind.BOOL,
    "filtercustomlayout": _Kind.BOOL,
    "ifmapsrambankbandwidth": _Kind.INT,
    "ifmapsrambanknum": _Kind.INT,
    "ifmapsrambankport": _Kind.INT,
    "filtersrambankbandwidth": _Kind.INT,
    "filtersrambanknum": _Kind.INT,
    "filtersrambankport": _Kind.INT,
}

_SECTIONS: dict[str, dict[str, _Kind]] = {
    "general": {"run_name": _Kind.TEXT},
    "architecture_presets": {
        "arrayheight": _Kind.INT,
        "arraywidth": _Kind.INT,
        "ifmapsramszkb": _Kind.INT,
        "filtersramszkb": _Kind.INT,
        "ofmapsramszkb": _Kind.INT,
        "ifmapoffset": _Kind.INT,
        "filteroffset": _Kind.INT,
        "ofmapoffset": _Kind.INT,
        "bandwidth": _Kind.INT_LIST,
        "dataflow": _Kind.DATAFLOW,
        "memorybanks": _Kind.INT,
        "onchipmemorybanks": _Kind.INT,
        "onchipmemorybankports": _Kind.INT,
        "readrequestbuffer": _Kind.INT,
        "writerequestbuffer": _Kind.INT,
        **_LAYOUT_KEYS,  # older releases put the layout keys here
    },
    "layout": _LAYOUT_KEYS,
    "sparsity": {
        "sparsitysupport": _Kind.BOOL,
        "sparserep": _Kind.TEXT,
        "optimizedmapping": _Kind.BOOL,
        "blocksize": _Kind.INT,
        "nonzeroelems": _Kind.INT,
        "randomnumbergeneratorseed": _Kind.INT,
    },
    "run_presets": {
        "interfacebandwidth": _Kind.MODE,
        "useramulatortrace": _Kind.BOOL,
        "timelinearmodel": _Kind.TEXT,
        "sram_row_size": _Kind.INT,
        "sram_bank_size": _Kind.INT,
        "dram_row_size": _Kind.INT,
        "dram_bank_size": _Kind.INT,
    },
    "network_presets": {"topologycsvloc": _Kind.TEXT, "layoutcsvloc": _Kind.TEXT},
}

_REQUIRED = {
    "architecture_presets": (
        "arrayheight", "arraywidth", "ifmapsramszkb", "filtersramszkb", "ofmapsramszkb", "dataflow", "bandwidth",
    ),
    "run_presets": ("interfacebandwidth",),
}  # fmt: skip

_POSITIVE = frozenset({"arrayheight", "arraywidth", "ifmapsramszkb", "filtersramszkb", "ofmapsramszkb", "bandwidth"})


@dataclass(frozen=True)
class ScaleSimConfig:
    """What a SCALE-Sim config says about the hardware (sizes in SCALE-Sim's units).

    Attributes:
        run_name: the ``[general] run_name``.
        rows, cols: ``ArrayHeight`` × ``ArrayWidth`` processing elements.
        ifmap_kb, filter_kb, ofmap_kb: SRAM sizes in KiB (SCALE-Sim multiplies by 1024).
        dataflow: ``Dataflow`` os / ws / is.
        bandwidth_mode: USER (stall on the given bandwidth) or CALC (never stall).
        bandwidth_words: ``Bandwidth`` in words per cycle (SCALE-Sim uses the first value).
        ifmap_bank_bandwidth, filter_bank_bandwidth: ``IfmapSRAMBankBandwidth`` and
            ``FilterSRAMBankBandwidth`` when given: in USER mode SCALE-Sim 3 fills the ifmap
            and filter SRAMs from DRAM at these rates, not at ``Bandwidth``.
        sparsity: ``SparsitySupport`` is on.
        banks: ``MemoryBanks`` when given.
    """

    run_name: str
    rows: int
    cols: int
    ifmap_kb: int
    filter_kb: int
    ofmap_kb: int
    dataflow: Dataflow
    bandwidth_mode: BandwidthMode
    bandwidth_words: tuple[int, ...]
    ifmap_bank_bandwidth: int | None = None
    filter_bank_bandwidth: int | None = None
    sparsity: bool = False
    banks: int | None = None


def read_scalesim_config(path: str | Path) -> ScaleSimConfig:
    """Read a SCALE-Sim .cfg file; InputError naming the file and line for anything wrong."""
    text = read_input_text(path, limit=MAX_CONFIG_BYTES, what="a SCALE-Sim config")
    return parse_scalesim_config(text, str(path))


def parse_scalesim_config(text: str, source: str) -> ScaleSimConfig:
    """Parse SCALE-Sim config text; `source` names it in errors."""
    values, written, section_lines, problems = _read_ini(text)
    for section, keys in _REQUIRED.items():
        if section not in section_lines:
            problems.append(Problem(f"[{section}]", f"missing section (it needs {', '.join(keys)})"))
            continue
        problems += [
            Problem(f"[{section}] {key}", "missing required key", section_lines[section])
            for key in keys
            if (section, key) not in written  # a key written with a bad value has its own problem
        ]
    if problems:
        raise InputError(source, problems)

    def get(section: str, key: str, default=None):
        entry = values.get((section, key)) or values.get(("architecture_presets", key))
        return entry[0] if entry is not None else default

    arch = "architecture_presets"
    return ScaleSimConfig(
        run_name=get("general", "run_name", Path(source).stem),
        rows=get(arch, "arrayheight"),
        cols=get(arch, "arraywidth"),
        ifmap_kb=get(arch, "ifmapsramszkb"),
        filter_kb=get(arch, "filtersramszkb"),
        ofmap_kb=get(arch, "ofmapsramszkb"),
        dataflow=get(arch, "dataflow"),
        bandwidth_mode=get("run_presets", "interfacebandwidth"),
        bandwidth_words=get(arch, "bandwidth"),
        ifmap_bank_bandwidth=get("layout", "ifmapsrambankbandwidth"),
        filter_bank_bandwidth=get("layout", "filtersrambankbandwidth"),
        sparsity=get("sparsity", "sparsitysupport", False),
        banks=get(arch, "memorybanks"),
    )


def _read_ini(
    text: str,
) -> tuple[dict[tuple[str, str], tuple[object, int]], set[tuple[str, str]], dict[str, int], list[Problem]]:
    """(section, key) -> (parsed value, line); every (section, key) written, valid or not;
    section -> line; and every problem found."""
    values: dict[tuple[str, str], tuple[object, int]] = {}
    written: set[tuple[str, str]] = set()
    section_lines: dict[str, int] = {}
    problems: list[Problem] = []
    section: str | None = None
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            name = line.strip("[] ").lower()
            if not line.endswith("]") or name not in _SECTIONS:
                allowed = ", ".join(f"[{s}]" for s in _SECTIONS)
                problems.append(Problem(line, f"unknown section; SCALE-Sim configs have {allowed}", number))
                section = None
                continue
            section = name
            section_lines[name] = number
            continue
        cut = min((i for i in (line.find(":"), line.find("=")) if i >= 0), default=-1)
        if cut < 0:
            problems.append(Problem(line, "expected 'key: value' or 'key = value'", number))
            continue
        key, text_value = line[:cut].strip().lower(), line[cut + 1 :].strip()
        if section is None:
            problems.append(Problem(key, "key outside any known section", number))
            continue
        kinds = _SECTIONS[section]
        if key not in kinds:
            problems.append(Problem(f"[{section}] {key}", f"unknown key; allowed: {', '.join(kinds)}", number))
            continue
        written.add((section, key))
        if (section, key) in values:
            first = values[(section, key)][1]
            problems.append(Problem(f"[{section}] {key}", f"duplicate key (first at line {first})", number))
            continue
        try:
            values[(section, key)] = (_parse_value(key, text_value, kinds[key]), number)
        except ValueError as error:
            problems.append(Problem(f"[{section}] {key}", str(error), number))
    return values, written, section_lines, problems


def _parse_value(key: str, text: str, kind: _Kind) -> object:
    """One value of `kind`; ValueError with a message saying what was expected."""
    if kind is _Kind.TEXT:
        return text
    if kind is _Kind.BOOL:
        if text.lower() not in ("true", "false"):
            raise ValueError(f"expected {kind.value}, got {text!r}")
        return text.lower() == "true"
    if kind is _Kind.DATAFLOW:
        if text.lower() not in ("os", "ws", "is"):
            raise ValueError(f"expected {kind.value}, got {text!r}")
        return Dataflow.parse(text)
    if kind is _Kind.MODE:
        if text.upper() not in BandwidthMode.__members__:
            raise ValueError(f"expected {kind.value}, got {text!r}")
        return BandwidthMode[text.upper()]
    parts = [part.strip() for part in text.split(",")] if kind is _Kind.INT_LIST else [text]
    try:
        numbers = tuple(int(part) for part in parts)
    except ValueError:
        raise ValueError(f"expected {kind.value}, got {text!r}") from None
    if key in _POSITIVE and min(numbers) < 1:
        raise ValueError(f"must be at least 1, got {text!r}")
    if min(numbers) < 0:
        raise ValueError(f"must not be negative, got {text!r}")
    return numbers if kind is _Kind.INT_LIST else numbers[0]


# --------------------------------------------------------------------------- chip YAML


def chip_yaml(config: ScaleSimConfig, source: str) -> str:
    """A Tessera chip file for `config`: comments on what was mapped and what was assumed, then
    the chip itself, written by YAML's serializer.

    Only the serializer writes values, so nothing taken from the config or its file name (a
    name holding a newline, a quote or a colon) can change the file's structure; the comments
    are fixed text and whole numbers. `source` (the config's path) is recorded in
    ``description``.
    """
    clock_ghz = ASSUMED_CLOCK_HZ / 1e9
    words = config.bandwidth_words[0]
    document = {
        "name": config.run_name,
        "description": f"SCALE-Sim config {Path(source).name}, imported by tessera import-scalesim from {source}",
        "clock": f"{clock_ghz:g} GHz",
        "technology": f"{ASSUMED_NODE_NM} nm",
        "matrix": {
            "rows": config.rows,
            "cols": config.cols,
            "dataflows": [config.dataflow.label],
            "input_precision": "int8",
            "accumulator_precision": "int32",
        },
        "buffers": {
            name: {"capacity": f"{kb} KiB", "holds": [operand], **({"banks": config.banks} if config.banks is not None else {})}
            for name, kb, operand in (
                ("ifmap_sram", config.ifmap_kb, "input"),
                ("filter_sram", config.filter_kb, "weight"),
                ("ofmap_sram", config.ofmap_kb, "output"),
            )
        },
        "vector": {"lanes": config.cols},
        "dram": {
            "type": ASSUMED_DRAM,
            "bandwidth": f"{words * WORD_BYTES * clock_ghz:g} GB/s",
            "latency": f"{DRAM_LATENCY_CYCLES / clock_ghz:g} ns",
        },
    }
    comments = _HEADER + _bandwidth_note(config) + (_SPARSITY_NOTE if config.sparsity else [])
    body = yaml.dump(document, Dumper=_ChipDumper, sort_keys=False, allow_unicode=True, width=1000)
    return "".join(f"# {line}\n" if line else "#\n" for line in comments) + body


class _ChipDumper(yaml.SafeDumper):
    """YAML's safe serializer, writing lists inline (``holds: [input]``) as chip files do."""


_ChipDumper.add_representer(
    list, lambda dumper, items: dumper.represent_sequence("tag:yaml.org,2002:seq", items, flow_style=True)
)


_HEADER = [
    "Imported from a SCALE-Sim config by `tessera import-scalesim` (the file is named in description).",
    "Mapped from the config: matrix rows/cols (ArrayHeight/ArrayWidth), the dataflow, the three",
    "SRAMs ifmap_sram/filter_sram/ofmap_sram (IfmapSramSzkB/FilterSramSzkB/OfmapSramSzkB, in KiB:",
    "SCALE-Sim multiplies kB by 1024) and the DRAM bandwidth.",
    "SCALE-Sim does not describe the following; Tessera's defaults, replace them as needed:",
    f"- clock {ASSUMED_CLOCK_HZ / 1e9:g} GHz (SCALE-Sim counts cycles only; at 1 GHz a word per cycle is 1 GB/s).",
    f"- technology {ASSUMED_NODE_NM} nm (the TPU v1's node, Jouppi et al., ISCA 2017) and {ASSUMED_DRAM} DRAM",
    "  energy per bit (the technology tables' cited defaults).",
    "- int8 operands: SCALE-Sim's word is 1 byte (single_layer_sim.py, word_size = 1);",
    "  int32 accumulators, so the output SRAM holds a quarter as many partial sums as",
    "  SCALE-Sim's 1-byte ofmap words.",
    f"- DRAM latency {DRAM_LATENCY_CYCLES} cycle, as SCALE-Sim's read port (memory/read_port.py).",
    "- a vector unit with one lane per array column (SCALE-Sim has none: it simulates only",
    "  convolutions and GEMMs).",
]
"""The comment block every imported chip starts with: fixed text and constants only."""

_SPARSITY_NOTE = [
    "SparsitySupport is true in the config: SCALE-Sim would skip pruned weights; Tessera",
    "  models a dense array.",
]


def _bandwidth_note(config: ScaleSimConfig) -> list[str]:
    """Comment lines on how the DRAM bandwidth was mapped (whole numbers from the config only)."""
    words = config.bandwidth_words[0]
    if config.bandwidth_mode is BandwidthMode.CALC:
        return [
            "DRAM bandwidth: InterfaceBandwidth CALC, so SCALE-Sim assumes whatever bandwidth the",
            f"  array needs and never stalls; Tessera uses the Bandwidth key, {words} words/cycle,",
            "  so Tessera may report DRAM stalls where SCALE-Sim reports none.",
        ]
    lines = [f"DRAM bandwidth: InterfaceBandwidth USER, Bandwidth {words} words/cycle x {WORD_BYTES} B "
             f"x {ASSUMED_CLOCK_HZ / 1e9:g} GHz."]
    for operand, value, key in (
        ("ifmap", config.ifmap_bank_bandwidth, "IfmapSRAMBankBandwidth"),
        ("filter", config.filter_bank_bandwidth, "FilterSRAMBankBandwidth"),
    ):
        if value is not None and value != words:
            lines += [f"  Note: SCALE-Sim 3 fills its {operand} SRAM at {key} = {value} words/cycle,",
                      "  not at Bandwidth; Tessera has one DRAM channel for every operand."]
    return lines


def scalesim_config_text(config: ScaleSimConfig) -> str:
    """`config` as a .cfg that SCALE-Sim 3.0 itself reads (it requires every section below).

    The inverse of `parse_scalesim_config` for the fields a `ScaleSimConfig` holds; the
    benchmarks use it to run SCALE-Sim on exactly the hardware Tessera is given.
    """
    ifmap_bank = config.ifmap_bank_bandwidth if config.ifmap_bank_bandwidth is not None else config.bandwidth_words[0]
    filter_bank = config.filter_bank_bandwidth if config.filter_bank_bandwidth is not None else config.bandwidth_words[0]
    banks = f"MemoryBanks: {config.banks}\n" if config.banks is not None else ""
    return (
        f"[general]\nrun_name = {config.run_name}\n\n"
        "[architecture_presets]\n"
        f"ArrayHeight: {config.rows}\nArrayWidth: {config.cols}\n"
        f"IfmapSramSzkB: {config.ifmap_kb}\nFilterSramSzkB: {config.filter_kb}\nOfmapSramSzkB: {config.ofmap_kb}\n"
        "IfmapOffset: 0\nFilterOffset: 10000000\nOfmapOffset: 20000000\n"
        f"Bandwidth: {','.join(map(str, config.bandwidth_words))}\n"
        f"Dataflow: {config.dataflow.short.lower()}\n"
        f"{banks}"
        "ReadRequestBuffer: 32\nWriteRequestBuffer: 32\n\n"
        "[layout]\nIfmapCustomLayout: False\nFilterCustomLayout: False\n"
        f"IfmapSRAMBankBandwidth: {ifmap_bank}\nIfmapSRAMBankNum: 1\nIfmapSRAMBankPort: 2\n"
        f"FilterSRAMBankBandwidth: {filter_bank}\nFilterSRAMBankNum: 1\nFilterSRAMBankPort: 2\n\n"
        f"[sparsity]\nSparsitySupport: {str(config.sparsity).lower()}\nSparseRep: ellpack_block\nOptimizedMapping: false\n"
        "BlockSize: 8\nRandomNumberGeneratorSeed: 40\n\n"
        f"[run_presets]\nInterfaceBandwidth: {config.bandwidth_mode.value}\nUseRamulatorTrace: False\n"
    )
