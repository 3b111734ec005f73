"""De-duplication for third-party searchers whose suggestions repeat architectures.

A searcher such as Optuna's TPE knows nothing of the budget in *distinct* architectures: in a
finite space it proposes the same architecture again and again. :class:`DedupeSearcher` sits
between it and Tune:

* a repeat of an evaluated architecture (same ``space.key``) is answered from the cache without
  a trial: the inner searcher is told the cached fitness at once, and the repeat is logged for
  :meth:`~searchers.base.ArchSearcher.drain_repeats`;
* a repeat of an architecture still being evaluated waits, and is told with that result;
* a proposal that is not a valid architecture costs no query and is told to the inner searcher
  as a trial without a result (Optuna records ``PRUNED``, which its TPE ranks below every
  completed trial, so it learns to avoid such points; e.g. all-``skip`` NAS-Bench-Graph
  architectures); a failed evaluation is a failed trial (Optuna records ``FAIL``), never a huge
  negative value;
* ``max_queries`` distinct architectures end the run with ``FINISHED``; so does a run of
  ``max_consecutive_repeats`` proposals in a row that cost no query (a logged warning, never a
  spin).

The inner searcher must be fully built (its own space, ``metric=INNER_METRIC``,
``mode="max"``): it is told the maximised fitness, whatever this wrapper's metric and mode.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from ray.tune.search import Searcher

from ednag.optimizers.base import WORST_FITNESS
from ednag.spaces.base import Choices, SearchSpace, SpaceError
from searchers.base import FINISHED, ArchSearcher

logger = logging.getLogger(__name__)

#: the metric the inner searcher maximises
INNER_METRIC = "fitness"

Decoder = Callable[[dict[str, Any]], Choices]


class DedupeSearcher(ArchSearcher):
    """Wrap ``inner`` (a Tune ``Searcher``); ``decode`` maps its config to choices."""

    def __init__(
        self,
        inner: Searcher,
        space: SearchSpace,
        decode: Decoder,
        *,
        max_queries: int | None,
        metric: str | None = None,
        mode: str | None = None,
        max_concurrent: int | None = None,
        max_consecutive_repeats: int = 500,
    ) -> None:
        if not isinstance(inner, Searcher):
            raise TypeError(f"DedupeSearcher wraps a ray.tune Searcher, got {type(inner)!r}")
        for name, value in (
            ("max_queries", max_queries),
            ("max_consecutive_repeats", max_consecutive_repeats),
        ):
            if name == "max_queries" and value is None:
                continue
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive int, got {value!r}")
        super().__init__(space, metric=metric, mode=mode, max_concurrent=max_concurrent)
        self.inner = inner
        self.decode = decode
        self.max_queries = max_queries
        self.max_consecutive_repeats = max_consecutive_repeats
        #: space key -> fitness of every evaluated architecture (one query each)
        self._cache: dict[str, float] = {}
        #: space key -> inner trial id, for architectures being evaluated
        self._in_flight: dict[str, str] = {}
        #: space key -> inner trial ids of repeats waiting for an in-flight result
        self._waiting: dict[str, list[tuple[str, Choices]]] = {}
        self._inner_count = 0
        self._consecutive_free = 0
        self._stopped = False  # the inner searcher finished, or repeats ran away
        #: proposals that were not valid architectures (told the worst fitness, no query)
        self.num_invalid = 0

    @property
    def num_queries(self) -> int:
        """Distinct architectures evaluated so far."""
        return len(self._cache)

    # ------------------------------------------------------------------ ArchSearcher hooks
    def _propose(self) -> tuple[Choices, int | None] | str | None:
        while not self._over():
            if self._consecutive_free >= self.max_consecutive_repeats:
                logger.warning(
                    "%s: %d proposals in a row were repeats or invalid; stopping after %d "
                    "distinct queries of %s",
                    type(self.inner).__name__,
                    self._consecutive_free,
                    len(self._cache) + len(self._in_flight),
                    self.max_queries,
                )
                self._stopped = True
                break
            inner_id = f"dedupe_{self._inner_count}"
            config = self.inner.suggest(inner_id)
            if config is None:
                return None
            if config == FINISHED:
                self._stopped = True
                break
            self._inner_count += 1
            choices = self._decode(config)
            if choices is None:
                self.num_invalid += 1
                self._consecutive_free += 1
                # pruned, not failed: Optuna's TPE learns from pruned trials (it ranks them
                # below every completed one) and ignores failed ones
                self.inner.on_trial_complete(inner_id, result=None, error=False)
                continue
            key = self.space.key(choices)
            if key in self._cache:
                self._consecutive_free += 1
                self._log_repeat(choices, self._cache[key])
                self._tell_inner(inner_id, self._cache[key])
                continue
            if key in self._in_flight:
                self._consecutive_free += 1
                self._waiting.setdefault(key, []).append((inner_id, choices))
                continue
            self._consecutive_free = 0
            self._in_flight[key] = inner_id
            return choices, None
        return None if self._in_flight else FINISHED

    def _over(self) -> bool:
        if self._stopped:
            return True
        spent = len(self._cache) + len(self._in_flight)
        return self.max_queries is not None and spent >= self.max_queries

    def _decode(self, config: dict[str, Any]) -> Choices | None:
        """The inner config as a valid architecture, or ``None`` for an invalid one."""
        try:
            choices = self.space.check(self.decode(config))
        except SpaceError as exc:
            raise ValueError(
                f"{type(self.inner).__name__} suggested {config!r}, which is not an "
                f"architecture of {self.space.name}: {exc}"
            ) from exc
        return choices if self.space.is_valid(choices) else None

    def _is_outstanding(self, choices: Choices) -> bool:
        return self.space.key(choices) in self._in_flight

    def _tell(self, choices: Choices, fitness: float) -> None:
        key = self.space.key(choices)
        inner_id = self._in_flight.pop(key)
        self._cache[key] = fitness
        self._tell_inner(inner_id, fitness)
        for waiting_id, waiting_choices in self._waiting.pop(key, []):
            self._log_repeat(waiting_choices, fitness)
            self._tell_inner(waiting_id, fitness)

    def _tell_inner(self, inner_id: str, fitness: float) -> None:
        """Tell the inner searcher; a failure as a failed trial (Optuna records ``FAIL``),
        never as a huge negative completed value."""
        if fitness <= WORST_FITNESS:
            self.inner.on_trial_complete(inner_id, result=None, error=True)
        else:
            self.inner.on_trial_complete(inner_id, result={INNER_METRIC: fitness}, error=False)

    def known_fitness(self, choices: Choices) -> float | None:
        """The fitness told for an evaluated architecture (``None`` if not evaluated)."""
        return self._cache.get(self.space.key(choices))
