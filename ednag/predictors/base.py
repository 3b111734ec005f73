"""The predictor interface and the target handling shared by every predictor.

A predictor is a regressor on architecture encodings: ``fit(X, y)`` on an (n, d) array of
encodings and their fitness, then ``predict(X) -> (mean, std)`` for many encodings at once.
Rows whose fitness is a failure (:data:`~ednag.optimizers.base.WORST_FITNESS`, NaN or inf)
never train a predictor.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np
from scipy.special import ndtri

#: fitness at or below this is a failed evaluation (half of ``WORST_FITNESS``, as elsewhere)
FAILED_BELOW = -1e12 / 2

#: target transforms of :func:`transform_targets`
TARGETS: tuple[str, ...] = ("quantile", "raw")


class PredictorError(ValueError):
    """A bad predictor, encoding or target name, or a bad training set (names the input)."""


@runtime_checkable
class Predictor(Protocol):
    """Fit on encodings and fitness, predict a mean and an uncertainty per encoding."""

    def fit(self, X: np.ndarray, y: np.ndarray) -> None:
        """Train on ``X`` (n, d) and fitness ``y`` (n,); failed rows are ignored."""

    def predict(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(mean, std)``, each of shape (m,), for the encodings ``X`` (m, d)."""


@runtime_checkable
class GradientPredictor(Predictor, Protocol):
    """A predictor that also gives its input gradient (the guide of a diffusion sampler)."""

    def predict_grad(self, X: np.ndarray, kappa: float = 0.0
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(mean, std, grad)``: :meth:`predict` and the gradient (m, d) of
        ``mean + kappa * std`` with respect to the encodings ``X`` (m, d)."""


def usable(y: np.ndarray) -> np.ndarray:
    """Boolean mask of the rows that may train a predictor (finite, not a failure)."""
    y = np.asarray(y, dtype=np.float64)
    return np.isfinite(y) & (y > FAILED_BELOW)


def training_set(X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, float, float]:
    """A predictor's training set: the usable rows of ``X`` (n, d) in double precision, their
    standardised targets, and the mean and standard deviation (1 when the targets are all
    equal) that standardised them. Names a bad shape, or a set without a usable row.

    >>> X, z, mean, std = training_set(np.eye(3), np.array([1.0, np.nan, 3.0]))
    >>> X.shape, z.tolist(), mean, std
    ((2, 3), [-1.0, 1.0], 2.0, 1.0)
    """
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if X.ndim != 2 or y.shape != (X.shape[0],):
        raise PredictorError(f"fit needs X (n, d) and y (n,), got {X.shape} and {y.shape}")
    keep = usable(y)
    X, y = X[keep], y[keep]
    if y.size == 0:
        raise PredictorError("fit needs at least one row with a usable (non-failed) fitness")
    mean = float(y.mean())
    std = float(y.std()) or 1.0
    return X, (y - mean) / std, mean, std


def transform_targets(y: np.ndarray, kind: str = "quantile") -> np.ndarray:
    """Map fitness values to regression targets (order preserving).

    ``quantile``: normal scores of the ranks, ``ndtri((rank + 0.5) / n)`` with tied values
    sharing their mean rank, so a few degenerate architectures (e.g. the ~10 % of NB201 cells at
    chance accuracy) cannot dominate the fit; ``raw``: the values unchanged.

    >>> transform_targets(np.array([1.0, 3.0, 2.0])).round(3).tolist()
    [-0.967, 0.967, 0.0]
    """
    y = np.asarray(y, dtype=np.float64)
    if kind == "raw":
        return y.copy()
    if kind != "quantile":
        raise PredictorError(f"target must be one of {', '.join(TARGETS)}; got {kind!r}")
    if y.size == 0:
        return y.copy()
    order = np.argsort(y, kind="stable")
    ranks = np.empty(y.size)
    ranks[order] = np.arange(y.size, dtype=np.float64)
    # ties share the mean of their ranks
    _, inverse, counts = np.unique(y, return_inverse=True, return_counts=True)
    sums = np.bincount(inverse, weights=ranks)
    ranks = sums[inverse] / counts[inverse]
    return ndtri((ranks + 0.5) / y.size)
