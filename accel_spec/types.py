"""Enumerations shared by every stage: dataflows, precisions, operands, vector op classes.

They live in accel_spec because the chip description is the first place they appear; the
compiler and simulator import them from here so that a dataflow or an operand has one
spelling in the whole tool (no string flags).
"""

from __future__ import annotations

from enum import Enum, IntEnum


class Dataflow(IntEnum):
    """Which operand stays put in the processing elements of the systolic array.

    The integer values are stored in instruction arrays, so they must never change.
    """

    OUTPUT_STATIONARY = 0
    WEIGHT_STATIONARY = 1
    INPUT_STATIONARY = 2

    @property
    def label(self) -> str:
        """The spelling used in YAML files and reports (``weight-stationary``)."""
        return self.name.lower().replace("_", "-")

    @property
    def short(self) -> str:
        """Two-letter abbreviation used in tables (OS, WS, IS)."""
        return "".join(part[0] for part in self.name.split("_"))

    @classmethod
    def spellings(cls) -> tuple[str, ...]:
        """Names `parse` accepts, as a chip file's JSON Schema lists them (``ws``, ``WS``, ...)."""
        names: list[str] = []
        for member in cls:
            names += [member.label, member.label.replace("-", "_"), member.short.lower(), member.short]
        return tuple(names)

    @classmethod
    def parse(cls, text: str) -> "Dataflow":
        """Accept ``weight-stationary``, ``weight_stationary`` or ``ws`` (any case)."""
        key = text.strip().lower().replace("_", "-")
        for member in cls:
            if key in (member.label, member.short.lower()):
                return member
        allowed = ", ".join(m.label for m in cls)
        raise ValueError(f"unknown dataflow {text!r}; allowed: {allowed}")


class IdentityHashed:
    """A mixin for enums whose members key the compile caches: hashed by identity, in C,
    instead of by `Enum.__hash__`, a Python call that hashes the member's name. A sweep
    point hashes some 6,000 members as parts of cache keys (MobileNetV2: `Precision` 3,400,
    `WorkloadKind` 1,400, `TimingMode` 1,000). A member is one object in its process (it
    unpickles to that object), so equal members hash equal, as before; the hash differs
    between processes, as a name's hash already did (string hashing is randomised)."""

    __hash__ = object.__hash__


class Precision(IdentityHashed, Enum):
    """Number formats for operands, accumulators and vector lanes.

    ``fp8`` is FP8 E4M3 and ``fp8_e5m2`` FP8 E5M2 (Micikevicius et al., 'FP8 formats for
    deep learning', arXiv 2209.05433, 2022); ``fp8_e4m3``/``e4m3`` and ``e5m2`` are accepted
    spellings, as is any case.
    """

    INT4 = "int4"
    INT8 = "int8"
    INT16 = "int16"
    INT32 = "int32"
    FP8 = "fp8"
    FP8_E5M2 = "fp8_e5m2"
    FP16 = "fp16"
    BF16 = "bf16"
    FP32 = "fp32"

    @classmethod
    def _missing_(cls, value: object) -> "Precision | None":
        if not isinstance(value, str):
            return None
        key = value.strip().lower()
        return _PRECISION_ALIASES.get(key) or next((p for p in cls if p.value == key), None)

    @property
    def bits(self) -> int:
        """Storage width of one element in bits."""
        return _PRECISION_BITS[self]

    @property
    def bytes(self) -> float:
        """Storage width of one element in bytes (0.5 for int4)."""
        return self.bits / 8

    @property
    def is_float(self) -> bool:
        """True for floating-point formats."""
        return self.value.startswith(("fp", "bf"))


_PRECISION_BITS = {
    Precision.INT4: 4,
    Precision.INT8: 8,
    Precision.INT16: 16,
    Precision.INT32: 32,
    Precision.FP8: 8,
    Precision.FP8_E5M2: 8,
    Precision.FP16: 16,
    Precision.BF16: 16,
    Precision.FP32: 32,
}

_PRECISION_ALIASES = {
    "fp8_e4m3": Precision.FP8,
    "fp8e4m3": Precision.FP8,
    "e4m3": Precision.FP8,
    "fp8e5m2": Precision.FP8_E5M2,
    "e5m2": Precision.FP8_E5M2,
}


class TensorClass(IntEnum):
    """What a tensor holds, which sets the format it is stored and moved in
    (`accel_spec.precision.PrecisionAssignment`): a weight (a GEMM's constant operand),
    an activation (everything the network computes), or the KV cache (a decoder's past keys
    and values, and the views of them attention reads). Values index `Target.storage_bits`."""

    ACTIVATION = 0
    WEIGHT = 1
    KV = 2


class Operand(IntEnum):
    """The three tensors of a GEMM. OUTPUT also names partial sums in the accumulator."""

    INPUT = 0
    WEIGHT = 1
    OUTPUT = 2

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def spellings(cls) -> tuple[str, ...]:
        """Names a chip file may use (``input``, ``INPUT``, ...), as its JSON Schema lists them."""
        return tuple(name for member in cls for name in (member.label, member.name))


class OpClass(IntEnum):
    """Vector-unit operation classes, each with its own throughput per lane."""

    ELEMENTWISE = 0
    TRANSCENDENTAL = 1
    REDUCTION = 2

    @property
    def label(self) -> str:
        return self.name.lower()


class PeMapping(Enum):
    """How a convolution's work is spread over the processing elements.

    SYSTOLIC        the dataflow's folds use the whole array.
    ROW_STATIONARY  Eyeriss's PE sets of filter rows × output rows, replicated or strip-mined
                    to fit the array (Chen et al., JSSC 2017, Sec. IV), keep only some PEs
                    busy on a layer (`compiler.target.timing.row_stationary_pes`).
    """

    SYSTOLIC = "systolic"
    ROW_STATIONARY = "row-stationary"


class DramType(Enum):
    """Off-chip memory technologies with a default energy per bit in the technology table."""

    DDR3 = "DDR3"
    DDR4 = "DDR4"
    DDR5 = "DDR5"
    LPDDR4 = "LPDDR4"
    LPDDR4X = "LPDDR4X"
    LPDDR5 = "LPDDR5"
    LPDDR5X = "LPDDR5X"
    GDDR6 = "GDDR6"
    HBM2 = "HBM2"
    HBM2E = "HBM2E"
    HBM3 = "HBM3"
    HBM3E = "HBM3E"
