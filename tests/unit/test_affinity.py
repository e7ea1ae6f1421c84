"""`explorer.affinity`: points of one array dealt to one worker, in equal shares, and chunks
handed out so that an idle worker takes what another has left."""

from __future__ import annotations

import pytest

from explorer.affinity import MAX_CHUNK, Affinity, ChunkQueues, chunked, locality
from explorer.space import Point


def point(rows: int, capacity: int, model: str = "mobilenetv2") -> Point:
    """A point on an array of `rows` rows with one buffer capacity swept beside it."""
    overrides = (("matrix.rows", rows), ("buffers.activations.capacity", f"{capacity} KiB"))
    return Point(params=overrides, overrides=overrides, model=model, scheduler="heuristic", precision=None, batch=None,
                 timing="pipelined", weights="auto", objective="latency", point_id=f"{model}-{rows}-{capacity}")  # fmt: skip


def test_locality_is_the_model_and_the_array_not_the_buffers() -> None:
    assert locality(point(16, 100)) == locality(point(16, 200))
    assert locality(point(16, 100)) != locality(point(32, 100))
    assert locality(point(16, 100)) != locality(point(16, 100, model="resnet50"))


def test_each_array_goes_to_one_worker_in_equal_shares_and_stays_there() -> None:
    affinity = Affinity(2)
    batch = [point(rows, capacity) for capacity in range(6) for rows in (8, 16, 32, 64)]  # 4 arrays × 6 points
    dealt = affinity.deal(batch)
    assert sorted(p.point_id for p in dealt[0] + dealt[1]) == sorted(p.point_id for p in batch)
    assert [len(points) for points in dealt] == [12, 12]
    homes = {locality(p): worker for worker, points in enumerate(dealt) for p in points}
    assert len(homes) == 4  # no array split between the workers
    later = affinity.deal([point(rows, capacity) for capacity in range(6, 8) for rows in (8, 16, 32, 64)])
    assert {locality(p): worker for worker, points in enumerate(later) for p in points} == homes


def test_one_array_is_split_rather_than_left_to_one_worker() -> None:
    dealt = Affinity(3).deal([point(16, capacity) for capacity in range(10)])
    assert [len(points) for points in dealt] == [4, 4, 2]
    assert [p.point_id for p in dealt[0] + dealt[1] + dealt[2]] == [point(16, c).point_id for c in range(10)]


@pytest.mark.parametrize("sizes", [(40, 0), (37, 3), (1, 1), (0, 0), (100, 20, 5)])
def test_chunks_hand_out_every_point_once_and_an_idle_worker_takes_the_smallest_left(sizes: tuple[int, ...]) -> None:
    dealt = [[point(worker, index) for index in range(size)] for worker, size in enumerate(sizes)]
    queues = ChunkQueues(dealt)
    handed: list[list[Point]] = [[] for _ in sizes]
    idle = len(sizes) - 1  # the last worker asks twice as often: it runs out first and takes from the others
    while True:
        chunks = [queues.next_for(worker) for worker in (*range(len(sizes)), idle)]
        if all(chunk is None for chunk in chunks):
            break
        for worker, chunk in zip((*range(len(sizes)), idle), chunks):
            if chunk is not None:
                assert 1 <= len(chunk) <= MAX_CHUNK
                handed[worker].extend(chunk)
    assert sorted(p.point_id for points in handed for p in points) == sorted(p.point_id for points in dealt for p in points)
    own = [[p for p in points if p.overrides[0][1] == worker] for worker, points in enumerate(handed)]
    for worker, points in enumerate(own):  # a worker's own points, taken from the front, in order
        assert points == dealt[worker][: len(points)]
    if sizes[0] > 8 and sizes[-1] == 0:
        stolen = [p for p in handed[idle] if p.overrides[0][1] != idle]
        assert stolen and stolen[0] == dealt[0][-1]  # the donor's last chunk first: its smallest


@pytest.mark.parametrize(("points", "workers"), [(512, 2), (512, 1), (37, 4), (1, 2), (0, 2)])
def test_chunks_cover_the_points_in_order_and_shrink_to_single_points(points: int, workers: int) -> None:
    chunks = chunked(list(range(points)), workers)
    sizes = [len(chunk) for chunk in chunks]
    assert [p for chunk in chunks for p in chunk] == list(range(points))
    assert all(1 <= size <= MAX_CHUNK for size in sizes)
    assert sizes == sorted(sizes, reverse=True)  # guided: never larger than the chunk before
    if points >= 4 * workers:  # the workers finish within a point of each other
        assert sizes[-(4 * workers - 1) :] == [1] * (4 * workers - 1)
    if points:
        assert sizes[0] == min(MAX_CHUNK, -(-points // (4 * workers)))
