"""`strategy: surrogate`: co-design search guided by learned cost models (SMS-EGO style).

1. A Latin-hypercube sample of `initial` points (seeded) is evaluated first, in batches.
2. Each round fits, on every point evaluated so far, an ensemble of `ensemble` XGBoost
   regressors per objective on the log of the objective (sign-flipped when maximised), one
   regressor per constraint on its violation, and, once some point failed, a classifier of
   feasibility. Members differ by seed and row/column subsampling; their spread is the
   uncertainty σ of a prediction, their mean μ the prediction.
3. Every not-yet-proposed candidate of a pool is predicted in bulk. The pool is fixed for the
   sweep: the whole grid when it has at most `pool` points, otherwise a seeded random sample
   of `pool` points that no exact constraint rules out, `POOL_PER_POINT` per point of the
   budget (so the surrogate's cost per round scales with the budget, not with the space). It
   is featurised and given its exact analytic metrics once, when the second batch of the
   initial sample is proposed (while the first is evaluated: the first batch waits for
   nothing); an evaluated point is featurised once, when its result is told.
4. Acquisition: the hypervolume improvement of the optimistic prediction μ − κσ over the
   front of the evaluated points (SMS-EGO, Ponweiser et al., PPSN 2008), in objective space
   normalised by the observed range. It is computed for any number of objectives by Monte
   Carlo: uniform samples of the box between the optimistic ideal and the reference point that
   the current front does not dominate; a candidate's improvement is proportional to the
   samples it dominates. The batch is filled greedily: after each pick the samples it covers
   are removed, so one batch spreads along the front instead of piling on one spot. Candidates
   predicted infeasible (P(ok) < ½ or a predicted constraint violation) are taken only
   when no predicted-feasible one improves.
5. An ε share of each batch (`explore_share`) is drawn uniformly at random from the
   unevaluated pool: the model is wrong somewhere, and random points are where it learns
   that, at a known small cost (ε-greedy). Slots left when no candidate promises any
   improvement go to the most uncertain candidates (largest Σσ).

Objectives and constraints that need no simulation (chip area, the published accuracy:
`explorer.analytic`) are not learned: every candidate gets its exact value (σ = 0), and a
candidate that an exact constraint rules out is never proposed, not even for exploration.

Rounds repeat until the sweep's budget is spent. The strategy proposes one batch ahead
(`lookahead` = 1), the initial sample included: the sweep loop asks for batch k + 1 while the
workers evaluate batch k, and tells batch k's results after that, so batch k + 1 is chosen
from the results of batches up to k − 1 and never repeats a point already proposed. The
workers then never wait for the models (asynchronous batch Bayesian optimisation: a batch
learns one round later, at the cost of a little search efficiency per simulation); the first
guided batch is chosen from the initial sample's first batch alone.

Everything is a function of the seed and of the results told, in order, interleaved with the
proposals in the same way (XGBoost trains deterministically), so a resumed sweep, which
replays journaled results, proposes exactly what an uninterrupted one would.

At the end, `model_records` reports model quality for the learned objectives: each evaluated
point's prediction by a model that did not see it (k-fold cross-validation, split ``test``)
and in-sample (``train``), written to `surrogate.parquet` and summarised by
`explorer.model_quality`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd

from explorer.analytic import Analytic, AnalyticMetrics
from explorer.cost_model import CostModel
from explorer.features import LayerTable, layer_table
from explorer.objectives import Direction, Objective
from explorer.pareto import pareto_mask
from explorer.space import DesignSpace
from explorer.space_features import SpaceFeatures
from explorer.spec import SweepSpec
from explorer.strategies import Feedback, Indices, LatinHypercubeStrategy, Strategy
from tessera.errors import InputError, Problem

ModelFactory = Callable[[str, int], CostModel]
"""(task: ``regression`` or ``classification``, seed) → an untrained model."""


@dataclass(frozen=True)
class SurrogateSettings:
    """Knobs of the search (module docstring); `for_budget` gives the defaults of a sweep."""

    initial: int
    batch: int
    ensemble: int = 4
    kappa: float = 1.0
    explore_share: float = 0.125
    reference_margin: float = 0.1
    mc_samples: int = 2048
    shortlist: int = 4096
    pool: int = 2**18
    folds: int = 5

    @classmethod
    def for_budget(cls, budget: int, batch: int) -> "SurrogateSettings":
        """A tenth of the budget as the initial sample, at least two batches, at most 128 points;
        a pool of `POOL_PER_POINT` candidates per point of the budget, within `POOL_RANGE`."""
        low, high = POOL_RANGE
        return cls(initial=int(min(budget, max(2 * batch, min(budget // 10, 128)))), batch=batch,
                   pool=int(min(high, max(low, POOL_PER_POINT * budget))))


POOL_PER_POINT = 64
"""Candidates scored per point of the budget. Prediction over the pool is about half a round's
cost (about 0.7 µs per candidate and model with `xgboost_factory`'s 60 trees of depth 3: 0.15 s
for 13 models over 16,384 candidates), the models' training the other half (about 15 ms a
model on 160 points). A pool is a sample of the space fixed for the sweep, so front points
outside it cannot be found: on the 11,520-point space of `benchmarks/search_efficiency.py` at
budget 200, a pool of 6,400 (32 per point) needed 120 simulations to reach 95 % of the true
front's hypervolume, the whole space 72. 64 per point, with at least 16,384, scores such spaces
whole (`benchmarks/surrogate_overhead.py` measures the cost)."""
POOL_RANGE = (2**14, 2**18)
"""Fewest and most candidates a pool holds (a space smaller than the pool is scored whole)."""
POOL_DRAWS = 64
"""Most random draws of `pool` points while exact constraints rule candidates out: a pool
stays short only where they rule out nearly the whole space."""


def make_surrogate(spec: SweepSpec, space: DesignSpace, analytic: Analytic | None = None) -> "SurrogateStrategy":
    """The surrogate strategy of a sweep: features from its base chip and lowered networks,
    exact analytic metrics from the evaluator's `analytic` (when given)."""
    try:
        import explorer.xgboost_cost_model  # noqa: F401 - fail here, before any point runs
    except ImportError as error:
        raise InputError(spec.source, Problem("strategy", f"surrogate needs the xgboost package, which cannot be imported: {error}")) from None
    settings = SurrogateSettings.for_budget(spec.budget, spec.population)
    exact = AnalyticMetrics(space, analytic) if analytic is not None else None
    return SurrogateStrategy(space, sweep_features(spec, space).features, settings, spec.seed, exact=exact)


