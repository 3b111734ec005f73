"""The cosine signal schedule EDNAG denoises along (pure numpy)."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np


def cosine_alphas(num_steps: int) -> np.ndarray:
    """Signal levels ``alpha_k = (cos(pi k / (T - 1)) + 1) / 2`` for ``k = 0..T-1``.

    ``alpha_0 = 1`` (clean) and ``alpha_{T-1} = 0`` (pure noise), exactly.

    >>> cosine_alphas(3).round(3).tolist()
    [1.0, 0.5, 0.0]
    """
    if isinstance(num_steps, bool) or not isinstance(num_steps, (int, np.integer)) or num_steps < 2:
        raise ValueError(f"num_steps must be an int >= 2, got {num_steps!r}")
    k = np.arange(num_steps, dtype=np.float64)
    alphas = (np.cos(np.pi * k / (num_steps - 1)) + 1.0) / 2.0
    alphas[0], alphas[-1] = 1.0, 0.0  # exact endpoints (cos(pi) is -1 only up to rounding)
    return alphas


def denoising_steps(num_steps: int) -> Iterator[tuple[int, float, float]]:
    """``(t, alpha_t, alpha_{t-1})`` for ``t = T-1`` down to ``1`` (``T - 1`` steps)."""
    alphas = cosine_alphas(num_steps)
    for t in range(num_steps - 1, 0, -1):
        yield t, float(alphas[t]), float(alphas[t - 1])


def step_alphas(num_steps: int, index: int) -> tuple[float, float]:
    """``(alpha_t, alpha_{t-1})`` of the ``index``-th step of a schedule (``index = 0`` is the
    first, noisiest step, ``t = T - 1``)."""
    if not 0 <= index < num_steps - 1:
        raise ValueError(f"step index must be in [0, {num_steps - 2}], got {index}")
    alphas = cosine_alphas(num_steps)
    t = num_steps - 1 - index
    return float(alphas[t]), float(alphas[t - 1])
