"""A Ray Tune searcher that drives any ask/tell :class:`~ednag.optimizers.base.Optimizer`."""

from __future__ import annotations

from collections import deque
from typing import Any

from ednag.optimizers.base import Optimizer
from ednag.spaces.base import Choices
from searchers.base import FINISHED, ArchSearcher


class AskTellSearcher(ArchSearcher):
    """One architecture per ``suggest``, taken from a buffer of ``optimizer.ask()`` batches.

    ``suggest`` returns ``None`` at a generation barrier (``ask()`` gave nothing but results are
    pending) and ``FINISHED`` once ``optimizer.finished``. A whole batch may run at once: the
    only limit is ``max_concurrent`` (Tune's ``max_concurrent_trials``).

    >>> from ednag.optimizers import RandomSearch
    >>> from ednag.spaces import make_space
    >>> searcher = AskTellSearcher(RandomSearch(make_space("nb201"), seed=0, max_queries=2),
    ...                            metric="fitness", mode="max")
    >>> config = searcher.suggest("t1")
    >>> sorted(config)
    ['arch', 'generation']
    >>> searcher.on_trial_complete("t1", {"fitness": 0.5})
    """

    def __init__(
        self,
        optimizer: Optimizer,
        *,
        metric: str | None = None,
        mode: str | None = None,
        max_concurrent: int | None = None,
    ) -> None:
        if not isinstance(optimizer, Optimizer):
            raise TypeError(
                f"AskTellSearcher needs an ednag.optimizers.Optimizer, got {type(optimizer)!r}"
            )
        super().__init__(optimizer.space, metric=metric, mode=mode, max_concurrent=max_concurrent)
        self.optimizer = optimizer
        self._multi_objective = bool(getattr(optimizer, "multi_objective", False))
        #: asked but not yet handed out: (architecture, generation)
        self._buffer: deque[tuple[Choices, int | None]] = deque()
        #: space key -> generation of every architecture handed out and not yet told
        self._generations: dict[str, int | None] = {}

    # ------------------------------------------------------------------ ArchSearcher hooks
    def _propose(self) -> tuple[Choices, int | None] | str | None:
        if not self._buffer:
            if self.optimizer.finished:
                return FINISHED
            batch = self.optimizer.ask()
            generation = self.optimizer.generation
            self._buffer.extend((choices, generation) for choices in batch)
            if not self._buffer:
                return FINISHED if self.optimizer.finished else None
        choices, generation = self._buffer.popleft()
        self._generations[self.space.key(choices)] = generation
        return choices, generation

    def _is_outstanding(self, choices: Choices) -> bool:
        return self.optimizer.is_pending(choices)

    def _tell(self, choices: Choices, fitness: float) -> None:
        self._generations.pop(self.space.key(choices), None)
        self.optimizer.tell([(choices, fitness)])

    def _generation_of(self, choices: Choices) -> int | None:
        return self._generations.get(self.space.key(choices))

    def drain_repeats(self) -> list[tuple[str, float]]:
        for choices, fitness in self.optimizer.pop_repeats():
            self._log_repeat(choices, fitness)
        return super().drain_repeats()

    # ------------------------------------------------------------------ state
    def _state(self) -> dict[str, Any]:
        state = super()._state()
        state["optimizer"] = (type(self.optimizer), self.optimizer.state_dict())
        return state

    def _load_state(self, state: dict[str, Any]) -> None:
        state = dict(state)
        cls, optimizer_state = state.pop("optimizer")
        if not isinstance(self.optimizer, cls):
            raise ValueError(
                f"the saved state is for a {cls.__name__}, not a "
                f"{type(self.optimizer).__name__}"
            )
        self.optimizer.load_state_dict(optimizer_state)
        super()._load_state(state)

    def known_fitness(self, choices: Choices) -> float | None:
        """The fitness told for an evaluated architecture (``None`` if not evaluated)."""
        return self.optimizer.lookup(choices)

    @property
    def num_queries(self) -> int:
        return self.optimizer.num_queries
