"""The accelerator description: a frozen, validated, unit-normalised object.

YAML keys equal the attribute names below. Quantities are written with human units in YAML
(``256 KiB``, ``700 MHz``, ``34 GB/s``, ``0.2 pJ``) and stored as plain SI numbers: bytes,
hertz, bytes per second, seconds, joules, square metres, watts, metres. Each field's
description states its stored unit, and `tessera check-spec --schema` exports the JSON
Schema from these descriptions so that editors can autocomplete chip files.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from accel_spec.components import chip_defaults
from accel_spec.components.scaling import Device
from accel_spec.types import Dataflow, DramType, OpClass, Operand, PeMapping, Precision
from accel_spec.units import (
    Area,
    Bandwidth,
    Bytes,
    Count,
    Duration,
    Energy,
    Frequency,
    Length,
    PositiveRate,
    Power,
    Voltage,
)


class _Frozen(BaseModel):
    """Base for every spec object: unknown keys are errors and objects are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True, use_enum_values=False)


# ---- energy/area model inputs (issue 13): per-PE storage, process, technology overrides ----


class PeStorage(_Frozen):
    """Per-PE scratchpads: bytes of each operand stored inside every processing element."""

    input: Bytes | None = Field(default=None, description="Bytes of input (ifmap) storage per PE.")
    weight: Bytes | None = Field(
        default=None,
        description="Bytes of weight (filter) storage per PE. A weight-stationary PE holding several weights reduces "
        "over them in place before passing its partial sum on (Eyeriss's filter scratchpad): fewer folds, fills "
        "and partial-sum passes (the reduction depth, half the weights it holds when the array double-buffers "
        "its stationary operand).",
    )
    output: Bytes | None = Field(
        default=None,
        description="Bytes of partial-sum storage per PE. A weight-stationary PE that also stores weights can keep "
        "one partial sum per output channel and spread its weights over as many channels, using each input once "
        "for all of them (Eyeriss's PEs interleave filters): the channel width.",
    )

    def bytes_of(self, operand: Operand) -> int | None:
        """Bytes per PE for `operand`, or None when that operand has no local storage."""
        return {Operand.INPUT: self.input, Operand.WEIGHT: self.weight, Operand.OUTPUT: self.output}[operand]


class Process(_Frozen):
    """Supply voltage and device flavour of the chip's process (its node is `technology`)."""

    voltage: Voltage | None = Field(
        default=None, description="Core supply in volts (YAML: `1.0 V`); empty: the node's nominal supply."
    )
    device: Device = Field(
        default=Device.HP,
        description="Transistor flavour for nodes of 45 nm and below: hp (high performance) or lp (low power).",
    )


class BufferEnergyOverrides(_Frozen):
    """Replace one buffer's SRAM energies (joules per byte)."""

    read_energy_per_byte: Energy | None = Field(default=None, description="Joules per byte read.")
    write_energy_per_byte: Energy | None = Field(default=None, description="Joules per byte written.")


# ---- end of the energy/area model inputs ----


