"""Multi-objective EDNAG guided by predictors: free diffusions on predicted objective vectors.

The multi-objective counterpart of :mod:`ednag.optimizers.ednag_guided`. Each round fits one MLP
ensemble per objective (and one for the constraint violation when any query violated a
constraint) on every usable query so far, each objective mapped to normal scores of its ranks
(``target="quantile"``); from the 100th query on (``late_after``), one Gaussian process each
instead (``late_predictor``, :data:`MO_LATE_PREDICTOR`: the same fronts in a fifth of the
time). Then it runs ``diffusions_per_round`` EDNAG diffusions without spending a
query. A member's fitness is its :func:`front_margin` against the evaluated first front: how far
its objective vector lies beyond the front (positive) or behind it (negative), in the
Chebyshev sense, each objective in its regression targets or, when its queries tie often (a
cost with few levels), in its values scaled by the front's range (``margin_units``, ``ties``
by default). An evaluated member is scored by its true vector (against the front without
itself), any other by the acquisition of each objective (``ucb``: mean + ``ucb_beta`` x
spread). The ``batch_size`` queries of a round are chosen greedily among the unseen
architectures met: the one with the largest margin, whose optimistic vector then joins the
front, so the next pick must lie beyond a different part of it. ``front_mutations`` m (3 by
default, 0 turns it off) of each round's queries are instead random unseen one-decision mutants
of evaluated first-front members, chosen without the predictor (a local search along the front
that the ensembles, which cannot resolve the small accuracy differences between neighbours at
large budgets, do not do on their own). Once ``stall_rounds`` (3; ``None``: off) rounds in a
row added nothing to the evaluated front, ``stall_queries`` (3) of the predictor's picks come
from models whose spread away from the evaluated cells is ``stall_prior_scale`` (Gaussian
processes of that amplitude, or ensembles with randomized priors before ``late_after``): a way
out of a front caught in one family of cells. With ``restart_rounds`` (off by
default), once no objective's best evaluated value has improved for that many rounds in a row,
a second search on its own queries only takes ``stall_queries`` of each round's queries until
one objective's best improves (:class:`SecondSearch`; ``ednag_guided``'s option of that name,
with the objectives' bests in place of the one best).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ednag.checks import int_at_least
from ednag.optimizers.bananas import acquire
from ednag.optimizers.base import WORST_FITNESS
from ednag.optimizers.ednag_guided import GuidedEDNAG
from ednag.optimizers.evo_diffusion.config import EDNAGConfig
from ednag.optimizers.multi_objective.base import MultiObjective
from ednag.optimizers.unseen import random_unseen
from ednag.pareto import Evaluation, evaluation_arrays, non_dominated_ranks
from ednag.predictors import transform_targets
from ednag.spaces.base import Choices, SearchSpace

#: fitness below every feasible member's for a member predicted or known to be infeasible
INFEASIBLE_PENALTY = 1e3
#: queries per round and free diffusions per round of the multi-objective search: the values it
#: was measured with (the single-objective ``ednag_guided`` moved to 5 and 2)
MO_BATCH_SIZE = 10
MO_DIFFUSIONS_PER_ROUND = 4
#: the ensemble's floating-point type in the multi-objective search (``predictor_params``
#: may override it): double precision, as measured (the single-objective search moved to
#: ``float32``)
MO_PREDICTOR_DTYPE = "float64"
#: the stall quota of the multi-objective search (``None``: off): once that many rounds in a
#: row added nothing to the evaluated first front, ``stall_queries`` of each round's predictor
#: picks come from models whose spread away from the evaluated cells is ``stall_prior_scale``
#: (the search's own kind: Gaussian processes of that amplitude from ``MO_LATE_AFTER`` queries
#: on). On by default since the models became Gaussian processes after 100 queries; on the
#: ensembles it freed seeds caught in one family of cells and cost the others as much (README,
#: "Multi-objective search")
MO_STALL_ROUNDS: int | None = 3
#: ``stall_queries`` of the multi-objective search (of its 10 queries a round; the value screened)
MO_STALL_QUERIES = 3
#: ``stall_predictor`` of the multi-objective search: its spread models are the search's own
#: kind of the moment (``None``: ensembles with randomized priors before ``MO_LATE_AFTER``
#: queries, Gaussian processes after), as its quota was screened
MO_STALL_PREDICTOR: str | None = None
#: the multi-objective search's second search: off by default (``restart_rounds``; the
#: single-objective search turns it on) and, when asked for, as its screens ran: from the
#: first query on (``restart_after``) and on the search's own predictor
#: (``restart_predictor``; README, "Multi-objective search")
MO_RESTART_ROUNDS: int | None = None
MO_RESTART_AFTER = 0
MO_RESTART_PREDICTOR: str | None = None
#: the multi-objective search's models once ``MO_LATE_AFTER`` queries are told
#: (``late_predictor``): Gaussian processes, after ensembles for the first 100. The same
#: fronts within noise on the three problems at about a fifth of the time (README,
#: "Multi-objective search"); ``None`` keeps the ensembles throughout
MO_LATE_PREDICTOR: str | None = "gp"
MO_LATE_AFTER = 100
#: the units of the front margins (``margin_units``), per objective: its regression targets
#: (normal scores of the ranks) or its values scaled by the evaluated first front's range (as
#: the hypervolume scales them). ``targets``: every objective in targets; ``values``: every one
#: in values; ``mixed``: the first in targets, the others in values; ``ties``: in values those
#: whose usable queries share each value :data:`TIED_QUERIES` times or more on average (a cost
#: with few levels, such as NB201's 28 parameter counts: normal scores of tied ranks stretch
#: apart the levels queried most, so the search kept returning to the cheapest ones), the others
#: in targets
MARGIN_UNITS = ("targets", "values", "mixed", "ties")
#: ``ties``: an objective is in values once its usable queries number at least this many times
#: its distinct values (NB201's parameter count from the 20th or 30th query on; never NB201's
#: accuracy, latency or NAS-Bench-Macro's objectives within 500 queries)
TIED_QUERIES = 2
#: ``margin_units`` of the multi-objective search: ``ties``, the default since it was measured
#: (NB201 x params at 500 queries 0.9879 -> 0.9932 over seeds 0-29; latency and
#: NAS-Bench-Macro never tie that much, so their runs are unchanged; README, "Multi-objective
#: search")
MO_MARGIN_UNITS = "ties"


def front_margin(points: np.ndarray, front: np.ndarray) -> np.ndarray:
    """For each row of ``points`` (n, m; maximised), ``min over front f of max_j (p_j - f_j)``:
    > 0 when no front point weakly dominates it (the smallest shift toward worse values in all
    objectives that makes some front point dominate it), <= 0 when one does (how far it lies
    behind). An empty front gives +inf.

    >>> front_margin(np.array([[2.0, 2.0], [0.0, 0.0], [3.0, 0.5]]),
    ...              np.array([[1.0, 1.0]])).tolist()
    [1.0, -1.0, 2.0]
    """
    points = np.asarray(points, dtype=np.float64)
    front = np.asarray(front, dtype=np.float64)
    if front.size == 0:
        return np.full(points.shape[0], np.inf)
    diff = points[:, None, :] - front[None, :, :]  # (n, f, m)
    return diff.max(axis=2).min(axis=1)


def greedy_front_batch(vectors: np.ndarray, front: np.ndarray, k: int) -> list[int]:
    """Indices of ``k`` rows of ``vectors`` picked one at a time by :func:`front_margin`
    against ``front`` plus the rows already picked (ties: the earlier row).

    >>> greedy_front_batch(np.array([[2.0, 0.0], [2.1, 0.1], [0.0, 2.0]]),
    ...                    np.array([[1.0, 1.0]]), 2)
    [1, 2]
    """
    vectors = np.asarray(vectors, dtype=np.float64)
    chosen: list[int] = []
    current = np.asarray(front, dtype=np.float64).reshape(-1, vectors.shape[1])
    left = np.ones(len(vectors), dtype=bool)
    for _ in range(min(k, len(vectors))):
        margin = front_margin(vectors, current)
        margin[~left] = -np.inf
        i = int(np.argmax(margin))
        chosen.append(i)
        left[i] = False
        current = np.vstack([current, vectors[i : i + 1]])
    return chosen


def front_units(points: np.ndarray, front: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The offset and width that map each objective of ``points`` (n, m; maximised) to the
    units of the hypervolume's normalisation: 0 at the worst value of ``front`` (its nadir),
    1 at its best. An objective the front does not spread (one point, or equal values) takes
    the range of all ``points`` instead, and 1 when they are equal too.

    >>> lo, width = front_units(np.array([[0.0, 0.0], [1.0, 4.0], [3.0, 2.0]]),
    ...                         np.array([[1.0, 4.0], [3.0, 2.0]]))
    >>> lo.tolist(), width.tolist()
    ([1.0, 2.0], [2.0, 2.0])
    """
    points = np.asarray(points, dtype=np.float64)
    ref = np.asarray(front, dtype=np.float64).reshape(-1, points.shape[1])
    if len(ref) == 0:
        ref = points
    lo, width = ref.min(axis=0), np.ptp(ref, axis=0)
    flat = width <= 0
    if len(points):
        lo = np.where(flat, points.min(axis=0), lo)
        width = np.where(flat, np.ptp(points, axis=0), width)
    return lo, np.where(width > 0, width, 1.0)


