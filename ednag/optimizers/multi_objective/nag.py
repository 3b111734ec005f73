"""NAG-style conditional generation for multi-objective search (numpy only, no Ray).

NAG (Neurocomputing 2021) trains a generator of architectures conditioned on the accuracy (and
cost) it should reach. Here, online and table-only: a small ReLU MLP maps a target objective
vector, normalised to [0, 1] per objective over the successful evaluations so far (1 = the best
value seen, every objective maximised; ``normalisation="rank"``: each value's quantile, robust
to the few degenerate networks that squash a min-max scale; ``"minmax"``), to one categorical
distribution per decision of the space. It is fitted from scratch every round by weighted maximum likelihood on the evaluated
architectures, each conditioned on its own normalised objectives (jittered by
``condition_noise``), with full-batch Adam and hand-written backprop. Each round:

1. *targets in the gaps of the front*: the feasible first front (the whole first front when
   nothing is feasible), normalised, is sorted along every objective; each pair of neighbours
   is a gap whose midpoint is a candidate target, weighted by the pair's distance, and each
   objective's extreme point is a candidate too (weighted by the largest gap), so the largest
   holes and the ends of the front are asked for most often. ``batch_size`` targets are drawn
   by weight and moved ``target_shift`` toward better values in every objective (beyond the
   front), plus a little noise;
2. *conditional sampling*: ``num_samples`` architectures in all, the same number per target,
   drawn from the generator's categoricals at ``temperature``;
3. the distinct unseen ones are ranked inside each target by their likelihood under that
   target, and the batch takes the best of each target in turn (random unseen ones top it up).

There is no latent noise input: under maximum likelihood a noise input carries no information
about the data and is ignored; the samples vary through the categorical draws and the targets.
The first ``num_init`` queries (and any while fewer than two evaluations succeeded) are random;
a failed evaluation never trains the generator; an infeasible one does, with the low weight of
its rank (``weighting="rank"``: ``0.25 + rank_scores``, feasible first; ``"uniform"``: 1).
With one objective it is an accuracy-conditioned generator asked for accuracy beyond the best.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ednag.checks import finite_at_least, int_at_least
from ednag.optimizers.base import Optimizer
from ednag.optimizers.multi_objective.base import MultiObjective
from ednag.optimizers.score_model import one_blas_thread
from ednag.optimizers.unseen import random_unseen
from ednag.pareto import evaluation_arrays, non_dominated_ranks, rank_scores
from ednag.predictors.mlp import Adam
from ednag.spaces.base import Choices, SearchSpace

WEIGHTINGS: tuple[str, ...] = ("rank", "uniform")
#: how objective values become conditions: ``rank`` (each objective's empirical quantile among
#: the successful evaluations, ties averaged) or ``minmax`` (min-max over them)
NORMALISATIONS: tuple[str, ...] = ("rank", "minmax")
#: weight of the worst-ranked architecture with ``weighting="rank"`` (the best gets 1.25)
RANK_FLOOR = 0.25

Params = list[tuple[np.ndarray, np.ndarray]]


class ConditionalGenerator:
    """A ReLU MLP from a condition vector (m,) to per-decision logits (D, C); columns beyond
    a decision's option count are masked out. Seeded, deterministic, full-batch Adam.

    >>> gen = ConditionalGenerator((3, 2, 2), num_conditions=1, seed=0, steps=200)
    >>> cond = np.array([[0.0], [1.0]] * 10)
    >>> choices = np.array([[0, 0, 0], [2, 1, 1]] * 10)
    >>> _ = gen.fit(cond, choices, np.ones(20), np.random.default_rng(0))
    >>> gen.probabilities(np.array([[1.0]])).argmax(axis=2).tolist()
    [[2, 1, 1]]
    """

    def __init__(
        self,
        num_choices: tuple[int, ...],
        num_conditions: int,
        seed: int,
        hidden: tuple[int, ...] = (64, 64),
        steps: int = 300,
        lr: float = 1e-2,
        weight_decay: float = 1e-4,
        condition_noise: float = 0.0,
    ) -> None:
        self.num_choices = tuple(int(n) for n in num_choices)
        self.cols = max(self.num_choices)
        self.mask = np.arange(self.cols)[None, :] < np.asarray(self.num_choices)[:, None]
        self.steps = steps
        self.lr = lr
        self.weight_decay = weight_decay
        self.condition_noise = condition_noise
        rng = np.random.default_rng(seed)
        sizes = [num_conditions, *hidden, len(self.num_choices) * self.cols]
        self.params: Params = [
            (rng.standard_normal((a, b)) * np.sqrt(2.0 / a), np.zeros((1, b)))
            for a, b in zip(sizes[:-1], sizes[1:], strict=True)
        ]
        self.params[-1][0][...] *= 0.1  # start near uniform categoricals

    def _forward(self, cond: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
        h, inputs = cond, []
        last = len(self.params) - 1
        for i, (w, b) in enumerate(self.params):
            inputs.append(h)
            h = h @ w + b
            if i < last:
                h = np.maximum(h, 0.0)
        logits = h.reshape(-1, len(self.num_choices), self.cols)
        return np.where(self.mask, logits, -np.inf), inputs

    def log_probabilities(self, cond: np.ndarray) -> np.ndarray:
        """(n, D, C) log-probabilities of every option (``-inf`` on masked columns)."""
        logits, _ = self._forward(np.asarray(cond, dtype=np.float64))
        top = logits.max(axis=2, keepdims=True)
        return logits - top - np.log(np.exp(logits - top).sum(axis=2, keepdims=True))

    def probabilities(self, cond: np.ndarray) -> np.ndarray:
        return np.exp(self.log_probabilities(cond))

    def fit(self, cond: np.ndarray, choices: np.ndarray, weights: np.ndarray,
            rng: np.random.Generator) -> np.ndarray:
        """Weighted maximum likelihood of ``choices`` (n, D) given ``cond`` (n, m); the loss
        per step (mean weighted negative log-likelihood per architecture)."""
        cond = np.asarray(cond, dtype=np.float64)
        n, d = choices.shape
        onehot = np.zeros((n, d, self.cols))
        onehot[np.arange(n)[:, None], np.arange(d)[None, :], choices] = 1.0
        w = np.asarray(weights, dtype=np.float64)
        w = w / w.sum()
        adam = Adam(self.params, self.weight_decay)
        self.params = adam.params
        losses = np.empty(self.steps)
        last = len(self.params) - 1
        for t in range(1, self.steps + 1):
            x = cond
            if self.condition_noise > 0:
                x = cond + self.condition_noise * rng.standard_normal(cond.shape)
            logits, inputs = self._forward(x)
            top = logits.max(axis=2, keepdims=True)
            p = np.exp(logits - top)
            p /= p.sum(axis=2, keepdims=True)
            logp = np.log(np.maximum((p * onehot).sum(axis=2), 1e-300))
            losses[t - 1] = -float(w @ logp.sum(axis=1))
            g = ((p - onehot) * w[:, None, None]).reshape(n, -1)
            grads: Params = []
            for i in range(last, -1, -1):
                wt, _ = self.params[i]
                h = inputs[i]
                grads.append((h.T @ g, g.sum(axis=0, keepdims=True)))
                if i:
                    g = (g @ wt.T) * (h > 0.0)
            adam.step(grads[::-1], self.lr)
        return losses


class NAG(MultiObjective, Optimizer):
    """A conditional generator trained on the evaluated architectures, asked for the parts of
    the front not yet covered (see the module docstring). ``num_init`` random queries, then
    rounds of refit -> targets in the front's gaps -> conditional sampling -> ``batch_size``
    queries; the next round waits for the whole batch.

    >>> from ednag.pareto import Evaluation
    >>> from ednag.spaces import make_space
    >>> opt = NAG(make_space("nb201"), seed=0, max_queries=30, num_objectives=2,
    ...           train_steps=50)
    >>> while not opt.finished:
    ...     opt.tell([(a, Evaluation((float(sum(a)), -float(a[0])))) for a in opt.ask()])
    >>> opt.num_queries
    30
    """

    name = "nag"

    def __init__(
        self,
        space: SearchSpace,
        seed: int = 0,
        max_queries: int | None = None,
        num_objectives: int = 1,
        num_init: int = 10,
        batch_size: int = 10,
        num_samples: int = 200,
        hidden: tuple[int, ...] | list[int] = (64, 64),
        train_steps: int = 300,
        lr: float = 1e-2,
        weight_decay: float = 1e-4,
        condition_noise: float = 0.05,
        target_shift: float = 0.1,
        target_noise: float = 0.02,
        temperature: float = 1.0,
        weighting: str = "rank",
        normalisation: str = "rank",
        score: str = "crowding",
    ) -> None:
        super().__init__(space, seed, max_queries)
        self._setup_objectives(num_objectives, score)
        for name, value in (("num_init", num_init), ("batch_size", batch_size),
                            ("num_samples", num_samples), ("train_steps", train_steps)):
            int_at_least(name, value, 1)
        if (
            not isinstance(hidden, (tuple, list))
            or not hidden
            or any(isinstance(h, bool) or not isinstance(h, int) or h < 1 for h in hidden)
        ):
            raise ValueError(f"hidden must be a non-empty list of ints >= 1, got {hidden!r}")
        for name, value, positive in (
            ("lr", lr, True), ("temperature", temperature, True),
            ("weight_decay", weight_decay, False), ("condition_noise", condition_noise, False),
            ("target_shift", target_shift, False), ("target_noise", target_noise, False),
        ):
            finite_at_least(name, value, strict=positive)
        if weighting not in WEIGHTINGS:
            raise ValueError(
                f"weighting must be one of {', '.join(WEIGHTINGS)}, got {weighting!r}")
        if normalisation not in NORMALISATIONS:
            raise ValueError(f"normalisation must be one of {', '.join(NORMALISATIONS)}, "
                             f"got {normalisation!r}")
        self.num_init = num_init
        self.batch_size = batch_size
        self.num_samples = num_samples
        self.hidden = tuple(hidden)
        self.train_steps = train_steps
        self.lr = float(lr)
        self.weight_decay = float(weight_decay)
        self.condition_noise = float(condition_noise)
        self.target_shift = float(target_shift)
        self.target_noise = float(target_noise)
        self.temperature = float(temperature)
        self.weighting = weighting
        self.normalisation = normalisation
        self._waiting: set[str] = set()
        #: the last fitted generator and the (low, span) that normalised its conditions
        self.generator: ConditionalGenerator | None = None
        self.losses: np.ndarray | None = None
        self._low = np.zeros(num_objectives)
        self._span = np.ones(num_objectives)
        self._sorted = np.zeros((0, num_objectives))
        self.refits = 0
        #: the targets (normalised) of the last round and how many distinct unseen
        #: architectures it generated (before any random top-up)
        self.targets: np.ndarray | None = None
        self.generated = 0

    # ------------------------------------------------------------------ data
    def _training_set(self) -> tuple[list[Choices], np.ndarray, np.ndarray]:
        """(architectures, maximised objectives (n, m), violations) of the successful
        evaluations, in evaluation order."""
        items = [(c, ev) for c, ev in self._evaluated.values() if not ev.failed]
        pts, viol = evaluation_arrays([ev for _, ev in items], self.num_objectives)
        return [c for c, _ in items], pts, viol

    def normalise(self, points: np.ndarray) -> np.ndarray:
        """Objective vectors (maximised units) on the generator's [0, 1] scale (the scale of
        the last fit: quantiles among, or min-max over, the successful evaluations)."""
        pts = np.asarray(points, dtype=np.float64).reshape(-1, self.num_objectives)
        if self.normalisation == "minmax" or len(self._sorted) < 2:
            return (pts - self._low) / self._span
        n = len(self._sorted)
        out = np.empty_like(pts)
        for j in range(self.num_objectives):
            col = self._sorted[:, j]
            left = np.searchsorted(col, pts[:, j], side="left")
            right = np.searchsorted(col, pts[:, j], side="right")
            out[:, j] = (left + right - 1) / (2.0 * (n - 1))
        return out

    def fit_generator(self) -> ConditionalGenerator:
        """A fresh generator fitted on every successful evaluation so far."""
        archs, pts, viol = self._training_set()
        if not archs:
            raise ValueError("the generator needs at least one successful evaluation")
        self._low = pts.min(axis=0)
        span = pts.max(axis=0) - self._low
        self._span = np.where(span > 0, span, 1.0)
        self._sorted = np.sort(pts, axis=0)
        if self.weighting == "rank":
            weights = RANK_FLOOR + rank_scores(pts, viol, self.score)
        else:
            weights = np.ones(len(archs))
        gen = ConditionalGenerator(
            self.space.num_choices, self.num_objectives, int(self.rng.integers(2**31 - 1)),
            self.hidden, self.train_steps, self.lr, self.weight_decay, self.condition_noise)
        with one_blas_thread():
            self.losses = gen.fit(self.normalise(pts), np.asarray(archs, dtype=np.int64),
                                  weights, self.rng)
        self.generator = gen
        self.refits += 1
        return gen

    # ------------------------------------------------------------------ targets
    def front_gaps(self) -> tuple[np.ndarray, np.ndarray]:
        """Candidate targets (normalised, before the shift) and their weights: the midpoints
        of neighbouring front points along every objective (weight: their distance) and each
        objective's extreme point (weight: the largest gap, 1 for a one-point front)."""
        _, pts, viol = self._training_set()
        ranks = non_dominated_ranks(pts, viol)
        front = np.unique(self.normalise(pts[ranks == 0]), axis=0)
        centres, weights = [], []
        for j in range(front.shape[1]):
            order = front[np.argsort(front[:, j], kind="stable")]
            for a, b in zip(order[:-1], order[1:], strict=True):
                centres.append((a + b) / 2.0)
                weights.append(float(np.linalg.norm(a - b)))
        widest = max(weights, default=0.0) or 1.0
        for j in range(front.shape[1]):
            centres.append(front[int(np.argmax(front[:, j]))])
            weights.append(widest)
        return np.asarray(centres), np.asarray(weights)

    def choose_targets(self, k: int) -> np.ndarray:
        """``k`` targets: gap candidates drawn by weight, shifted toward better values."""
        centres, weights = self.front_gaps()
        idx = self.rng.choice(len(centres), size=k, p=weights / weights.sum())
        noise = self.target_noise * self.rng.standard_normal((k, centres.shape[1]))
        return centres[idx] + self.target_shift + noise

    # ------------------------------------------------------------------ sampling
    def sample(self, targets: np.ndarray, per_target: int) -> tuple[np.ndarray, np.ndarray]:
        """``per_target`` architectures (choice arrays) for each normalised target from the
        fitted generator, and their log-likelihood under their target: (T, n, D) and (T, n)."""
        if self.generator is None:
            raise ValueError("no generator fitted yet (call fit_generator first)")
        targets = np.asarray(targets, dtype=np.float64).reshape(-1, self.num_objectives)
        logp = self.generator.log_probabilities(targets)  # (T, D, C)
        t, d, c = logp.shape
        gumbel = -np.log(-np.log(self.rng.uniform(1e-12, 1.0, (t, per_target, d, c))))
        draws = (logp[:, None] / self.temperature + gumbel).argmax(axis=3)  # (T, n, D)
        lik = np.take_along_axis(
            np.broadcast_to(logp[:, None], (t, per_target, d, c)), draws[..., None], axis=3
        )[..., 0].sum(axis=2)
        return draws, lik

    def _round(self, k: int) -> list[Choices]:
        self.fit_generator()
        self.targets = self.choose_targets(k)
        per_target = max(1, -(-self.num_samples // k))
        with one_blas_thread():
            draws, lik = self.sample(self.targets, per_target)
        ranked: list[list[Choices]] = []
        for i in range(len(self.targets)):
            seen: set[str] = set()
            mine: list[Choices] = []
            for j in np.argsort(-lik[i], kind="stable").tolist():
                arch = tuple(int(v) for v in draws[i, j])
                key = self.space.key(arch)
                if key in seen or not self.space.is_valid(arch) or not self._unseen(arch):
                    continue
                seen.add(key)
                mine.append(arch)
            ranked.append(mine)
        out: list[Choices] = []
        keys: set[str] = set()
        depth = 0
        while len(out) < k and any(depth < len(r) for r in ranked):
            for mine in ranked:
                if depth < len(mine) and len(out) < k:
                    key = self.space.key(mine[depth])
                    if key not in keys:
                        keys.add(key)
                        out.append(mine[depth])
            depth += 1
        self.generated = len(out)
        if len(out) < k:  # the generator keeps proposing known ones: top up at random
            out += random_unseen(self.space, self.rng, k - len(out),
                                 lambda a: self._unseen(a) and self.space.key(a) not in keys,
                                 tries_per_arch=50)
        return out

    # ------------------------------------------------------------------ ask / tell
    def _propose(self, remaining: int | None) -> list[Choices]:
        if self._waiting:
            return []
        k = self.batch_size if remaining is None else min(self.batch_size, remaining)
        done = len(self._evaluated)
        succeeded = sum(not ev.failed for _, ev in self._evaluated.values())
        if done < self.num_init:
            n = self.num_init - done
            batch = self._sample_unseen(n if remaining is None else min(n, remaining))
        elif succeeded < 2:
            batch = self._sample_unseen(k)
        else:
            batch = self._round(k) or self._sample_unseen(1)
        self._waiting = {self.space.key(c) for c in batch}
        return batch

    def _observe(self, results: list[tuple[Choices, Any]]) -> None:
        for choices, _ in results:
            self._waiting.discard(self.space.key(choices))
