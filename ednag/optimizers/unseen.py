"""Random architectures that were never evaluated: the shared start/fallback of the climbers."""

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
