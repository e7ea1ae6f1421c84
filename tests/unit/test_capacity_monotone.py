"""More buffer capacity never makes a layer's chosen schedule slower (`scheduling.challengers`).

Each layer's workload is held fixed (the memory plan of the smaller chip, whose kept tensors
still fit the larger buffers) and scheduled on the chip with every buffer scaled up; the
simulated cycles of the chosen schedule never grow. The cases are those that did grow before
the rule (edge chip: BERT's fc1 19,511 → 23,443 cycles at 4× the buffers, where a loop order
tied on the estimate took the faster one's place; a 3×3 convolution 36,141 → 37,471; gemmini:
vector layers split in fewer chunks as soon as that fitted).
"""

from __future__ import annotations

from pathlib import Path

from dataclasses import replace

import numpy as np
import pytest

from accel_spec import load_accelerator, with_overrides
from compiler.lowering import lower
from compiler.memory.planner import plan_memory
from compiler.models import load_model
from compiler.pipeline import CompileOptions
from compiler.scheduling import SchedulerKind, schedule_workloads
from compiler.scheduling.challengers_kernel import estimate, qualified_below, qualifying
from compiler.scheduling.estimate import CostTerms
from compiler.scheduling.measure import measure_cycles
from compiler.scheduling.schedule import AttentionSchedule
from compiler.scheduling.shortlist import LADDER
from compiler.target import target_of
from compiler.workload import WorkloadKind
from tessera.api import simulate_workloads

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "accelerators"
SCALES = (1, 1.5, 2, 3, 4, 6, 8)
CASES = [
    ("edge", "bert:layers=1,hidden=256,heads=4,seq=128"),
    ("edge", "conv2d:h=56,w=56,c=64,k=64,r=3,s=3,stride=1"),
    ("gemmini", "bert:layers=1,hidden=256,heads=4,seq=128"),
]


def scaled_chip(chip_name: str, scale: float):
    """The example chip with every buffer `scale` times its capacity."""
    base = load_accelerator(EXAMPLES / f"{chip_name}.yaml")
    return with_overrides(base, {f"buffers.{n}.capacity": int(base.buffers[n].capacity * scale) for n in base.buffers})


def scaled(chip_name: str, scale: float):
    return target_of(scaled_chip(chip_name, scale))


@pytest.mark.parametrize(("chip_name", "model"), CASES)
def test_more_capacity_never_slows_a_chosen_layer(chip_name: str, model: str) -> None:
    workloads = plan_memory(lower(load_model(model)), scaled(chip_name, SCALES[0])).workloads
    cycles = []
    for scale in SCALES:
        target = scaled(chip_name, scale)
        chosen = schedule_workloads(workloads, target, SchedulerKind.HEURISTIC)
        cycles.append([measure_cycles(w, s, target) for w, s in zip(workloads, chosen)])
    by_layer = np.array(cycles)
    grew = [
        (workloads[layer].name, by_layer[:, layer].tolist())
        for layer in range(len(workloads))
        if np.any(np.diff(by_layer[:, layer]) > 0)
    ]
    assert not grew
    assert any(w.kind is WorkloadKind.VECTOR for w in workloads) or "conv2d" in model


def test_larger_attention_blocks_that_fit_in_larger_buffers_do_not_displace_faster_ones() -> None:
    """BERT's fused attention on the edge chip: at 0.75× the buffers, one query block of 128
    fits, ties the 64-row blocks on array and vector time, and took the measured places
    (QKᵀ 9,930 → 10,584 cycles a layer, the network +1.0 %). Pipelined blocks overlap the
    array and the vector unit only between blocks, so the estimate exposes one block's array
    work; the whole network then never gets slower with more buffer."""
    model = "bert:layers=2,hidden=256,heads=4,seq=128"
    workloads = lower(load_model(model))
    totals = []
    for scale in (0.5, 0.75, 1, 2):
        simulation = simulate_workloads(scaled_chip("edge", scale), workloads, model, CompileOptions())
        assert sum(isinstance(s, AttentionSchedule) for s in simulation.compiled.schedules) == 2  # fused
        totals.append(simulation.result.total_cycles)
    assert np.all(np.diff(totals) <= 0), totals


def _random_terms(rng: np.random.Generator, arrangements: int, tilings: int) -> CostTerms:
    """Estimate terms of a random factored space, small ranges so that estimates tie."""
    return CostTerms(
        compute=rng.integers(0, 6, tilings),
        floor=np.zeros(tilings, dtype=np.int64),
        channel_bytes=rng.integers(0, 24, (arrangements, tilings)),
        exposed_bytes=rng.integers(0, 8, tilings),
        tail=rng.integers(0, 3, tilings),
        iterations=rng.integers(1, 4, tilings),
        double_buffer=rng.random(tilings) < 0.7,
        latency=int(rng.integers(0, 3)),
        serial_bytes=np.zeros((1, tilings), dtype=np.int64),
        serial_latency=0,
    )


def _kernel_args(terms: CostTerms) -> tuple:
    return (terms.compute, terms.channel_bytes, terms.exposed_bytes, terms.tail, terms.iterations, terms.double_buffer,
            terms.latency)  # fmt: skip


def test_the_kernel_estimates_the_same_floats_as_the_estimate() -> None:
    """`challengers_kernel.estimate` is `CostTerms.cycles` (both buffering modes, every ladder
    bandwidth, unlimited included), to the last bit."""
    rng = np.random.default_rng(3)
    terms = _random_terms(rng, 4, 300)
    expected = terms.cycles(LADDER[:, None, None])
    compute, channel, exposed, tail, iterations, double_buffer, latency = _kernel_args(terms)
    for r, bandwidth in enumerate(LADDER):
        for a, t in np.ndindex(channel.shape):
            got = estimate(compute[t], channel[a, t], exposed[t], tail[t], iterations[t], double_buffer[t], latency, bandwidth)
            assert got == expected[r, a, t]


