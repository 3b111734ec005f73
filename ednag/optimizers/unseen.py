"""Random architectures that were never evaluated: the shared start/fallback of the climbers."""

from __future__ import annotations

from collections.abc import Callable

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
