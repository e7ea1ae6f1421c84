"""Processing elements: arithmetic by precision, pipeline registers, and what a MAC moves.

A PE is a multiplier at operand precision, an adder at accumulator precision and one
pipeline register per operand (input, weight, partial sum). Per MAC, the dataflow decides
which registers are written and which operands hop to a neighbour (Kung's systolic arrays;
Chen, Emer & Sze, ISCA 2016, Fig. 4 for the three stationarities):

    weight-stationary   input and partial sum move; the weight register holds
    output-stationary   input and weight move; the accumulator is read and written in place
    input-stationary    weight and partial sum move; the input register holds

An operand that the chip keeps in per-PE storage (`matrix.pe_storage`, e.g. Eyeriss's
scratchpads) is instead read from that store every MAC (partial sums read and written; an
operand the dataflow moves is also written there as it arrives) and neither held in a
pipeline register nor forwarded. Every pipeline register bit is clocked
every cycle the array runs (`clock_bits`), which is the clock energy of the array.

A PE that gates zero inputs (`matrix.gates_zero_inputs`) spends, on a zero input, neither the
MAC nor the weight's per-PE storage read (`gated_reads`); everything else it does anyway.
"""

from __future__ import annotations

import math
from enum import Enum

from accel_spec.components import Constant
from accel_spec.components.scaling import Process
from accel_spec.types import Dataflow, Operand, Precision

PJ = 1e-12
UM2 = 1e-12

HOROWITZ_2014 = (
    "M. Horowitz, 'Computing's energy problem (and what we can do about it)', ISSCC 2014, p. 10-14, "
    "energy and area tables (45 nm, 0.9 V)"
)
ALADDIN_2014 = (
    "Y. S. Shao et al., 'Aladdin: a pre-RTL, power-performance accelerator simulator', ISCA 2014; "
    "its characterisation of a commercial 40 nm library, common/power_func.h, REG_1ns_* (per bit)"
)
EYERISS_DATA_GATING = (
    "Y.-H. Chen, T. Krishna, J. S. Emer, V. Sze, 'Eyeriss: An Energy-Efficient Reconfigurable Accelerator for "
    "Deep Convolutional Neural Networks', IEEE JSSC 52(1), 2017, Sec. V-B (data gating): a zero ifmap value "
    "disables the filter scratchpad read and the MAC datapath; cycles are unchanged"
)
HOROWITZ_PROCESS = Process(45, 0.9)
"""Horowitz's table: 45 nm at 0.9 V (the table's own heading)."""
ALADDIN_PROCESS = Process(40, 0.9)
"""Aladdin's library: 40 nm; assumption: its 0.9 V nominal supply."""


class Arith(Enum):
    """The two arithmetic units a MAC and a vector lane are made of."""

    ADD = "add"
    MULT = "mult"


