"""`candidates.gemm_space` (its `space_kernel` kernel) lists a GEMM shape's candidates in the
documented order: dataflow by dataflow, then tile M, K, N, loop order, buffering and
packing, the last fastest; checked against that product written out with `itertools` on
the sizes and packings `tile_options` and `group_options` choose, for the heuristic and the
exhaustive space, on chips with one, two and three dataflows and batched shapes that pack."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest

from accel_spec import load_accelerator
from compiler.scheduling.candidates import SPATIAL_DIMS, _arrangements, gemm_candidates, gemm_space, group_options, tile_options
from compiler.scheduling.schedule import Dim, SchedulerKind
from compiler.target import target_of
from compiler.workload import GemmShape

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "accelerators"
SHAPES = (
    GemmShape(m=3136, k=288, n=32),
    GemmShape(m=49, k=9, n=1, batch=960),  # a depthwise layer: products packed per pass
    GemmShape(m=128, k=64, n=128, batch=6),
    GemmShape(m=1, k=1, n=1),
)


def written_out(gemm: GemmShape, chip, kind: SchedulerKind) -> list[tuple[int, ...]]:
    """(dataflow, tile m, k, n, loop order, double buffer, packing) of every candidate, in order."""
    order, double_buffer = _arrangements(kind)
    extents = (gemm.m, gemm.k, gemm.n)
    listed = []
    for dataflow in chip.dataflows:
        spatial = SPATIAL_DIMS[dataflow]
        sizes = [tile_options(extents[d], getattr(chip, spatial[d]) if d in spatial else None, kind) for d in Dim]
        packings = group_options(gemm, chip, dataflow, kind)
        for tm, tk, tn in itertools.product(*(s.tolist() for s in sizes)):
            for arrangement in range(len(order)):
                for packing in packings.tolist():
                    listed.append((int(dataflow), tm, tk, tn, int(order[arrangement]), bool(double_buffer[arrangement]),
                                   packing))  # fmt: skip
    return listed


@pytest.mark.parametrize("chip_name", ["edge", "tpu_v1", "eyeriss", "datacenter_bf16"])
@pytest.mark.parametrize("kind", [SchedulerKind.HEURISTIC, SchedulerKind.EXHAUSTIVE])
def test_the_space_lists_its_candidates_in_the_documented_order(chip_name: str, kind: SchedulerKind) -> None:
    chip = target_of(load_accelerator(EXAMPLES / f"{chip_name}.yaml"), None)
    for gemm in SHAPES:
        cands = gemm_candidates(gemm, chip, kind)
        found = list(zip(cands.dataflow.tolist(), *cands.tiles.tolist(), cands.order.tolist(), cands.double_buffer.tolist(),
                         cands.groups.tolist()))  # fmt: skip
        assert found == written_out(gemm, chip, kind), (chip_name, gemm)
        space = gemm_space(gemm, chip, kind)
        assert np.array_equal(np.sort(space.index, axis=None), np.arange(space.index.size))  # each candidate once


def test_the_chips_cover_several_dataflows_and_packings() -> None:
    """The cases above reach more than one dataflow and more than one packing."""
    dataflows = {len(target_of(load_accelerator(EXAMPLES / f"{n}.yaml"), None).dataflows) for n in ("edge", "tpu_v1", "eyeriss", "datacenter_bf16")}
    assert max(dataflows) > 1
    chip = target_of(load_accelerator(EXAMPLES / "edge.yaml"), None)
    assert any(len(group_options(g, chip, d, SchedulerKind.HEURISTIC)) > 1 for g in SHAPES for d in chip.dataflows)
