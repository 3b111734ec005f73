"""A small score-based diffusion model over continuous architecture encodings (numpy only).

The model is a ReLU MLP ``eps(x_t, t)`` that predicts the noise in ``x_t = sqrt(a(t)) x0 +
sqrt(1 - a(t)) eps`` (a variance-preserving, DDPM-style process with the cosine schedule
``a(t)``, continuous time ``t`` in ``(0, 1]``), trained by denoising score matching (the mean
squared error of the predicted noise) with hand-written backprop and Adam. The data are one-hot
encodings mapped onto ``{-1, 1}``; no labels are needed, so :mod:`ednag.optimizers.diffusionnag`
trains it on architectures sampled from the space for free.

:meth:`ScoreModel.sample` runs the reverse process with DDIM steps (``eta = 1``: ancestral
noise) from Gaussian noise, optionally with classifier guidance: at each step the estimate of
the clean point ``x0`` moves along ``guide(x0)`` (the gradient of a predictor there), scaled as
classifier guidance scales ``grad log p(y | x_t)`` (``scale * (1 - a) / a``, capped by ``cap``).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

import numpy as np

from ednag.checks import int_at_least
from ednag.optimizers.evo_diffusion.ddim import ddim_step
from ednag.predictors.mlp import Adam, layer_gradients
from ednag.predictors.mlp import layers_forward as forward

Params = list[tuple[np.ndarray, np.ndarray]]

_S = 0.008  # the cosine schedule's offset (Nichol and Dhariwal, 2021)
_MIN_ALPHA = 1e-4


@contextlib.contextmanager
def one_blas_thread() -> Iterator[None]:
    """Run the block on one BLAS thread where ``threadpoolctl`` is installed: the matrices here
    are small, and a multi-threaded BLAS on a busy machine made fitting 15x slower."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - numpy's default threading
        yield
        return
    with threadpool_limits(limits=1, user_api="blas"):
        yield


def alpha_bar(t: np.ndarray | float) -> np.ndarray:
    """The cosine schedule ``a(t)`` (signal fraction of ``x_t``), 1 at ``t = 0``, clipped to
    ``[1e-4, 1]``."""
    t = np.asarray(t, dtype=np.float64)
    f = np.cos(0.5 * np.pi * (t + _S) / (1.0 + _S)) ** 2 / np.cos(0.5 * np.pi * _S / (1 + _S)) ** 2
    return np.clip(f, _MIN_ALPHA, 1.0)