# Horowitz ISSCC 2014 energy table (45 nm, 0.9 V), picojoules per operation.
_HOROWITZ_ENERGY_PJ: dict[tuple[Arith, Precision], float] = {
    (Arith.ADD, Precision.INT8): 0.03,
    (Arith.ADD, Precision.INT32): 0.1,
    (Arith.MULT, Precision.INT8): 0.2,
    (Arith.MULT, Precision.INT32): 3.1,
    (Arith.ADD, Precision.FP16): 0.4,
    (Arith.ADD, Precision.FP32): 0.9,
    (Arith.MULT, Precision.FP16): 1.1,
    (Arith.MULT, Precision.FP32): 3.7,
}
# Horowitz ISSCC 2014 area table (45 nm), µm² per operator.
_HOROWITZ_AREA_UM2: dict[tuple[Arith, Precision], float] = {
    (Arith.ADD, Precision.INT8): 36.0,
    (Arith.ADD, Precision.INT32): 137.0,
    (Arith.MULT, Precision.INT8): 282.0,
    (Arith.MULT, Precision.INT32): 3495.0,
    (Arith.ADD, Precision.FP16): 1360.0,
    (Arith.ADD, Precision.FP32): 4184.0,
    (Arith.MULT, Precision.FP16): 1640.0,
    (Arith.MULT, Precision.FP32): 7700.0,
}
# Datapath width that sets an operator's cost: all bits for integers, significand bits (with
# the hidden bit) for floats: IEEE 754-2008 binary16 11 and binary32 24; bfloat16 8 (Kalamkar
# et al., arXiv 1905.12322, 2019); FP8 E4M3 4 and E5M2 3 (Micikevicius et al., arXiv 2209.05433,
# 2022).
_DATAPATH_BITS: dict[Precision, int] = {
    Precision.INT4: 4,
    Precision.INT8: 8,
    Precision.INT16: 16,
    Precision.INT32: 32,
    Precision.FP8: 4,
    Precision.FP8_E5M2: 3,
    Precision.FP16: 11,
    Precision.BF16: 8,
    Precision.FP32: 24,
}
# Precisions Horowitz did not measure (int4, int16, bf16, fp8): a power law in datapath width
# through his two measured points of the same family, extrapolated with the same exponent
# (integer multiplier energy exponent 1.98, adder 0.87: the quadratic and linear complexity of
# array multipliers and adders, Weste & Harris, 'CMOS VLSI Design', 4th ed., ch. 11).
_FAMILY_ANCHORS: dict[bool, tuple[Precision, Precision]] = {
    False: (Precision.INT8, Precision.INT32),
    True: (Precision.FP16, Precision.FP32),
}

# Aladdin's 40 nm register, per bit at a 1 ns cycle: internal power 7.936518e-3 mW (the clock
# pin and internal nodes, paid every clocked cycle), switching power 1.062977e-3 mW (data
# toggling), area 5.981433 µm², leakage 7.395312e-5 mW.
REGISTER_CLOCK_J = Constant("register_clock_energy", 7.936518e-3 * 1e-3 * 1e-9, "J per bit per clocked cycle", ALADDIN_2014 + " REG_1ns_int_power 7.936518e-3 mW at 1 GHz")
REGISTER_WRITE_J = Constant("register_write_energy", 1.062977e-3 * 1e-3 * 1e-9, "J per bit written", ALADDIN_2014 + " REG_1ns_switch_power 1.062977e-3 mW at 1 GHz")
REGISTER_AREA_M2 = Constant("register_area", 5.981433 * UM2, "m² per bit", ALADDIN_2014 + " REG_1ns_area 5.981433 µm²")
REGISTER_LEAKAGE_W = Constant("register_leakage", 7.395312e-5 * 1e-3, "W per bit", ALADDIN_2014 + " REG_1ns_leakage_power 7.395312e-5 mW")

CONSTANTS = (
    *(
        Constant(f"{op.value}_{precision.value}_energy_45nm", value * PJ, "J", HOROWITZ_2014)
        for (op, precision), value in _HOROWITZ_ENERGY_PJ.items()
    ),
    *(
        Constant(f"{op.value}_{precision.value}_area_45nm", value * UM2, "m²", HOROWITZ_2014)
        for (op, precision), value in _HOROWITZ_AREA_UM2.items()
    ),
    REGISTER_CLOCK_J,
    REGISTER_WRITE_J,
    REGISTER_AREA_M2,
    REGISTER_LEAKAGE_W,
)


def _power_law(table: dict[tuple[Arith, Precision], float], op: Arith, precision: Precision) -> float:
    measured = table.get((op, precision))
    if measured is not None:
        return measured
    low, high = _FAMILY_ANCHORS[precision.is_float]
    y0, y1 = table[(op, low)], table[(op, high)]
    w0, w1, w = _DATAPATH_BITS[low], _DATAPATH_BITS[high], _DATAPATH_BITS[precision]
    exponent = math.log(y1 / y0) / math.log(w1 / w0)
    return y0 * (w / w0) ** exponent