def sweep_features(spec: SweepSpec, space: DesignSpace) -> SpaceFeatures:
    """Features of a sweep's points: its base chip, and its networks lowered once each."""
    from accel_spec import load_accelerator
    from explorer.simulator_evaluator import lowered_model  # the compiler stack, only for this strategy

    def layers_of(model: str, batch: int | None) -> LayerTable:
        return layer_table(lowered_model(model, batch, spec.model_root)[0])

    return SpaceFeatures(space, load_accelerator(spec.base), layers_of)


def xgboost_factory(task: str, seed: int) -> CostModel:
    """The XGBoost models the surrogate uses (ImportError when xgboost is not installed).

    Small models for small data: a sweep trains on at most a few hundred points, where 60
    trees of depth 3 predict held-out points as well as 150 of depth 6 (on 300 random points of
    `benchmarks/surrogate_overhead.py`'s space, trained on 48 to 160 of its surrogate's points:
    R² 0.65-0.96 and Spearman 0.93-0.99 against 0.66-0.94 and 0.92-0.99) at a quarter of the
    cost to train and to predict, the two costs of a round."""
    from explorer.xgboost_cost_model import BoostParams, Task, XGBoostModel

    params = BoostParams(rounds=60, max_depth=3, eta=0.2, subsample=0.8, colsample=0.8, seed=seed)
    return XGBoostModel(Task.REGRESSION if task == "regression" else Task.CLASSIFICATION, params)


