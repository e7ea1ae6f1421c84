"""From cells to a floor plan: the placed area of logic and SRAM blocks, and the control block.

The cell models (Horowitz's operators, Aladdin's registers, CACTI's macros) give the area of the
cells alone. A placed block is larger: rows are not full, wires need routing tracks, the clock
tree and the power grid take room, macros need halos and their own buses, and a datapath has
pipeline and steering logic no cell model lists. TPU v1's floor plan gives two placed blocks
whose cells this model also builds (Jouppi et al., ISCA 2017, Fig. 2, on a die of < 331 mm²
at 28 nm, Table 2):

- the Matrix Multiply Unit, 24 % of the die: 65,536 int8 x int32 processing elements;
- the Unified Buffer, 29 % of the die: 24 MiB of SRAM.

Each block's placed area over the model's cells of the same block (`tpu_v1.yaml`) is the layout
factor applied to every chip's logic and to every chip's SRAM. Both are calibrated on TPU v1:
its matrix unit and Unified Buffer come out at their floor-plan areas by construction, and are
no evidence for the model; other blocks and other chips are
(`tests/unit/test_technology_floorplan.py` recomputes the factors from the model).

Control (instruction decode, sequencing, host interface logic) is 2 % of the same die; every
chip gets a control block of that share of its placed area. I/O pads and DRAM PHYs are not
modelled (the Eyeriss comparison is against its core area, which excludes them).
"""

from __future__ import annotations

from accel_spec.components import Constant

JOUPPI_2017 = (
    "N. P. Jouppi et al., 'In-Datacenter Performance Analysis of a Tensor Processing Unit', ISCA 2017, "
    "Table 2 (die < 331 mm², 28 nm) and Fig. 2 (floor plan)"
)
TPU_DIE_M2 = Constant("tpu_v1_die_area", 331e-6, "m²", JOUPPI_2017 + ": die < 331 mm² (the bound is used)")
TPU_MATRIX_SHARE = Constant("tpu_v1_matrix_unit_share", 0.24, "of die", JOUPPI_2017 + ": Matrix Multiply Unit 24 %")
TPU_BUFFER_SHARE = Constant("tpu_v1_unified_buffer_share", 0.29, "of die", JOUPPI_2017 + ": Unified Buffer 29 %")
CONTROL_SHARE = Constant("control_share", 0.02, "of die", JOUPPI_2017 + ": Control 2 %")
_CALIBRATED = (
    "placed area of the TPU v1 block over this model's cells of it (examples/accelerators/tpu_v1.yaml); "
    "recomputed by tests/unit/test_technology_floorplan.py"
)
LOGIC_LAYOUT_FACTOR = Constant("logic_layout_factor", 4.1446, "x", "Matrix Multiply Unit: " + _CALIBRATED)
SRAM_LAYOUT_FACTOR = Constant("sram_layout_factor", 2.5283, "x", "Unified Buffer: " + _CALIBRATED)

CONSTANTS = (
    TPU_DIE_M2, TPU_MATRIX_SHARE, TPU_BUFFER_SHARE, CONTROL_SHARE, LOGIC_LAYOUT_FACTOR, SRAM_LAYOUT_FACTOR,
)  # fmt: skip


def control_area(placed_area: float) -> float:
    """Area of a control block that is `CONTROL_SHARE` of a chip whose other blocks cover `placed_area`."""
    return placed_area * CONTROL_SHARE.value / (1 - CONTROL_SHARE.value)
