"""`compiler.scheduling.chain_kernel` against a numpy transcription of the same formulas, on
the chains MobileNetV2's inverted residual blocks fuse, at every band height, several
packings and arrays; and `conv_chain.widest_piece` against the pieces it names."""

from __future__ import annotations

import functools

import numpy as np
import pytest

from compiler.lowering import lower
from compiler.memory.conv_chains import conv_chains
from compiler.models import load_model
from compiler.scheduling.chain_kernel import chain_packing, chain_tile_bytes
from compiler.scheduling.conv_chain import bands, pieces, widest_piece
from compiler.scheduling.terms_kernel import chain_array_floor
from compiler.scheduling.tiling import ladder
from compiler.target import nbytes
from compiler.workload import ChainLayer, ConvChain

ARRAYS = [(8, 8, 1, 1, 14, False), (16, 48, 1, 1, 62, False), (32, 16, 4, 2, 46, True)]
"""(rows, cols, reduction depth, PE width, fill and drain, pipelined) of a few arrays."""


@functools.cache
def _chains() -> list[ConvChain]:
    """Every run of two or three chaining convolutions of a small MobileNetV2."""
    workloads = lower(load_model("mobilenetv2:width=0.35,resolution=64"))
    found = []
    for start, length in conv_chains(workloads):
        for first in range(start, start + length - 1):
            for size in (2, 3):
                if first + size <= start + length:
                    members = workloads[first : first + size]
                    found.append(ConvChain(tuple(ChainLayer(w.gemm, w.conv, ()) for w in members)))
    return found


def _numpy_packing(chain: ConvChain, band_rows: int, dataflows: tuple[int, ...], array: tuple) -> tuple:
    """Each layer's packing by whole-array numpy steps and a kernel call per layer."""
    rows, cols, depth, width, fill_drain, pipelined = array
    chosen, busy = [], np.zeros(len(dataflows), dtype=np.int64)
    for layer, band in zip(chain.layers, bands(chain, band_rows).rows):
        options = ladder(1, layer.gemm.batch)
        m = band[band > 0] * layer.conv.out_w * layer.conv.images
        cycles = chain_array_floor(np.ascontiguousarray(m, dtype=np.int64), layer.gemm.k, layer.gemm.n, layer.gemm.batch,
                                   np.asarray(dataflows, dtype=np.int64), np.asarray(options, dtype=np.int64), rows, cols,
                                   depth, width, fill_drain, pipelined)  # fmt: skip
        best = np.argmin(cycles, axis=1)
        chosen.append(options[best])
        busy += cycles[np.arange(len(dataflows)), best]
    return [[int(g[d]) for g in chosen] for d in range(len(dataflows))], busy


def _numpy_tile_bytes(chain: ConvChain, band_rows: int, groups: tuple[int, ...], operands: tuple, chip: tuple) -> list[int]:
    """The bytes per buffer by whole-array numpy steps over the bands."""
    input_tile, weight_tile, side_tile, input_bits, weight_bits, side_bits = operands
    act_bits, accumulator_bits, cols, buffers, input_buffer, weight_buffer, output_buffer = chip
    plan = bands(chain, band_rows)
    need, count = plan.need, plan.need.shape[1]
    index = np.arange(count)
    ahead = need[:, np.minimum(index + 1, count - 1)]
    oldest = index - plan.lookback - 1
    behind = np.where(oldest >= 0, need[:, np.maximum(oldest, 0)], 0)
    held = np.max(ahead - behind, axis=1)
    demand = np.zeros(buffers, dtype=np.int64)
    for i, layer in enumerate(chain.layers):
        if i > 0 or input_tile:
            bits = input_bits if i == 0 else act_bits
            demand[input_buffer] += int(nbytes(held[i] * layer.conv.in_w * layer.conv.in_c * layer.conv.images, bits))
    if weight_tile:
        demand[weight_buffer] += sum(int(nbytes(layer.gemm.batch * layer.gemm.k * layer.gemm.n, weight_bits))
                                     for layer in chain.layers)  # fmt: skip
    psum = side = 0
    for layer, (packed, widths), rows in zip(chain.layers, pieces(chain, groups, cols), plan.rows):
        tile = int(rows.max()) * layer.conv.out_w * layer.conv.images * int(np.max(packed * widths))
        psum = max(psum, int(nbytes(tile, accumulator_bits)))
        side = int(nbytes(tile, side_bits))
    demand[output_buffer] += 2 * psum + (2 * side if side_tile else 0)
    return demand.tolist()


