"""Fitness -> probability-like weights for the x0 estimator (pure numpy).

Two stages, both explicit and configurable:

1. *sharpening*, a monotone map of the raw fitness: ``none``; ``paper_rescale`` (the EDNAG
   paper's piecewise-linear stretch of accuracies in percent, times a dataset factor);
   ``spread`` (``(f - max) / (max - min)``, so a temperature is relative to the population's
   fitness spread); ``rank`` (``rank / (n - 1) - 1``, ties share the mean rank).
2. *mapping*: ``energy`` ``exp(f / tau - max f / tau + offset)``, ``power`` ``(f / tau)^p``
   (negative inputs clipped to 0) or ``identity``.
"""

from __future__ import annotations

import numpy as np

SHARPENINGS: tuple[str, ...] = ("none", "paper_rescale", "spread", "rank")
MAPPINGS: tuple[str, ...] = ("energy", "power", "identity")

# (lower edge, value at the lower edge, slope) of the paper's ReScale, accuracies in percent
_RESCALE_PIECES: tuple[tuple[float, float, float], ...] = (
    (0.0, 0.0, 0.1),
    (30.0, 3.0, 1.0),
    (50.0, 23.0, 2.0),
    (70.0, 63.0, 3.0),
    (75.0, 78.0, 5.0),
    (80.0, 103.0, 10.0),
    (85.0, 153.0, 30.0),
    (90.0, 303.0, 40.0),
    (95.0, 503.0, 50.0),
)


def paper_rescale(acc: np.ndarray, factor: float = 1.0) -> np.ndarray:
    """The paper's ReScale of ``factor * acc`` (accuracy in percent): continuous, increasing,
    steepest near 100 (40 per point in [90, 95)).

    >>> paper_rescale(np.array([94.37, 50.0])).round(1).tolist()
    [477.8, 23.0]
    """
    v = factor * np.asarray(acc, dtype=np.float64)
    edges = np.array([p[0] for p in _RESCALE_PIECES])
    piece = np.clip(np.searchsorted(edges, v, side="right") - 1, 0, len(edges) - 1)
    base = np.array([p[1] for p in _RESCALE_PIECES])[piece]
    slope = np.array([p[2] for p in _RESCALE_PIECES])[piece]
    return base + slope * (v - edges[piece])


def spread_normalise(f: np.ndarray) -> np.ndarray:
    """``(f - max f) / (max f - min f)`` in ``[-1, 0]`` (all zeros when ``f`` is constant)."""
    f = np.asarray(f, dtype=np.float64)
    span = f.max() - f.min()
    return (f - f.max()) / span if span > 0 else np.zeros_like(f)


def rank_normalise(f: np.ndarray) -> np.ndarray:
    """Fractional ranks in ``[-1, 0]`` (best = 0, worst = -1; ties share their mean rank)."""
    f = np.asarray(f, dtype=np.float64)
    n = f.size
    if n < 2:
        return np.zeros_like(f)
    _, inverse, counts = np.unique(f, return_inverse=True, return_counts=True)
    first = np.cumsum(counts) - counts  # rank of the first copy of each distinct value
    ranks = (first + (counts - 1) / 2.0)[inverse]
    return ranks / (n - 1) - 1.0


def sharpen(f: np.ndarray, kind: str, rescale_factor: float = 1.0) -> np.ndarray:
    """Apply sharpening ``kind`` (one of :data:`SHARPENINGS`)."""
    if kind == "none":
        return np.asarray(f, dtype=np.float64)
    if kind == "paper_rescale":
        return paper_rescale(f, rescale_factor)
    if kind == "spread":
        return spread_normalise(f)
    if kind == "rank":
        return rank_normalise(f)
    raise ValueError(f"sharpening must be one of {', '.join(SHARPENINGS)}; got {kind!r}")


def energy(f: np.ndarray, temperature: float = 1.0, offset: float = 5.0) -> np.ndarray:
    """``exp(f / tau - max f / tau + offset)``: the best member gets ``e^offset``.

    >>> energy(np.array([1.0, 0.0]), 1.0, 0.0).round(4).tolist()
    [1.0, 0.3679]
    """
    f = np.asarray(f, dtype=np.float64) / temperature
    return np.exp(f - f.max() + offset)


def power(f: np.ndarray, exponent: float = 1.0, temperature: float = 1.0) -> np.ndarray:
    """``(max(f, 0) / tau) ** p``."""
    return (np.maximum(np.asarray(f, dtype=np.float64), 0.0) / temperature) ** exponent


def identity(f: np.ndarray) -> np.ndarray:
    return np.asarray(f, dtype=np.float64).copy()


def fitness_to_weights(
    f: np.ndarray,
    *,
    mapping: str = "energy",
    sharpening: str = "none",
    temperature: float = 1.0,
    exponent: float = 1.0,
    offset: float = 5.0,
    rescale_factor: float = 1.0,
) -> np.ndarray:
    """Sharpen then map a fitness vector to the estimator's non-negative weights ``g``."""
    s = sharpen(f, sharpening, rescale_factor)
    if mapping == "energy":
        return energy(s, temperature, offset)
    if mapping == "power":
        return power(s, exponent, temperature)
    if mapping == "identity":
        return identity(s)
    raise ValueError(f"mapping must be one of {', '.join(MAPPINGS)}; got {mapping!r}")