@dataclass(frozen=True)
class _Targets:
    """Training targets in minimisation space: log where every value is positive."""

    values: np.ndarray  # (n, objectives) transformed, smaller is better
    logged: tuple[bool, ...]
    signs: tuple[float, ...]

    @classmethod
    def of(cls, natural: np.ndarray, objectives: tuple[Objective, ...]) -> "_Targets":
        signs = tuple(1.0 if o.direction is Direction.MINIMIZE else -1.0 for o in objectives)
        logged = tuple(bool(len(natural) and (natural[:, j] > 0).all()) for j in range(natural.shape[1]))
        columns = [
            s * (np.log(natural[:, j]) if log else natural[:, j]) for j, (s, log) in enumerate(zip(signs, logged))
        ]
        return cls(np.column_stack(columns) if columns else natural, logged, signs)

    def natural(self, transformed: np.ndarray, j: int) -> np.ndarray:
        """Column j back in natural units."""
        value = transformed * self.signs[j]
        return np.exp(value) if self.logged[j] else value

    def transform(self, natural: np.ndarray, j: int) -> np.ndarray:
        """Natural values of objective j in the space of column j (inverse of `natural`)."""
        with np.errstate(divide="ignore", invalid="ignore"):
            return self.signs[j] * (np.log(natural) if self.logged[j] else natural)


@dataclass(frozen=True)
class _Pool:
    """The candidates a sweep scores: flat indices (increasing), their features (float32, as
    the models read them) and their exact analytic metrics."""

    flat: np.ndarray
    x: np.ndarray
    exact: dict[str, np.ndarray]


