"""The validation suite: Tessera's predictions beside committed reference figures.

The suites, each read from a data file in `validation/` that records its provenance:

  SCALESIM_COMPUTE  scalesim_compute.json: SCALE-Sim runs without stalls. Tessera's compute
                    cycles, by the timing model on the whole layer and by the scheduled
                    pipeline on the no-stall twin of each config, equal SCALE-Sim's
                    (Total − Stall) + 1 exactly (tolerance 0; the +1 is explained in
                    `interop.scalesim`), and so do the SRAM read and write counts (after
                    removing SCALE-Sim's OS over-count, `ofmap_write_overcount`).
  SCALESIM_STALLS   scalesim_stalls.json: SCALE-Sim runs with USER bandwidth and small SRAMs.
                    On the imported chip with its real SRAM sizes, timed by SCALE-Sim's
                    model (`TimingMode.SCALESIM`), Tessera's compute cycles equal SCALE-Sim's
                    exactly. With Tessera's own mapping (`TimingMode.TESSERA`) its DRAM reads
                    are at most SCALE-Sim's, and its total cycles are reported for
                    information only, since the two memory models differ
                    (docs/validation.md explains each gap).
  EYERISS           eyeriss_alexnet.json: Eyeriss silicon (Chen et al., JSSC 2017) on AlexNet
                    CONV1–5, batch 4, against examples/accelerators/eyeriss.yaml: MACs,
                    processing latency, DRAM traffic and chip energy (everything but DRAM);
                    the file gives each figure's tolerance and the reason for the difference.
  EYERISS_VGG16     eyeriss_vgg16.json: the same silicon and chip file on VGG-16 CONV1-1 to
                    CONV5-3, batch 3, out of sample: MACs, processing latency (one-sided:
                    the chip is bound by its global buffer's bandwidth, which the chip file
                    does not model) and power (information).
  TPU_V1            tpu_v1_mlp.json: TPU v1 silicon (Jouppi et al., ISCA 2017) on MLP0 and
                    MLP1 against examples/accelerators/tpu_v1.yaml: measured TeraOps/s
                    (Table 3) and the DRAM traffic the paper's weights and batch imply.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any

from accel_spec.types import Dataflow
from compiler.target import TimingMode
from interop.scalesim import SCALESIM_CYCLE_OFFSET, ScaleSimCase, case_from_json, fold_cycles, simulate_case
from tessera.errors import InputError, Problem

VALIDATION_DIR = Path(__file__).resolve().parents[1] / "validation"


ACCUMULATOR_BYTES = 4
"""Bytes per partial sum in the imported chips (int32 accumulators)."""


class Suite(Enum):
    """The validation suites and their data files."""

    SCALESIM_COMPUTE = "scalesim-compute"
    SCALESIM_STALLS = "scalesim-stalls"
    EYERISS = "eyeriss"
    EYERISS_VGG16 = "eyeriss-vgg16"
    TPU_V1 = "tpu-v1"

    @property
    def file(self) -> str:
        return {
            Suite.SCALESIM_COMPUTE: "scalesim_compute.json",
            Suite.SCALESIM_STALLS: "scalesim_stalls.json",
            Suite.EYERISS: "eyeriss_alexnet.json",
            Suite.EYERISS_VGG16: "eyeriss_vgg16.json",
            Suite.TPU_V1: "tpu_v1_mlp.json",
        }[self]


@dataclass(frozen=True)
class Comparison:
    """One reference figure beside Tessera's prediction of it.

    Attributes:
        suite: which suite the case belongs to.
        case: case name.
        quantity: what is compared, with its unit (``compute cycles``, ``latency ms``...).
        reference: the reference figure.
        tessera: Tessera's figure.
        tolerance: largest accepted |relative error| (0 = exact); None for a figure reported
            beside the reference for information, where Tessera claims no agreement (the note
            says why).
        note: why the two differ, where they do.
        at_most: one-sided check: Tessera may be below the reference by any amount, above it
            by at most `tolerance` (for traffic that Tessera's reuse can only reduce).
        at_least: one-sided check the other way: Tessera may be above the reference by any
            amount, below it by at most `tolerance` (for dense traffic that Tessera does not
            compress, beside silicon that does).
    """

    suite: Suite
    case: str
    quantity: str
    reference: float
    tessera: float
    tolerance: float | None
    note: str = ""
    at_most: bool = False
    at_least: bool = False

    @property
    def error(self) -> float:
        """(Tessera − reference) / reference."""
        return (self.tessera - self.reference) / self.reference

    @property
    def ok(self) -> bool:
        if self.tolerance is None:
            return True
        if self.at_most:
            return self.error <= self.tolerance
        if self.at_least:
            return self.error >= -self.tolerance
        if self.tolerance == 0:
            return self.tessera == self.reference
        return abs(self.error) <= self.tolerance

    def describe_tolerance(self) -> str:
        """``exact``, ``±20%``, ``<= ref`` or ``info`` (no claim)."""
        if self.tolerance is None:
            return "info"
        if self.at_most:
            return "<= ref" if self.tolerance == 0 else f"<= ref+{self.tolerance:.0%}"
        if self.at_least:
            return ">= ref" if self.tolerance == 0 else f">= ref-{self.tolerance:.0%}"
        if self.tolerance == 0:
            return "exact"
        return f"±{self.tolerance:.1%}" if self.tolerance < 0.1 else f"±{self.tolerance:.0%}"

    def to_json(self) -> dict[str, Any]:
        return {
            "suite": self.suite.value,
            "case": self.case,
            "quantity": self.quantity,
            "reference": self.reference,
            "tessera": self.tessera,
            "error": self.error,
            "tolerance": self.tolerance,
            "at_most": self.at_most,
            "at_least": self.at_least,
            "ok": self.ok,
            "note": self.note,
        }


def run_validation(suites: Iterable[Suite] = tuple(Suite), directory: Path = VALIDATION_DIR) -> tuple[Comparison, ...]:
    """Every comparison of the chosen suites, in file order."""
    runners = {
        Suite.SCALESIM_COMPUTE: _scalesim_compute,
        Suite.SCALESIM_STALLS: _scalesim_stalls,
        Suite.EYERISS: _silicon,
        Suite.EYERISS_VGG16: _silicon,
        Suite.TPU_V1: _silicon,
    }
    comparisons: list[Comparison] = []
    for suite in suites:
        comparisons += runners[suite](suite, load_reference(suite, directory), directory)
    return tuple(comparisons)


def load_reference(suite: Suite, directory: Path = VALIDATION_DIR) -> dict[str, Any]:
    """The parsed data file of a suite; InputError if it is missing or not JSON."""
    path = directory / suite.file
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(str(path), "validation data file not found") from None
    except json.JSONDecodeError as error:
        raise InputError(str(path), Problem("", f"not valid JSON: {error.msg}", error.lineno)) from None


def _scalesim_compute(suite: Suite, document: dict[str, Any], directory: Path) -> list[Comparison]:
    comparisons = []
    for data in document["cases"]:
        case = case_from_json(data, Suite.SCALESIM_COMPUTE.file)
        layer = simulate_case(case, no_stall=True)
        report = case.report
        partial_sums = layer.sram_write_bytes["ofmap_sram"] // ACCUMULATOR_BYTES
        overcount = ofmap_write_overcount(case)
        config = case.config
        plus_one = "reference = SCALE-Sim (Total - Stall) + 1: SCALE-Sim reports the last cycle's index"
        figures = (
            ("compute cycles (formula)", report.compute_cycles + SCALESIM_CYCLE_OFFSET,
             fold_cycles(case.layer, config.dataflow, config.rows, config.cols), plus_one),
            ("compute cycles (pipeline)", report.compute_cycles + SCALESIM_CYCLE_OFFSET, layer.compute_cycles, plus_one),
            ("ifmap SRAM reads", report.ifmap_sram_reads, layer.sram_read_bytes["ifmap_sram"], ""),
            ("filter SRAM reads", report.filter_sram_reads, layer.sram_read_bytes["filter_sram"], ""),
            ("ofmap SRAM writes", report.ofmap_sram_writes - overcount, partial_sums,
             f"reference = SCALE-Sim's count minus its OS over-count of (R + C) per fold ({overcount})"
             if overcount else "partial sums written, in elements"),
        )  # fmt: skip
        comparisons += [
            Comparison(Suite.SCALESIM_COMPUTE, case.id, quantity, reference, tessera, 0.0, note)
            for quantity, reference, tessera, note in figures
        ]
    return comparisons


def ofmap_write_overcount(case: ScaleSimCase) -> int:
    """Writes SCALE-Sim's OS dataflow adds that are not outputs: ``ofmap_writes += rows + cols``
    once per fold (scalesim/compute/systolic_compute_os.py, create_ofmap_demand_mat), after
    already counting the fold's outputs. Zero for WS and IS."""
    config = case.config
    if config.dataflow is not Dataflow.OUTPUT_STATIONARY:
        return 0
    m, _, n = case.layer.gemm_mkn
    folds = -(-m // config.rows) * -(-n // config.cols) * case.layer.groups
    return folds * (config.rows + config.cols)


def _scalesim_stalls(suite: Suite, document: dict[str, Any], directory: Path) -> list[Comparison]:
    comparisons = []
    for data in document["cases"]:
        case = case_from_json(data, Suite.SCALESIM_STALLS.file)
        layer = simulate_case(case, no_stall=False)
        own = simulate_case(case, no_stall=False, timing=TimingMode.TESSERA)
        report = case.report
        causes = ", ".join(f"{cause} {cycles:,}" for cause, cycles in own.stall_by_cause.items() if cycles)
        stalls = (
            f"Tessera's own mapping and memory model (--timing tessera): SCALE-Sim stalls "
            f"{report.stall_cycles:,} cycles, Tessera {own.cycles - own.compute_cycles:,} ({causes}); "
            "Tessera tiles to avoid re-fetches and charges DRAM latency on every transfer"
        )
        peer_reads = report.ifmap_dram_reads + report.filter_dram_reads
        reads = own.dram_read_bytes
        plus_one = "reference = SCALE-Sim (Total - Stall) + 1: SCALE-Sim reports the last cycle's index"
        comparisons += [
            Comparison(
                suite, case.id, "compute cycles", report.compute_cycles + SCALESIM_CYCLE_OFFSET, layer.compute_cycles,
                0.0, plus_one,
            ),
            Comparison(suite, case.id, "total cycles", report.total_cycles, own.cycles, None, stalls),
            Comparison(
                suite, case.id, "DRAM read words", peer_reads, reads, 0.0,
                f"SCALE-Sim re-fetches {peer_reads / reads:.1f}x the words Tessera's own tiles load", at_most=True,
            ),
        ]  # fmt: skip
    return comparisons


def _chip_energy_j(result: dict[str, Any]) -> float:
    """The chip's energy, DRAM excluded (what a die's measured power covers)."""
    return result["energy_j"] - result["energy_breakdown_j"]["dram"]


SILICON_QUANTITIES: dict[str, Any] = {
    "MACs (millions)": lambda result: result["macs"] / 1e6,
    "processing latency ms": lambda result: result["latency_s"] * 1e3,
    "DRAM traffic MB": lambda result: (result["dram_read_bytes"] + result["dram_write_bytes"]) / 1e6,
    "DRAM read MB": lambda result: result["dram_read_bytes"] / 1e6,
    "DRAM write MB": lambda result: result["dram_write_bytes"] / 1e6,
    "TeraOps/s": lambda result: result["throughput_ops_s"] / 1e12,
    "chip energy mJ": lambda result: _chip_energy_j(result) * 1e3,
    "global_buffer traffic MB": lambda result: (
        result["sram_read_bytes"]["global_buffer"] + result["sram_write_bytes"]["global_buffer"]
    ) / 1e6,
    "chip power mW": lambda result: _chip_energy_j(result) / result["latency_s"] * 1e3,
}
"""The figures a silicon suite may compare, from `tessera simulate --json`'s document."""


def _silicon(suite: Suite, document: dict[str, Any], directory: Path) -> list[Comparison]:
    """Each layer (or network) of the file simulated on its chip, each figure compared;
    `document["chip"]` is a path relative to the data file's directory, and a layer's
    `activation_zeros` (default 0) the fraction of its input activations that are zero."""
    from tessera.api import simulate, zero_fraction

    chip = directory / document["chip"]
    comparisons = []
    for index, layer in enumerate(document["layers"]):
        where = f"layers[{index}].activation_zeros"
        zeros = zero_fraction(layer.get("activation_zeros", 0.0), str(directory / suite.file), where)
        result = simulate(chip, layer["model"], activation_zeros=zeros).to_json()
        for figure in layer["figures"]:
            comparisons.append(
                Comparison(
                    suite,
                    layer["name"],
                    figure["quantity"],
                    figure["reference"],
                    SILICON_QUANTITIES[figure["quantity"]](result),
                    figure["tolerance"],
                    figure["note"],
                    at_most=figure.get("at_most", False),
                    at_least=figure.get("at_least", False),
                )
            )
    return comparisons
