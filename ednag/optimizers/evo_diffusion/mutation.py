"""Polynomial mutation (Deb) on members bounded in ``[lo, hi]``, per member or per gene."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ednag.optimizers.evo_diffusion.ddim import row_normalise

MUTATION_MODES: tuple[str, ...] = ("member", "gene")


def polynomial_mutation(
    x: np.ndarray, u: np.ndarray, eta_m: float, lo: float = -1.0, hi: float = 1.0
) -> np.ndarray:
    """Deb's polynomial mutation of every entry of ``x`` with uniform draws ``u``
    (broadcast against ``x``: one per member ``(P, 1)`` or one per gene ``(P, d)``).

    With ``d1 = (x - lo) / (hi - lo)`` and ``d2 = (hi - x) / (hi - lo)`` (clipped to [0, 1])::

        u <= 0.5: delta = (2u + (1 - 2u) (1 - d1)^(eta_m + 1))^(1 / (eta_m + 1)) - 1
        u >  0.5: delta = 1 - (2(1 - u) + (2u - 1) (1 - d2)^(eta_m + 1))^(1 / (eta_m + 1))

    and ``x + delta (hi - lo)``, which stays in ``[lo, hi]`` for ``x`` in ``[lo, hi]``.
    A single ``u`` per member is a monotone map of the member's entries, so it never changes a
    row's argmax; per-gene draws can.
    """
    x = np.asarray(x, dtype=np.float64)
    u = np.broadcast_to(np.asarray(u, dtype=np.float64), x.shape)
    span = hi - lo
    d1 = np.clip((x - lo) / span, 0.0, 1.0)
    d2 = np.clip((hi - x) / span, 0.0, 1.0)
    power = 1.0 / (eta_m + 1.0)
    low = (2.0 * u + (1.0 - 2.0 * u) * (1.0 - d1) ** (eta_m + 1.0)) ** power - 1.0
    high = 1.0 - (2.0 * (1.0 - u) + (2.0 * u - 1.0) * (1.0 - d2) ** (eta_m + 1.0)) ** power
    delta = np.where(u <= 0.5, low, high)
    return np.clip(x + delta * span, lo, hi)


def mutate_population(
    x: np.ndarray,
    rng: np.random.Generator,
    rate: float,
    eta_m: float,
    mode: str = "member",
    gene_rate: float = 1.0,
    normalise: Callable[[np.ndarray], np.ndarray] = row_normalise,
) -> np.ndarray:
    """Mutate each member with probability ``rate``, then row-normalise to ``[-1, 1]``.

    ``mode="member"``: one ``u`` per member (the paper's form). ``mode="gene"``: one ``u`` per
    gene, each gene of a mutating member perturbed with probability ``gene_rate``.
    ``normalise`` is the encoding's own map onto ``[-1, 1]`` (default: per member).
    """
    x = normalise(x)
    n, d = x.shape
    chosen = rng.random(n) < rate
    if mode == "member":
        u = rng.random((n, 1))
        gene_mask = np.ones((n, d), dtype=bool)
    elif mode == "gene":
        u = rng.random((n, d))
        gene_mask = rng.random((n, d)) < gene_rate
    else:
        raise ValueError(f"mutation mode must be one of {', '.join(MUTATION_MODES)}; got {mode!r}")
    mutated = polynomial_mutation(x, u, eta_m)
    out = np.where(chosen[:, None] & gene_mask, mutated, x)
    return normalise(out)