def target_to_value(targets: np.ndarray, values: np.ndarray, tail: float = 0.1
                    ) -> Callable[[np.ndarray], np.ndarray]:
    """The monotone map from regression targets back to values, learnt from pairs that share a
    rank order (:func:`~ednag.predictors.transform_targets`): piecewise linear between the
    observed pairs, linear beyond them with the slope across the outer ``tail`` of the pairs
    (so an optimistic prediction above every observed target maps above the best value).

    >>> f = target_to_value(np.array([-1.0, 0.0, 1.0]), np.array([10.0, 20.0, 40.0]))
    >>> f(np.array([0.5, 2.0, -2.0])).tolist()
    [30.0, 60.0, 0.0]
    """
    u, first = np.unique(np.asarray(targets, dtype=np.float64), return_index=True)
    v = np.asarray(values, dtype=np.float64)[first]
    if len(u) < 2:
        return lambda x: np.full(np.shape(x), v[0] if len(v) else 0.0)
    k = max(1, int(round(tail * (len(u) - 1))))
    hi_slope = (v[-1] - v[-1 - k]) / (u[-1] - u[-1 - k])
    lo_slope = (v[k] - v[0]) / (u[k] - u[0])

    def to_value(x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=np.float64)
        out = np.interp(x, u, v)
        out = np.where(x > u[-1], v[-1] + hi_slope * (x - u[-1]), out)
        return np.where(x < u[0], v[0] + lo_slope * (x - u[0]), out)

    return to_value


