"""Code for a depth-first chain of convolutions (`scheduling.conv_chain`).

One row per GEMM: (band, layer, piece) for every layer that computes rows in the band, in
band order, then layer order, then piece order (`scheduling.conv_chain.pieces`: a pass of
`groups_per_pass` groups, or a tile of n as wide as the array). m = the rows the layer
computes in the band × its output width × images, k its own. In slot order a row holds:

  LOAD_W i    layer i's weights, whole (first row only; none when the plan keeps them in
              the weight buffer)
  LOAD_IN     the chain input's rows of band 0 (first row only)
  LOAD_NEXT   the chain input's rows of the next band (first row of each band: prefetched
              one band ahead)
  LOAD_SIDE   the side input (residual) of the row's output tile (last layer)
  GEMM        accumulate=0: the layer's whole reduction in one GEMM
  VEC         the fused epilogue, one per op class, split over the layer's GEMMs in
              proportion to their output elements (cumulative rounding: exact totals)
  CLOSE       the output tile's way out of the accumulators: the last layer STOREs it to
              the level the plan puts the chain's output at; any other layer moves it on
              chip into the next layer's line buffer in the INPUT buffer (a LOAD of INPUT
              from the OUTPUT buffer's level, as fused attention moves P: `compiler.verify`)

Dependencies. GEMM ← its layer's weights; the newest rows of its input (the last LOAD_IN
or CLOSE of the newest band that brought rows of it); every load or move whose rows it is
the last to read (so `compiler.verify` sees each line-buffer row live until then); the CLOSE
two rows earlier (two partial-sum tiles). VEC ← GEMM and side input; CLOSE ← the last VEC
(or GEMM). Write after read: LOAD_NEXT of band j + 1 waits for the first layer's last GEMM
before band j, a move into layer i + 1's line buffer in band j for layer i + 1's last GEMM
before band j, and a side input for the CLOSE two rows earlier.

`conv_chain_kernel` lays the table out and compacts it (`layout.compact`'s program order and
dependency lists) in one pass; this module reduces the chain, its schedule and the chip to
its arguments. Until 2026-12-06 the table was built in numpy, whose "first row of each
(layer, band)" came from an assignment through reversed indices that numpy performs in an
unspecified order: it gave the last row, so a GEMM waited only for the last move of each
band whose rows it is the last to read, not for every one as stated above. The moves of a
band run on one engine in program order, so the last one ends after the others and the
simulated cycles and counts are the same either way; the kernel names every move.
"""

from __future__ import annotations

import numpy as np

from accel_spec.types import Operand, TensorClass
from compiler.codegen.conv_chain_kernel import _conv_chain_code
from compiler.codegen.gemm import INSTRUCTION_PROTO
from compiler.codegen.layout import LayerCode
from compiler.scheduling.conv_chain import bands, pieces
from compiler.scheduling.estimate import OP_CLASSES
from compiler.scheduling.roles import roles
from compiler.scheduling.schedule import ConvChainSchedule
from compiler.target import Target, level_of, nbytes
from compiler.workload import Workload


def conv_chain_code(workload: Workload, schedule: ConvChainSchedule, chip: Target, layer: int) -> LayerCode:
    """The code of a fused chain of convolutions under `schedule` (module doc), compacted:
    the chain, schedule and chip reduced to arrays for `conv_chain_kernel`."""
    chain = workload.conv_chain
    assert chain is not None
    plan = bands(chain, schedule.band_rows)
    packed = pieces(chain, schedule.groups_per_pass, chip.cols)
    flags = roles(workload, chip)
    layers = chain.layers
    ops = [dict(lay.vector_ops) for lay in layers]
    classes = [c for c in OP_CLASSES if any(op.get(c, 0) for op in ops)]
    placement = workload.placement
    first = layers[0].conv
    instructions, dep_ptr, deps, ok = _conv_chain_code(
        INSTRUCTION_PROTO, plan.rows, plan.new_input, plan.last_reader,
        np.concatenate([groups for groups, _ in packed]), np.concatenate([n for _, n in packed]),
        np.cumsum([0] + [len(groups) for groups, _ in packed]).astype(np.int64),
        np.array([lay.conv.out_w * lay.conv.images for lay in layers], dtype=np.int64),
        np.array([lay.gemm.k for lay in layers], dtype=np.int64),
        np.array([nbytes(lay.gemm.batch * lay.gemm.k * lay.gemm.n, int(flags.weight_bits)) for lay in layers], dtype=np.int64),
        np.array([[op.get(c, 0) for op in ops] for c in classes], dtype=np.int64).reshape(len(classes), len(layers)),
        np.array([int(c) for c in classes], dtype=np.int64),
        np.array([bool(flags.input_tile), bool(flags.weight_tile), bool(flags.side_tile)]),
        np.array([int(flags.input_bits), int(flags.side_bits), int(flags.output_bits), chip.storage_bits[TensorClass.ACTIVATION]],
                 dtype=np.int64),
        np.array(chip.buffer_of, dtype=np.int64),
        np.array([placement.input, placement.weight, placement.side, placement.output, level_of(chip.buffer(Operand.OUTPUT))],
                 dtype=np.int64),
        first.in_w * first.in_c * first.images, bool(workload.side_input_elements), int(schedule.dataflow), layer,
    )  # fmt: skip
    if not ok:
        raise AssertionError("codegen produced a dependency on an absent slot")
    return LayerCode(instructions, dep_ptr, deps)