class MatrixEngine(_Frozen):
    """The systolic array that runs convolutions and matrix multiplications."""

    rows: Count = Field(description="Processing-element rows of the systolic array.")
    cols: Count = Field(description="Processing-element columns of the systolic array.")
    units: Count = Field(
        default=1,
        description="Identical rows x cols arrays side by side (TPU v4 and v5e have four MXUs per "
        "TensorCore). They share the streamed operand, broadcast to every unit, and each unit holds "
        "its own block of the stationary operand and of the outputs, so together they compute like "
        "one rows x (units*cols) array whose fill and drain are those of one unit: units*cols "
        "stationary values load per cycle. Systolic mapping only.",
    )
    dataflows: tuple[Dataflow, ...] = Field(
        description="Dataflows the array supports: output-stationary, weight-stationary, "
        "input-stationary (abbreviations os, ws, is accepted)."
    )
    input_precision: Precision = Field(
        default=Precision.INT8, description="Precision of inputs and weights fed to the array."
    )
    accumulator_precision: Precision = Field(
        default=Precision.INT32, description="Precision of partial sums in the accumulators."
    )
    precisions: tuple[Precision, ...] | None = Field(
        default=None,
        description="Formats the array's multipliers execute. A run's MAC format (the wider "
        "operand of each weight x activation and activation x KV pair, `--precision w4a16` -> "
        "bf16) must be one of them; narrower stored formats are widened on the way in. Left out: "
        "any format.",
    )
    stationary_double_buffer: bool = Field(
        default=False,
        description="The processing elements hold a second copy of the stationary operand, so the "
        "next fold's operand shifts in while the current fold streams and the array's drain "
        "overlaps the next fill (TPU v1 double-buffers its weights: Jouppi et al., ISCA 2017, "
        "Sec. 2). Only the `tessera` timing mode uses it; `scalesim` times folds back to back.",
    )
    mapping: PeMapping = Field(
        default=PeMapping.SYSTOLIC,
        description="How a convolution's work is spread over the PEs: systolic (the dataflow's "
        "folds use the whole array) or row-stationary (Eyeriss's PE sets of filter rows x output "
        "rows keep only some PEs busy; Chen et al., JSSC 2017, Sec. IV).",
    )
    pe_storage: PeStorage | None = Field(
        default=None,
        description="Bytes per PE of each operand's local scratchpad (Eyeriss, JSSC 2017: 24 B ifmap, "
        "448 B filter, 48 B psum); empty for an array with pipeline registers only.",
    )
    gates_zero_inputs: bool = Field(
        default=False,
        description="A PE whose input activation is zero skips the MAC and the read of its weight from "
        "per-PE storage; cycles are unchanged (Eyeriss's data gating: Chen et al., JSSC 2017, Sec. V-B). "
        "How many inputs are zero is the workload's: `tessera simulate --activation-zeros`.",
    )

    @field_validator("accumulator_precision")
    @classmethod
    def _accumulator_holds_the_inputs(cls, accumulator: Precision, info: ValidationInfo) -> Precision:
        """Partial sums are never narrower than the operands, and float operands sum in floats.

        Equal widths are allowed: Eyeriss keeps 16-bit partial sums of 16-bit fixed-point
        operands (Chen et al., IEEE JSSC 52(1), 2017).
        """
        inputs = info.data.get("input_precision")
        if inputs is None:
            return accumulator  # the input precision has its own error
        if inputs.is_float and not accumulator.is_float:
            raise ValueError(f"{accumulator.value} accumulators cannot sum {inputs.value} products; use a float format")
        if accumulator.bits < inputs.bits:
            raise ValueError(
                f"{accumulator.value} ({accumulator.bits} bits) is narrower than the {inputs.value} inputs "
                f"({inputs.bits} bits); partial sums must be at least as wide as the operands"
            )
        return accumulator

    @field_validator("precisions")
    @classmethod
    def _lists_its_input_precision(cls, formats: tuple[Precision, ...] | None, info: ValidationInfo) -> object:
        inputs = info.data.get("input_precision")
        if formats is not None and inputs is not None and inputs not in formats:
            listed = ", ".join(p.value for p in formats)
            raise ValueError(f"the array's input_precision {inputs.value} is not among its precisions ({listed})")
        return formats

    @field_validator("dataflows", mode="before")
    @classmethod
    def _parse_dataflows(cls, value: object) -> object:
        if isinstance(value, str):
            value = [value]
        if isinstance(value, (list, tuple)):
            return tuple(Dataflow.parse(v) if isinstance(v, str) else v for v in value)
        return value

    @field_validator("dataflows")
    @classmethod
    def _non_empty_unique(cls, value: tuple[Dataflow, ...]) -> tuple[Dataflow, ...]:
        if not value:
            raise ValueError("at least one dataflow is required")
        if len(set(value)) != len(value):
            raise ValueError("a dataflow is listed twice")
        return value

    @model_validator(mode="after")
    def _units_are_systolic(self) -> MatrixEngine:
        if self.units > 1 and self.mapping is not PeMapping.SYSTOLIC:
            raise ValueError(
                f"units: {self.units} units need the systolic mapping; row-stationary PE sets span one array"
            )
        return self

    @property
    def array_cols(self) -> int:
        """Columns of all units side by side: the width the stationary operand and the outputs
        are spread over."""
        return self.cols * self.units

    @property
    def pes(self) -> int:
        """Number of processing elements (MACs per cycle at full utilisation)."""
        return self.rows * self.array_cols


