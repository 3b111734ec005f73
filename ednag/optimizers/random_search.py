"""Random search: uniform samples of the space, optionally never repeating an architecture."""

from __future__ import annotations

from ednag.optimizers.base import Optimizer
from ednag.spaces.base import Choices, SearchSpace

_MAX_REDRAWS = 10_000


class RandomSearch(Optimizer):
    """Uniformly random valid architectures, one per ask.

    With ``allow_repeats=True`` a re-drawn architecture is answered from the cache (a free
    repeat, logged) and sampling goes on; without it (default) repeats are skipped silently.

    >>> from ednag.spaces import make_space
    >>> opt = RandomSearch(make_space("nb201"), seed=0, max_queries=3)
    >>> while not opt.finished:
    ...     opt.tell([(arch, 1.0) for arch in opt.ask()])
    >>> opt.num_queries
    3
    """

    name = "random"

    def __init__(
        self,
        space: SearchSpace,
        seed: int = 0,
        max_queries: int | None = None,
        allow_repeats: bool = False,
    ) -> None:
        super().__init__(space, seed, max_queries)
        self.allow_repeats = bool(allow_repeats)

    def _propose(self, remaining: int | None) -> list[Choices]:
        for _ in range(_MAX_REDRAWS):
            choices = self.space.sample(self.rng)
            if self.is_pending(choices):
                continue
            cached = self.lookup(choices)
            if cached is None:
                return [choices]
            if self.allow_repeats:
                self._record_repeat(choices, cached)
        return self._first_unseen()  # almost the whole space is seen

    def _observe(self, results: list[tuple[Choices, float]]) -> None:
        return None
