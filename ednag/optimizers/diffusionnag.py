"""DiffusionNAG, table-only: a score model trained without labels, sampled with predictor guidance.

DiffusionNAG (An et al., ICLR 2024) trains a score network on architectures without their
accuracies, then samples it with classifier guidance by the gradient of a (meta-trained)
predictor and re-ranks what it generates by that predictor before anything is trained. Here,
with no pretrained checkpoint and no meta-training set: the score model
(:class:`~ednag.optimizers.score_model.ScoreModel`) is fitted once, at the first round, on
``num_train`` architectures sampled uniformly from the space (sampling is free; no value is
looked up), and the guide is the suite's MLP ensemble, refitted every round on the queries so
far (failures never train it), exactly as in :mod:`ednag.optimizers.bananas`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ednag.checks import finite_at_least, int_at_least
from ednag.optimizers.bananas import ACQUISITIONS, acquire, spread_top_k
from ednag.optimizers.predictor_rounds import PredictorRounds
from ednag.optimizers.score_model import ScoreModel, one_blas_thread
from ednag.optimizers.unseen import distinct_unseen, random_unseen
from ednag.predictors import (
    GradientPredictor,
    default_predictor,
    make_encoder,
    make_predictor,
    transform_targets,
    usable,
)
from ednag.spaces import make_encoding
from ednag.spaces.base import Choices, SearchSpace


def train_score_model(space: SearchSpace, encoder: Any, dim: int, rng: np.random.Generator,
                      num_train: int, score_params: dict[str, Any]
                      ) -> tuple[ScoreModel, np.ndarray]:
    """A score model trained on ``num_train`` architectures drawn uniformly from ``space``
    (free: no value is looked up), on their one-hot code (``encoder``) mapped onto [-1, 1];
    the model and its loss curve."""
    archs = [space.sample(rng) for _ in range(num_train)]
    model = ScoreModel(dim, int(rng.integers(2**31 - 1)), **score_params)
    losses = model.fit(2.0 * encoder(archs) - 1.0)
    return model, losses


def guided_samples(score: ScoreModel, model: GradientPredictor | None, rng: np.random.Generator,
                   num_samples: int, steps: int, eta: float, scale: float, kappa: float
                   ) -> np.ndarray:
    """``num_samples`` points of ``score`` guided along the gradient of ``mean + kappa * std``
    of ``model`` (``None`` or ``scale=0``: unguided), in the one-hot code mapped onto [-1, 1]
    (the predictor reads the one-hot code itself)."""

    def guide(x: np.ndarray) -> np.ndarray:
        assert model is not None
        # the predictor reads one-hot (x + 1) / 2: d/dx = 0.5 d/d(one-hot)
        return 0.5 * model.predict_grad((x + 1.0) / 2.0, kappa)[2]

    with one_blas_thread():
        return score.sample(num_samples, rng, steps, eta,
                            guide if model is not None else None, scale)


class DiffusionNAG(PredictorRounds):
    """Predictor-guided diffusion: ``num_init`` random queries, then rounds of
    refit -> guided sampling -> de-duplication -> re-ranking -> ``batch_size`` queries.

    The diffusion runs on the space's one-hot matrix, flattened and mapped onto ``{-1, 1}``
    (on a Ray Tune ``param_space``: one-hot blocks and one coordinate per ordinal parameter),
    the predictor reads the same code on [0, 1], so its input gradient is the guide. Each round
    draws ``num_samples`` architectures by ``sample_steps`` reverse steps (``eta`` 1: ancestral
    noise) with guidance ``guidance_scale`` along the gradient of ``mean + guidance_kappa *
    std`` of the ensemble; the distinct unseen ones (topped up with random unseen ones when
    fewer than ``batch_size``) are ranked by ``acquisition`` (``its`` by default, as BANANAS;
    ``ucb`` with ``ucb_beta``, or ``exploit``) and the best ``batch_size`` are queried.
    ``score_params`` go to :class:`~ednag.optimizers.score_model.ScoreModel`,
    ``predictor_params`` to the ``predictor`` (``"mlp_ensemble"`` or ``"gp"``: a Gaussian
    process, whose input gradient is exact too; unless told,
    :func:`~ednag.predictors.default_predictor`: the process on a space with an ordinal
    parameter, else the ensemble).

    >>> from ednag.spaces import make_space
    >>> opt = DiffusionNAG(make_space("nb201"), seed=0, max_queries=20,
    ...                    score_params={"train_steps": 50})
    >>> while not opt.finished:
    ...     opt.tell([(arch, float(sum(arch))) for arch in opt.ask()])
    >>> opt.num_queries
    20
    """

    name = "diffusionnag"
    _shared_state = ("space", "encoding", "encoder")
    #: a run pickled before ``predictor`` existed resumes with the ensemble
    predictor: str = "mlp_ensemble"

    def __init__(
        self,
        space: SearchSpace,
        seed: int = 0,
        max_queries: int | None = None,
        num_init: int = 10,
        batch_size: int = 10,
        num_train: int = 2000,
        num_samples: int = 300,
        sample_steps: int = 20,
        eta: float = 1.0,
        guidance_scale: float = 1.0,
        guidance_kappa: float = 0.0,
        acquisition: str = "its",
        ucb_beta: float = 1.0,
        target: str = "quantile",
        score_params: dict[str, Any] | None = None,
        predictor_params: dict[str, Any] | None = None,
        predictor: str | None = None,
    ) -> None:
        super().__init__(space, seed, max_queries, num_init, batch_size)
        for name, value in (
            ("num_train", num_train),
            ("num_samples", num_samples),
            ("sample_steps", sample_steps),
        ):
            int_at_least(name, value, 1)
        for name, value in (
            ("eta", eta),
            ("guidance_scale", guidance_scale),
            ("guidance_kappa", guidance_kappa),
            ("ucb_beta", ucb_beta),
        ):
            finite_at_least(name, value)
        if acquisition not in ACQUISITIONS:
            raise ValueError(
                f"acquisition must be one of {', '.join(ACQUISITIONS)}; got {acquisition!r}"
            )
        transform_targets(np.zeros(1), target)  # names the allowed targets if unknown
        # the predictor's code mapped onto [-1, 1], decodable: the one-hot matrix, or for a
        # param_space one-hot blocks and one coordinate per ordinal parameter
        self.encoding = make_encoding(space)
        self.encoder = make_encoder(space, "onehot")
        self.num_train = num_train
        self.num_samples = num_samples
        self.sample_steps = sample_steps
        self.eta = float(eta)
        self.guidance_scale = float(guidance_scale)
        self.guidance_kappa = float(guidance_kappa)
        self.acquisition = acquisition
        self.ucb_beta = float(ucb_beta)
        self.target = target
        self.score_params = dict(score_params or {})
        self.predictor = default_predictor(space) if predictor is None else predictor
        self.predictor_params = dict(predictor_params or {})
        ScoreModel(self.encoding.dim, 0, **self.score_params)  # checks the parameters now
        make_predictor(self.predictor, 0, **self.predictor_params)  # checks name and parameters
        #: fitted at the first round (a state like any other: saved and restored with the run)
        self.score: ScoreModel | None = None
        self.score_losses: np.ndarray | None = None
        self.refits = 0
        #: distinct unseen architectures generated in the last round (before any top-up)
        self.generated = 0

    # ------------------------------------------------------------------ the pieces
    def fit_score_model(self) -> ScoreModel:
        """Train the score model on ``num_train`` uniformly sampled architectures (free)."""
        model, self.score_losses = train_score_model(
            self.space, self.encoder, self.encoding.dim, self.rng, self.num_train,
            self.score_params)
        self.score = model
        return model

    def fit_predictor(self) -> GradientPredictor:
        """A fresh predictor fitted on every usable query so far."""
        archs = [a for a, _ in self.history]
        fitness = np.array([f for _, f in self.history], dtype=np.float64)
        keep = usable(fitness)
        model = make_predictor(self.predictor, int(self.rng.integers(2**31 - 1)),
                               **self.predictor_params)
        model.fit(
            self.encoder([a for a, ok in zip(archs, keep, strict=True) if ok]),
            transform_targets(fitness[keep], self.target),
        )
        self.refits += 1
        return model

    def generate(self, model: GradientPredictor | None, scale: float | None = None) -> np.ndarray:
        """``num_samples`` points of the score model guided by ``model`` (``None`` or
        ``scale=0``: unguided), in the one-hot code mapped onto [-1, 1]."""
        score = self.score or self.fit_score_model()
        return guided_samples(score, model, self.rng, self.num_samples, self.sample_steps,
                              self.eta, self.guidance_scale if scale is None else scale,
                              self.guidance_kappa)

    # ------------------------------------------------------------------ one round
    def _round(self, k: int) -> list[Choices]:
        """Refit, generate, keep the distinct unseen, return the ``k`` best by acquisition."""
        with one_blas_thread():  # small matrices: threads only cost
            return self._guided_round(k)

    def _guided_round(self, k: int) -> list[Choices]:
        model = self.fit_predictor()
        keys: set[str] = set()
        pool = distinct_unseen(self.space, self.encoding.decode_batch(self.generate(model)),
                               self._unseen, keys)
        self.generated = len(pool)
        if len(pool) < k:  # the model keeps generating known ones (a small space): top up
            pool += random_unseen(
                self.space,
                self.rng,
                k - len(pool),
                lambda a: self._unseen(a) and self.space.key(a) not in keys,
                tries_per_arch=50,
            )
        if not pool:
            return []
        mean, std = model.predict(self.encoder(pool))
        scores = acquire(mean, std, self.acquisition, self.rng, self.ucb_beta)
        return spread_top_k(self.space, pool, scores, k)