def arith_energy_45nm(op: Arith, precision: Precision) -> float:
    """Joules per operation of one adder or multiplier at 45 nm, 0.9 V (Horowitz / rule above)."""
    return _power_law(_HOROWITZ_ENERGY_PJ, op, precision) * PJ


def arith_area_45nm(op: Arith, precision: Precision) -> float:
    """Square metres of one adder or multiplier at 45 nm (Horowitz / rule above)."""
    return _power_law(_HOROWITZ_AREA_UM2, op, precision) * UM2


def mac_energy_45nm(operand: Precision, accumulator: Precision) -> float:
    """A MAC = a multiplier at operand precision + an adder at accumulator precision."""
    return arith_energy_45nm(Arith.MULT, operand) + arith_energy_45nm(Arith.ADD, accumulator)


def mac_area_45nm(operand: Precision, accumulator: Precision) -> float:
    """Arithmetic area of one processing element (registers not included)."""
    return arith_area_45nm(Arith.MULT, operand) + arith_area_45nm(Arith.ADD, accumulator)


def mac_format(*operands: Precision) -> Precision:
    """The format a MAC of `operands` (weight × activation, activation × KV) executes in: the
    multiplier is sized by the wider operand, the narrower one widened on its way into the PE.

    A float operand takes the product to floats (an integer weight is dequantised to the
    activation's float format, as W4A16 kernels convert int4 weights to fp16 before the
    multiply: Lin et al., 'AWQ', MLSys 2024, Sec. 4; Frantar et al., 'MARLIN', arXiv
    2408.11743, 2024); among formats of one kind the widest datapath wins (`_DATAPATH_BITS`:
    significand bits for floats), ties going to the wider storage, then to the first given.
    So a mixed pair costs what a uniform MAC at that format costs (Horowitz's table, or the
    power law below it), and an int4 × int8 product is an int8 MAC. Bit-composable arrays
    whose multiply energy scales with the product of the two widths (Sharma et al., 'Bit
    Fusion', ISCA 2018) are not modelled: the arrays Tessera describes have fixed multipliers.
    """
    floats = [p for p in operands if p.is_float]
    pool = floats or list(operands)
    return max(pool, key=lambda p: (_DATAPATH_BITS[p], p.bits))


def accumulator_for(operand: Precision, accumulator: Precision) -> Precision:
    """Accumulator used for a MAC at `operand` precision on an array built for `accumulator`.

    The chip's accumulator is kept when it is of the same kind (integer/float) as the
    operands; otherwise the conventional wide accumulator of the operand's kind (int32 for
    integers, fp32 for floats) is assumed.
    """
    if accumulator.is_float == operand.is_float:
        return accumulator
    return Precision.FP32 if operand.is_float else Precision.INT32


_MOVING: dict[Dataflow, tuple[Operand, ...]] = {
    Dataflow.WEIGHT_STATIONARY: (Operand.INPUT, Operand.OUTPUT),
    Dataflow.OUTPUT_STATIONARY: (Operand.INPUT, Operand.WEIGHT),
    Dataflow.INPUT_STATIONARY: (Operand.WEIGHT, Operand.OUTPUT),
}
_STATIONARY: dict[Dataflow, Operand] = {
    Dataflow.WEIGHT_STATIONARY: Operand.WEIGHT,
    Dataflow.OUTPUT_STATIONARY: Operand.OUTPUT,
    Dataflow.INPUT_STATIONARY: Operand.INPUT,
}


def operand_bits(operand: Operand, input_bits: int, accumulator_bits: int) -> int:
    """Width of an operand in the array: partial sums at accumulator width, the rest at input width."""
    return accumulator_bits if operand is Operand.OUTPUT else input_bits


def forwarded_bits(dataflow: Dataflow, stored: frozenset[Operand], input_bits: int, accumulator_bits: int) -> int:
    """Bits one MAC passes to a neighbouring PE (each written into its pipeline register)."""
    return sum(operand_bits(op, input_bits, accumulator_bits) for op in _MOVING[dataflow] if op not in stored)


