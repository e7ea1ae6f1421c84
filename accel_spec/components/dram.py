"""Off-chip DRAM: energy per bit read and written, by memory type.

Figures are per bit moved across the interface, the DRAM device and its I/O together (the
accelerator's own controller and PHY are not in them). Three kinds:

- **From a datasheet (DDR3, DDR4, LPDDR4).** A vendor datasheet's supply currents (IDD) by the
  method of DRAMPower (K. Chandrasekar et al., "Improved Power Modeling of DDR SDRAMs", DSD
  2011): a burst costs its current above active standby (IDD4R or IDD4W minus IDD3N) on every
  supply over the burst; an activation costs IDD0 over tRC minus the standby currents over the
  same time, and is shared by the bursts of the page it opens, since a transfer streams whole
  pages (an assumption, stated in the provenance: random 64-byte accesses cost several times
  more). I/O: DDR3's per-DQ output and on-die-termination power from Micron's power calculator;
  LPDDR4's VDDQ currents from its datasheet; DDR4's pseudo-open-drain link from the datasheet's
  driver impedance and reference load. The datasheet values are read from DRAMPower's memory
  specifications (tukl-msd/DRAMPower, memspecs/), which transcribe Micron datasheets.
- **Scaled from its family's datasheet device (DDR5, LPDDR4X, LPDDR5, LPDDR5X),** labelled as an
  assumption: the device's core energy by (VDD / VDD of the datasheet device)², its I/O energy by
  (VDDQ / VDDQ)², with the supplies of the JEDEC standard.
- **Published per-bit figures (GDDR6, HBM2; HBM2E, HBM3 and HBM3E take HBM2's).**
"""

from __future__ import annotations

from dataclasses import dataclass

from accel_spec.components import Constant
from accel_spec.types import DramType

PJ = 1e-12
MA = 1e-3

DRAMPOWER = "DRAMPower (tukl-msd/DRAMPower) memspecs/{file}, a transcription of the Micron datasheet"
CHANDRASEKAR_2011 = (
    "K. Chandrasekar, B. Akesson, K. Goossens, 'Improved Power Modeling of DDR SDRAMs', DSD 2011 (DRAMPower's "
    "method): burst energy (IDD4R/W - IDD3N) x V x tBurst per supply, activation (IDD0 tRC - IDD3N tRAS - "
    "IDD2N (tRC - tRAS)) x V shared by the page's bursts"
)
STREAMING = "assumption: transfers stream whole DRAM pages (one activation per page)"
OCONNOR_2017 = (
    "M. O'Connor et al., 'Fine-Grained DRAM: Energy-Efficient DRAM for Extreme Bandwidth Systems', MICRO 2017, "
    "HBM2 baseline 3.9 pJ/bit; one figure for read and write"
)
MICRON_GDDR6 = "Micron, 'Ultra-Bandwidth Solutions' GDDR6 product brief, 2020: 7.5 pJ/bit; one figure for read and write"


@dataclass(frozen=True)
class Supply:
    """One supply rail of a DRAM device and its datasheet currents (amperes)."""

    volts: float
    idd0: float
    idd2n: float
    idd3n: float
    idd4r: float
    idd4w: float