def _same(x: np.ndarray) -> np.ndarray:
    """The identity map of an objective whose margins are in its regression targets."""
    return x


def objective_bests(evaluations: list[Evaluation], num_objectives: int) -> np.ndarray | None:
    """Each objective's best value (maximise orientation) among the successful evaluations,
    the feasible ones when any is; ``None`` without a successful one."""
    usable = [ev for ev in evaluations if not ev.failed]
    if not usable:
        return None
    pts, viol = evaluation_arrays(usable, num_objectives)
    return (pts[viol <= 0] if (viol <= 0).any() else pts).max(axis=0)


def improved(bests: np.ndarray | None, before: np.ndarray | None) -> bool:
    """Whether some objective's best beats its value in ``before`` (``None``: nothing yet)."""
    return bests is not None and (before is None or bool(np.any(bests > before)))


@dataclass
class MarginUnits:
    """A round's front-margin units: every usable query's objectives in them (``scaled``) and,
    per objective, the map from a model's predicted target to them."""

    scaled: np.ndarray
    maps: list[Callable[[np.ndarray], np.ndarray]]


@dataclass
class SecondSearch:
    """The state of ``mo_ednag_guided``'s second search: the keys it asked, each objective's
    best when it began (beating one ends it), its own bests and stale rounds (as many as
    ``restart_rounds`` start it afresh) and its own front-stall counters (its stall quota)."""

    start: np.ndarray
    keys: set[str] = field(default_factory=set)
    bests: np.ndarray | None = None
    stale_rounds: int = 0
    front_keys: frozenset[str] = frozenset()
    front_stale: int = 0


