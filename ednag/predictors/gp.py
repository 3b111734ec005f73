"""A Gaussian-process predictor: exact regression with a squared-exponential kernel.

On a one-hot encoding the squared distance of two architectures is twice the number of
decisions in which they differ, so the kernel is a Hamming kernel there. The lengthscale and
the noise are chosen by the log marginal likelihood over a fixed grid (the lengthscales relative
to the training set's median squared distance, so the grid suits any encoding), the signal
variance in closed form for each; there is no randomness, so a fit is exactly reproducible. Far
from the evaluated architectures the mean returns to the targets' mean and the spread grows to
the fitted amplitude: the honest uncertainty the ensemble needs randomized priors for.
"""

from __future__ import annotations

import numpy as np
from scipy.linalg import cho_factor, cho_solve

from ednag.checks import finite_at_least
from ednag.predictors.base import PredictorError, training_set

#: squared lengthscales tried, as multiples of the training set's median squared distance
LENGTH_FACTORS: tuple[float, ...] = (0.125, 0.25, 0.5, 1.0, 2.0)
#: noise variances tried, relative to the signal variance
NOISE_RATIOS: tuple[float, ...] = (1e-3, 1e-2, 0.05, 0.2, 1.0)


def squared_distances(A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """Pairwise squared Euclidean distances (len(A), len(B)), clipped at 0.

    >>> squared_distances(np.array([[0.0, 1.0]]), np.array([[1.0, 0.0], [0.0, 1.0]])).tolist()
    [[2.0, 0.0]]
    """
    d = (A * A).sum(axis=1)[:, None] + (B * B).sum(axis=1)[None, :] - 2.0 * A @ B.T
    return np.maximum(d, 0.0)


def log_evidence(K: np.ndarray, z: np.ndarray) -> tuple[float, tuple[np.ndarray, bool],
                                                        np.ndarray, float]:
    """The profile log marginal likelihood of targets ``z`` under the kernel matrix
    ``amplitude * K`` with the amplitude at its maximum-likelihood value (up to a constant),
    and the Cholesky factor, ``K^-1 z`` and that amplitude.

    >>> ll, _, alpha, amp = log_evidence(np.eye(2), np.array([1.0, -1.0]))
    >>> abs(round(ll, 6)), alpha.tolist(), amp
    (0.0, [1.0, -1.0], 1.0)
    """
    n = z.size
    factor = cho_factor(K, lower=True)
    alpha = cho_solve(factor, z)
    amplitude = max(float(z @ alpha) / n, 1e-12)
    ll = -0.5 * n * float(np.log(amplitude)) - float(np.log(np.diag(factor[0])).sum())
    return ll, factor, alpha, amplitude


class GaussianProcess:
    """Exact GP regression on encodings, hyperparameters by marginal likelihood on a grid.

    ``prior_scale`` (0: off) fixes the kernel's amplitude at ``prior_scale**2`` in units of the
    standardised targets (the noise ratio kept), so the mean is unchanged and the spread far
    from the evaluated architectures is about ``prior_scale``: the counterpart of the
    ensemble's randomized priors. ``seed`` is accepted for the common interface (the fit
    draws nothing).

    >>> rng = np.random.default_rng(0)
    >>> X = rng.integers(0, 2, (40, 6)).astype(float)
    >>> model = GaussianProcess()
    >>> model.fit(X, X @ np.arange(6.0))
    >>> mean, std = model.predict(X[:2])
    >>> bool(np.abs(mean - X[:2] @ np.arange(6.0)).max() < 0.5), bool((std < 1.0).all())
    (True, True)
    """

    def __init__(self, seed: int = 0, prior_scale: float = 0.0) -> None:
        finite_at_least("prior_scale", prior_scale, 0, PredictorError)
        self.seed = seed
        self.prior_scale = float(prior_scale)
        #: the fitted state: training encodings, Cholesky factor, K^-1 z, hyperparameters
        self.X: np.ndarray | None = None
        self._factor: tuple[np.ndarray, bool] | None = None
        self._alpha = np.zeros(0)
        #: the chosen squared lengthscale, noise ratio and amplitude (standardised units)
        self.length2 = 1.0
        self.noise = NOISE_RATIOS[0]
        self.amplitude = 1.0
        self._y_mean = 0.0
        self._y_std = 1.0

    def fit(self, X: np.ndarray, y: np.ndarray) -> None:
        """Fit on the usable rows (see :func:`~ednag.predictors.base.usable`); needs one."""
        X, z, self._y_mean, self._y_std = training_set(X, y)
        D = squared_distances(X, X)
        scale = float(np.median(D[np.triu_indices(len(z), 1)])) if len(z) > 1 else 1.0
        scale = scale if scale > 0 else 1.0
        eye = np.eye(len(z))
        best: tuple[float, float, float, tuple[np.ndarray, bool], np.ndarray, float] | None = None
        for factor in LENGTH_FACTORS:
            K0 = np.exp(-D / (2.0 * factor * scale))
            for noise in NOISE_RATIOS:
                ll, chol, alpha, amplitude = log_evidence(K0 + noise * eye, z)
                if best is None or ll > best[0]:
                    best = (ll, factor * scale, noise, chol, alpha, amplitude)
        assert best is not None
        _, self.length2, self.noise, self._factor, self._alpha, self.amplitude = best
        if self.prior_scale:
            self.amplitude = self.prior_scale ** 2
        self.X = X

    def _cross(self, X: np.ndarray) -> np.ndarray:
        """The kernel (without amplitude) between ``X`` and the training encodings."""
        assert self.X is not None
        return np.exp(-squared_distances(X, self.X) / (2.0 * self.length2))

    def _posterior(self, X: np.ndarray, caller: str
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """The kernel ``Ks`` (m, n) between ``X`` and the training encodings, ``K^-1 k_*`` per
        row (m, n), and the posterior mean and standard deviation in standardised units."""
        if self._factor is None:
            raise PredictorError(f"{caller}() called before fit()")
        Ks = self._cross(X)
        v = cho_solve(self._factor, Ks.T).T
        var = np.maximum(1.0 - (Ks * v).sum(axis=1), 0.0) * self.amplitude
        return Ks, v, Ks @ self._alpha, np.sqrt(var)

    def predict(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Posterior mean and standard deviation (of the latent function), in ``y``'s units."""
        _, _, mean, std = self._posterior(np.asarray(X, dtype=np.float64), "predict")
        return mean * self._y_std + self._y_mean, std * self._y_std

    def predict_grad(self, X: np.ndarray, kappa: float = 0.0
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(mean, std, grad)``: :meth:`predict` and the gradient (m, d) of
        ``mean + kappa * std`` with respect to the encodings ``X`` (m, d)."""
        X = np.asarray(X, dtype=np.float64)
        Ks, v, mean, std = self._posterior(X, "predict_grad")
        train = self.X
        assert train is not None

        # d k(x, x_i) / dx = k(x, x_i) (x_i - x) / length2
        def weighted(w: np.ndarray) -> np.ndarray:  # sum_i w_i d k_i / dx, per row of X
            wk = w * Ks
            return (wk @ train - wk.sum(axis=1, keepdims=True) * X) / self.length2

        grad = weighted(np.broadcast_to(self._alpha, Ks.shape))
        if kappa:
            safe = np.where(std > 0, std, 1.0)
            # d std = d var / (2 std), d var = -2 amplitude k_*^T K^-1 d k_*
            grad = grad + kappa * np.where(std[:, None] > 0,
                                           -self.amplitude * weighted(v) / safe[:, None], 0.0)
        return (mean * self._y_std + self._y_mean, std * self._y_std, grad * self._y_std)