def storage_accesses(operand: Operand, dataflow: Dataflow) -> tuple[int, int]:
    """(reads, writes) per MAC of an operand kept in per-PE storage: a partial sum is read and
    written back; an operand the dataflow moves arrives in the store every MAC (written, then
    read); the stationary one is read (its fill, once per fold, is not counted)."""
    if operand is Operand.OUTPUT:
        return 1, 1
    return 1, int(operand in _MOVING[dataflow])


def gated_reads(operand: Operand) -> int:
    """Reads per MAC of an operand kept in per-PE storage that a PE gating zero inputs skips
    when the input is zero (`EYERISS_DATA_GATING`): the weight's read. The input is still
    written and read (its zero is what the gate detects) and the partial sum still read and
    written back (assumption: the paper gates only the filter read and the MAC datapath);
    pipeline registers and forwarding are unchanged, since a moving operand still passes on."""
    return int(operand is Operand.WEIGHT)


def reduction_depth(weight_bytes: int | None, weight_bits: int, double_buffered: bool) -> int:
    """Weights a weight-stationary PE holds along the reduction and adds into its own partial
    sum before passing it on (`compiler.target.timing`, "Reduction depth"): what its weight
    storage of `weight_bytes` holds at `weight_bits` each, half of it where the stationary
    operand is double-buffered (the shadow copy holds the next fold's), at least 1."""
    if not weight_bytes:
        return 1
    values = int(weight_bytes) * 8 // weight_bits
    return max(1, values // 2 if double_buffered else values)


def channel_width(output_bytes: int | None, accumulator_bits: int) -> int:
    """Output channels a weight-stationary PE can interleave (`compiler.target.timing`,
    "Channel width"): the partial sums its output storage of `output_bytes` holds at
    `accumulator_bits` each, at least 1 (a PE without output storage keeps one sum in its
    pipeline register)."""
    if not output_bytes:
        return 1
    return max(1, int(output_bytes) * 8 // accumulator_bits)


def held_input_bits(stored: frozenset[Operand], input_bits: int) -> int:
    """Bits a weight-stationary MAC reusing the input its PE holds does not write into the
    input's pipeline register nor pass to the next PE (part of `forwarded_bits` and
    `register_bits_written`; none where the input lives in per-PE storage, whose accesses
    it saves instead: `storage_accesses`). A PE interleaving w channels takes each input
    once for its w MACs (`compiler.target.timing`, "Channel width")."""
    return 0 if Operand.INPUT in stored else input_bits


def psum_hop_bits(stored: frozenset[Operand], accumulator_bits: int) -> int:
    """Bits of the partial sum a weight-stationary MAC passes to the PE below, part of its
    `forwarded_bits` (none where partial sums live in per-PE storage). A PE that reduces
    several weights in place passes it once per d MACs (`compiler.target.timing`, "Reduction
    depth"), so its other MACs save this hop; their accumulator write is the register write
    every WS MAC is charged (`register_bits_written`)."""
    return 0 if Operand.OUTPUT in stored else accumulator_bits


def register_bits_written(dataflow: Dataflow, stored: frozenset[Operand], input_bits: int, accumulator_bits: int) -> int:
    """Register bits one MAC writes: the forwarded operands, plus the accumulator of an
    output-stationary PE updated in place (unless partial sums live in per-PE storage)."""
    written = forwarded_bits(dataflow, stored, input_bits, accumulator_bits)
    stationary = _STATIONARY[dataflow]
    if stationary is Operand.OUTPUT and stationary not in stored:
        written += accumulator_bits
    return written


def clock_bits(stored: frozenset[Operand], input_bits: int, accumulator_bits: int) -> int:
    """Pipeline register bits of one PE: one register per operand not kept in per-PE storage."""
    return sum(operand_bits(op, input_bits, accumulator_bits) for op in Operand if op not in stored)