class Buffer(_Frozen):
    """An on-chip SRAM buffer holding one or more GEMM operands."""

    capacity: Bytes = Field(description="Capacity in bytes (YAML: `256 KiB`).")
    holds: tuple[Operand, ...] = Field(
        description="Operands stored in this buffer: input, weight, output "
        "(output = partial sums / accumulators). Empty for a shared level that feeds no "
        "operand to the array (an L2): it keeps tensors between layers, which the operand "
        "buffers load from it over its ports."
    )
    banks: Count = Field(default=1, description="Number of independently addressed banks.")
    read_bytes_per_cycle: Bytes | None = Field(
        default=None,
        description="Read port width in bytes per cycle; empty means wide enough for the array.",
    )
    write_bytes_per_cycle: Bytes | None = Field(
        default=None,
        description="Write port width in bytes per cycle; empty means wide enough for the array.",
    )

    @field_validator("holds", mode="before")
    @classmethod
    def _parse_operands(cls, value: object) -> object:
        if isinstance(value, str):
            value = [value]
        if isinstance(value, (list, tuple)):
            parsed = []
            for item in value:
                if isinstance(item, str):
                    try:
                        parsed.append(Operand[item.strip().upper()])
                    except KeyError:
                        allowed = ", ".join(o.label for o in Operand)
                        raise ValueError(f"unknown operand {item!r}; allowed: {allowed}") from None
                else:
                    parsed.append(item)
            return tuple(parsed)
        return value

    @field_validator("holds")
    @classmethod
    def _holds_each_once(cls, value: tuple[Operand, ...]) -> tuple[Operand, ...]:
        if len(set(value)) != len(value):
            raise ValueError("an operand is listed twice")
        return value


class VectorThroughput(_Frozen):
    """Operations per lane per cycle for each vector op class."""

    elementwise: PositiveRate = Field(
        default=chip_defaults.VECTOR_ELEMENTWISE_RATE.value, description="Add, multiply, max, compare..."
    )
    transcendental: PositiveRate = Field(
        default=chip_defaults.VECTOR_TRANSCENDENTAL_RATE.value, description="exp, tanh, sqrt, divide..."
    )
    reduction: PositiveRate = Field(
        default=chip_defaults.VECTOR_REDUCTION_RATE.value, description="Sum/max steps of a reduction."
    )

    def rate(self, op_class: OpClass) -> float:
        """Ops per lane per cycle of one op class."""
        return {
            OpClass.ELEMENTWISE: self.elementwise,
            OpClass.TRANSCENDENTAL: self.transcendental,
            OpClass.REDUCTION: self.reduction,
        }[op_class]


class VectorUnit(_Frozen):
    """SIMD unit for activations, normalisation, softmax, pooling and other non-GEMM work."""

    lanes: Count = Field(description="Number of SIMD lanes.")
    precision: Precision = Field(default=Precision.FP32, description="Lane arithmetic precision.")
    throughput: VectorThroughput = Field(
        default_factory=VectorThroughput, description="Ops per lane per cycle by op class."
    )


class Dram(_Frozen):
    """Off-chip memory: one channel shared by loads and stores."""

    type: DramType = Field(description="Memory technology (DDR4, LPDDR5, HBM2E, ...).")
    bandwidth: Bandwidth = Field(description="Peak bandwidth in bytes per second (YAML: `34 GB/s`).")
    latency: Duration = Field(
        default=chip_defaults.DRAM_LATENCY.value, description="Access latency in seconds (YAML: `100 ns`)."
    )
    capacity: Bytes = Field(default=8 * 2**30, description="Capacity in bytes.")
    burst: Bytes = Field(
        default=int(chip_defaults.DRAM_BURST.value), description="Transfer granularity in bytes; transfers round up."
    )
    outstanding: Count | None = Field(
        default=None,
        description="Bursts the memory controller keeps in flight. Little's law bounds the sustained "
        "bandwidth by outstanding x burst / latency; empty means enough to sustain the peak "
        "bandwidth at this latency (the bandwidth-delay product).",
    )
    phy_on_chip: bool = Field(
        default=True,
        description="The chip holds the DRAM interface's PHY (its energy per bit is the chip's); false where "
        "the controller and PHY are outside the chip, such as on a test board's FPGA.",
    )


