"""EDNAG guided by a predictor: diffusions run on predicted fitness, only the best are queried.

Each round refits the predictor (an MLP ensemble, as in :mod:`ednag.optimizers.bananas`) on
every usable query so far, then runs ``diffusions_per_round`` EDNAG diffusions (the building
blocks of :mod:`ednag.optimizers.evo_diffusion`: fitness-weighted x0 estimate, DDIM step,
polynomial mutation, decoded-architecture mutation, elite/diversity/roulette selection) without
spending a query: a member that was evaluated keeps its true fitness (as a regression target),
any other member is scored by the acquisition (ensemble mean plus an exploration bonus). The
``batch_size`` best distinct unseen architectures met in any generation of the round are then
queried together. EDNAG's own optimizer is untouched.

Two parts of the search live in mixins of their own: the stall quota
(:mod:`ednag.optimizers.guided_stall`) and the second search after a stall
(:mod:`ednag.optimizers.guided_second_search`); ``mo_ednag_guided`` reuses both.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any

import numpy as np

from ednag.checks import finite_at_least, int_at_least
from ednag.optimizers.bananas import ACQUISITIONS, acquire, spread_top_k
from ednag.optimizers.evo_diffusion.arch_mutation import mutate_decoded, tournament
from ednag.optimizers.evo_diffusion.config import DEFAULT, EDNAGConfig, resolve_config
from ednag.optimizers.evo_diffusion.generation import denoise, select
from ednag.optimizers.guided_second_search import (
    RESTART_AFTER,
    RESTART_NEARBY,
    RESTART_PREDICTOR,
    RESTART_ROUNDS,
    RESTART_TAKES,
    SecondSearchRounds,
)
from ednag.optimizers.guided_stall import STALL_POOLS, STALL_PREDICTOR, StallQuota
from ednag.optimizers.predictor_rounds import PredictorRounds
from ednag.predictors import (
    PREDICTORS,
    default_encoding,
    default_predictor,
    has_ordinal,
    make_encoder,
    make_predictor,
    transform_targets,
)
from ednag.predictors.base import FAILED_BELOW
from ednag.spaces import make_encoding
from ednag.spaces.base import Choices, SearchSpace

#: EDNAG settings of the guided search: the budget-aware default with a larger population
#: (members cost nothing until queried) and half of each denoised generation replaced by
#: archive mutations (the rate it was measured with; plain EDNAG's default is 0.85)
GUIDED_DEFAULT: EDNAGConfig = DEFAULT.replace(population_size=30, archive_size=10,
                                              arch_mutation_rate=0.5)
#: the guided search's ensemble settings under ``predictor_params`` (which override them):
#: single precision halves the time of its fits, 98 % of its optimizer time (``docs/ednag.md``)
GUIDED_PREDICTOR_PARAMS: dict[str, Any] = {"dtype": "float32"}
#: the default settings of each predictor in the guided search
GUIDED_PARAMS_BY_PREDICTOR: dict[str, dict[str, Any]] = {"mlp_ensemble": GUIDED_PREDICTOR_PARAMS}
#: the acquisition on a space with an ordinal parameter (a param_space's numeric ranges), where
#: the predictor is a Gaussian process (:func:`~ednag.predictors.default_predictor`): Thompson
#: draws; ``ucb`` elsewhere (``docs/ednag.md``, "On a param_space with numeric ranges")
ORDINAL_ACQUISITION = "its"
#: with ``early_acquisition`` or ``early_apart`` (both off by default), the rounds before this
#: many queries pick by them (``early_queries``; the count screened with ``its``:
#: ``docs/ednag.md``, "Thompson draws in the first rounds", and with ``early_apart``)
EARLY_QUERIES = 30


class GuidedEDNAG(SecondSearchRounds, StallQuota, PredictorRounds):
    """EDNAG whose denoising uses a predictor for members that were never evaluated.

    ``config``: an :class:`EDNAGConfig`, a preset name or ``None`` (:data:`GUIDED_DEFAULT`),
    with keyword ``overrides``. ``num_init`` random queries come first; then each round asks
    ``batch_size`` (5) architectures chosen by ``acquisition`` (``ucb`` with ``ucb_beta`` by
    default, ``its`` or ``exploit``) among the architectures met in ``diffusions_per_round``
    (2) free diffusions plus ``num_random`` random ones (without them the search can stay stuck
    around a local optimum: 2 of 20 cifar10 seeds never found the optimum in 200 queries).
    ``diffusions_per_round=0`` turns the denoising off (the ablation "predictor only": the
    predictor ranks random architectures). ``global_diffusions`` (0 by default) more diffusions per
    round are not anchored to the archive (no archive points in the x0 estimate, no archive
    mutation): they climb the predictor's landscape wherever it leads (on cifar10 they free
    most trapped seeds, on cifar100 they cost 0.1-0.2 points at 50 queries: ``docs/ednag.md``).
    ``guided_samples`` (0: off) more candidates every round: that many samples of the
    ``diffusion`` stall pool's score model, guided by the round's ensemble, join the free
    diffusions' and the random ones (``predictor_encoding="onehot"`` only).
    ``predictor_encoding`` (one of :data:`~ednag.predictors.ENCODINGS`; ``None``:
    :func:`~ednag.predictors.default_encoding`, ``"onehot+counts"`` on a space whose decisions
    share options and have no numeric range, ``"onehot"`` otherwise and with a score-model
    sampler)
    is the code every predictor of the search fits: the one-hot code plus how many decisions
    take each option frees most NB201 searches trapped by 100 queries (``docs/ednag.md``,
    "What a cell is made of"; ``"onehot"`` is the previous default).
    The stall quota (``stall_rounds``, ``stall_queries``, ``stall_pool``, ``stall_prior_scale``,
    ``stall_predictor``, ``patience``) is :class:`~ednag.optimizers.guided_stall.StallQuota`'s,
    the second search (``restart_rounds``, ``restart_after``, ``restart_predictor``,
    ``restart_takes``, ``restart_patience``, ``restart_nearby``) is
    :class:`~ednag.optimizers.guided_second_search.SecondSearchRounds`'s: their docstrings
    say what each option does.
    ``late_predictor`` (``None``: off) is the kind the first search fits, with its own
    defaults, once ``late_after`` (100) queries are told, ``predictor`` before (the second
    search keeps ``restart_predictor``): on NB201 a Gaussian process after 100 queries halves
    the time to 200 and costs ImageNet16-120 a little at 200 queries (``docs/ednag.md``,
    "Gaussian processes after 100 queries"; ``mo_ednag_guided`` takes it by default).
    ``early_acquisition`` (one of :data:`~ednag.optimizers.bananas.ACQUISITIONS`; ``None``:
    off) scores the free diffusions and chooses the plain picks of the rounds that start
    before ``early_queries`` (:data:`EARLY_QUERIES`, 30) queries are told, ``acquisition``
    after: with ``its`` it frees most cifar10 and cifar100 searches trapped by 100 queries and costs
    ImageNet16-120 a little at 50 and 100 (``docs/ednag.md``, "Thompson draws in the first
    rounds"). ``early_apart`` (``None``: off) makes the plain picks of those rounds differ
    from one another in at least that many decisions (while the round's pool allows; then
    the best of the rest): a wider first look without a random pick (``docs/ednag.md``,
    "Early picks apart").
    ``predictor`` (one of :data:`~ednag.predictors.PREDICTORS`): ``"mlp_ensemble"`` or
    ``"gp"`` (a Gaussian process; ``prior_scale`` is then its amplitude in the stall quota's
    second model). Unless told, a space with an ordinal parameter (a Ray Tune
    ``param_space``'s numeric ranges) gets ``"gp"`` and ``acquisition=``
    :data:`ORDINAL_ACQUISITION`, any other space the ensemble and ``ucb``. ``predictor_params``
    go to the predictor over :data:`GUIDED_PARAMS_BY_PREDICTOR` (the ensemble trains in
    ``float32``, reproducible on one machine; pass ``{"dtype": "float64"}`` for double
    precision, reproducible across machines). The defaults were screened on seeds 1000-1059
    and confirmed on seeds 0-99 (``docs/ednag.md``, "Five queries a round instead of ten",
    "The stall quota's pool" and "A second search on Gaussian processes").

    >>> from ednag.spaces import make_space
    >>> opt = GuidedEDNAG(make_space("nb201"), seed=0, max_queries=20)
    >>> while not opt.finished:
    ...     opt.tell([(arch, float(sum(arch))) for arch in opt.ask()])
    >>> opt.num_queries
    20
    """

    name = "ednag_guided"
    _shared_state = ("space", "encoding", "encoder")
    #: an optimizer pickled before ``predictor`` existed resumes with the ensemble (the
    #: stall quota's and the second search's attributes of older pickles: in their mixins)
    predictor: str = "mlp_ensemble"
    #: ... and one pickled before ``late_predictor`` existed with ``predictor`` throughout
    late_predictor: str | None = None
    late_after: int = 0
    #: ... and one pickled before ``early_acquisition`` existed with ``acquisition`` throughout
    early_acquisition: str | None = None
    early_queries: int = 0
    #: ... and one pickled before ``early_apart`` existed without it
    early_apart: int | None = None

    def __init__(
        self,
        space: SearchSpace,
        seed: int = 0,
        max_queries: int | None = None,
        config: EDNAGConfig | str | None = None,
        num_init: int = 10,
        batch_size: int = 5,
        diffusions_per_round: int = 2,
        num_random: int = 50,
        acquisition: str | None = None,
        ucb_beta: float = 1.0,
        predictor_encoding: str | None = None,
        target: str = "quantile",
        predictor_params: dict[str, Any] | None = None,
        patience: int | None = None,
        global_diffusions: int = 0,
        stall_rounds: int | None = 4,
        stall_queries: int = 3,
        stall_prior_scale: float = 10.0,
        stall_pool: str = "both",
        guided_samples: int = 0,
        predictor: str | None = None,
        restart_rounds: int | None = RESTART_ROUNDS,
        restart_after: int = RESTART_AFTER,
        restart_predictor: str | None = RESTART_PREDICTOR,
        restart_takes: str = "plain",
        restart_patience: int | None = None,
        restart_nearby: int | None = RESTART_NEARBY,
        stall_predictor: str | None = STALL_PREDICTOR,
        late_predictor: str | None = None,
        late_after: int = 100,
        early_acquisition: str | None = None,
        early_queries: int = EARLY_QUERIES,
        early_apart: int | None = None,
        **overrides: Any,
    ) -> None:
        super().__init__(space, seed, max_queries, num_init, batch_size)
        if acquisition is None:
            acquisition = ORDINAL_ACQUISITION if has_ordinal(space) else "ucb"
        if predictor is None:
            predictor = default_predictor(space)
        int_at_least("patience", patience, 1, optional=True)
        int_at_least("stall_rounds", stall_rounds, 1, optional=True)
        int_at_least("stall_queries", stall_queries, 1)
        finite_at_least("stall_prior_scale", stall_prior_scale, strict=True)
        if stall_pool not in STALL_POOLS:
            raise ValueError(f"stall_pool must be one of {', '.join(STALL_POOLS)}; "
                             f"got {stall_pool!r}")
        int_at_least("diffusions_per_round", diffusions_per_round, 0)
        int_at_least("global_diffusions", global_diffusions, 0)
        int_at_least("num_random", num_random, 0)
        int_at_least("guided_samples", guided_samples, 0)
        int_at_least("restart_rounds", restart_rounds, 1, optional=True)
        int_at_least("restart_after", restart_after, 0)
        int_at_least("restart_patience", restart_patience, 1, optional=True)
        int_at_least("restart_nearby", restart_nearby, 1, optional=True)
        if restart_takes not in RESTART_TAKES:
            raise ValueError(f"restart_takes must be one of {', '.join(RESTART_TAKES)}; "
                             f"got {restart_takes!r}")
        sampler = (f"stall_pool={stall_pool!r}" if "diffusion" in stall_pool
                   else "guided_samples" if guided_samples else None)
        if predictor_encoding is None:
            predictor_encoding = "onehot" if sampler else default_encoding(space)
        if sampler and predictor_encoding != "onehot":
            raise ValueError(f"{sampler} guides a score model over the one-hot code by the "
                             f"ensemble's gradient: it needs predictor_encoding='onehot', got "
                             f"{predictor_encoding!r}")
        if diffusions_per_round == 0 and global_diffusions == 0 and num_random == 0:
            raise ValueError("diffusions_per_round=0 (no denoising: the predictor ranks random "
                             "architectures only) needs num_random >= 1")
        if acquisition not in ACQUISITIONS:
            raise ValueError(f"acquisition must be one of {', '.join(ACQUISITIONS)}; "
                             f"got {acquisition!r}")
        if early_acquisition is not None and early_acquisition not in ACQUISITIONS:
            raise ValueError(f"early_acquisition must be one of {', '.join(ACQUISITIONS)} or "
                             f"None; got {early_acquisition!r}")
        int_at_least("early_queries", early_queries, 0)
        int_at_least("early_apart", early_apart, 1, optional=True)
        transform_targets(np.zeros(1), target)  # names the allowed targets if unknown
        self.config = resolve_config(GUIDED_DEFAULT if config is None else config, **overrides)
        self.encoding = make_encoding(space, self.config.encoding)
        self.encoder = make_encoder(space, predictor_encoding)
        self.diffusions_per_round = diffusions_per_round
        self.num_random = num_random
        self.acquisition = acquisition
        self.ucb_beta = float(ucb_beta)
        self.target = target
        self.predictor = predictor
        self.predictor_params = {**GUIDED_PARAMS_BY_PREDICTOR.get(predictor, {}),
                                 **(predictor_params or {})}
        make_predictor(predictor, 0, **self.predictor_params)  # checks name and parameters
        for field, kind in (("restart_predictor", restart_predictor),
                            ("stall_predictor", stall_predictor),
                            ("late_predictor", late_predictor)):
            if kind is not None and kind not in PREDICTORS:
                raise ValueError(f"{field} must be one of {', '.join(PREDICTORS)} or None; "
                                 f"got {kind!r}")
        int_at_least("late_after", late_after, 0)
        self.rounds = 0
        self.generation = -1
        self.patience = patience
        self.global_diffusions = global_diffusions
        self.stall_rounds = stall_rounds
        self.stall_queries = stall_queries
        self.stall_prior_scale = float(stall_prior_scale)
        self.stall_pool = stall_pool
        self.guided_samples = guided_samples
        self.restart_rounds = restart_rounds
        self.restart_after = restart_after
        self.restart_predictor = restart_predictor
        self.restart_takes = restart_takes
        self.restart_patience = restart_patience
        self.restart_nearby = restart_nearby
        self.stall_predictor = stall_predictor
        self.late_predictor = late_predictor
        self.late_after = late_after
        self.early_acquisition = early_acquisition
        self.early_queries = early_queries
        self.early_apart = early_apart
        self._best_seen = -np.inf
        #: rounds in a row whose results found nothing better than the best before them
        self._stale_rounds = 0

    # ------------------------------------------------------------------ one round
    def _round(self, k: int) -> list[Choices]:
        """A round of the search on every query; while a second search runs, the first keeps
        only its stall quota and the second chooses the rest (``restart_takes="plain"``), or
        the first keeps its plain picks and one of its quota and the second takes the rest of
        the quota, at least one query (``"quota"``), or the second takes one query and the
        first the rest (``"one"``); the first search fits :meth:`_first_predictor`'s kind."""
        self.rounds += 1
        self.generation = self.rounds - 1  # one generation = one round of queries
        running = self._restart_running()
        with self._first_predictor():
            if not running:
                return self._search_round(self.history, k)
            nearby = self.restart_nearby is not None
            if self.restart_takes == "one":
                first = self._search_round(self.history, k - 1, nearby=nearby)
            elif self.restart_takes == "quota":
                quota = self._stall_quota(k)
                share = max(1, quota - 1)
                first = self._search_round(self.history, k - share, quota=max(0, quota - share),
                                           nearby=nearby)
            else:
                first = self._search_round(self.history, k, plain=False, nearby=nearby)
        return first + self._restart_round(k - len(first), first)

    def _search_round(self, history: list[tuple[Choices, float]], k: int,
                      plain: bool = True, quota: int | None = None,
                      nearby: bool = False) -> list[Choices]:
        """Refit on ``history``, run the free diffusions, return the ``k`` best unseen
        architectures met (``plain=False``: only the stall quota's picks), ``quota`` of them
        (default :meth:`_stall_quota`) the stall quota's; ``nearby``: one of the quota's is
        :meth:`_nearby_picks`' (the spread model's first, or the pool's last)."""
        archs = [a for a, f in history if f > FAILED_BELOW]
        targets = transform_targets(np.array([f for a, f in history if f > FAILED_BELOW]),
                                    self.target)
        model = self._fit(archs, targets)
        self._note_progress(max(f for _, f in history))
        if self._stalled():
            return self._explore(model, k)
        #: key -> score this round: true target (evaluated) or acquisition (unseen)
        known = {self.space.key(a): float(t) for a, t in zip(archs, targets, strict=True)}
        worst = float(targets.min()) - 1.0
        for a, f in history:
            if f <= FAILED_BELOW:
                known[self.space.key(a)] = worst
        archive = sorted(zip(targets.tolist(), archs, strict=True), key=lambda t: -t[0])
        archive = archive[: max(self.config.archive_size, 1)]

        q = self._stall_quota(k) if quota is None else quota
        picks: list[Choices] = []
        if plain:
            extra = self._sampled(model, self.guided_samples) if self.guided_samples else []
            evaluate = self._acquisition(model, self._plain_acquisition())
            pool = self._free_pool(known, worst, evaluate, archive, extra=extra)
            picks = self._top_unseen(pool, k - q, self._plain_apart())
        near = 1 if nearby and q else 0  # the quota's pick kept for the nearby one
        if q and self.stall_pool in ("mutants", "both", "mutants+diffusion"):
            # mutants: all of the quota; both, mutants+diffusion: its larger half
            m = q if self.stall_pool == "mutants" else q - q // 2
            m = min(m, q - near)  # with no spread pick left, the nearby one takes the last
            if m:
                picks += self._mutant_picks(model, history, picks, m)
            q -= m
        if q and self.stall_pool.endswith("diffusion"):
            if q > near:
                picks += self._diffusion_picks(model, picks, q - near)
            q = near
        if near:
            found = self._nearby_picks(model, archive, picks)
            picks += found
            q -= len(found)
        if q:
            picks += self._spread_picks(archs, targets, known, worst, archive, picks, q)
        return picks

    def _top_unseen(self, pool: dict[str, tuple[Choices, float, Any]], k: int,
                    apart: int = 1) -> list[Choices]:
        """The ``k`` best of a free search's pool (unseen architectures, spread over distinct
        ones, at least ``apart`` decisions from one another while the pool allows)."""
        items = list(pool.values())
        if not items or k < 1:
            return []
        return spread_top_k(self.space, [a for a, _, _ in items],
                            np.array([s for _, s, _ in items]), k, min_decisions=apart)

    def _fit(self, archs: list[Choices], y: np.ndarray, **params: Any) -> Any:
        """A fresh predictor (seeded from the run's generator) fitted on ``archs`` -> ``y``;
        ``params`` override ``predictor_params``."""
        model = make_predictor(self.predictor, int(self.rng.integers(2**31 - 1)),
                               **{**self.predictor_params, **params})
        model.fit(self.encoder(archs), y)
        return model

    def _early_round(self) -> bool:
        """Whether this round starts before ``early_queries`` queries are told (the rounds
        ``early_acquisition`` and ``early_apart`` apply to)."""
        return len(self.history) < self.early_queries

    def _plain_acquisition(self) -> str:
        """The acquisition of this round's plain picks: ``early_acquisition`` in an early
        round, ``acquisition`` after."""
        if self.early_acquisition is not None and self._early_round():
            return self.early_acquisition
        return self.acquisition

    def _plain_apart(self) -> int:
        """How many decisions apart this round's plain picks lie: ``early_apart`` in an early
        round, 1 (distinct) otherwise or without it."""
        if self.early_apart is not None and self._early_round():
            return self.early_apart
        return 1

    def _acquisition(self, model: Any, kind: str | None = None
                     ) -> Callable[[list[Choices]], tuple[np.ndarray, list[None]]]:
        """The round's member evaluator for :meth:`_scorer`: ``kind`` (``None``:
        ``acquisition``) on ``model``."""
        kind = self.acquisition if kind is None else kind

        def evaluate(cands: list[Choices]) -> tuple[np.ndarray, list[None]]:
            mean, std = model.predict(self.encoder(cands))
            return acquire(mean, std, kind, self.rng, self.ucb_beta), [None] * len(cands)

        return evaluate

    def _scorer(
        self, known: dict[str, float], worst: float,
        evaluate: Callable[[list[Choices]], tuple[np.ndarray, list[Any]]],
    ) -> tuple[Callable[[list[Choices | None]], np.ndarray], dict[str, tuple[Choices, float, Any]]]:
        """The member scorer of this round's free diffusions and the pool it fills.

        A member scores ``known[key]`` when evaluated, its earlier value when already met,
        ``worst`` when invalid or pending; the other members of one call go to ``evaluate``
        together, which returns their values and one extra item each. The pool maps the key of
        every unseen architecture met to ``(arch, value, extra)``.
        """
        pool: dict[str, tuple[Choices, float, Any]] = {}

        def score(members: list[Choices | None]) -> np.ndarray:
            out = np.full(len(members), worst)
            fresh: dict[str, tuple[Choices, list[int]]] = {}
            for i, arch in enumerate(members):
                if arch is None:
                    continue
                key = self.space.key(arch)
                if key in known:
                    out[i] = known[key]
                elif key in pool:
                    out[i] = pool[key][1]
                elif not self.is_pending(arch):
                    fresh.setdefault(key, (arch, []))[1].append(i)
            if fresh:
                values, extras = evaluate([a for a, _ in fresh.values()])
                for (key, (arch, rows)), value, extra in zip(fresh.items(), values.tolist(),
                                                             extras, strict=True):
                    pool[key] = (arch, value, extra)
                    out[rows] = value
            return out

        return score, pool

    def _free_pool(
        self, known: dict[str, float], worst: float,
        evaluate: Callable[[list[Choices]], tuple[np.ndarray, list[Any]]],
        archive: list[tuple[float, Choices]], taken: frozenset[str] = frozenset(),
        extra: list[Choices | None] | None = None,
    ) -> dict[str, tuple[Choices, float, Any]]:
        """The pool of one free search (:meth:`_explore_free`) and of the ``extra``
        architectures, whose unseen members ``evaluate`` scores; the keys in ``taken`` (already
        chosen this round) score ``worst`` and stay out of it."""
        score, pool = self._scorer({**known, **dict.fromkeys(taken, worst)}, worst, evaluate)
        self._explore_free(score, archive)
        if extra:
            score(extra)
        # a second search's ``known`` holds only its own queries: the other asked ones stay
        # scored (its diffusions still meet them) but out of the pool
        return {key: v for key, v in pool.items() if self._unseen(v[0])}

    def _explore_free(self, score: Callable[[list[Choices | None]], np.ndarray],
                      archive: list[tuple[float, Choices]]) -> None:
        """The round's free search: the anchored diffusions, the global ones, then
        ``num_random`` random architectures (a way out), all scored by ``score``."""
        for _ in range(self.diffusions_per_round):
            self._diffuse(score, archive)
        for _ in range(self.global_diffusions):
            self._diffuse(score, archive, anchored=False)
        score([self.space.sample(self.rng) for _ in range(self.num_random)])

    def _first_predictor(self) -> AbstractContextManager[None]:
        """While open, :meth:`_fit` fits the first search's models: ``late_predictor`` once
        ``late_after`` queries are told, ``predictor`` before."""
        late = len(self.history) >= self.late_after
        return self._predictor_kind(self.late_predictor if late else None)

    @contextmanager
    def _predictor_kind(self, kind: str | None) -> Iterator[None]:
        """While open, :meth:`_fit` fits ``kind`` (with its own defaults; ``None`` or the
        current ``predictor``: no change)."""
        if kind in (None, self.predictor):
            yield
            return
        first = self.predictor, self.predictor_params
        self.predictor = kind
        self.predictor_params = dict(GUIDED_PARAMS_BY_PREDICTOR.get(kind, {}))
        try:
            yield
        finally:
            self.predictor, self.predictor_params = first

    def _note_progress(self, best: float) -> None:
        """Count the rounds in a row whose results found nothing better (``best``: the best
        fitness so far, once per round)."""
        if best > self._best_seen:
            self._best_seen, self._stale_rounds = best, 0
        else:
            self._stale_rounds += 1

    def _diffuse(self, score: Any, archive: list[tuple[float, Choices]],
                 anchored: bool = True) -> None:
        """One diffusion from fresh noise, every generation scored by ``score`` (free).
        ``anchored``: the archive's points join the x0 estimate and its tournament winners are
        mutated into the generations; otherwise the population alone is denoised."""
        cfg = self.config
        normalise = self.encoding.normalise  # the encoding's own map (a mixed space differs)
        x = self.encoding.noise(self.rng, cfg.population_size)
        if cfg.normalise_init:
            x = normalise(x)
        archs = self.encoding.decode_batch(x)
        f = score(archs)
        ref_points = normalise(np.asarray(
            [self.encoding.encode(a).reshape(-1) for _, a in archive], dtype=np.float64))
        ref_fitness = np.array([t for t, _ in archive])
        for step in range(cfg.skip_steps, cfg.num_steps - 1):
            x_new = denoise(x, f, ref_points if anchored else None,
                            ref_fitness if anchored else None, step, cfg, self.rng, normalise)
            archs_new = self.encoding.decode_batch(x_new)
            if cfg.arch_mutation_rate > 0 and anchored:
                children = mutate_decoded(
                    archs_new, self.rng, cfg.arch_mutation_rate,
                    lambda _i: archive[tournament(ref_fitness, cfg.tournament_size,
                                                  self.rng)][1],
                    lambda parent: self.space.mutate(parent, self.rng),
                )
                for i, child in children.items():
                    x_new[i] = normalise(self.encoding.encode(child).reshape(1, -1))[0]
                    archs_new[i] = child
            f_new = score(archs_new)
            both = np.vstack([x, x_new])
            all_archs = archs + archs_new
            all_f = np.concatenate([f, f_new])
            idx = select(both, all_archs, all_f, cfg, self.rng, self.space.key)
            x, archs, f = both[idx], [all_archs[i] for i in idx.tolist()], all_f[idx]