def _random_space(rng: np.random.Generator) -> tuple[CostTerms, np.ndarray, np.ndarray]:
    """A random factored space: terms, (buffers, arrangements, tilings) demand, ranks."""
    arrangements, tilings = int(rng.integers(1, 4)), int(rng.integers(1, 15))
    terms = _random_terms(rng, arrangements, tilings)
    demand = rng.integers(0, 4, size=(3, arrangements, tilings)).astype(np.int64)
    rank = rng.permutation(arrangements * tilings).astype(np.int64).reshape(arrangements, tilings)
    return terms, demand, rank


def _qualifies(x: int, terms: CostTerms, demand: np.ndarray, rank: np.ndarray, fits: np.ndarray) -> bool:
    """The rule written out with numpy, on flat indices: at some ladder bandwidth no other
    candidate that `fits` and needs no more in any buffer has a lower estimate, or an equal
    one and a lower rank."""
    count = rank.size
    ladder = terms.cycles(LADDER[:, None, None]).reshape(len(LADDER), count)
    flat_demand, flat_rank = demand.reshape(3, count), rank.ravel()
    rivals = np.all(flat_demand <= flat_demand[:, [x]], axis=0) & fits
    rivals[x] = False
    beaten = (ladder[:, rivals] < ladder[:, [x]]) | ((ladder[:, rivals] == ladder[:, [x]]) & (flat_rank[rivals] < flat_rank[x]))
    return not np.all(np.any(beaten, axis=1))


def test_the_kernel_qualifies_exactly_the_candidates_of_the_rule() -> None:
    """`qualifying` against the rule (`_qualifies`), whatever the order of the rivals listed,
    and with some or all of them passed over by tilings in ascending compute cycles."""
    rng = np.random.default_rng(7)
    outcomes = set()
    for _ in range(30):
        terms, demand, rank = _random_space(rng)
        fits = rng.random(rank.size) < 0.8
        examined = np.flatnonzero(fits)
        expected = [_qualifies(x, terms, demand, rank, fits) for x in examined.tolist()]
        by_compute = np.argsort(terms.compute, kind="stable")
        none = np.zeros(rank.shape, dtype=bool)
        for rivals in (examined, examined[::-1], rng.permutation(examined)):
            got = qualifying(demand, rank, *_kernel_args(terms), LADDER, examined, rivals, 0, by_compute, none)
            assert got.tolist() == expected
        listed = rng.random(rank.size) < 0.5
        for head in (examined[listed[examined]], examined[:0]):
            others = (fits & ~np.isin(np.arange(rank.size), head)).reshape(rank.shape)
            got = qualifying(demand, rank, *_kernel_args(terms), LADDER, examined, head, 0, by_compute, others)
            assert got.tolist() == expected
        outcomes.update(expected)
    assert outcomes == {True, False}


def test_the_candidates_examined_below_a_limit_qualify_by_the_rule_least_bound_first() -> None:
    """`qualified_below`: of the candidates that are not finalists and whose bound is below
    the limit, those that qualify against every candidate that fits (`_qualifies`), in
    ascending bound (ties in flat order, as a stable sort gives them); on a space that is
    some tilings of a larger grid, the same, with the other tilings' candidates neither
    examined nor rivals."""
    rng = np.random.default_rng(5)
    for case in range(40):
        terms, demand, rank = _random_space(rng)
        bound = rng.integers(0, 6, size=rank.shape).astype(np.float64)  # ties
        bound[rng.random(rank.shape) < 0.2] = np.inf  # does not fit
        finalist = np.isfinite(bound) & (rng.random(rank.shape) < 0.2)
        limit = float(rng.integers(1, 7))
        flat_bound = bound.ravel()
        examined = np.flatnonzero((flat_bound < limit) & ~finalist.ravel())
        examined = examined[np.argsort(flat_bound[examined], kind="stable")]
        expected = [x for x in examined.tolist() if _qualifies(x, terms, demand, rank, np.isfinite(flat_bound))]
        tilings = rank.shape[1]
        by_compute = np.argsort(terms.compute, kind="stable")
        if case % 2:  # the space alone
            got = qualified_below(limit, 0, tilings, bound, finalist, demand, rank, *_kernel_args(terms), LADDER, by_compute)
            assert got.tolist() == expected
            continue
        # the space between other spaces' tilings (better and smaller than anything in it)
        before, after = int(rng.integers(1, 4)), int(rng.integers(0, 4))
        arrangements = rank.shape[0]

        def widened(values: np.ndarray, fill) -> np.ndarray:
            shape = (*values.shape[:-1], before + tilings + after)
            out = np.full(shape, fill, dtype=values.dtype)
            out[..., before : before + tilings] = values
            return out

        wide = replace(terms, compute=widened(terms.compute, 0), channel_bytes=widened(terms.channel_bytes, 0),
                       exposed_bytes=widened(terms.exposed_bytes, 0), tail=widened(terms.tail, 0),
                       iterations=widened(terms.iterations, 1), double_buffer=widened(terms.double_buffer, True))
        got = qualified_below(limit, before, before + tilings, widened(bound, 0.0), widened(finalist, False),
                              widened(demand, 0), widened(rank, -1), *_kernel_args(wide), LADDER,
                              widened(by_compute, -1))  # fmt: skip
        width = before + tilings + after
        local = [(x // width) * tilings + x % width - before for x in got.tolist()]
        assert local == expected and arrangements * width > rank.size
