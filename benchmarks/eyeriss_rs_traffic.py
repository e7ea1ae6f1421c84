"""Eyeriss's global-buffer traffic under its own row-stationary mappings, counted by hand.

    python benchmarks/eyeriss_rs_traffic.py

An analysis, not a Tessera run: the first step of a row-stationary dataflow that Tessera does
not have yet (docs/validation.md, "Eyeriss silicon: VGG-16"). It takes the mapping parameters
Eyeriss itself used on AlexNet CONV1-5 (Chen et al., JSSC 2017, Table III, read in the public
OCR cucapra/fodlam raw/eyeriss-tableIII.txt) and counts the global buffer's accesses of the
loop nest the paper describes (Sec. IV): filters in chunks of m whose partial sums stay in the
buffer, output rows in strips of e, input channels in chunks of q·r, and, innermost, one
processing pass per chunk of p·t filters.

* buffer allocation, in 16-bit words: ifmap n·q·r·((e−1)·U + R)·W, psum n·m·e·F;
* partial sums: every output written once per channel chunk and read back for all but the
  first, outputs × (2·⌈C / (q·r)⌉ − 1);
* input maps: each strip's rows ((e−1)·U + R per strip) written once per filter chunk m (from
  DRAM) and read once per pass, N·strips·rows·W·C × (M / m + M / (p·t)).

Printed beside the table's allocation column and its measured global-buffer accesses (the
per-layer table's column, cucapra/fodlam data/eyeriss-alexnet.csv). The OCR of the allocation
column is partly garbled: CONV3's and CONV5's psum allocation read "345", taken as 84.5 KiB
(CONV4's legible figure, the same n·m·e·F), and CONV4's ifmap "1115", taken as 10.5 (CONV5's,
the same n·q·r·rows·W). Measured 2026-12-04: the allocations equal the table's to 0.1 KiB; the
accesses are within 4.2 % on CONV1, 2, 4 and 5 and 42 % over on CONV3, whose q·r = 4 channels
the allocation column confirms, so the loop nest above is not the whole story there.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.console import Console
from rich.table import Table

WORD_BYTES = 2  # 16-bit fixed point (JSSC 2017, Table IV)


@dataclass(frozen=True)
class RsLayer:
    """One AlexNet convolution (per group) with Eyeriss's mapping of it (JSSC 2017, Table III).

    N images, C input channels and M filters per group, `groups` groups, H = W padded input
    rows and columns, R = S filter size, E = F output size, U stride; m, n, e, p, q, r, t the
    row-stationary mapping parameters.
    """

    name: str
    N: int
    C: int
    M: int
    groups: int
    H: int
    R: int
    E: int
    U: int
    m: int
    n: int
    e: int
    p: int
    q: int
    r: int
    t: int
    measured_mb: float
    table_alloc_kib: tuple[float, float]


ALEXNET = (
    RsLayer("CONV1", 4, 3, 96, 1, 227, 11, 55, 4, 96, 1, 7, 16, 1, 1, 2, 18.5, (15.5, 72.1)),
    RsLayer("CONV2", 4, 48, 128, 2, 31, 5, 27, 1, 64, 1, 27, 16, 2, 1, 1, 77.6, (3.8, 91.1)),
    RsLayer("CONV3", 4, 256, 384, 1, 15, 3, 13, 1, 64, 4, 13, 16, 4, 1, 4, 50.2, (7.0, 84.5)),
    RsLayer("CONV4", 4, 192, 192, 2, 15, 3, 13, 1, 64, 4, 13, 16, 3, 2, 2, 37.4, (10.5, 84.5)),
    RsLayer("CONV5", 4, 192, 128, 2, 15, 3, 13, 1, 64, 4, 13, 16, 3, 2, 2, 24.9, (10.5, 84.5)),
)


def allocation_kib(layer: RsLayer) -> tuple[float, float]:
    """Global-buffer space for one pass's input strip and the m filters' partial sums, KiB."""
    rows = (layer.e - 1) * layer.U + layer.R
    ifmap = layer.n * layer.q * layer.r * rows * layer.H
    psum = layer.n * layer.m * layer.e * layer.E
    return ifmap * WORD_BYTES / 1024, psum * WORD_BYTES / 1024


def accesses_mb(layer: RsLayer) -> tuple[float, float]:
    """Global-buffer accesses (partial sums, input maps) of the whole layer, 10⁶ bytes."""
    strips = -(-layer.E // layer.e)
    rows = (layer.e - 1) * layer.U + layer.R
    channel_chunks = -(-layer.C // (layer.q * layer.r))
    outputs = layer.N * layer.M * layer.E * layer.E
    psum = outputs * (2 * channel_chunks - 1)
    strip_elements = layer.N * strips * rows * layer.H * layer.C
    ifmap = strip_elements * (layer.M // layer.m + layer.M // (layer.p * layer.t))
    scale = layer.groups * WORD_BYTES / 1e6
    return psum * scale, ifmap * scale


def main() -> None:
    table = Table(title="Eyeriss global buffer under its own AlexNet mappings (JSSC 2017, Table III)")
    for column in ("layer", "m n e p q r t", "ifmap / psum KiB", "table KiB", "psum MB", "ifmap MB",
                   "total MB", "chip MB", "error"):  # fmt: skip
        table.add_column(column, justify="left" if column in ("layer", "m n e p q r t") else "right")
    for layer in ALEXNET:
        ifmap_kib, psum_kib = allocation_kib(layer)
        psum, ifmap = accesses_mb(layer)
        total = psum + ifmap
        table.add_row(
            layer.name,
            " ".join(str(v) for v in (layer.m, layer.n, layer.e, layer.p, layer.q, layer.r, layer.t)),
            f"{ifmap_kib:.1f} / {psum_kib:.1f}",
            f"{layer.table_alloc_kib[0]:.1f} / {layer.table_alloc_kib[1]:.1f}",
            f"{psum:.1f}",
            f"{ifmap:.1f}",
            f"{total:.1f}",
            f"{layer.measured_mb:.1f}",
            f"{total / layer.measured_mb - 1:+.1%}",
        )
    Console().print(table)


if __name__ == "__main__":
    main()
