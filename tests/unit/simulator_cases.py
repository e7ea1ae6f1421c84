"""A small chip, hand-set technology constants and a small program for simulator unit tests."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from accel_spec.schema import Accelerator
from accel_spec.technology import HeldInputEnergy, Technology
from accel_spec.types import Dataflow, OpClass, Operand
from compiler.target.isa import INSTRUCTION_DTYPE, Opcode, Program

# buffers: "act" holds input and output (index 0), "wgt" holds weights (index 1)
ACT, WGT = 0, 1


def tiny_accel(**dram: str | int) -> Accelerator:
    """4×4 array at 1 GHz, 8 GB/s DRAM (8 bytes/cycle), 16-byte bursts, 5 ns latency."""
    return Accelerator.model_validate(
        {
            "name": "tiny",
            "clock": "1 GHz",
            "technology": "28 nm",
            "matrix": {"rows": 4, "cols": 4, "dataflows": ["os", "ws"]},
            "buffers": {
                "act": {"capacity": "64 KiB", "holds": ["input", "output"]},
                "wgt": {"capacity": "32 KiB", "holds": ["weight"]},
            },
            "vector": {"lanes": 4},
            "dram": {"type": "DDR4", "bandwidth": "8 GB/s", "latency": "5 ns", "burst": 16, **dram},
        }
    )


def hand_technology() -> Technology:
    """Round constants so that energies can be summed by hand."""
    return Technology(
        mac_energy=1e-12,
        register_energy_per_mac={d: 0.1e-12 for d in Dataflow},
        forwarding_energy_per_mac={d: 0.2e-12 for d in Dataflow},
        psum_hop_energy=0.1e-12,
        held_input_energy=HeldInputEnergy(0.05e-12, 0.02e-12, 0.0),
        pe_storage_energy_per_mac={d: 0.0 for d in Dataflow},
        gates_zero_inputs=False,
        gated_storage_energy_per_mac=0.0,
        clock_energy_per_cycle=0.01e-12,
        sram_read_energy_per_byte={"act": 2e-12, "wgt": 3e-12},
        sram_write_energy_per_byte={"act": 4e-12, "wgt": 5e-12},
        interconnect_energy_per_byte={"act": 0.5e-12, "wgt": 0.5e-12},
        dram_read_energy_per_byte=100e-12,
        dram_write_energy_per_byte=200e-12,
        dram_phy_energy_per_byte=10e-12,
        vector_op_energy=0.5e-12,
        leakage={"matrix": 0.25},
        area={"matrix": 1e-6, "vector": 0.5e-6, "act": 2e-6, "wgt": 1e-6},
        cell_area={"matrix": 0.5e-6, "vector": 0.25e-6, "act": 1e-6, "wgt": 0.5e-6},
        sources={"mac_energy": "override"},
    )


def program_of(
    rows: Sequence[dict[str, int]], deps: Sequence[Sequence[int]], layers: Sequence[str]
) -> Program:
    """A Program from instruction field dicts and per-instruction dependency lists."""
    instructions = np.zeros(len(rows), dtype=INSTRUCTION_DTYPE)
    for i, fields in enumerate(rows):
        for name, value in fields.items():
            instructions[i][name] = int(value)
    dep_ptr = np.concatenate([[0], np.cumsum([len(d) for d in deps])]).astype(np.int64)
    flat = np.array([d for ds in deps for d in ds], dtype=np.int64)
    return Program(instructions, dep_ptr, flat, tuple(layers))


def two_layer_program() -> Program:
    """conv (load, load, GEMM, accumulate GEMM) then act (VEC, STORE)."""
    rows = [
        dict(opcode=Opcode.LOAD, operand=Operand.INPUT, buffer=ACT, bytes=100, layer=0),
        dict(opcode=Opcode.LOAD, operand=Operand.WEIGHT, buffer=WGT, bytes=64, layer=0),
        dict(opcode=Opcode.GEMM, m=8, k=8, n=8, dataflow=Dataflow.WEIGHT_STATIONARY, layer=0),
        dict(
            opcode=Opcode.GEMM, m=8, k=8, n=8, dataflow=Dataflow.OUTPUT_STATIONARY, accumulate=1, layer=0
        ),
        dict(opcode=Opcode.VEC, op_class=OpClass.TRANSCENDENTAL, elements=64, layer=1),
        dict(opcode=Opcode.STORE, operand=Operand.OUTPUT, buffer=ACT, bytes=70, layer=1),
    ]
    return program_of(rows, [[], [], [0, 1], [2], [3], [4]], ["conv", "act"])
