"""BANANAS (White et al., 2021): Bayesian optimisation with a neural-ensemble predictor.

Differences from NASLib's ``optimizers/discrete/bananas`` (see docs/reference-results.md):
mutation candidates are each made from a parent (never from another candidate); candidates that
are evaluated, pending or duplicated are dropped before scoring, and the budget counts distinct
architectures (the base class), so a repeat never costs a query; the default candidates are
mutations of the best architectures (plus a few random ones), not random samples only; the
acquisition works on arrays (no EI-on-a-list crash: EI is simply not offered).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ednag.checks import int_at_least
from ednag.optimizers.predictor_rounds import PredictorRounds
from ednag.optimizers.unseen import distinct_unseen
from ednag.predictors import (
    default_predictor,
    make_encoder,
    make_predictor,
    transform_targets,
    usable,
)
from ednag.predictors.encodings import onehot_encode
from ednag.spaces.base import Choices, SearchSpace

#: acquisition functions: independent Thompson sampling, upper confidence bound, ensemble mean
ACQUISITIONS: tuple[str, ...] = ("its", "ucb", "exploit")
#: candidate pools: mutations of the best plus random samples, or every unseen architecture
CANDIDATES: tuple[str, ...] = ("mutation", "all")


def acquire(
    mean: np.ndarray, std: np.ndarray, kind: str, rng: np.random.Generator, beta: float = 1.0
) -> np.ndarray:
    """Acquisition scores (higher is better) of candidates with predicted ``mean``/``std``.

    ``its``: one independent draw from N(mean, std) per candidate (independent Thompson
    sampling); ``ucb``: ``mean + beta * std``; ``exploit``: ``mean`` (NPENAS-style).
    """
    mean, std = np.asarray(mean, dtype=np.float64), np.asarray(std, dtype=np.float64)
    if kind == "its":
        return mean + std * rng.standard_normal(mean.shape)
    if kind == "ucb":
        return mean + beta * std
    if kind == "exploit":
        return mean.copy()
    raise ValueError(f"acquisition must be one of {', '.join(ACQUISITIONS)}; got {kind!r}")


#: two architectures asked in one round differ in a categorical choice or by at least this
#: fraction of an ordinal parameter's range, while enough candidates allow it
MIN_BATCH_GAP = 0.05


def top_k(scores: np.ndarray, k: int) -> np.ndarray:
    """Indices of the ``k`` highest scores, best first (ties: the earlier index)."""
    return np.argsort(-np.asarray(scores), kind="stable")[:k]


def spread_top_k(space: SearchSpace, pool: list[Choices], scores: np.ndarray, k: int,
                 min_gap: float = MIN_BATCH_GAP, min_decisions: int = 1) -> list[Choices]:
    """The ``k`` best of ``pool`` by ``scores``, skipping any candidate closer than
    ``min_gap`` (largest coordinate difference of :func:`onehot_encode`) to one already taken,
    or differing from one in fewer than ``min_decisions`` decisions; the skipped fill the
    batch, best first, if too few remain.

    On a space of choices alone two distinct architectures are always 1 apart, so this is
    :func:`top_k`. On a Ray Tune ``param_space`` a continuous range is a grid of ~1,000 levels,
    and without the gap a round spends its whole batch on neighbouring levels of one point.

    >>> from ednag.spaces import MixedSpace, Param
    >>> space = MixedSpace([Param("lr", "ordinal", tuple(range(101)))])
    >>> spread_top_k(space, [(50,), (51,), (90,)], np.array([3.0, 2.0, 1.0]), 2)
    [(50,), (90,)]
    >>> from ednag.spaces import make_space
    >>> cells = [(0, 0, 0, 0, 0, 0), (0, 0, 0, 0, 0, 1), (1, 1, 0, 0, 0, 0), (2, 2, 2, 0, 0, 0)]
    >>> spread_top_k(make_space("nb201"), cells, np.array([4.0, 3.0, 2.0, 1.0]), 3,
    ...              min_decisions=3)
    [(0, 0, 0, 0, 0, 0), (2, 2, 2, 0, 0, 0), (0, 0, 0, 0, 0, 1)]
    """
    taken: list[int] = []
    codes: list[np.ndarray] = []
    skipped: list[int] = []
    for i in top_k(scores, len(pool)).tolist():
        if len(taken) == k:
            break
        code = onehot_encode(space, [pool[i]])[0]
        if all(np.max(np.abs(code - c)) >= min_gap for c in codes) and (
                min_decisions <= 1 or all(decisions_apart(pool[i], pool[j]) >= min_decisions
                                          for j in taken)):
            taken.append(i)
            codes.append(code)
        else:
            skipped.append(i)
    taken += skipped[: k - len(taken)]
    return [pool[i] for i in taken]


def decisions_apart(a: Choices, b: Choices) -> int:
    """In how many decisions two architectures differ (the Hamming distance of their choices).

    >>> decisions_apart((0, 1, 2), (0, 2, 3))
    2
    """
    return sum(x != y for x, y in zip(a, b, strict=True))


def mutation_candidates(
    space: SearchSpace, rng: np.random.Generator, parents: list[Choices], num_mutations: int,
    max_edits: int, num_random: int, unseen: Callable[[Choices], bool],
) -> list[Choices]:
    """BANANAS' candidates: ``num_mutations`` children of ``parents`` (in turn), each made by
    1..``max_edits`` random one-decision mutations of its parent, then ``num_random`` random
    architectures; the distinct ones for which ``unseen`` holds, in that order (no children
    without parents)."""
    raw: list[Choices] = []
    for j in range(num_mutations if parents else 0):
        child = parents[j % len(parents)]
        for _ in range(int(rng.integers(1, max_edits + 1))):
            child = space.mutate(child, rng)
        raw.append(child)
    raw.extend(space.sample(rng) for _ in range(num_random))
    return distinct_unseen(space, raw, unseen, set())


class Bananas(PredictorRounds):
    """Predictor-guided search: ``num_init`` random queries, then rounds of
    fit -> candidates -> acquisition -> the ``batch_size`` best candidates asked together.

    Each round refits the predictor (``predictor``: ``"mlp_ensemble"``, 5 MLPs, or ``"gp"``, a
    Gaussian process; unless told, :func:`~ednag.predictors.default_predictor`: the process on
    a space with an ordinal parameter, else the ensemble) from scratch on every usable query so
    far (failures never train it), with targets mapped by ``target`` (default ``quantile``:
    normal scores of the ranks), on the ``encoding`` (``onehot`` or, on NB201, ``path``). Candidates (``candidates="mutation"``): ``num_mutations``
    children of the ``num_parents`` best architectures, each made by 1..``max_edits`` random
    one-decision mutations of its parent, plus ``num_random`` random architectures; or every
    unseen architecture (``"all"``, for small spaces). The round waits for all its results
    before the next refit.

    >>> from ednag.spaces import make_space
    >>> opt = Bananas(make_space("nb201"), seed=0, max_queries=20)
    >>> while not opt.finished:
    ...     opt.tell([(arch, float(sum(arch))) for arch in opt.ask()])
    >>> opt.num_queries
    20
    """

    name = "bananas"
    _shared_state = ("space", "encoder")

    def __init__(
        self,
        space: SearchSpace,
        seed: int = 0,
        max_queries: int | None = None,
        num_init: int = 10,
        batch_size: int = 10,
        num_parents: int = 10,
        num_mutations: int = 200,
        num_random: int = 50,
        max_edits: int = 2,
        candidates: str = "mutation",
        acquisition: str = "its",
        ucb_beta: float = 1.0,
        encoding: str = "onehot",
        predictor: str | None = None,
        target: str = "quantile",
        predictor_params: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(space, seed, max_queries, num_init, batch_size)
        predictor = default_predictor(space) if predictor is None else predictor
        for name, value, low in (
            ("num_parents", num_parents, 1), ("num_mutations", num_mutations, 0),
            ("num_random", num_random, 0), ("max_edits", max_edits, 1),
        ):
            int_at_least(name, value, low)
        if candidates not in CANDIDATES:
            raise ValueError(f"candidates must be one of {', '.join(CANDIDATES)}; "
                             f"got {candidates!r}")
        if acquisition not in ACQUISITIONS:
            raise ValueError(f"acquisition must be one of {', '.join(ACQUISITIONS)}; "
                             f"got {acquisition!r}")
        if candidates == "mutation" and num_mutations + num_random == 0:
            raise ValueError("num_mutations + num_random must be positive")
        transform_targets(np.zeros(1), target)  # names the allowed targets if unknown
        self.encoder = make_encoder(space, encoding)
        self.num_parents = num_parents
        self.num_mutations = num_mutations
        self.num_random = num_random
        self.max_edits = max_edits
        self.candidates = candidates
        self.acquisition = acquisition
        self.ucb_beta = float(ucb_beta)
        self.predictor = predictor
        self.target = target
        self.predictor_params = dict(predictor_params or {})
        make_predictor(predictor, 0, **self.predictor_params)  # checks name and parameters
        self.refits = 0

    # ------------------------------------------------------------------ one round
    def _round(self, k: int) -> list[Choices]:
        """Refit, score the candidates, return the ``k`` best by the acquisition."""
        pool = self._candidates()
        if not pool:
            return []
        archs = [a for a, _ in self.history]
        fitness = np.array([f for _, f in self.history], dtype=np.float64)
        keep = usable(fitness)
        model = make_predictor(self.predictor, int(self.rng.integers(2**31 - 1)),
                               **self.predictor_params)
        model.fit(self.encoder([a for a, ok in zip(archs, keep, strict=True) if ok]),
                  transform_targets(fitness[keep], self.target))
        self.refits += 1
        mean, std = model.predict(self.encoder(pool))
        scores = acquire(mean, std, self.acquisition, self.rng, self.ucb_beta)
        return spread_top_k(self.space, pool, scores, k)

    def _candidates(self) -> list[Choices]:
        """Distinct candidates, none evaluated or pending (order is deterministic)."""
        if self.candidates == "all":
            return [a for a in self.space.enumerate() if self._unseen(a)]
        return mutation_candidates(self.space, self.rng, self._best_evaluated(self.num_parents),
                                   self.num_mutations, self.max_edits, self.num_random,
                                   self._unseen)
