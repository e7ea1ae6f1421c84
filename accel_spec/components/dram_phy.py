"""The DRAM interface's PHY on the accelerator die: energy per bit moved, by memory type.

`dram` prices the DRAM device and the link (drivers and termination); the accelerator's own
physical layer, which serialises, times and receives every bit, is on the chip and is priced
here. CACTI-IO (N. P. Jouppi, A. B. Kahng, N. Muralimanohar, V. Srinivas, "CACTI-IO: CACTI
With OFF-Chip Power-Area-Timing Models", IEEE TVLSI 23(7), 2015) models a PHY as eight blocks,
each with a static power and a dynamic power per data rate (mW per Gb/s, i.e. pJ per bit):
datapath, phase rotator, clock tree, receivers, duty-cycle correction, deskew, read/write
leveling and PLL. Its coefficients per interface type are those CACTI 7 ships
(HewlettPackard/cacti, extio_technology.cc, "PHY Dynamic Power Coefficients (mW/Gbps)"), and
CACTI-IO's PHY power while reading or writing is the static power plus their sum times the
bits per second (extio.cc, `extio_power_phy`): so a bit read or written costs the sum.

    DDR3, DDR4 (and CACTI-IO's Serial):  0.5 + 0.01 + 0.5 + 0.5 + 0.05 + 0.1 + 0.05 + 0.05 = 1.76 pJ
    LPDDR2:                              0.3 + 0.01 + 0.4 + 0.2 + 0 + 0 + 0 + 0.05           = 0.96 pJ
    WideIO:                              0.3 + 0.01 + 0.2 + 0.1 + 0 + 0 + 0 + 0              = 0.61 pJ

The memory types CACTI-IO has no PHY for take the nearest one it has, each named as an
assumption in the provenance: DDR5 and GDDR6 the DDR4 PHY (single-ended, terminated links
with DLLs, deskew and leveling), LPDDR4/4X/5/5X the LPDDR2 PHY (CACTI-IO's low-power DRAM
interface), and HBM2/2E/3/3E the WideIO PHY (wide, short, unterminated die-to-die links with
no per-bit DLL or leveling). CACTI-IO gives the coefficients without a process node, so they
are not scaled with the chip's node. Not modelled: the PHY's static power (CACTI-IO: 30 mW
for a DDR3 or DDR4 interface, 10 mW LPDDR2, 1 mW WideIO), because a chip file gives the DRAM's
bandwidth, not how many interfaces carry it, and the memory controller's logic (queues and
command scheduling), for which CACTI-IO has no model.
"""

from __future__ import annotations

from accel_spec.components import Constant
from accel_spec.types import DramType

PJ = 1e-12

CACTI_IO = (
    "N. P. Jouppi, A. B. Kahng, N. Muralimanohar, V. Srinivas, 'CACTI-IO: CACTI With OFF-Chip Power-Area-Timing "
    "Models', IEEE TVLSI 23(7), 2015; coefficients of CACTI 7 (HewlettPackard/cacti, extio_technology.cc, PHY "
    "dynamic power coefficients in mW/Gbps), summed over datapath, phase rotator, clock tree, receivers, "
    "duty-cycle correction, deskew, leveling and PLL"
)

DDR = Constant(
    "dram_phy_ddr", 1.76 * PJ, "J per bit", f"{CACTI_IO}: DDR3 and DDR4, 0.5 + 0.01 + 0.5 + 0.5 + 0.05 + 0.1 + 0.05 + 0.05"
)
LPDDR = Constant("dram_phy_lpddr", 0.96 * PJ, "J per bit", f"{CACTI_IO}: LPDDR2, 0.3 + 0.01 + 0.4 + 0.2 + 0.05")
WIDE_IO = Constant("dram_phy_wideio", 0.61 * PJ, "J per bit", f"{CACTI_IO}: WideIO, 0.3 + 0.01 + 0.2 + 0.1")

CONSTANTS = (DDR, LPDDR, WIDE_IO)

_PHY: dict[DramType, tuple[Constant, str]] = {
    DramType.DDR3: (DDR, ""),
    DramType.DDR4: (DDR, ""),
    DramType.DDR5: (DDR, "assumption: a DDR5 PHY costs what CACTI-IO's DDR4 PHY does; "),
    DramType.GDDR6: (
        DDR,
        "assumption: a GDDR6 PHY (single-ended, terminated, DLL and leveling) costs what CACTI-IO's DDR4 PHY does; ",
    ),
    **{
        t: (LPDDR, f"assumption: an {t.value} PHY costs what CACTI-IO's LPDDR2 PHY does; ")
        for t in (DramType.LPDDR4, DramType.LPDDR4X, DramType.LPDDR5, DramType.LPDDR5X)
    },
    **{
        t: (WIDE_IO, f"assumption: an {t.value} PHY (wide, short, unterminated links) costs what CACTI-IO's WideIO PHY does; ")
        for t in (DramType.HBM2, DramType.HBM2E, DramType.HBM3, DramType.HBM3E)
    },
}


def energy_per_bit(dram_type: DramType) -> float:
    """Joules the accelerator's PHY spends per bit read or written over a `dram_type` interface."""
    return _PHY[dram_type][0].value


def source(dram_type: DramType) -> str:
    """Where the figure for `dram_type` comes from."""
    constant, assumption = _PHY[dram_type]
    return f"{assumption}{constant.source}"
