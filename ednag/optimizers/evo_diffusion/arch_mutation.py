"""The corrector's mutation of *decoded* architectures: one-decision moves, re-encoded.

Polynomial mutation perturbs a member's continuous encoding; a member only changes
architecture when a row's argmax flips. This corrector works on the decoded architecture
instead: with probability ``rate`` a member is replaced by the encoding of a one-decision
mutation (``space.mutate``) of a *parent*, which is the member's own decoded architecture
(``member``) or the winner of a tournament among the population or the archive of the best
evaluated architectures. It is what gives regularized evolution its local-search strength.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from ednag.spaces.base import Choices

ARCH_MUTATION_PARENTS: tuple[str, ...] = ("member", "population", "archive")


def tournament(fitness: Sequence[float], size: int, rng: np.random.Generator) -> int:
    """Index of the fittest of ``min(size, n)`` candidates drawn uniformly without
    replacement (ties: the first drawn)."""
    f = np.asarray(fitness, dtype=np.float64)
    if f.size == 0:
        raise ValueError("tournament: no candidates")
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < 1:
        raise ValueError(f"tournament: size must be an int >= 1, got {size!r}")
    drawn = rng.choice(f.size, size=min(int(size), f.size), replace=False)
    return int(drawn[int(np.argmax(f[drawn]))])


def novel_mutation(
    parent: Choices,
    mutate: Callable[[Choices, np.random.Generator], Choices],
    is_known: Callable[[Choices], bool],
    rng: np.random.Generator,
    tries: int,
) -> Choices:
    """``mutate(parent)``, redrawn up to ``tries`` times while the child ``is_known``
    (the last draw is returned when every one is known)."""
    child = mutate(parent, rng)
    for _ in range(max(tries, 0)):
        if not is_known(child):
            break
        child = mutate(parent, rng)
    return child


def mutate_decoded(
    archs: Sequence[Choices | None],
    rng: np.random.Generator,
    rate: float,
    pick_parent: Callable[[int], Choices | None],
    make_child: Callable[[Choices], Choices],
) -> dict[int, Choices]:
    """Members (index -> new architecture) replaced by a child of ``pick_parent(index)``.

    Each member is chosen with probability ``rate`` (one uniform draw per member, in order);
    a chosen member whose parent is ``None`` (e.g. an invalid decoded member) is kept.
    """
    chosen = rng.random(len(archs)) < rate
    out: dict[int, Choices] = {}
    for i in np.flatnonzero(chosen).tolist():
        parent = pick_parent(i)
        if parent is not None:
            out[i] = make_child(parent)
    return out
