"""The round structure shared by the predictor-based optimizers (``bananas``, ``ednag_guided``).

``num_init`` random queries first (and more random ones while fewer than two usable results
exist), then rounds: :meth:`PredictorRounds._round` chooses ``batch_size`` unseen architectures
from a model fitted on every result so far, and the next round waits until all of them are told.
"""

from __future__ import annotations

from abc import abstractmethod

import numpy as np

from ednag.checks import int_at_least
from ednag.optimizers.base import Optimizer
from ednag.predictors import usable
from ednag.predictors.base import FAILED_BELOW
from ednag.spaces.base import Choices, SearchSpace


class PredictorRounds(Optimizer):
    """Base class: subclasses implement :meth:`_round`."""

    def __init__(self, space: SearchSpace, seed: int, max_queries: int | None,
                 num_init: int, batch_size: int) -> None:
        super().__init__(space, seed, max_queries)
        for name, value in (("num_init", num_init), ("batch_size", batch_size)):
            int_at_least(name, value, 1)
        self.num_init = num_init
        self.batch_size = batch_size
        #: every evaluated architecture and its fitness, in order
        self.history: list[tuple[Choices, float]] = []
        self._waiting: set[str] = set()

    def _propose(self, remaining: int | None) -> list[Choices]:
        if self._waiting:
            return []
        k = self.batch_size if remaining is None else min(self.batch_size, remaining)
        fitness = np.array([f for _, f in self.history], dtype=np.float64)
        if len(self.history) < self.num_init:
            n = self.num_init - len(self.history)
            batch = self._sample_unseen(n if remaining is None else min(n, remaining))
        elif int(usable(fitness).sum()) < 2:  # nothing to learn from yet: keep sampling
            batch = self._sample_unseen(k)
        else:
            batch = self._round(k) or self._sample_unseen(1)
        self._waiting = {self.space.key(c) for c in batch}
        return batch

    def _observe(self, results: list[tuple[Choices, float]]) -> None:
        for choices, fitness in results:
            self._waiting.discard(self.space.key(choices))
            self.history.append((choices, fitness))

    def _best_evaluated(self, n: int,
                        history: list[tuple[Choices, float]] | None = None) -> list[Choices]:
        """The ``n`` architectures of ``history`` (:attr:`history` by default) with the highest
        fitness, best first (failures left out; ties: the earlier)."""
        ranked = sorted((item for item in (self.history if history is None else history)
                         if item[1] > FAILED_BELOW), key=lambda item: -item[1])
        return [a for a, _ in ranked[:n]]

    @abstractmethod
    def _round(self, k: int) -> list[Choices]:
        """Refit on :attr:`history` and return up to ``k`` distinct unseen architectures."""
