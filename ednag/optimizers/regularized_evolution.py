"""Regularized (aging) evolution, Real et al. 2019, as in the NAS-Bench-201 paper."""

from __future__ import annotations

from collections import deque

import numpy as np

from ednag.optimizers.base import Optimizer
from ednag.spaces.base import Choices, SearchSpace

_MAX_TRIES = 1_000


class RegularizedEvolution(Optimizer):
    """Asynchronous aging evolution.

    The first ``population_size`` queries are random. Afterwards each ask samples
    ``tournament_size`` members of the population uniformly (without replacement), mutates one
    decision of the fittest, and each result joins the population while the oldest member
    leaves. A child that was already evaluated is a free repeat: it joins the population with
    its cached fitness (logged as a repeat) and the next child is bred.
    """

    name = "regularized_evolution"

    def __init__(
        self,
        space: SearchSpace,
        seed: int = 0,
        max_queries: int | None = None,
        population_size: int = 10,
        tournament_size: int = 3,
    ) -> None:
        super().__init__(space, seed, max_queries)
        if not isinstance(population_size, int) or population_size < 2:
            raise ValueError(f"population_size must be an int >= 2, got {population_size!r}")
        if not isinstance(tournament_size, int) or not 1 <= tournament_size <= population_size:
            raise ValueError(
                f"tournament_size must be an int in [1, population_size={population_size}], "
                f"got {tournament_size!r}"
            )
        self.population_size = population_size
        self.tournament_size = tournament_size
        self.population: deque[tuple[Choices, float]] = deque()
        self._random_asked = 0

    def _propose(self, remaining: int | None) -> list[Choices]:
        for _ in range(_MAX_TRIES):
            if self._random_asked < self.population_size:
                child = self.space.sample(self.rng)
                if self.lookup(child) is not None or self.is_pending(child):
                    continue
                self._random_asked += 1
                return [child]
            if not self.population:
                return []  # wait for the initial members
            idx = self.rng.choice(
                len(self.population),
                size=min(self.tournament_size, len(self.population)),
                replace=False,
            )
            parent = self._winner(idx)
            child = self.space.mutate(parent, self.rng)
            if self.is_pending(child):
                continue
            cached = self.lookup(child)
            if cached is None:
                return [child]
            self._record_repeat(child, cached)
            self._add(child, cached)
        return self._first_unseen()  # the neighbourhood is exhausted

    def _winner(self, idx: np.ndarray) -> Choices:
        """The tournament winner among the population members ``idx``: the fittest."""
        return max((self.population[i] for i in idx), key=lambda m: m[1])[0]

    def _add(self, choices: Choices, fitness: float) -> None:
        self.population.append((choices, fitness))
        while len(self.population) > self.population_size:
            self.population.popleft()

    def _observe(self, results: list[tuple[Choices, float]]) -> None:
        for choices, fitness in results:
            self._add(choices, fitness)

    def _observe_external(self, results: list[tuple[Choices, float]]) -> None:
        self._observe(results)  # known points join the population like evaluated children