class SurrogateStrategy(Strategy):
    """Model-guided batches (see the module docstring)."""

    def __init__(
        self,
        space: DesignSpace,
        features: Callable[[np.ndarray], np.ndarray],
        settings: SurrogateSettings,
        seed: int,
        make_model: ModelFactory = xgboost_factory,
        exact: AnalyticMetrics | None = None,
    ) -> None:
        self.space = space
        self.settings = settings
        self.seed = seed
        self._featurise = features
        self._make_model = make_model
        self._objectives = space.spec.objectives
        offered = set(exact.metrics) if exact is not None else set()
        self._exact = exact
        self._exact_objectives = {j: o.analytic_metric for j, o in enumerate(self._objectives) if o.analytic_metric in offered}
        self._exact_constraints = {c for c, constraint in enumerate(space.spec.constraints)
                                   if constraint.analytic_metric in offered}
        self._sizes = np.array([axis.size for axis in space.axes], dtype=np.int64)
        self._round = 0
        self._flat: list[int] = []
        self._x: list[np.ndarray] = []  # features of the evaluated points, one block per `tell`
        self._feedback: list[Feedback] = []
        self._known: set[int] = set()  # evaluated
        self._proposed: set[int] = set()  # evaluated, in flight, or dropped over the budget

    # -- the Strategy interface ---------------------------------------------------------

    @property
    def lookahead(self) -> int:
        """One batch ahead, from the first batch on (module docstring)."""
        return 1

    def propose(self) -> list[Indices]:
        self._round += 1
        if len(self._proposed) >= self.space.size:
            return []
        start = (self._round - 1) * self.settings.batch
        if start < len(self._initial_sample):
            flat = self._initial_sample[start : start + self.settings.batch]
            if self._round > 1:
                self._candidates  # the pool is built here, while the first batch is evaluated
        else:
            flat = self._next_batch()
        self._proposed.update(int(f) for f in flat)
        return [tuple(int(v) for v in row) for row in self._unravel(flat)]

    def tell(self, batch: Sequence[Indices], feedback: Sequence[Feedback | None]) -> None:
        new: list[int] = []
        for indices, result in zip(batch, feedback):
            if result is None:
                continue
            flat = int(np.ravel_multi_index(indices, self._sizes))
            if flat in self._known:
                continue
            self._known.add(flat)
            self._proposed.add(flat)
            new.append(flat)
            self._feedback.append(result)
        if new:
            self._flat += new
            self._x.append(self._featurise(self._unravel(np.array(new, dtype=np.int64))))

    # -- one round ----------------------------------------------------------------------

    @cached_property
    def _initial_sample(self) -> np.ndarray:
        """Flat indices of the Latin-hypercube sample, in the order it is proposed."""
        batch = LatinHypercubeStrategy(self.space, self.settings.initial, self.seed).propose()
        if not batch:
            return np.zeros(0, dtype=np.int64)
        return np.ravel_multi_index(tuple(np.array(batch, dtype=np.int64).T), tuple(self._sizes))

    @cached_property
    def _candidates(self) -> "_Pool":
        """The pool, fixed for the sweep (module docstring, step 3), drawn and featurised once."""
        flat, exact = self._draw_pool()
        return _Pool(flat, np.asarray(self._featurise(self._unravel(flat)), dtype=np.float32), exact)

    def _unravel(self, flat: np.ndarray) -> np.ndarray:
        return np.stack(np.unravel_index(np.asarray(flat, dtype=np.int64), tuple(self._sizes)), axis=1)

    def _evaluated_features(self) -> np.ndarray:
        """Features of every evaluated point, in the order they were told."""
        if len(self._x) > 1:
            self._x = [np.concatenate(self._x)]
        return self._x[0]

    def _draw_pool(self) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """Flat indices (increasing) of the pool and their exact analytic metrics: the whole space
        when it is no larger than the pool, otherwise seeded draws until `pool` distinct points
        meet the exact constraints (at most `POOL_DRAWS` draws)."""
        needs_exact = self._exact_objectives or self._exact_constraints

        def allowed_of(flat: np.ndarray) -> tuple[np.ndarray, dict[str, np.ndarray]]:
            values = self._exact.values(self._unravel(flat)) if needs_exact else {}
            allowed = self._within_exact_constraints(values, len(flat))
            return flat[allowed], {metric: np.asarray(v)[allowed] for metric, v in values.items()}

        size, wanted = self.space.size, self.settings.pool
        if size <= wanted:
            return allowed_of(np.arange(size, dtype=np.int64))
        rng = np.random.default_rng([self.seed, 1])
        seen = np.zeros(0, dtype=np.int64)
        parts: list[tuple[np.ndarray, dict[str, np.ndarray]]] = []
        found = 0
        for _ in range(POOL_DRAWS):
            drawn = rng.integers(0, size, wanted, dtype=np.int64)
            drawn = drawn[np.sort(np.unique(drawn, return_index=True)[1])]  # distinct, in draw order
            drawn = drawn[~np.isin(drawn, seen)][: wanted - found]
            seen = np.concatenate([seen, drawn])
            parts.append(allowed_of(drawn))
            found += len(parts[-1][0])
            if found >= wanted or len(seen) >= size:
                break
        flat = np.concatenate([part[0] for part in parts])
        order = np.argsort(flat, kind="stable")
        exact = {metric: np.concatenate([part[1][metric] for part in parts])[order] for metric in parts[0][1]}
        return flat[order], exact

    def _pool(self) -> np.ndarray:
        """Positions in the pool of the candidates this round scores: never proposed before
        (evaluated, in flight or over the budget), none that an exact constraint rules out."""
        proposed = np.fromiter(self._proposed, dtype=np.int64, count=len(self._proposed))
        return np.flatnonzero(~np.isin(self._candidates.flat, proposed))

    def _within_exact_constraints(self, values: dict[str, np.ndarray], count: int) -> np.ndarray:
        """Whether each candidate meets every constraint that `explorer.analytic` decides
        exactly, from its exact metrics `values`."""
        allowed = np.ones(count, dtype=bool)
        if not self._exact_constraints:
            return allowed
        frame = pd.DataFrame(values)
        for c in self._exact_constraints:
            allowed &= np.asarray(self.space.spec.constraints[c].satisfied(frame), dtype=bool)
        return allowed

    def _next_batch(self) -> np.ndarray:
        settings = self.settings
        pool = self._pool()
        count = min(settings.batch, len(pool))
        if count == 0:
            return np.zeros(0, dtype=np.int64)
        rng = np.random.default_rng([self.seed, self._round, 2])
        explore = min(count, int(round(settings.explore_share * count)))
        picked: list[int] = []
        if explore:
            picked = [int(i) for i in rng.choice(len(pool), size=explore, replace=False)]
        ok = np.array([f.values is not None for f in self._feedback])
        if ok.sum() >= 2 and count > explore:
            mean, sigma, feasible = self._predict(pool, ok)
            front = self._front(ok)
            picked += _greedy_improvement(mean - settings.kappa * sigma, feasible, front, sigma, count - explore,
                                          set(picked), settings, rng)
        remaining = np.setdiff1d(np.arange(len(pool)), picked)
        if len(picked) < count:  # no model yet: random
            picked += [int(i) for i in rng.choice(remaining, size=count - len(picked), replace=False)]
        return self._candidates.flat[pool[np.array(picked[:count], dtype=np.int64)]]

    def _normalise(self, ok: np.ndarray) -> tuple[_Targets, np.ndarray, np.ndarray]:
        natural = np.array([f.values for f, good in zip(self._feedback, ok) if good], dtype=np.float64)
        targets = _Targets.of(natural, self._objectives)
        low, high = targets.values.min(axis=0), targets.values.max(axis=0)
        return targets, low, np.where(high > low, high - low, 1.0)

    def _front(self, ok: np.ndarray) -> np.ndarray:
        """Normalised objectives of the evaluated front (feasible, constraints met)."""
        targets, low, scale = self._normalise(ok)
        met = np.array([all(v <= 0 for v in f.violations) for f, good in zip(self._feedback, ok) if good])
        points = (targets.values[met] - low) / scale
        return points[pareto_mask(points)] if len(points) else points

    def _fit_predict(self, task: str, seed: int, x: np.ndarray, y: np.ndarray, candidates: np.ndarray) -> np.ndarray:
        model = self._make_model(task, seed)
        model.fit(x, y)
        return model.predict(candidates)

    def _predict(self, pool: np.ndarray, ok: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(μ, σ) of the normalised objectives and predicted feasibility of every candidate
        (`pool`: positions in the pool)."""
        settings = self.settings
        x_all = self._evaluated_features()
        x_ok = x_all[ok]
        candidates = self._candidates.x[pool]
        targets, low, scale = self._normalise(ok)
        mean = np.empty((len(pool), len(self._objectives)))
        sigma = np.zeros_like(mean)
        exact = {metric: values[pool] for metric, values in self._candidates.exact.items()}
        feasible = np.ones(len(pool), dtype=bool)
        for j in range(len(self._objectives)):
            if j in self._exact_objectives:  # known exactly: no model, no uncertainty
                mean[:, j] = (targets.transform(exact[self._exact_objectives[j]], j) - low[j]) / scale[j]
                feasible &= np.isfinite(mean[:, j])
                continue
            y = (targets.values[:, j] - low[j]) / scale[j]
            members = np.stack([
                self._fit_predict("regression", self._member_seed(j, k), x_ok, y, candidates)
                for k in range(settings.ensemble)
            ])
            mean[:, j], sigma[:, j] = members.mean(axis=0), members.std(axis=0)
        mean = np.where(np.isfinite(mean), mean, np.inf)
        violations = [f.violations for f, good in zip(self._feedback, ok) if good]
        for c in range(len(self.space.spec.constraints)):
            if c in self._exact_constraints:  # the pool holds only candidates that meet it
                continue
            y = np.array([v[c] for v in violations], dtype=np.float64)
            if (y > 0).any():
                feasible &= self._fit_predict("regression", self._member_seed(-1 - c, 0), x_ok, y, candidates) <= 0
        if not ok.all():
            chance = self._fit_predict("classification", self._member_seed(-100, 0), x_all, ok.astype(np.float64),
                                       candidates)
            feasible &= chance >= 0.5
        return mean, sigma, feasible

    def _member_seed(self, objective: int, member: int) -> int:
        return int(np.random.default_rng([self.seed, objective + 1000, member]).integers(2**31))

    # -- model quality ------------------------------------------------------------------

    def model_records(self) -> pd.DataFrame | None:
        """Predicted vs simulated per objective: k-fold held-out (``test``) and in-sample (``train``)."""
        ok = np.array([f.values is not None for f in self._feedback], dtype=bool)
        folds = min(self.settings.folds, int(ok.sum()))
        if folds < 2:
            return None
        x = self._evaluated_features()[ok]
        targets, _, _ = self._normalise(ok)
        fold_of = np.random.default_rng([self.seed, 3]).permutation(len(x)) % folds
        records = []
        for j, objective in enumerate(self._objectives):
            if j in self._exact_objectives:  # computed, not learned: nothing to judge
                continue
            y = targets.values[:, j]
            held_out = np.empty(len(x))
            for fold in range(folds):
                test = fold_of == fold
                held_out[test] = self._fit_predict("regression", self._member_seed(j, 0), x[~test], y[~test], x[test])
            in_sample = self._fit_predict("regression", self._member_seed(j, 0), x, y, x)
            simulated = targets.natural(y, j)
            for split, predicted in (("test", held_out), ("train", in_sample)):
                records.append(pd.DataFrame({
                    "objective": objective.value,
                    "predicted": targets.natural(predicted, j),
                    "simulated": simulated,
                    "split": split,
                }))
        return pd.concat(records, ignore_index=True) if records else None


def _greedy_improvement(
    optimistic: np.ndarray,
    feasible: np.ndarray,
    front: np.ndarray,
    sigma: np.ndarray,
    count: int,
    taken: set[int],
    settings: SurrogateSettings,
    rng: np.random.Generator,
) -> list[int]:
    """Up to `count` candidate positions by greedy Monte-Carlo hypervolume improvement."""
    m = optimistic.shape[1]
    reference = np.full(m, 1.0 + settings.reference_margin)
    open_ = np.ones(len(optimistic), dtype=bool)
    open_[list(taken)] = False
    picked: list[int] = []
    for preferred in (feasible, ~feasible):  # predicted-feasible candidates first
        if len(picked) >= count:
            break
        alive = np.flatnonzero(preferred & open_ & ~_dominated(optimistic, front) & (optimistic < reference).all(axis=1))
        if len(alive) == 0:
            continue
        if len(alive) > settings.shortlist:  # keep the optimistically best by the sum of objectives
            alive = alive[np.argsort(optimistic[alive].sum(axis=1), kind="stable")[: settings.shortlist]]
        low = np.minimum(optimistic[alive].min(axis=0), 0.0)
        samples = low + rng.random((settings.mc_samples, m)) * (reference - low)
        samples = samples[~_dominated(samples, front)]
        covers = _covers(optimistic[alive], samples)  # (alive, samples) booleans
        gains = covers.sum(axis=1)
        while len(picked) < count:
            best = int(np.argmax(gains))
            if gains[best] == 0:
                break
            picked.append(int(alive[best]))
            open_[alive[best]] = False
            covered = covers[best].copy()
            gains = gains - covers[:, covered].sum(axis=1)
            covers[:, covered] = False
    if len(picked) < count:  # nothing promises improvement: the most uncertain candidates
        order = np.argsort(-sigma.sum(axis=1), kind="stable")
        picked += [int(i) for i in order[open_[order]][: count - len(picked)]]
    return picked


def _dominated(points: np.ndarray, front: np.ndarray, block: int = 4096) -> np.ndarray:
    """Whether some front row weakly dominates each point (≤ in every objective)."""
    out = np.zeros(len(points), dtype=bool)
    if len(front) == 0:
        return out
    for start in range(0, len(points), block):
        chunk = points[start : start + block]
        out[start : start + block] = (front[None, :, :] <= chunk[:, None, :]).all(axis=2).any(axis=1)
    return out


def _covers(candidates: np.ndarray, samples: np.ndarray) -> np.ndarray:
    """(candidates, samples): the candidate weakly dominates the sample."""
    result = np.ones((len(candidates), len(samples)), dtype=bool)
    for j in range(candidates.shape[1]):
        result &= candidates[:, j, None] <= samples[None, :, j]
    return result