class MOGuidedEDNAG(MultiObjective, GuidedEDNAG):
    """Predictor-guided multi-objective EDNAG (see the module docstring).

    Parameters as :class:`~ednag.optimizers.ednag_guided.GuidedEDNAG` (``config``,
    ``num_init``, ``batch_size``, ``diffusions_per_round``, ``num_random``, ``acquisition``,
    ``ucb_beta``, ``predictor_encoding``, ``target``, ``predictor_params``, ``stall_rounds``,
    ``stall_queries``, ``stall_prior_scale``, ``stall_predictor``, EDNAG ``overrides``; not
    ``patience``, ``early_acquisition`` or ``early_apart``, and ``stall_pool`` only as ``priors``;
    ``batch_size`` and ``diffusions_per_round`` default to :data:`MO_BATCH_SIZE` and
    :data:`MO_DIFFUSIONS_PER_ROUND`, the ensemble's ``dtype`` to :data:`MO_PREDICTOR_DTYPE`,
    ``stall_rounds``, ``stall_queries`` and ``stall_predictor`` to :data:`MO_STALL_ROUNDS`,
    :data:`MO_STALL_QUERIES` and :data:`MO_STALL_PREDICTOR`, ``restart_rounds``,
    ``restart_after`` and ``restart_predictor`` to :data:`MO_RESTART_ROUNDS`,
    :data:`MO_RESTART_AFTER` and :data:`MO_RESTART_PREDICTOR`, ``late_predictor`` and
    ``late_after`` to :data:`MO_LATE_PREDICTOR` and :data:`MO_LATE_AFTER`: Gaussian
    processes from the 100th query on; ``predictor_encoding`` to ``"onehot"``, the code its
    fronts were measured with) plus
    ``num_objectives``, ``front_mutations`` (3 by default: how many of each round's
    queries are random unseen one-decision mutants of the evaluated first front) and
    ``margin_units`` (:data:`MARGIN_UNITS`; :data:`MO_MARGIN_UNITS` by default). A round is
    stale when its results add no architecture to the evaluated first front; from
    ``stall_rounds`` stale rounds in a row on (until one adds one),
    ``stall_queries`` of the round's predictor picks come from models whose spread away from
    the evaluated cells is ``stall_prior_scale`` (Gaussian processes of that amplitude once
    ``late_predictor`` is ``gp``, ensembles with randomized priors of that scale before), one
    per objective, whose own free diffusions they score (as in the single-objective search);
    ``restart_rounds`` (``None``: off): once no objective's best evaluated value has improved
    for that many rounds in a row (and at least ``restart_after`` queries are told), a second
    search starts and takes ``stall_queries`` of each round's queries: it forgets every
    earlier query (``num_init`` random queries of its own, then rounds like these on its own
    queries only, one of them a front mutant), never asks a known architecture and starts
    afresh when its own bests stall that long; as soon as one objective's best beats its value
    at the start, one search goes on, on every query (``restart_predictor``: the predictor
    it fits, ``None`` for ``predictor``);
    ``score`` is accepted for the multi-objective interface (it ranks the evaluated set, e.g.
    in :meth:`scores_of`).

    >>> from ednag.pareto import Evaluation
    >>> from ednag.spaces import make_space
    >>> opt = MOGuidedEDNAG(make_space("nb201"), seed=0, max_queries=30, num_objectives=2)
    >>> while not opt.finished:
    ...     opt.tell([(a, Evaluation((float(sum(a)), -float(a[0])))) for a in opt.ask()])
    >>> opt.num_queries
    30
    """

    name = "mo_ednag_guided"
    #: each objective's best at the last round and the rounds in a row it has not improved
    #: (they start the second search); the second search, ``None`` while none runs (class
    #: values: an optimizer pickled before ``restart_rounds`` existed resumes without one)
    _bests: np.ndarray | None = None
    _bests_stale: int = 0
    _second: SecondSearch | None = None
    #: an optimizer pickled before ``margin_units`` existed resumes in the units it ran with
    margin_units: str = "targets"

    def __init__(
        self,
        space: SearchSpace,
        seed: int = 0,
        max_queries: int | None = None,
        config: EDNAGConfig | str | None = None,
        num_objectives: int = 1,
        score: str = "crowding",
        front_mutations: int = 3,
        margin_units: str = MO_MARGIN_UNITS,
        **kwargs: Any,
    ) -> None:
        int_at_least("front_mutations", front_mutations, 0)
        if margin_units not in MARGIN_UNITS:
            raise ValueError(f"margin_units must be one of {', '.join(MARGIN_UNITS)}; "
                             f"got {margin_units!r}")
        if "patience" in kwargs:
            raise ValueError("patience is not supported by mo_ednag_guided (single-objective "
                             "ednag_guided only; the multi-objective search has stall_rounds)")
        if kwargs.get("guided_samples"):
            raise ValueError("guided_samples is not supported by mo_ednag_guided (single-"
                             "objective ednag_guided only)")
        if kwargs.get("early_acquisition") is not None:
            raise ValueError("early_acquisition is not supported by mo_ednag_guided (single-"
                             "objective ednag_guided only: the multi-objective rounds pick by "
                             "acquisition throughout)")
        if kwargs.get("early_apart") is not None:
            raise ValueError("early_apart is not supported by mo_ednag_guided (single-"
                             "objective ednag_guided only: the multi-objective rounds choose "
                             "their picks by the front)")
        if "restart_takes" in kwargs:
            raise ValueError("restart_takes is not supported by mo_ednag_guided (single-"
                             "objective ednag_guided only: its second search takes "
                             "stall_queries of each round's queries)")
        if kwargs.get("restart_nearby") is not None:
            raise ValueError("restart_nearby is not supported by mo_ednag_guided (single-"
                             "objective ednag_guided only: its first search's quota picks "
                             "by the front)")
        kwargs["restart_nearby"] = None
        if kwargs.setdefault("stall_pool", "priors") != "priors":
            raise ValueError("stall_pool must be 'priors' for mo_ednag_guided (its stall quota "
                             "draws from ensembles with randomized priors; the other pools "
                             f"are ednag_guided's); got {kwargs['stall_pool']!r}")
        kwargs.setdefault("batch_size", MO_BATCH_SIZE)
        kwargs.setdefault("diffusions_per_round", MO_DIFFUSIONS_PER_ROUND)
        kwargs.setdefault("stall_rounds", MO_STALL_ROUNDS)
        kwargs.setdefault("stall_queries", MO_STALL_QUERIES)
        kwargs.setdefault("stall_predictor", MO_STALL_PREDICTOR)
        kwargs.setdefault("restart_rounds", MO_RESTART_ROUNDS)
        kwargs.setdefault("restart_after", MO_RESTART_AFTER)
        kwargs.setdefault("restart_predictor", MO_RESTART_PREDICTOR)
        kwargs.setdefault("late_predictor", MO_LATE_PREDICTOR)
        kwargs.setdefault("late_after", MO_LATE_AFTER)
        # the settings its tables were measured with, on every space (the single-objective
        # search takes a Gaussian process and Thompson draws on a numeric param_space)
        kwargs.setdefault("acquisition", "ucb")
        kwargs.setdefault("predictor_encoding", "onehot")
        if kwargs.setdefault("predictor", "mlp_ensemble") == "mlp_ensemble":
            kwargs["predictor_params"] = {"dtype": MO_PREDICTOR_DTYPE,
                                          **(kwargs.get("predictor_params") or {})}
        super().__init__(space, seed, max_queries, config, **kwargs)
        self._setup_objectives(num_objectives, score)
        self.front_mutations = front_mutations
        self.margin_units = margin_units
        #: keys of the evaluated first front at the previous round (a round is stale when its
        #: results add none)
        self._front_keys: frozenset[str] = frozenset()

    def _observe(self, results: list[tuple[Choices, Any]]) -> None:
        """The round bookkeeping keeps the first objective (failures as a failure marker);
        the whole evaluations live in ``_evaluated``."""
        super()._observe([
            (c, WORST_FITNESS if ev.failed else float(ev.objectives[0])) for c, ev in results
        ])

    # ------------------------------------------------------------------ one round
    def _round(self, k: int) -> list[Choices]:
        """A round on every query; while a second search runs, it takes ``stall_queries`` of
        the round's ``k`` queries."""
        self.rounds += 1
        self.generation = self.rounds - 1
        m = min(self.stall_queries, k - 1) if self._second_running() else 0
        with self._first_predictor():
            picks = self._front_round(self._evaluated, k - m, self.front_mutations)
        return picks + self._second_round(m, picks) if m > 0 else picks

    def _front_round(self, evaluated: dict[str, tuple[Choices, Evaluation]], k: int,
                     mutations: int, taken: frozenset[str] = frozenset()) -> list[Choices]:
        """Refit on ``evaluated``, run the free diffusions, return ``k`` unseen architectures
        not in ``taken`` (``mutations`` of them front mutants); updates the front-stall
        counters."""
        items = [(c, ev) for c, ev in evaluated.values() if not ev.failed]
        archs = [c for c, _ in items]
        pts, viol = evaluation_arrays([ev for _, ev in items], self.num_objectives)
        targets = np.column_stack([transform_targets(pts[:, j], self.target)
                                   for j in range(self.num_objectives)])
        models = [self._fit(archs, targets[:, j]) for j in range(self.num_objectives)]
        scale = float(viol.max()) if len(viol) else 0.0
        viol_model = self._fit(archs, viol / scale) if scale > 0 else None
        feasible = viol <= 0
        ranks = non_dominated_ranks(targets, viol)
        front_idx = np.flatnonzero(ranks == 0) if feasible.any() else np.zeros(0, dtype=int)
        units = self._units(pts, targets, front_idx)
        front = units.scaled[front_idx]
        known: dict[str, float] = {}
        for i, (arch, v) in enumerate(zip(archs, viol.tolist(), strict=True)):
            others = front[front_idx != i]
            margin = float(front_margin(units.scaled[i : i + 1], others)[0])
            margin = min(margin, 1e6)  # the only front point: finite
            known[self.space.key(arch)] = margin - (INFEASIBLE_PENALTY + v if v > 0 else 0.0)
        worst = min(known.values(), default=0.0) - 1.0
        for c, ev in evaluated.values():
            if ev.failed:
                known[self.space.key(c)] = worst

        front_keys = frozenset(self.space.key(archs[i]) for i in front_idx.tolist())
        self._stale_rounds = 0 if front_keys - self._front_keys else self._stale_rounds + 1
        self._front_keys = front_keys

        order = sorted(known.items(), key=lambda kv: -kv[1])
        size = max(self.config.archive_size, len(front_idx), 1)
        by_key = {self.space.key(c): c for c in archs}
        archive = [(v, by_key[key]) for key, v in order[:size] if key in by_key]
        pool = self._free_pool(known, worst,
                               self._predicted(models, viol_model, scale, front, units), archive,
                               taken)
        mutants = self._front_mutants([archs[i] for i in front_idx.tolist()],
                                      min(mutations, k))
        k -= len(mutants)
        for child in mutants:
            pool.pop(self.space.key(child), None)
        q = self._stall_quota(k)
        picks = mutants + self._front_picks(pool, front, k - q)
        if q:
            with self._predictor_kind(self.stall_predictor):
                spread = [self._fit(archs, targets[:, j], prior_scale=self.stall_prior_scale)
                          for j in range(self.num_objectives)]
            chosen = taken | {self.space.key(c) for c in picks}
            pool = self._free_pool(known, worst,
                                   self._predicted(spread, viol_model, scale, front, units),
                                   archive, chosen)
            picks += self._front_picks(pool, front, q)
        return picks

    # ------------------------------------------------------------------ the second search
    def _progress(self) -> tuple[Any, ...]:
        """The counters a front round updates: the evaluated first front's keys and the
        front-stale rounds in a row (the objectives' bests are kept apart)."""
        return self._front_keys, self._stale_rounds

    def _set_progress(self, progress: tuple[Any, ...]) -> None:
        """Put back counters :meth:`_progress` returned."""
        self._front_keys, self._stale_rounds = progress

    def _second_running(self) -> bool:
        """Whether a second search runs this round, counting the rounds in a row in which no
        objective's best improved and starting or ending it first: it starts after
        ``restart_rounds`` such rounds and ends when one objective's best beats its value at
        its start."""
        if self.restart_rounds is None:
            return False
        bests = objective_bests([ev for _, ev in self._evaluated.values()],
                                self.num_objectives)
        if improved(bests, self._bests):
            self._bests, self._bests_stale = bests, 0
        else:
            self._bests_stale += 1
        if self._second is not None:
            if not improved(bests, self._second.start):
                return True
            self._second = None  # one objective beat its best: one search again
            return False
        if bests is None or not self._restart_due(self._bests_stale):
            return False
        self._start_second(bests)
        return True

    def _start_second(self, start: np.ndarray) -> None:
        """A fresh second search: no query of its own, the objectives' bests ``start``."""
        self._second = SecondSearch(start=start)
        self.restarts += 1

    def _second_round(self, k: int, taken: list[Choices]) -> list[Choices]:
        """``k`` unseen architectures (not in ``taken``) from the second search, on its own
        queries: random until it has ``num_init`` (two usable), then a front round on them
        with one front mutant and its own front-stall counters; a fresh second search follows
        one whose own bests stalled ``restart_rounds`` rounds."""
        second = self._second
        own = {key: v for key, v in self._evaluated.items() if key in second.keys}
        exclude = frozenset(self.space.key(a) for a in taken)
        picks: list[Choices] = []
        if len(own) >= self.num_init and sum(not ev.failed for _, ev in own.values()) >= 2:
            bests = objective_bests([ev for _, ev in own.values()], self.num_objectives)
            if improved(bests, second.bests):
                second.bests, second.stale_rounds = bests, 0
            else:
                second.stale_rounds += 1
            picks, (second.front_keys, second.front_stale) = self._as_second(
                (second.front_keys, second.front_stale),
                lambda: self._front_round(own, k, min(self.front_mutations, 1), exclude))
        picks = self._topped_up(picks, k, exclude)  # its random start, or too few met
        second.keys.update(self.space.key(a) for a in picks)
        if second.stale_rounds >= self.restart_rounds:
            self._start_second(second.start)  # it stalled as long as the first: afresh
        return picks

    def _units(self, pts: np.ndarray, targets: np.ndarray, front_idx: np.ndarray) -> MarginUnits:
        """The units of this round's front margins (:data:`MARGIN_UNITS`): each objective in
        its regression targets, or in its values scaled by the evaluated first front's range
        (:func:`front_units`), with the map from predicted targets to them
        (:func:`target_to_value`)."""
        scaled = targets.copy()
        maps: list[Callable[[np.ndarray], np.ndarray]] = [_same] * targets.shape[1]
        in_values = [j for j in range(targets.shape[1]) if self._in_values(j, pts[:, j])]
        if in_values:
            lo, width = front_units(pts, pts[front_idx])
            for j in in_values:
                scaled[:, j] = (pts[:, j] - lo[j]) / width[j]
                maps[j] = target_to_value(targets[:, j], scaled[:, j])
        return MarginUnits(scaled, maps)

    def _in_values(self, j: int, values: np.ndarray) -> bool:
        """Whether objective ``j``'s margins are in its values this round (``margin_units``):
        ``targets``, none; ``values``, all; ``mixed``, all but the first; ``ties``, those whose
        usable queries share their values :data:`TIED_QUERIES` at a time or more on average."""
        if self.margin_units == "ties":
            return len(values) >= TIED_QUERIES * len(np.unique(values))
        return self.margin_units == "values" or (self.margin_units == "mixed" and j > 0)

    def _predicted(self, models: list[Any], viol_model: Any, scale: float, front: np.ndarray,
                   units: MarginUnits
                   ) -> Callable[[list[Choices]], tuple[np.ndarray, list[np.ndarray | None]]]:
        """The member evaluator of a round's scorer: front margins of the optimistic
        vectors predicted by ``models`` (one per objective), less the infeasibility penalty
        from ``viol_model`` (violations scaled by ``scale``); the vector rides along unless
        predicted infeasible."""

        def predicted(cands: list[Choices]) -> tuple[np.ndarray, list[np.ndarray | None]]:
            code = self.encoder(cands)
            vec = np.column_stack([
                to_units(acquire(*m.predict(code), self.acquisition, self.rng, self.ucb_beta))
                for m, to_units in zip(models, units.maps, strict=True)
            ])
            pen = np.zeros(len(cands))
            if viol_model is not None:
                v = viol_model.predict(code)[0]
                pen = np.where(v > 0.1, INFEASIBLE_PENALTY + v * scale, 0.0)
            values = np.minimum(front_margin(vec, front), 1e6) - pen
            return values, [row if p == 0 else None for row, p in zip(vec, pen, strict=True)]

        return predicted

    @staticmethod
    def _front_picks(pool: dict[str, tuple[Choices, float, Any]], front: np.ndarray,
                     k: int) -> list[Choices]:
        """``k`` architectures of a scorer's pool: greedily by :func:`greedy_front_batch` on
        the predicted vectors, then the predicted infeasible ones, best margin first."""
        if not pool or k <= 0:
            return []
        cands = list(pool.values())
        ok = [i for i, (_, _, vec) in enumerate(cands) if vec is not None]
        picked = [ok[i] for i in greedy_front_batch(
            np.array([cands[i][2] for i in ok]).reshape(len(ok), -1), front, k)] if ok else []
        if len(picked) < k:  # predicted infeasible ones last, best margin first
            taken = set(picked)
            rest = sorted((i for i in range(len(cands)) if i not in taken),
                          key=lambda i: -cands[i][1])
            picked += rest[: k - len(picked)]
        return [cands[i][0] for i in picked]

    def _front_mutants(self, front: list[Choices], n: int) -> list[Choices]:
        """Up to ``n`` distinct unseen one-decision mutants of evaluated first-front members
        (each drawn from a member chosen uniformly; at most 20 draws per mutant)."""
        if not front:
            return []
        return random_unseen(
            self.space, self.rng, n, self._unseen, tries_per_arch=20,
            draw=lambda rng: self.space.mutate(front[int(rng.integers(len(front)))], rng))
