"""`footprint.arranged_footprint` of `footprint.tiling_bytes` (the `footprint_kernel`
kernels) equals `gemm_footprint`'s `Footprint.demand`, `spill` and `Footprint.fits` on every
candidate of real networks' GEMM
grids: on chips whose buffers hold one operand each or share one (Eyeriss's global buffer,
Gemmini's scratchpad), with tensors kept on chip beside the tiles (a planned network's
`reserved`), and with buffers small enough that partial sums spill."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from accel_spec import load_accelerator, with_overrides
from compiler.lowering import lower
from compiler.memory.planner import WeightResidency, plan_memory
from compiler.models import load_model
from compiler.scheduling.batched import Spaces
from compiler.scheduling.columns import WorkloadColumns
from compiler.scheduling.footprint import arranged_footprint, gemm_footprint, kept_bytes, tiling_bytes
from compiler.target import target_of

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "accelerators"
CHIPS = {
    "edge": {},
    "tpu_v1": {},
    "eyeriss": {},  # inputs and partial sums share the global buffer
    "gemmini": {},  # inputs and weights share the scratchpad
    # small buffers: many candidates do not fit and many spill their partial sums
    "edge-small": {"buffers.activations.capacity": "48 KiB", "buffers.weights.capacity": "16 KiB",
                   "buffers.accumulators.capacity": "16 KiB"},  # fmt: skip
}


@pytest.mark.parametrize("chip_name", sorted(CHIPS))
@pytest.mark.parametrize("model", ["mobilenetv2", "bert:layers=1,hidden=128,heads=2,seq=32,batch=3"])
@pytest.mark.parametrize("weights", list(WeightResidency))
def test_kernel_equals_the_numpy_footprint_on_a_planned_network(chip_name: str, model: str, weights: WeightResidency) -> None:
    accel = with_overrides(load_accelerator(EXAMPLES / f"{chip_name.split('-')[0]}.yaml"), CHIPS[chip_name])
    chip = target_of(accel, None)
    workloads = plan_memory(lower(load_model(model)), chip, weights).workloads
    gemms = list({(w.shape_key, w.placement, w.reserved): w for w in workloads if w.gemm is not None}.values())
    grid = Spaces.of(gemms, chip).grid
    columns = WorkloadColumns.of(gemms, grid.sizes)
    footprint = gemm_footprint(columns, chip, grid.tiles, grid.positions, grid.double_buffer[:, None], grid.groups)
    each = WorkloadColumns.of(gemms, np.ones(len(gemms), dtype=np.int64))
    tilings = tiling_bytes(each, grid.sizes, chip, grid.tiles, grid.groups)
    demand, spill, fits = arranged_footprint(tilings, kept_bytes(gemms, chip), chip, grid.positions[:, :, 0], grid.double_buffer)
    shape = (len(grid.double_buffer), len(grid.groups))
    assert np.array_equal(demand, np.broadcast_to(footprint.demand(chip), (len(chip.buffer_names), *shape)))
    assert np.array_equal(spill, np.broadcast_to(footprint.spill, shape))
    assert np.array_equal(fits, np.broadcast_to(footprint.fits(chip), shape))
    if chip_name == "edge-small":
        assert spill.any() and not fits.all() and fits.any()


def test_the_networks_cover_kept_tensors_side_inputs_and_a_shared_buffer() -> None:
    """The cases above reach tensors kept on chip beside the tiles, fused side inputs, and a
    buffer that holds more than one operand."""
    for name in ("eyeriss", "gemmini"):
        shared = target_of(load_accelerator(EXAMPLES / f"{name}.yaml"), None)
        assert len(set(shared.buffer_of)) < len(shared.buffer_of)
    chip = target_of(load_accelerator(EXAMPLES / "tpu_v1.yaml"), None)
    workloads = plan_memory(lower(load_model("mobilenetv2")), chip, WeightResidency.RESIDENT).workloads
    gemms = [w for w in workloads if w.gemm is not None]
    assert any(w.side_input_elements for w in gemms)
    assert any(w.reserved and max(w.reserved) > 0 for w in gemms)
