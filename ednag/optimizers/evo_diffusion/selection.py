"""EDNAG's selection over previous + new members: elites, diversity picks, bounded roulette.

Every function returns indices into the candidate arrays; no index is chosen twice.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def diversity_scores(x: np.ndarray) -> np.ndarray:
    """Sum of each candidate's Euclidean distances to all candidates, min-max scaled to [0, 1]
    (all zeros when the scores are equal)."""
    x = np.asarray(x, dtype=np.float64)
    sq = (x * x).sum(1)
    dist = np.sqrt(np.maximum(sq[:, None] + sq[None, :] - 2.0 * x @ x.T, 0.0))
    total = dist.sum(1)
    span = total.max() - total.min()
    return (total - total.min()) / span if span > 0 else np.zeros_like(total)


def select_elites(
    fitness: np.ndarray, n: int, ids: Sequence[object] | None = None
) -> np.ndarray:
    """The ``n`` fittest candidates with distinct ``ids`` (default: distinct fitness values),
    padded from the top of the ranking (other indices) when too few are distinct."""
    fitness = np.asarray(fitness, dtype=np.float64)
    ids = list(fitness.tolist()) if ids is None else list(ids)
    order = np.argsort(-fitness, kind="stable")
    taken: list[int] = []
    seen: set[object] = set()
    for i in order.tolist():
        if len(taken) == n:
            break
        if ids[i] not in seen:
            seen.add(ids[i])
            taken.append(i)
    for i in order.tolist():
        if len(taken) == n:
            break
        if i not in taken:
            taken.append(i)
    return np.asarray(taken, dtype=np.int64)


def select_diverse(
    fitness: np.ndarray,
    diversity: np.ndarray,
    n: int,
    exclude: Sequence[int] = (),
    min_fraction: float = 0.1,
) -> np.ndarray:
    """The ``n`` most diverse candidates (not in ``exclude``) whose fitness is at least
    ``min_fraction`` of the best (when the best is positive), padded with the most diverse
    of the rest."""
    fitness = np.asarray(fitness, dtype=np.float64)
    best = fitness.max()
    threshold = min_fraction * best if best > 0 else -np.inf
    banned = set(int(i) for i in exclude)
    order = np.argsort(-np.asarray(diversity, dtype=np.float64), kind="stable").tolist()
    eligible = [i for i in order if i not in banned and fitness[i] >= threshold]
    rest = [i for i in order if i not in banned and fitness[i] < threshold]
    return np.asarray((eligible + rest)[:n], dtype=np.int64)


def roulette_weights(
    fitness: np.ndarray, diversity: np.ndarray, floor: float = 0.1
) -> np.ndarray:
    """``fitness * (1 + diversity)`` min-max scaled to ``[floor, 1]`` (all ones if constant)."""
    score = np.asarray(fitness, dtype=np.float64) * (1.0 + np.asarray(diversity))
    span = score.max() - score.min()
    if span <= 0:
        return np.ones_like(score)
    return floor + (1.0 - floor) * (score - score.min()) / span


def roulette(
    weights: np.ndarray,
    n: int,
    rng: np.random.Generator,
    exclude: Sequence[int] = (),
) -> np.ndarray:
    """Draw ``n`` indices not in ``exclude``, proportional to ``weights``, without replacement
    (a bounded draw: never loops)."""
    weights = np.asarray(weights, dtype=np.float64)
    banned = np.zeros(weights.size, dtype=bool)
    banned[np.asarray(list(exclude), dtype=np.int64)] = True
    pool = np.flatnonzero(~banned)
    if n > pool.size:
        raise ValueError(f"roulette: cannot draw {n} of {pool.size} eligible candidates")
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    w = np.maximum(weights[pool], 0.0)
    if w.sum() <= 0 or np.count_nonzero(w) < n:
        w = w + 1e-12
    return rng.choice(pool, size=n, replace=False, p=w / w.sum()).astype(np.int64)


def select_population(
    x: np.ndarray,
    fitness: np.ndarray,
    size: int,
    n_elite: int,
    n_diverse: int,
    rng: np.random.Generator,
    *,
    ids: Sequence[object] | None = None,
    min_fraction: float = 0.1,
    roulette_floor: float = 0.1,
) -> np.ndarray:
    """Indices of the next population: ``[elites, diversity picks, roulette]`` (``size`` in
    all, distinct indices) from the candidates ``x`` (N, d) with ``fitness`` (N,)."""
    fitness = np.asarray(fitness, dtype=np.float64)
    if not 0 <= n_elite + n_diverse <= size <= fitness.size:
        raise ValueError(
            f"select_population: need n_elite + n_diverse <= size <= candidates, got "
            f"{n_elite} + {n_diverse}, {size}, {fitness.size}"
        )
    div = diversity_scores(x)
    elites = select_elites(fitness, n_elite, ids)
    diverse = select_diverse(fitness, div, n_diverse, elites, min_fraction)
    chosen = np.concatenate([elites, diverse])
    rest = roulette(roulette_weights(fitness, div, roulette_floor), size - chosen.size, rng, chosen)
    return np.concatenate([chosen, rest])
