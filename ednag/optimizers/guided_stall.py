"""The stall quota of :class:`~ednag.optimizers.ednag_guided.GuidedEDNAG`.

Once a search has gone ``stall_rounds`` rounds without a better result, ``stall_queries`` of
each round's picks come from ``stall_pool``: BANANAS' picks among mutants of the best cells
(``mutants``), the free diffusions scored by a spread model whose uncertainty away from the
evaluated cells is ``stall_prior_scale`` (``priors``), DiffusionNAG's guided samples
(``diffusion``), or a mix. ``patience`` (off by default) is the older rule: a whole round of
the random cells the model is least sure of. A mixin: the host class holds the settings, the
run's state and the round's machinery (:meth:`_fit`, :meth:`_free_pool`, ...).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ednag.optimizers.bananas import acquire, mutation_candidates, spread_top_k
from ednag.optimizers.diffusionnag import guided_samples, train_score_model
from ednag.optimizers.unseen import distinct_unseen
from ednag.spaces import make_encoding
from ednag.spaces.base import Choices, SearchSpace

#: where the stall quota's picks come from: free diffusions scored by an ensemble with
#: randomized priors, BANANAS' candidates (mutants of the best plus random) by Thompson draws,
#: or DiffusionNAG's samples (a label-free score model guided by the round's ensemble)
STALL_POOLS: tuple[str, ...] = ("priors", "mutants", "both", "diffusion", "mutants+diffusion")
#: the ``mutants`` pool: children of this many best evaluated cells ...
STALL_PARENTS = 10
#: ... this many of them, each 1..STALL_EDITS one-decision mutations from its parent
STALL_MUTANTS = 200
STALL_EDITS = 2
#: the ``diffusion`` pool, with :mod:`ednag.optimizers.diffusionnag`'s defaults: a score model
#: trained once on this many uniformly sampled cells (free), then per stalled round this many
#: samples of ``STALL_SAMPLE_STEPS`` reverse steps guided by the round's ensemble
STALL_TRAIN = 2000
STALL_SAMPLES = 300
STALL_SAMPLE_STEPS = 20
#: the stall quota's spread model (``stall_predictor``): a Gaussian process whose amplitude is
#: ``stall_prior_scale``, in place of a second ensemble with randomized priors of that scale:
#: the same search within noise at about half the optimizer time (screened on seeds
#: 1000-1059, confirmed on seeds 0-99: ``docs/ednag.md``, "The stall quota's spread model on
#: a Gaussian process")
STALL_PREDICTOR = "gp"


class StallQuota:
    """The stall quota's picks and the ``patience`` round, for a predictor-rounds search.

    ``stall_rounds`` (4; ``None`` turns it off): once that many rounds in a row found
    nothing better, ``stall_queries`` (3) of each round's queries (until a better result)
    come from ``stall_pool`` (``"both"``): ``"mutants"`` are BANANAS' picks, one Thompson
    draw of the round's ensemble per candidate among :data:`STALL_MUTANTS` one- or two-edit
    mutants of the :data:`STALL_PARENTS` best cells plus ``num_random`` random ones;
    ``"priors"`` come from a second model whose spread away from the evaluated cells is
    about ``stall_prior_scale`` (``stall_predictor``, below), and from free diffusions
    scored by it; ``"both"`` takes the larger half of the quota from the mutants and the
    rest from the priors; ``"diffusion"`` picks by Thompson draws among
    :data:`STALL_SAMPLES` samples of a label-free score model (trained once on
    :data:`STALL_TRAIN` random cells) guided by the round's ensemble, as ``diffusionnag``
    does, and ``"mutants+diffusion"`` takes the larger half from the mutants and the rest so
    (both need ``predictor_encoding="onehot"``, the code the score model diffuses in).
    ``stall_predictor`` (:data:`STALL_PREDICTOR`, ``"gp"``; ``None``: the search's
    ``predictor``) is the kind of the stall quota's spread model, with its own defaults and
    ``stall_prior_scale``; a second search's quota fits the second search's kind.
    ``patience`` (off by default): after that many rounds in a row without a better result,
    one round queries the random unseen architectures the ensemble is least sure of instead
    (on cifar10 it freed 2 of 7 seeds trapped far from the optimum: ``docs/ednag.md``).
    """

    space: SearchSpace
    rng: np.random.Generator
    encoder: Any
    num_random: int
    patience: int | None
    stall_rounds: int | None
    stall_queries: int
    stall_prior_scale: float
    _stale_rounds: int
    #: an optimizer pickled before ``stall_pool`` existed resumes with the pool it ran with
    stall_pool: str = "priors"
    #: the ``diffusion`` pool's score model, trained at its first use
    stall_score: Any = None
    #: ... and one pickled before ``stall_predictor`` existed with its own predictor there
    stall_predictor: str | None = None

    def _mutant_picks(self, model: Any, history: list[tuple[Choices, float]],
                      taken: list[Choices], q: int) -> list[Choices]:
        """``q`` more unseen architectures (not in ``taken``): BANANAS' round on ``model``,
        one Thompson draw per candidate among mutants of the best of ``history`` and random
        cells."""
        exclude = {self.space.key(a) for a in taken}
        cands = mutation_candidates(
            self.space, self.rng, self._best_evaluated(STALL_PARENTS, history), STALL_MUTANTS,
            STALL_EDITS, self.num_random,
            lambda a: self._unseen(a) and self.space.key(a) not in exclude)
        return self._thompson_picks(model, cands, q)

    def _diffusion_picks(self, model: Any, taken: list[Choices], q: int) -> list[Choices]:
        """``q`` more unseen architectures (not in ``taken``): DiffusionNAG's round on
        ``model``, one Thompson draw per distinct sample of the score model guided by it."""
        cands = distinct_unseen(self.space, self._sampled(model, STALL_SAMPLES), self._unseen,
                                {self.space.key(a) for a in taken})
        return self._thompson_picks(model, cands, q)

    def _thompson_picks(self, model: Any, cands: list[Choices], q: int) -> list[Choices]:
        """The ``q`` best of ``cands`` by one Thompson draw of ``model`` each (spread over
        distinct architectures), as BANANAS picks."""
        if not cands:
            return []
        mean, std = model.predict(self.encoder(cands))
        return spread_top_k(self.space, cands, acquire(mean, std, "its", self.rng), q)

    def _sampled(self, model: Any, n: int) -> list[Choices | None]:
        """``n`` architectures (``None``: an invalid decode) sampled from the score model
        (trained at its first use on :data:`STALL_TRAIN` random cells, free) guided by the
        gradient of ``model``'s mean, as ``diffusionnag`` samples."""
        encoding = make_encoding(self.space)  # the one-hot code on [-1, 1], decodable
        if self.stall_score is None:
            self.stall_score, _ = train_score_model(self.space, self.encoder, encoding.dim,
                                                    self.rng, STALL_TRAIN, {})
        samples = guided_samples(self.stall_score, model, self.rng, n, STALL_SAMPLE_STEPS,
                                 eta=1.0, scale=1.0, kappa=0.0)
        return encoding.decode_batch(samples)

    def _spread_picks(self, archs: list[Choices], targets: np.ndarray, known: dict[str, float],
                      worst: float, archive: list[tuple[float, Choices]],
                      taken: list[Choices], q: int) -> list[Choices]:
        """``q`` more unseen architectures (not in ``taken``), chosen like the round's others
        but by a second model of kind ``stall_predictor`` whose spread far from the evaluated
        cells is about ``stall_prior_scale`` (a Gaussian process of that amplitude, or an
        ensemble with randomized priors of that scale)."""
        with self._predictor_kind(self.stall_predictor):
            spread = self._fit(archs, targets, prior_scale=self.stall_prior_scale)
        exclude = frozenset(self.space.key(a) for a in taken)
        pool = self._free_pool(known, worst, self._acquisition(spread), archive, exclude)
        return self._top_unseen(pool, q)

    def _stalled(self) -> bool:
        """Whether this round explores: every ``patience``-th stale round in a row."""
        return (self.patience is not None and self._stale_rounds > 0
                and self._stale_rounds % self.patience == 0)

    def _stall_quota(self, k: int) -> int:
        """How many of this round's ``k`` queries the stall quota chooses: ``stall_queries``
        (at most ``k - 1``, never below 0) from ``stall_rounds`` stale rounds in a row on,
        else 0."""
        if self.stall_rounds is None or self._stale_rounds < self.stall_rounds:
            return 0
        return max(0, min(self.stall_queries, k - 1))

    def _explore(self, model: Any, k: int) -> list[Choices]:
        """A round of pure exploration: the ``k`` random unseen architectures the ensemble is
        least sure of (out of ``max(num_random, 20 k)``)."""
        cands = self._sample_unseen(max(self.num_random, 20 * k))
        _, std = model.predict(self.encoder(cands))
        return spread_top_k(self.space, cands, std, k)