def _layer_inputs(chain: ConvChain) -> dict[str, np.ndarray]:
    def column(value) -> np.ndarray:
        return np.array([value(layer) for layer in chain.layers], dtype=np.int64)

    return {
        "row_elements": column(lambda layer: layer.conv.in_w * layer.conv.in_c * layer.conv.images),
        "pixels": column(lambda layer: layer.conv.out_w * layer.conv.images),
        "weights": column(lambda layer: layer.gemm.batch * layer.gemm.k * layer.gemm.n),
        "k": column(lambda layer: layer.gemm.k),
        "n": column(lambda layer: layer.gemm.n),
        "batch": column(lambda layer: layer.gemm.batch),
    }


def test_there_are_chains_of_every_kind() -> None:
    chains = _chains()
    assert len(chains) >= 20
    assert {len(chain.layers) for chain in chains} == {2, 3}
    assert any(layer.gemm.batch > 1 for chain in chains for layer in chain.layers)  # depthwise layers


@pytest.mark.parametrize("array", ARRAYS)
def test_the_packing_kernel_equals_the_numpy_steps(array: tuple) -> None:
    dataflows = (1, 0)
    for chain in _chains():
        inputs = _layer_inputs(chain)
        for band_rows in ladder(1, chain.layers[-1].conv.out_h).tolist():
            chosen, busy = chain_packing(bands(chain, band_rows).rows, inputs["pixels"], inputs["k"], inputs["n"],
                                         inputs["batch"], np.array(dataflows, dtype=np.int64), *array)  # fmt: skip
            expected_chosen, expected_busy = _numpy_packing(chain, band_rows, dataflows, array)
            assert chosen.tolist() == expected_chosen
            assert busy.tolist() == expected_busy.tolist()


@pytest.mark.parametrize("cols", [4, 16, 64])
@pytest.mark.parametrize("operands", [(True, True, True, 8, 8, 8), (False, True, False, 16, 4, 8), (True, False, True, 8, 8, 16)])
def test_the_tile_bytes_kernel_equals_the_numpy_steps(cols: int, operands: tuple) -> None:
    chip = (8, 32, cols, 3, 0, 1, 2)
    for chain in _chains():
        inputs = _layer_inputs(chain)
        for band_rows in ladder(1, chain.layers[-1].conv.out_h).tolist():
            for groups in {tuple(1 for _ in chain.layers), tuple(min(4, layer.gemm.batch) for layer in chain.layers),
                           tuple(layer.gemm.batch for layer in chain.layers)}:  # fmt: skip
                plan = bands(chain, band_rows)
                widest = np.array([widest_piece(layer, g, cols) for layer, g in zip(chain.layers, groups)], dtype=np.int64)
                found = chain_tile_bytes(plan.need, plan.rows, plan.lookback, inputs["row_elements"], inputs["pixels"],
                                         inputs["weights"], widest, *chip[3:], *operands, *chip[:2])  # fmt: skip
                assert found.tolist() == _numpy_tile_bytes(chain, band_rows, groups, operands, chip)


@pytest.mark.parametrize("cols", [1, 3, 16, 1024])
def test_the_widest_piece_is_the_widest_of_the_pieces(cols: int) -> None:
    for chain in _chains():
        for groups in range(1, 40, 3):
            packing = tuple(groups for _ in chain.layers)
            for layer, (packed, widths) in zip(chain.layers, pieces(chain, packing, cols)):
                assert widest_piece(layer, groups, cols) == int(np.max(packed * widths))