@dataclass(frozen=True)
class DramDevice:
    """A datasheet DRAM device: what a burst, an activation and its I/O cost.

    Attributes:
        name: part and speed grade.
        source: where its figures are read.
        width: data pins (DQ).
        burst_length: beats per burst.
        clock_hz: command clock (data move on both edges).
        t_rc, t_ras: row cycle and row active time, in clock cycles.
        columns: columns per page (a page holds columns × width bits).
        supplies: the core rails and their currents.
        io_supply: the I/O rail (VDDQ) where the datasheet gives its currents (LPDDR4).
        io_w_per_dq: (read, write) I/O and termination power per DQ while data move, where
            the datasheet gives it as power rather than as a rail's current.
    """

    name: str
    source: str
    width: int
    burst_length: int
    clock_hz: float
    t_rc: int
    t_ras: int
    columns: int
    supplies: tuple[Supply, ...]
    io_supply: Supply | None = None
    io_w_per_dq: tuple[float, float] = (0.0, 0.0)

    @property
    def burst_bits(self) -> int:
        return self.burst_length * self.width

    @property
    def burst_seconds(self) -> float:
        return self.burst_length / 2 / self.clock_hz

    def activation_joules(self) -> float:
        """One activate-precharge cycle above standby, every supply."""
        cycle = 1 / self.clock_hz
        rails = (*self.supplies, *((self.io_supply,) if self.io_supply else ()))
        return sum(
            s.volts * (s.idd0 * self.t_rc - s.idd3n * self.t_ras - s.idd2n * (self.t_rc - self.t_ras)) * cycle for s in rails
        )

    def per_bit(self, write: bool) -> tuple[float, float]:
        """(core, I/O) joules per bit of a streamed burst; the activation is in the core."""
        burst = self.burst_seconds

        def burst_joules(s: Supply) -> float:
            return s.volts * ((s.idd4w if write else s.idd4r) - s.idd3n) * burst

        core = sum(burst_joules(s) for s in self.supplies)
        core += self.activation_joules() * self.burst_bits / (self.columns * self.width)
        io = self.io_w_per_dq[write] * burst * self.width
        if self.io_supply is not None:
            io += burst_joules(self.io_supply)
        return core / self.burst_bits, io / self.burst_bits


DDR3_DEVICE = DramDevice(
    "Micron 1Gb DDR3-1600 x8 (G die)",
    DRAMPOWER.format(file="MICRON_1Gb_DDR3-1600_8bit_G.json") + "; per-DQ I/O (ioPower 4.6 mW) and write ODT "
    "(wrOdtPower 21.2 mW) power from Micron's DDR3 power calculator, single rank",
    width=8, burst_length=8, clock_hz=800e6, t_rc=38, t_ras=28, columns=1024,
    supplies=(Supply(1.5, 70 * MA, 45 * MA, 45 * MA, 140 * MA, 145 * MA),),
    io_w_per_dq=(4.6e-3, 21.2e-3),
)  # fmt: skip

DDR4_POD_DRIVER_OHMS = 34.0
"""DDR4 output driver impedance RON = RZQ/7 (Micron 4Gb/16Gb DDR4 datasheets, output driver characteristics)."""
DDR4_POD_LOAD_OHMS = 50.0
"""The DDR4 datasheets' reference load, 50 Ω to VTT = VDDQ (Micron 16Gb DDR4 TwinDie datasheet, p. 14)."""
LOW_BIT_SHARE = 0.5
"""assumption: half the bits on a DDR4 pin are low; a pseudo-open-drain pin draws current only then."""


def _pod_io_watts_per_dq(vddq: float) -> float:
    """Average power of a pseudo-open-drain (POD12) DQ while data move: a low bit drives
    VDDQ through RON into the load terminated to VDDQ; a high bit draws nothing."""
    return LOW_BIT_SHARE * vddq**2 / (DDR4_POD_DRIVER_OHMS + DDR4_POD_LOAD_OHMS)


DDR4_DEVICE = DramDevice(
    "Micron 4Gb DDR4-2400 x8 (A die)",
    DRAMPOWER.format(file="MICRON_4Gb_DDR4-2400_8bit_A.json") + "; I/O: a pseudo-open-drain DQ, RON 34 ohm into "
    "the datasheet's 50 ohm reference load at VDDQ 1.2 V, half the bits low (assumption)",
    width=8, burst_length=8, clock_hz=1200e6, t_rc=55, t_ras=39, columns=1024,
    supplies=(Supply(1.2, 60.75 * MA, 38.25 * MA, 44.0 * MA, 184.5 * MA, 168.75 * MA),
              Supply(2.5, 4.05 * MA, 0.0, 0.0, 0.0, 0.0)),
    io_w_per_dq=(_pod_io_watts_per_dq(1.2), _pod_io_watts_per_dq(1.2)),
)  # fmt: skip

