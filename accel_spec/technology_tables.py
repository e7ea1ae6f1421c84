"""Default technology constants, each with its published source.

Everything here is a pure function of a precision, a capacity, a memory type or a process
node. Energies and areas of logic are published at 45 nm (Horowitz, ISSCC 2014) and scaled
to the chip's node with the factors of Stillmaker & Baas (Integration, 2017); SRAM density
comes from published 6T bitcell areas per node; DRAM energy per bit is per memory type.
`accel_spec.technology.resolve` combines them for one chip and records which were used.

Units: joules, square metres, watts, bytes, nanometres for nodes.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from enum import Enum

from accel_spec.types import DramType, Precision

PJ = 1e-12
UM2 = 1e-12  # square metres per µm²

# --------------------------------------------------------------------------- citations

HOROWITZ_2014 = (
    "M. Horowitz, 'Computing's energy problem (and what we can do about it)', ISSCC 2014, "
    "45 nm energy and area tables"
)
STILLMAKER_2017 = (
    "A. Stillmaker, B. Baas, 'Scaling equations for the accurate prediction of CMOS device "
    "performance from 180 nm to 7 nm', Integration 58, 2017"
)
OCONNOR_2017 = (
    "M. O'Connor et al., 'Fine-Grained DRAM: Energy-Efficient DRAM for Extreme Bandwidth "
    "Systems', MICRO 2017 (HBM2 baseline)"
)
LI_JACOB_2018 = (
    "S. Li, D. Reddy, B. Jacob, 'A Performance & Power Comparison of Modern High-Speed DRAM "
    "Architectures', MEMSYS 2018 (most DRAM energy is spent in the I/O interface)"
)
MICRON_GDDR6 = "Micron, 'Ultra-Bandwidth Solutions' product table, 2020: GDDR6 7.5 pJ/bit"
JOUPPI_2017 = (
    "N. Jouppi et al., 'In-Datacenter Performance Analysis of a Tensor Processing Unit', "
    "ISCA 2017, Table 2: TPU die idle power 28 W, die < 331 mm², 28 nm"
)
BITCELL_SOURCES = (
    "published 6T SRAM bitcell areas: Intel 180 nm 5.59 µm² (Yang, IEDM 1998), 130 nm 2.45 "
    "µm² (Tyagi, IEDM 2000), 90 nm 1.0 µm² (Thompson, IEDM 2002), 65 nm 0.57 µm² (Tyagi, IEDM "
    "2005), 45 nm 0.346 µm² (Mistry, IEDM 2007), 32 nm 0.171 µm² (Natarajan, IEDM 2008), "
    "22 nm 0.092 µm² (Auth, VLSI 2012), TSMC 16 nm 0.07 µm² (Wu, IEDM 2013), Intel 14 nm "
    "0.0588 µm² (Natarajan, IEDM 2014), 10 nm 0.0312 µm² (Auth, IEDM 2017), TSMC 7 nm "
    "0.027 µm² (Wu, IEDM 2016); array efficiency 70% assumed"
)

# --------------------------------------------------------------------------- arithmetic


class Arith(Enum):
    """The two arithmetic units a MAC and a vector lane are made of."""

    ADD = "add"
    MULT = "mult"


# Horowitz ISSCC 2014, energy table (45 nm, 0.9 V), picojoules per operation.
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

# Horowitz ISSCC 2014, area table (45 nm), µm² per operator.
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

# Datapath width that sets an operator's cost: all bits for integers, significand bits
# (with the hidden bit) for floats: IEEE 754-2008 binary16 11 and binary32 24; bfloat16 8
# (Kalamkar et al., 'A Study of BFLOAT16 for Deep Learning Training', arXiv 2019); FP8 E4M3
# 4 (Micikevicius et al., 'FP8 Formats for Deep Learning', arXiv 2022).
_DATAPATH_BITS: dict[Precision, int] = {
    Precision.INT4: 4,
    Precision.INT8: 8,
    Precision.INT16: 16,
    Precision.INT32: 32,
    Precision.FP8: 4,
    Precision.FP16: 11,
    Precision.BF16: 8,
    Precision.FP32: 24,
}

# Derivation rule for precisions Horowitz did not measure (int4, int16, bf16, fp8): a power
# law in datapath width through Horowitz's two measured points of the same family (int8 and
# int32 for integers, fp16 and fp32 for floats), extrapolated with the same exponent. The
# fitted exponents (multiplier energy 1.98 for integers, adder 0.87) match the textbook
# complexity of array multipliers (quadratic) and adders (linear) (Weste & Harris, 'CMOS
# VLSI Design', 4th ed., ch. 11). Exponent-field logic of floats is not modelled separately.
_FAMILY_ANCHORS: dict[bool, tuple[Precision, Precision]] = {
    False: (Precision.INT8, Precision.INT32),
    True: (Precision.FP16, Precision.FP32),
}


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
    """Joules per operation of one adder or multiplier at 45 nm (Horowitz 2014 / rule above)."""
    return _power_law(_HOROWITZ_ENERGY_PJ, op, precision) * PJ


def arith_area_45nm(op: Arith, precision: Precision) -> float:
    """Square metres of one adder or multiplier at 45 nm (Horowitz 2014 / rule above)."""
    return _power_law(_HOROWITZ_AREA_UM2, op, precision) * UM2


def mac_energy_45nm(operand: Precision, accumulator: Precision) -> float:
    """A MAC = a multiplier at operand precision + an adder at accumulator precision."""
    return arith_energy_45nm(Arith.MULT, operand) + arith_energy_45nm(Arith.ADD, accumulator)


def mac_area_45nm(operand: Precision, accumulator: Precision) -> float:
    """Arithmetic area of one processing element (pipeline registers not included)."""
    return arith_area_45nm(Arith.MULT, operand) + arith_area_45nm(Arith.ADD, accumulator)


def lane_energy_45nm(precision: Precision) -> float:
    """Energy of one vector lane op, charged as a multiply-add at the lane precision."""
    return arith_energy_45nm(Arith.MULT, precision) + arith_energy_45nm(Arith.ADD, precision)


def lane_area_45nm(precision: Precision) -> float:
    """Area of one vector lane: a multiplier and an adder at the lane precision."""
    return arith_area_45nm(Arith.MULT, precision) + arith_area_45nm(Arith.ADD, precision)


def accumulator_for(operand: Precision, accumulator: Precision) -> Precision:
    """Accumulator used for a MAC at `operand` precision on an array built for `accumulator`.

    The chip's accumulator is kept when it is of the same kind (integer/float) as the
    operands; otherwise the conventional wide accumulator of the operand's kind (int32 for
    integers, fp32 for floats) is assumed.
    """
    if accumulator.is_float == operand.is_float:
        return accumulator
    return Precision.FP32 if operand.is_float else Precision.INT32


# --------------------------------------------------------------------------- interpolation


def _loglog(x: float, xs: Sequence[float], ys: Sequence[float]) -> float:
    """Piecewise log-log interpolation through increasing `xs`; the end segments extrapolate."""
    index = 1
    while index < len(xs) - 1 and x > xs[index]:
        index += 1
    x0, x1, y0, y1 = xs[index - 1], xs[index], ys[index - 1], ys[index]
    slope = math.log(y1 / y0) / math.log(x1 / x0)
    return y0 * (x / x0) ** slope


# --------------------------------------------------------------------------- SRAM energy

# Horowitz ISSCC 2014: energy of a 64-bit cache access at 45 nm: 8 KB 10 pJ, 32 KB 20 pJ,
# 1 MB 100 pJ. Charged per byte (÷ 8) and interpolated log-log in capacity; smaller and
# larger arrays extrapolate with the slope of the nearest segment.
_SRAM_CAPACITY_BYTES = (8 * 1024, 32 * 1024, 1024 * 1024)
_SRAM_ENERGY_PER_BYTE_45NM = (10.0 * PJ / 8, 20.0 * PJ / 8, 100.0 * PJ / 8)


def sram_energy_per_byte_45nm(array_bytes: float) -> float:
    """Joules per byte read or written in one SRAM array of `array_bytes` at 45 nm."""
    return _loglog(array_bytes, _SRAM_CAPACITY_BYTES, _SRAM_ENERGY_PER_BYTE_45NM)


# --------------------------------------------------------------------------- DRAM energy

# Anchor: Horowitz ISSCC 2014, DDR3 DRAM 1.3–2.6 nJ per 64-bit access; we use the midpoint.
_DDR3_PJ_PER_BIT = (1.3e3 + 2.6e3) / 2 / 64
# DDR4/DDR5/LPDDR4/LPDDR4X/LPDDR5: the DDR3 anchor scaled by (VDDQ / 1.5 V)², because the
# I/O interface dominates DRAM energy (Li, Reddy & Jacob, MEMSYS 2018) and its switching
# energy goes as CV². VDDQ from the JEDEC standards: DDR3 1.5 V (JESD79-3), DDR4 1.2 V
# (JESD79-4), DDR5 1.1 V (JESD79-5), LPDDR4 1.1 V (JESD209-4), LPDDR4X 0.6 V (JESD209-4-1),
# LPDDR5 0.5 V (JESD209-5).
_VDDQ_VOLTS = {
    DramType.DDR3: 1.5,
    DramType.DDR4: 1.2,
    DramType.DDR5: 1.1,
    DramType.LPDDR4: 1.1,
    DramType.LPDDR4X: 0.6,
    DramType.LPDDR5: 0.5,
}
# O'Connor et al. MICRO 2017: HBM2 ≈ 3.9 pJ/bit. HBM2E is a speed extension of the same
# JESD235 interface and takes the same figure; for HBM3 we know no comparable published
# figure and use the HBM2 value as an upper bound.
_HBM2_PJ_PER_BIT = 3.9
_DRAM_PJ_PER_BIT: dict[DramType, float] = {
    **{t: _DDR3_PJ_PER_BIT * (v / _VDDQ_VOLTS[DramType.DDR3]) ** 2 for t, v in _VDDQ_VOLTS.items()},
    DramType.GDDR6: 7.5,  # Micron 'Ultra-Bandwidth Solutions', 2020
    DramType.HBM2: _HBM2_PJ_PER_BIT,
    DramType.HBM2E: _HBM2_PJ_PER_BIT,
    DramType.HBM3: _HBM2_PJ_PER_BIT,
}
_DRAM_SOURCES: dict[DramType, str] = {
    **{
        t: f"{HOROWITZ_2014} (DDR3 1.3–2.6 nJ/64 bit, midpoint) × (VDDQ {v} V / 1.5 V)², {LI_JACOB_2018}"
        for t, v in _VDDQ_VOLTS.items()
    },
    DramType.GDDR6: MICRON_GDDR6,
    DramType.HBM2: OCONNOR_2017,
    DramType.HBM2E: f"{OCONNOR_2017}; HBM2E assumed equal to HBM2",
    DramType.HBM3: f"{OCONNOR_2017}; HBM3 bounded by the HBM2 figure",
}


def dram_energy_per_bit(dram_type: DramType) -> float:
    """Joules per bit moved over the DRAM interface (not scaled with the logic node)."""
    return _DRAM_PJ_PER_BIT[dram_type] * PJ


def dram_source(dram_type: DramType) -> str:
    """Citation of the DRAM energy figure used for `dram_type`."""
    return _DRAM_SOURCES[dram_type]


# --------------------------------------------------------------------------- node scaling

# Stillmaker & Baas 2017, area scaling factors relative to 45 nm (their node-to-node table,
# column 45 nm).
_AREA_VS_45NM: dict[float, float] = {
    180: 19.0, 130: 6.4, 90: 2.8, 65: 1.5, 45: 1.0, 32: 0.46,
    20: 0.21, 16: 0.19, 14: 0.17, 10: 0.1, 7: 0.059,
}
# Stillmaker & Baas 2017, energy fits E(V) = a·V² + b·V + c per node (bulk 180–65 nm,
# high-performance 45–7 nm models), evaluated at the nominal supply voltage assumed below.
_ENERGY_FIT: dict[float, tuple[float, float, float]] = {
    180: (0.0, 24.64, -17.98),
    130: (7.171, -6.709, 2.904),
    90: (4.762, -4.781, 2.092),
    65: (3.755, -4.398, 1.975),
    45: (1.018, -0.3107, 0.1539),
    32: (0.8367, -0.4341, 0.1701),
    20: (0.373, -0.1582, 0.04104),
    16: (0.2958, -0.1241, 0.03024),
    14: (0.2363, -0.09675, 0.02239),
    10: (0.2068, -0.09311, 0.02375),
    7: (0.1776, -0.09097, 0.02447),
}
# Nominal supply voltages assumed per node (typical foundry core voltages).
_NOMINAL_VDD: dict[float, float] = {
    180: 1.8, 130: 1.3, 90: 1.2, 65: 1.1, 45: 1.0, 32: 0.9,
    20: 0.9, 16: 0.8, 14: 0.8, 10: 0.75, 7: 0.7,
}
_NODES_ASCENDING = tuple(sorted(_AREA_VS_45NM))
NODE_RANGE_NM = (_NODES_ASCENDING[0], _NODES_ASCENDING[-1])


def _energy_at_nominal(node: float) -> float:
    a, b, c = _ENERGY_FIT[node]
    vdd = _NOMINAL_VDD[node]
    return a * vdd**2 + b * vdd + c


_ENERGY_VS_45NM = {node: _energy_at_nominal(node) / _energy_at_nominal(45) for node in _ENERGY_FIT}


def check_node(node_nm: float) -> None:
    """Raise ValueError unless the scaling tables cover `node_nm`."""
    low, high = NODE_RANGE_NM
    if not (low <= node_nm <= high) or not math.isfinite(node_nm):
        raise ValueError(
            f"process node {node_nm:g} nm is outside the technology tables "
            f"({low:g}–{high:g} nm, {STILLMAKER_2017}); use a node in that range or give every "
            "constant in `overrides`"
        )


def _node_table(node_nm: float, table: dict[float, float]) -> float:
    check_node(node_nm)
    return _loglog(node_nm, _NODES_ASCENDING, [table[n] for n in _NODES_ASCENDING])


def energy_scale(node_nm: float) -> float:
    """Energy of a logic operation at `node_nm` relative to 45 nm (Stillmaker & Baas 2017)."""
    return _node_table(node_nm, _ENERGY_VS_45NM)


def area_scale(node_nm: float) -> float:
    """Area of logic at `node_nm` relative to 45 nm (Stillmaker & Baas 2017)."""
    return _node_table(node_nm, _AREA_VS_45NM)


# --------------------------------------------------------------------------- SRAM area

# Published 6T bitcell areas (µm²) by node; sources in BITCELL_SOURCES.
_BITCELL_UM2: dict[float, float] = {
    180: 5.59, 130: 2.45, 90: 1.0, 65: 0.57, 45: 0.346, 32: 0.171,
    22: 0.092, 16: 0.07, 14: 0.0588, 10: 0.0312, 7: 0.027,
}
# Fraction of an SRAM macro's area that is bitcells (the rest: decoders, sense amplifiers,
# column circuits). Assumed; compiled macros typically fall between 0.6 and 0.8.
SRAM_ARRAY_EFFICIENCY = 0.7


def sram_area_per_kib(node_nm: float) -> float:
    """Square metres per KiB of SRAM at `node_nm`: 8192 bitcells / array efficiency."""
    check_node(node_nm)
    nodes = tuple(sorted(_BITCELL_UM2))
    bitcell = _loglog(node_nm, nodes, [_BITCELL_UM2[n] for n in nodes]) * UM2
    return bitcell * 8 * 1024 / SRAM_ARRAY_EFFICIENCY


# --------------------------------------------------------------------------- leakage

# Jouppi et al. ISCA 2017, Table 2: the TPU die idles at 28 W on < 331 mm² in 28 nm. Idle
# power also contains clock distribution and I/O, so this density is an upper bound on
# leakage; it is applied at every node.
LEAKAGE_POWER_PER_MM2 = 28.0 / 331.0
