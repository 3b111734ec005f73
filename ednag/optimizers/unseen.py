"""Architectures that were never evaluated: random ones (the climbers' shared start and
fallback), given ones without repeats, and those within a few decisions of given cells."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np

from ednag.spaces.base import Choices, SearchSpace


def random_unseen(
    space: SearchSpace,
    rng: np.random.Generator,
    n: int,
    unseen: Callable[[Choices], bool],
    tries_per_arch: int = 1_000,
    draw: Callable[[np.random.Generator], Choices] | None = None,
) -> list[Choices]:
    """Up to ``n`` distinct random architectures for which ``unseen(arch)`` holds, drawn with
    ``draw(rng)`` (``space.sample`` by default); fewer (possibly none) when
    ``n * tries_per_arch`` draws do not find them."""
    draw = space.sample if draw is None else draw
    out: list[Choices] = []
    keys: set[str] = set()
    for _ in range(tries_per_arch * n):
        if len(out) >= n:
            break
        arch = draw(rng)
        key = space.key(arch)
        if key not in keys and unseen(arch):
            keys.add(key)
            out.append(arch)
    return out


def distinct_unseen(
    space: SearchSpace,
    archs: Iterable[Choices | None],
    unseen: Callable[[Choices], bool],
    keys: set[str],
) -> list[Choices]:
    """The architectures of ``archs`` (``None``, an invalid decode, is skipped) for which
    ``unseen(arch)`` holds and whose key is not in ``keys``, each once, in order; their keys
    are added to ``keys``."""
    out: list[Choices] = []
    for arch in archs:
        if arch is None:
            continue
        key = space.key(arch)
        if key not in keys and unseen(arch):
            keys.add(key)
            out.append(arch)
    return out


def unseen_within(
    space: SearchSpace,
    parents: Iterable[Choices],
    radius: int,
    unseen: Callable[[Choices], bool],
    limit: int,
) -> list[Choices]:
    """The distinct architectures at most ``radius`` one-decision steps from one of
    ``parents`` for which ``unseen(arch)`` holds, nearer ones first (the one-step neighbours
    of every parent, in the parents' order, then the two-step ones, ...); at most ``limit`` of
    them (a space with many options per decision stops early)."""
    out: list[Choices] = []
    met: set[str] = set()
    frontier = list(parents)
    for _ in range(radius):
        step: list[Choices] = []
        for parent in frontier:
            for arch in space.neighbours(parent):
                key = space.key(arch)
                if key in met:
                    continue
                met.add(key)
                step.append(arch)
                if unseen(arch):
                    out.append(arch)
                    if len(out) >= limit:
                        return out
        frontier = step
    return out
