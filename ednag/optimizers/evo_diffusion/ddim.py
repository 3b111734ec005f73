"""One DDIM step towards the estimated clean points, and the per-member normalisation."""

from __future__ import annotations

import numpy as np

from ednag.spaces.base import row_normalise  # noqa: F401 - re-exported: EDNAG's map onto [-1, 1]


def ddim_sigma(alpha: float, alpha_prev: float, eta: float) -> float:
    """``eta * sqrt((1 - a') / (1 - a) * (1 - a / a'))`` (the DDPM posterior std scaled by eta).

    ``a = alpha_t``, ``a' = alpha_{t-1} >= a``. Zero at the last step (``a' = 1``).
    """
    if alpha_prev <= 0.0:
        return 0.0
    ratio = (1.0 - alpha_prev) / max(1.0 - alpha, 1e-12)
    return float(eta * np.sqrt(max(ratio * (1.0 - alpha / alpha_prev), 0.0)))


def ddim_step(
    x: np.ndarray,
    x0: np.ndarray,
    alpha: float,
    alpha_prev: float,
    eta: float,
    noise: np.ndarray,
) -> np.ndarray:
    """``sqrt(a') x0 + sqrt(1 - a' - sigma^2) eps_hat + sigma z`` with
    ``eps_hat = (x - sqrt(a) x0) / sqrt(1 - a)`` and ``z = noise`` (same shape as ``x``)."""
    x = np.asarray(x, dtype=np.float64)
    x0 = np.asarray(x0, dtype=np.float64)
    sigma = ddim_sigma(alpha, alpha_prev, eta)
    eps_hat = (x - np.sqrt(alpha) * x0) / np.sqrt(max(1.0 - alpha, 1e-12))
    direction = np.sqrt(max(1.0 - alpha_prev - sigma * sigma, 0.0))
    return np.sqrt(alpha_prev) * x0 + direction * eps_hat + sigma * np.asarray(noise)
