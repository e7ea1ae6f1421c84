"""SCALE-Sim cases in Tessera's terms: one topology layer on one SCALE-Sim config.

A case pairs what SCALE-Sim was given (a layer and a config) with what it reported, and this
module computes what Tessera predicts for the same inputs:

* `fold_cycles`: the closed form `compiler.target.timing.gemm_cycles` on the whole layer's
  (M, K, N), times the groups of a depthwise layer, i.e. the sum of SCALE-Sim's per-fold
  cycles (scalesim/compute/systolic_compute_{os,ws,is}.py);
* `simulate_case`: the full compile + simulate pipeline, on either the chip the config imports
  to (`tessera import-scalesim`), or a chip with the same array whose SRAMs hold the whole layer
  and whose DRAM never stalls, on which Tessera's compute cycles are the sum of fold cycles.

SCALE-Sim's COMPUTE_REPORT "Total Cycles" is one less than the number of cycles it simulates:
its memory model issues one demand row per cycle, rows 0 … L−1, and reports the largest cycle
index at which an output row is written (memory/double_buffered_scratchpad_mem.py,
``total_cycles = int(max(ofmap_serviced_cycles))``), which is L − 1 when nothing stalls, where
L = Σ fold cycles is the length of its demand matrices. Hence, exactly,

    Tessera compute cycles = SCALE-Sim (Total Cycles − Stall Cycles) + SCALESIM_CYCLE_OFFSET.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from accel_spec import load_accelerator_text
from accel_spec.scalesim_import import BandwidthMode, ScaleSimConfig, chip_yaml
from accel_spec.schema import Accelerator
from accel_spec.types import Dataflow
from compiler.frontend.scalesim_topology import (
    ScaleSimLayer,
    ScaleSimTopology,
    parse_scalesim_topology,
    topology_graph,
)
from compiler.target import TimingMode
from compiler.target.timing import gemm_cycles
from simulator.result import LayerResult

SCALESIM_CYCLE_OFFSET = 1
"""Tessera's cycle count minus SCALE-Sim's (Total − Stall) for the same folds (module docstring)."""

NO_STALL_SRAM_KIB = 1 << 20
"""SRAM size of the no-stall chip: 1 GiB per operand holds any validation layer whole."""

NO_STALL_WORDS_PER_CYCLE = 1 << 30
"""DRAM bandwidth of the no-stall chip, in words per cycle: transfers take one cycle."""


@dataclass(frozen=True)
class ScaleSimReport:
    """One layer's figures from SCALE-Sim's COMPUTE_REPORT and DETAILED_ACCESS_REPORT.

    Counts are in words (SCALE-Sim's word is one byte).
    """

    total_cycles: int
    stall_cycles: int
    ifmap_sram_reads: int
    filter_sram_reads: int
    ofmap_sram_writes: int
    ifmap_dram_reads: int
    filter_dram_reads: int
    ofmap_dram_writes: int

    @property
    def compute_cycles(self) -> int:
        """``Total Cycles − Stall Cycles``: the issue's definition of SCALE-Sim's compute cycles."""
        return self.total_cycles - self.stall_cycles


@dataclass(frozen=True)
class ScaleSimCase:
    """A layer SCALE-Sim ran on a config, and what it reported.

    Attributes:
        id: unique name such as ``conv_c-32x32-ws``.
        topology: a one-layer topology (its layout says conv or GEMM).
        config: the hardware SCALE-Sim was given.
        report: SCALE-Sim's figures for the layer.
    """

    id: str
    topology: ScaleSimTopology
    config: ScaleSimConfig
    report: ScaleSimReport

    @property
    def layer(self) -> ScaleSimLayer:
        return self.topology.layers[0]


def fold_cycles(layer: ScaleSimLayer, dataflow: Dataflow, rows: int, cols: int) -> int:
    """Σ per-fold cycles of the whole layer (all groups) by Tessera's timing model."""
    m, k, n = layer.gemm_mkn
    return layer.groups * int(gemm_cycles(m, k, n, int(dataflow), rows, cols))


def no_stall_config(config: ScaleSimConfig) -> ScaleSimConfig:
    """The same array and dataflow with SRAMs that hold a whole layer and a DRAM that never stalls."""
    return dataclasses.replace(
        config,
        ifmap_kb=NO_STALL_SRAM_KIB,
        filter_kb=NO_STALL_SRAM_KIB,
        ofmap_kb=NO_STALL_SRAM_KIB,
        bandwidth_mode=BandwidthMode.CALC,
        bandwidth_words=(NO_STALL_WORDS_PER_CYCLE,),
        ifmap_bank_bandwidth=None,
        filter_bank_bandwidth=None,
    )


def config_chip(config: ScaleSimConfig) -> Accelerator:
    """The chip `tessera import-scalesim` makes of `config`."""
    return load_accelerator_text(chip_yaml(config, f"{config.run_name}.cfg"), f"{config.run_name}.cfg")


def simulate_case(case: ScaleSimCase, *, no_stall: bool, timing: TimingMode = TimingMode.SCALESIM) -> LayerResult:
    """Tessera's result for the case's layer on the imported chip (or its no-stall twin),
    timed by `timing` (SCALE-Sim's fold model and mapping by default)."""
    from tessera.api import simulate

    config = no_stall_config(case.config) if no_stall else case.config
    return simulate(config_chip(config), topology_graph(case.topology), timing=timing).result.layers[0]


# --------------------------------------------------------------------------- JSON form


def case_to_json(case: ScaleSimCase) -> dict[str, Any]:
    """A case as stored in `validation/*.json`."""
    from compiler.frontend.scalesim_topology import format_scalesim_topology

    config = case.config
    return {
        "id": case.id,
        "topology": format_scalesim_topology(case.topology),
        "config": {
            "rows": config.rows,
            "cols": config.cols,
            "dataflow": config.dataflow.short.lower(),
            "sram_kb": [config.ifmap_kb, config.filter_kb, config.ofmap_kb],
            "interface_bandwidth": config.bandwidth_mode.value,
            "bandwidth_words_per_cycle": config.bandwidth_words[0],
            "sram_bank_bandwidth": [config.ifmap_bank_bandwidth, config.filter_bank_bandwidth],
        },
        "scalesim": dataclasses.asdict(case.report),
    }


def case_from_json(data: dict[str, Any], source: str) -> ScaleSimCase:
    """Inverse of `case_to_json`; `source` names the file in topology errors."""
    settings = data["config"]
    ifmap_kb, filter_kb, ofmap_kb = settings["sram_kb"]
    ifmap_bank, filter_bank = settings["sram_bank_bandwidth"]
    config = ScaleSimConfig(
        run_name=data["id"],
        rows=settings["rows"],
        cols=settings["cols"],
        ifmap_kb=ifmap_kb,
        filter_kb=filter_kb,
        ofmap_kb=ofmap_kb,
        dataflow=Dataflow.parse(settings["dataflow"]),
        bandwidth_mode=BandwidthMode(settings["interface_bandwidth"]),
        bandwidth_words=(settings["bandwidth_words_per_cycle"],),
        ifmap_bank_bandwidth=ifmap_bank,
        filter_bank_bandwidth=filter_bank,
    )
    topology = parse_scalesim_topology(data["topology"], f"{source} case {data['id']}", name=data["id"])
    return ScaleSimCase(data["id"], topology, config, ScaleSimReport(**data["scalesim"]))