def time_features(t: np.ndarray, num: int) -> np.ndarray:
    """Sinusoidal features of times ``t`` (n,): ``num`` columns (sines then cosines)."""
    freqs = np.pi * 2.0 ** np.arange(num // 2)
    angles = np.asarray(t, dtype=np.float64)[:, None] * freqs[None, :]
    return np.concatenate([np.sin(angles), np.cos(angles)], axis=1)


def mse_gradients(params: Params, inputs: list[np.ndarray], err: np.ndarray) -> Params:
    """Gradients of ``mean over rows of sum((out - target)^2)`` given ``err = out - target``."""
    return layer_gradients(params, inputs, (2.0 / err.shape[0]) * err)


class ScoreModel:
    """An MLP noise predictor over ``dim``-dimensional encodings, seeded and deterministic.

    ``hidden``: hidden layer widths; ``num_features``: sinusoidal time features appended to the
    input; ``train_steps`` Adam steps of ``batch_size`` rows at learning rate ``lr``.

    >>> rng = np.random.default_rng(0)
    >>> data = np.eye(4)[rng.integers(0, 2, 500)] * 2 - 1  # only the first two corners
    >>> model = ScoreModel(4, seed=0, train_steps=300)
    >>> losses = model.fit(data)
    >>> bool(losses[-50:].mean() < losses[:50].mean())
    True
    >>> model.sample(3, np.random.default_rng(1)).shape
    (3, 4)
    """

    def __init__(
        self,
        dim: int,
        seed: int = 0,
        hidden: tuple[int, ...] = (128, 128),
        num_features: int = 16,
        train_steps: int = 800,
        batch_size: int = 256,
        lr: float = 5e-3,
    ) -> None:
        for name, value, low in (
            ("dim", dim, 1),
            ("num_features", num_features, 2),
            ("train_steps", train_steps, 1),
            ("batch_size", batch_size, 1),
        ):
            int_at_least(name, value, low)
        if not hidden or any(
            isinstance(h, bool) or not isinstance(h, int) or h < 1 for h in hidden
        ):
            raise ValueError(f"hidden must be a tuple of positive ints, got {hidden!r}")
        if not lr > 0:
            raise ValueError(f"lr must be > 0, got {lr!r}")
        self.dim = dim
        self.rng = np.random.default_rng(seed)
        self.hidden = tuple(hidden)
        self.num_features = num_features - num_features % 2
        self.train_steps = train_steps
        self.batch_size = batch_size
        self.lr = float(lr)
        sizes = [dim + self.num_features, *self.hidden, dim]
        self.params: Params = [
            (self.rng.standard_normal((a, b)) * np.sqrt(2.0 / a), np.zeros((1, b)))
            for a, b in zip(sizes[:-1], sizes[1:], strict=True)
        ]
        self.params[-1] = (self.params[-1][0] * 0.1, self.params[-1][1])  # start near eps = 0

    # ------------------------------------------------------------------ the network
    def eps(self, x: np.ndarray, t: np.ndarray | float) -> np.ndarray:
        """Predicted noise for ``x`` (n, dim) at times ``t`` (scalar or (n,))."""
        x = np.asarray(x, dtype=np.float64)
        t = np.broadcast_to(np.asarray(t, dtype=np.float64), (x.shape[0],))
        out, _ = forward(self.params, np.hstack([x, time_features(t, self.num_features)]))
        return out

    def noised(
        self, x0: np.ndarray, rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(x_t, t, eps)``: each row of ``x0`` noised at a uniform random time."""
        t = rng.uniform(1e-3, 1.0, x0.shape[0])
        eps = rng.standard_normal(x0.shape)
        a = alpha_bar(t)[:, None]
        return np.sqrt(a) * x0 + np.sqrt(1.0 - a) * eps, t, eps

    def loss(self, x0: np.ndarray, rng: np.random.Generator) -> float:
        """Denoising score-matching loss (mean squared noise error per row) on ``x0``."""
        xt, t, eps = self.noised(np.asarray(x0, dtype=np.float64), rng)
        return float(((self.eps(xt, t) - eps) ** 2).sum(axis=1).mean())

    def fit(self, x0: np.ndarray) -> np.ndarray:
        """Train on clean points ``x0`` (n, dim) by denoising score matching; the loss of every
        step (a noisy curve: each step draws new times and noise)."""
        x0 = np.asarray(x0, dtype=np.float64)
        if x0.ndim != 2 or x0.shape[1] != self.dim or x0.shape[0] == 0:
            raise ValueError(f"fit needs x0 of shape (n >= 1, {self.dim}), got {x0.shape}")
        with one_blas_thread():
            return self._fit(x0)

    def _fit(self, x0: np.ndarray) -> np.ndarray:
        adam = Adam(self.params)
        self.params = adam.params
        losses = np.empty(self.train_steps)
        n = x0.shape[0]
        for step in range(1, self.train_steps + 1):
            rows = self.rng.integers(0, n, min(self.batch_size, n))
            xt, t, eps = self.noised(x0[rows], self.rng)
            out, inputs = forward(self.params, np.hstack([xt, time_features(t, self.num_features)]))
            err = out - eps
            losses[step - 1] = float((err**2).sum(axis=1).mean())
            lr = self.lr * (0.1 + 0.9 * 0.5 * (1 + np.cos(np.pi * step / self.train_steps)))
            adam.step(mse_gradients(self.params, inputs, err), lr)
        return losses

    # ------------------------------------------------------------------ sampling
    def sample(
        self,
        n: int,
        rng: np.random.Generator,
        num_steps: int = 20,
        eta: float = 1.0,
        guide: Callable[[np.ndarray], np.ndarray] | None = None,
        scale: float | np.ndarray = 0.0,
        cap: float = 10.0,
    ) -> np.ndarray:
        """``n`` clean points (n, dim) by ``num_steps`` reverse DDIM steps from noise.

        With ``guide`` (a function of the clean-point estimate, (n, dim) -> (n, dim), the
        gradient of what to increase) and ``scale`` > 0 (a number, or one per sample), each
        estimate ``x0`` becomes ``clip(x0 + scale * min((1 - a) / a, cap) * guide(x0), -1, 1)``
        before the step: classifier guidance, with the predictor read at ``x0``.
        """
        times = np.linspace(1.0, 0.0, num_steps + 1)
        x = rng.standard_normal((n, self.dim))
        scale = np.broadcast_to(np.asarray(scale, dtype=np.float64), (n,))[:, None]
        x0 = x
        for t, t_next in zip(times[:-1], times[1:], strict=True):
            a, a_next = float(alpha_bar(t)), float(alpha_bar(t_next)) if t_next > 0 else 1.0
            eps = self.eps(x, t)
            x0 = np.clip((x - np.sqrt(1.0 - a) * eps) / np.sqrt(a), -1.0, 1.0)
            if guide is not None and np.any(scale > 0):
                x0 = np.clip(x0 + scale * min((1.0 - a) / a, cap) * guide(x0), -1.0, 1.0)
            if t_next > 0:
                x = ddim_step(x, x0, a, a_next, eta, rng.standard_normal(x.shape))
        return x0