class TechnologyOverrides(_Frozen):
    """Replace any default technology constant; unset fields use the cited defaults."""

    mac_energy: Energy | None = Field(default=None, description="Joules per MAC at input precision.")
    sram_energy_per_byte: Energy | None = Field(
        default=None, description="Joules per byte read or written, for every buffer."
    )
    buffers: dict[str, BufferEnergyOverrides] = Field(
        default_factory=dict, description="Per-buffer SRAM energies, by buffer name (win over sram_energy_per_byte)."
    )
    pe_storage_energy_per_byte: dict[Operand, Energy] = Field(
        default_factory=dict,
        description="Joules per byte read or written in a PE's local storage, by operand (input, weight, output).",
    )
    dram_energy_per_bit: Energy | None = Field(default=None, description="Joules per DRAM bit read or written.")
    dram_read_energy_per_bit: Energy | None = Field(default=None, description="Joules per DRAM bit read.")
    dram_write_energy_per_bit: Energy | None = Field(default=None, description="Joules per DRAM bit written.")
    dram_phy_energy_per_bit: Energy | None = Field(
        default=None, description="Joules the chip's DRAM PHY spends per bit read or written."
    )
    vector_op_energy: Energy | None = Field(default=None, description="Joules per vector lane op.")
    register_energy_per_bit: Energy | None = Field(
        default=None, description="Joules per pipeline-register bit written in a PE."
    )
    clock_energy_per_bit: Energy | None = Field(
        default=None, description="Joules per pipeline-register bit per clocked cycle."
    )
    wire_energy_per_bit_mm: Energy | None = Field(
        default=None, description="Joules per bit per millimetre of on-chip wire."
    )
    leakage_power_per_mm2: Power | None = Field(
        default=None, description="Watts of leakage per mm² of chip (replaces the per-component model)."
    )
    mac_area: Area | None = Field(default=None, description="Square metres per MAC unit.")
    sram_area_per_kib: Area | None = Field(default=None, description="Square metres per KiB of SRAM.")
    vector_lane_area: Area | None = Field(default=None, description="Square metres per vector lane.")

    @field_validator("pe_storage_energy_per_byte", mode="before")
    @classmethod
    def _parse_operand_keys(cls, value: object) -> object:
        if isinstance(value, dict):
            parsed = {}
            for key, energy in value.items():
                if isinstance(key, str):
                    try:
                        key = Operand[key.strip().upper()]
                    except KeyError:
                        allowed = ", ".join(o.label for o in Operand)
                        raise ValueError(f"unknown operand {key!r}; allowed: {allowed}") from None
                parsed[key] = energy
            return parsed
        return value


class Accelerator(_Frozen):
    """A whole chip: clock, process node, matrix engine, buffers, vector unit, DRAM."""

    name: str = Field(description="Short identifier used in reports.")
    description: str = Field(default="", description="Free text: where the numbers come from.")
    clock: Frequency = Field(description="Clock frequency in hertz (YAML: `700 MHz`).")
    technology: Length = Field(description="Process node in metres (YAML: `28 nm`).")
    matrix: MatrixEngine
    buffers: dict[str, Buffer] = Field(description="On-chip buffers by name.")
    vector: VectorUnit
    dram: Dram
    process: Process = Field(default_factory=Process, description="Supply voltage and device flavour.")
    overrides: TechnologyOverrides = Field(default_factory=TechnologyOverrides)

    @field_validator("buffers")
    @classmethod
    def _every_operand_has_one_buffer(cls, buffers: dict[str, Buffer]) -> dict[str, Buffer]:
        holders: dict[Operand, list[str]] = {op: [] for op in Operand}
        for name, buffer in buffers.items():
            for operand in buffer.holds:
                holders[operand].append(name)
        problems = []
        for operand, names in holders.items():
            if not names:
                problems.append(f"no buffer holds the {operand.label} operand")
            elif len(names) > 1:
                problems.append(f"operand {operand.label} is held by several buffers: {', '.join(names)}")
        if problems:
            raise ValueError("; ".join(problems))
        return buffers

    @model_validator(mode="after")
    def _buffer_overrides_name_buffers(self) -> Accelerator:
        unknown = sorted(set(self.overrides.buffers) - set(self.buffers))
        if unknown:
            raise ValueError(
                f"overrides.buffers names no buffer of this chip: {', '.join(unknown)}; buffers: {', '.join(self.buffers)}"
            )
        return self

    @model_validator(mode="after")
    def _phy_override_prices_a_phy_on_chip(self) -> Accelerator:
        if self.overrides.dram_phy_energy_per_bit is not None and not self.dram.phy_on_chip:
            raise ValueError(
                "overrides.dram_phy_energy_per_bit prices a DRAM PHY this chip does not have (dram.phy_on_chip is "
                "false); remove one of the two"
            )
        return self

    @property
    def node_nm(self) -> float:
        """Process node in nanometres (the unit technology tables are keyed by).

        Rounded to 1e-6 nm so that ``28 nm`` reads back as 28, not 28.000000000000004.
        """
        return round(self.technology * 1e9, 6)

    def buffer_names(self) -> tuple[str, ...]:
        """Buffer names in file order; instruction arrays store indices into this tuple."""
        return tuple(self.buffers)

    def buffer_for(self, operand: Operand) -> str:
        """Name of the buffer that holds an operand (exactly one, checked at load time)."""
        for name, buffer in self.buffers.items():
            if operand in buffer.holds:
                return name
        raise KeyError(operand)

