"""The fitness-weighted, diffusion-likelihood-weighted estimate of the clean point x0.

For member ``i`` (the population serves both as the noisy points and as the candidate clean
points, as in "Diffusion models are evolutionary algorithms", Zhang et al. 2024)::

    k_ij = exp(-||x_i - sqrt(alpha) x_j||^2 / (2 (1 - alpha)))
    w_ij = (g_j + eps) (k_ij + eps) / (p + eps),   p = 1 / P  (a uniform density)
    x0_i = sum_j w_ij x_j / (sum_j w_ij + eps)

The ``eps = 1e-9`` floors are load-bearing: a member whose weight ``g_i`` sits on the floor
(far below the best) gets ``x0_i`` pulled onto the best member even when the kernel between
them underflows, while members close to the best keep ``x0_i ~ x_i``. Without the floors the
late-step weights are ``0 / 0``; a log-sum-exp form would instead keep every member where it
is. We keep the floors on purpose (``eps=0`` is allowed for ablations).
"""

from __future__ import annotations

import numpy as np

DEFAULT_EPS = 1e-9


def kernel(x: np.ndarray, alpha: float) -> np.ndarray:
    """``k_ij = exp(-||x_i - sqrt(alpha) x_j||^2 / (2 (1 - alpha)))`` (shape (P, P)).

    ``1 - alpha`` is floored at 1e-12, so ``alpha = 1`` gives a (numerically) hard kernel.
    """
    return kernel_between(x, x, alpha)


def kernel_between(x: np.ndarray, ref: np.ndarray, alpha: float) -> np.ndarray:
    """``k_ij = exp(-||x_i - sqrt(alpha) ref_j||^2 / (2 (1 - alpha)))`` (shape (P, R))."""
    x = np.asarray(x, dtype=np.float64)
    y = np.sqrt(alpha) * np.asarray(ref, dtype=np.float64)
    sq = (x * x).sum(1)[:, None] - 2.0 * x @ y.T + (y * y).sum(1)[None, :]
    np.maximum(sq, 0.0, out=sq)
    return np.exp(-sq / (2.0 * max(1.0 - alpha, 1e-12)))


def estimate_x0(
    x: np.ndarray,
    g: np.ndarray,
    alpha: float,
    eps: float = DEFAULT_EPS,
    ref: np.ndarray | None = None,
) -> np.ndarray:
    """The x0 estimate of every member of population ``x`` (P, d).

    The candidate clean points are the population itself (``ref=None``, the paper) or the
    rows of ``ref`` (R, d), e.g. the population plus an archive of elites; ``g`` holds one
    weight per candidate point.
    """
    x = np.asarray(x, dtype=np.float64)
    points = x if ref is None else np.asarray(ref, dtype=np.float64)
    g = np.asarray(g, dtype=np.float64)
    if x.ndim != 2 or points.ndim != 2 or points.shape[1] != x.shape[1]:
        raise ValueError(
            f"estimate_x0: x must be (P, d) and ref (R, d), got {x.shape} and {points.shape}"
        )
    if g.shape != (points.shape[0],):
        raise ValueError(f"estimate_x0: g must have one weight per point, got {g.shape}")
    density = 1.0 / x.shape[0]
    k = kernel(x, alpha) if ref is None else kernel_between(x, points, alpha)
    w = (g[None, :] + eps) * (k + eps) / (density + eps)
    return (w @ points) / (w.sum(1, keepdims=True) + eps)