LPDDR4_DEVICE = DramDevice(
    "Micron 6Gb LPDDR4-3200 x16 channel",
    DRAMPOWER.format(file="MICRON_6Gb_LPDDR4-3200_32bit_A.json") + " (VDD1, VDD2 and VDDQ currents, I/O included)",
    width=16, burst_length=16, clock_hz=1600e6, t_rc=97, t_ras=68, columns=1024,
    supplies=(Supply(1.8, 3.5 * MA, 2.0 * MA, 2.25 * MA, 2.25 * MA, 2.25 * MA),
              Supply(1.1, 45.0 * MA, 27.0 * MA, 30.0 * MA, 275.0 * MA, 210.0 * MA)),
    io_supply=Supply(1.1, 0.75 * MA, 0.75 * MA, 0.75 * MA, 150.0 * MA, 55.0 * MA),
)  # fmt: skip
DEVICES = {DramType.DDR3: DDR3_DEVICE, DramType.DDR4: DDR4_DEVICE, DramType.LPDDR4: LPDDR4_DEVICE}
"""The types whose energy is computed from a datasheet device."""


# JEDEC supplies of the scaled types and of their datasheet devices (core VDD, I/O VDDQ):
# JESD79-4 DDR4 1.2/1.2 V, JESD79-5 DDR5 1.1/1.1 V, JESD209-4 LPDDR4 VDD2 1.1/VDDQ 1.1 V,
# JESD209-4-1 LPDDR4X VDD2 1.1/VDDQ 0.6 V, JESD209-5 LPDDR5 VDD2H 1.05/VDDQ 0.5 V; LPDDR5X
# (JESD209-5B) keeps LPDDR5's supplies and only runs faster, which changes no energy per bit here.
_SCALED = {
    DramType.DDR5: (DramType.DDR4, 1.1 / 1.2, 1.1 / 1.2),
    DramType.LPDDR4X: (DramType.LPDDR4, 1.1 / 1.1, 0.6 / 1.1),
    DramType.LPDDR5: (DramType.LPDDR4, 1.05 / 1.1, 0.5 / 1.1),
    DramType.LPDDR5X: (DramType.LPDDR4, 1.05 / 1.1, 0.5 / 1.1),
}


def _from_devices(dram_type: DramType) -> tuple[float, float, str]:
    """(read pJ/bit, write pJ/bit, source) of a type computed from, or scaled from, a device."""
    if dram_type in _SCALED:
        family, core_ratio, io_ratio = _SCALED[dram_type]
        read, write = (
            core * core_ratio**2 + io * io_ratio**2 for core, io in (DEVICES[family].per_bit(w) for w in (False, True))
        )
        source = (
            f"assumption: the {family.value} datasheet device with core energy x {core_ratio:.3f}^2 and I/O "
            f"energy x {io_ratio:.3f}^2 (the JEDEC supplies' ratios); {STREAMING}"
        )
        return read / PJ, write / PJ, source
    device = DEVICES[dram_type]
    read, write = (sum(device.per_bit(w)) for w in (False, True))
    return read / PJ, write / PJ, f"{device.name}: {device.source}; {CHANDRASEKAR_2011}; {STREAMING}"


_PJ_PER_BIT: dict[DramType, tuple[float, float, str]] = {
    **{t: _from_devices(t) for t in (*DEVICES, *_SCALED)},
    DramType.GDDR6: (7.5, 7.5, MICRON_GDDR6),
    DramType.HBM2: (3.9, 3.9, OCONNOR_2017),
    DramType.HBM2E: (3.9, 3.9, "assumption: HBM2E (a speed grade of JESD235) equal to HBM2; " + OCONNOR_2017),
    DramType.HBM3: (3.9, 3.9, "assumption: HBM3 bounded by the HBM2 figure; " + OCONNOR_2017),
    DramType.HBM3E: (3.9, 3.9, "assumption: HBM3E bounded by the HBM2 figure; " + OCONNOR_2017),
}

CONSTANTS = tuple(
    Constant(f"dram_{t.value}_{way}", value * PJ, "J per bit", source)
    for t, (read, write, source) in _PJ_PER_BIT.items()
    for way, value in (("read", read), ("write", write))
)


def read_energy_per_bit(dram_type: DramType) -> float:
    """Joules per bit read (device and interface; not scaled with the logic node)."""
    return _PJ_PER_BIT[dram_type][0] * PJ


def write_energy_per_bit(dram_type: DramType) -> float:
    """Joules per bit written (device and interface; not scaled with the logic node)."""
    return _PJ_PER_BIT[dram_type][1] * PJ


def source(dram_type: DramType) -> str:
    """Where the figures for `dram_type` come from."""
    return _PJ_PER_BIT[dram_type][2]
