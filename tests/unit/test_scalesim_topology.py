"""SCALE-Sim topology CSV -> layers and Graph: layouts, MACs in closed form, errors with lines."""

from __future__ import annotations

from pathlib import Path

import pytest

from compiler.frontend.scalesim_topology import (
    TopologyLayout,
    format_scalesim_topology,
    parse_scalesim_topology,
    read_scalesim_topology,
    topology_graph,
)
from compiler.lowering import lower
from compiler.models import load_model
from tessera.errors import InputError

TOPOLOGIES = Path(__file__).resolve().parents[1] / "data" / "scalesim" / "topologies"
CONV_HEADER = "Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, Strides,\n"
GEMM_HEADER = "Layer, M, N, K,\n"


def conv_macs(h: int, w: int, r: int, s: int, c: int, k: int, stride: int) -> int:
    """SCALE-Sim's closed form (topology_utils.topo_calc_hyperparams)."""
    out_h = -(-(h - r + stride) // stride)
    out_w = -(-(w - s + stride) // stride)
    return out_h * out_w * r * s * c * k


def test_conv_row_macs_and_gemm_view_match_scalesim():
    topology = parse_scalesim_topology(CONV_HEADER + "c1, 15, 17, 5, 3, 6, 10, 2,\n", "t.csv")
    (layer,) = topology.layers
    assert topology.layout is TopologyLayout.CONV
    assert layer.macs == conv_macs(15, 17, 5, 3, 6, 10, 2)
    (workload,) = lower(topology_graph(topology))
    gemm = workload.gemm
    assert (gemm.m, gemm.k, gemm.n, gemm.batch) == (6 * 8, 5 * 3 * 6, 10, 1)
    assert workload.macs == layer.macs


def test_gemm_row_is_m_by_k_times_k_by_n():
    topology = parse_scalesim_topology(GEMM_HEADER + "g, 100, 70, 50,\n", "g.csv")
    (workload,) = lower(topology_graph(topology))
    assert (workload.gemm.m, workload.gemm.k, workload.gemm.n) == (100, 50, 70)
    assert workload.macs == 100 * 70 * 50


def test_depthwise_row_is_one_group_per_channel():
    topology = parse_scalesim_topology(CONV_HEADER + "DP1, 10, 10, 3, 3, 8, 2, 1,\n", "d.csv")
    (layer,) = topology.layers
    (workload,) = lower(topology_graph(topology))
    assert layer.groups == 8
    assert (workload.gemm.m, workload.gemm.k, workload.gemm.n, workload.gemm.batch) == (64, 9, 2, 8)
    assert workload.macs == 8 * conv_macs(10, 10, 3, 3, 1, 2, 1)


@pytest.mark.parametrize(
    "file, layers",
    [("Resnet18.csv", 21), ("Resnet50.csv", 54), ("mobilnet_paper.csv", 28), ("alexnet.csv", 5),
     ("conv_nets_test.csv", 1), ("test_mnk_input.csv", 1)],
)  # fmt: skip
def test_shipped_topologies_load_with_closed_form_macs(file, layers):
    topology = read_scalesim_topology(TOPOLOGIES / file)
    graph = load_model(str(TOPOLOGIES / file))
    workloads = lower(graph)
    assert len(topology.layers) == len(workloads) == layers
    for layer, workload in zip(topology.layers, workloads):
        if topology.layout is TopologyLayout.CONV:
            c = layer.channels
            expected = conv_macs(layer.ifmap_h, layer.ifmap_w, layer.filter_h, layer.filter_w, c, layer.filters, layer.stride)
        else:
            expected = layer.ifmap_h * layer.filter_w * layer.filters
        assert workload.macs == expected, layer.name


def test_format_round_trips():
    topology = read_scalesim_topology(TOPOLOGIES / "mobilnet_paper.csv")
    again = parse_scalesim_topology(format_scalesim_topology(topology), "again.csv")
    assert [(l.name, l.gemm_mkn, l.stride) for l in again.layers] == [
        (l.name, l.gemm_mkn, l.stride) for l in topology.layers
    ]


def test_batch_multiplies_m():
    topology = parse_scalesim_topology(CONV_HEADER + "c, 8, 8, 3, 3, 4, 4, 1,\n", "b.csv")
    (one,) = lower(topology_graph(topology))
    (four,) = lower(topology_graph(topology, batch=4))
    assert four.gemm.m == 4 * one.gemm.m


@pytest.mark.parametrize(
    "row, line, message",
    [
        ("c, 8, 8, 3, 3, 4, 1,", 3, "has 7 columns"),
        ("c, 8, x8, 3, 3, 4, 4, 1,", 3, "IFMAP Width must be a whole number"),
        ("c, 8, 8, 3, 3, 0, 4, 1,", 3, "Channels must be at least 1"),
        ("c, 8, 8, 9, 3, 4, 4, 1,", 3, "filter height 9 is larger"),
        ("c, 8, 8, 3, 3, 4, 4, 1, 2:4,", 3, "sparsity ratio '2:4'"),
        ("c, 8, 8, 3, 3, 4, 4, 1, 7, 7,", 3, "has 10 columns"),
    ],
)
def test_bad_rows_name_the_file_and_line(row, line, message):
    with pytest.raises(InputError) as error:
        parse_scalesim_topology(CONV_HEADER + "ok, 8, 8, 3, 3, 4, 4, 1,\n" + row + "\n", "bad.csv")
    text = error.value.render()
    assert text.startswith("bad.csv")
    assert f"line {line}" in text and message in text


def test_bad_header_and_empty_file():
    with pytest.raises(InputError, match=r"header \(line 1\): not a SCALE-Sim topology header"):
        parse_scalesim_topology("name, a, b\nx, 1, 2\n", "h.csv")
    with pytest.raises(InputError, match="empty"):
        parse_scalesim_topology("\n\n", "e.csv")
    with pytest.raises(InputError, match="no layers"):
        parse_scalesim_topology(GEMM_HEADER, "n.csv")


def test_every_bad_row_is_reported_at_once():
    text = GEMM_HEADER + "a, 0, 1, 1,\nb, 1, q, 1,\n"
    with pytest.raises(InputError) as error:
        parse_scalesim_topology(text, "many.csv")
    assert [p.line for p in error.value.problems] == [2, 3]


def test_missing_file_is_input_error(tmp_path):
    with pytest.raises(InputError, match="model file not found"):
        load_model(str(tmp_path / "none.csv"))
