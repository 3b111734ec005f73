"""The ask/tell contract every optimizer implements, with honest query accounting.

A *query* is one distinct architecture (by ``space.key``) evaluated. The base class owns the
fitness cache, the pending set and the budget, so no subclass can spend a query twice or
overrun its budget:

* :meth:`Optimizer.ask` returns architectures that were never evaluated and are not pending;
  each one is one query. An empty list means "wait for pending results" (a generation
  barrier) or, when :attr:`Optimizer.finished`, the end of the run.
* :meth:`Optimizer.tell` takes ``(choices, fitness)`` pairs; a NaN or infinite fitness (a
  failed evaluation) is stored as :data:`WORST_FITNESS`.
* Architectures an algorithm re-visits are answered from the cache by :meth:`lookup` at no
  cost; a subclass reports them with :meth:`_record_repeat` so that harnesses can log them.

Fitness is always maximised; adapters negate a metric that is minimised.
"""

from __future__ import annotations

import copy
import math
from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any

import numpy as np

from ednag.optimizers.unseen import random_unseen
from ednag.spaces.base import Choices, SearchSpace

WORST_FITNESS = -1e12  # a failed evaluation: below anything a real metric reaches


class BudgetError(ValueError):
    """A bad ``max_queries`` value or a tell that does not match an ask."""


class Optimizer(ABC):
    """Base class: subclasses implement :meth:`_propose` and :meth:`_observe`."""

    #: registry name, set by subclasses
    name: str = "optimizer"

    def __init__(
        self, space: SearchSpace, seed: int = 0, max_queries: int | None = None
    ) -> None:
        if max_queries is not None and (
            isinstance(max_queries, bool) or not isinstance(max_queries, int) or max_queries < 1
        ):
            raise BudgetError(f"max_queries must be a positive int or None, got {max_queries!r}")
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
            raise BudgetError(f"seed must be an int, got {seed!r}")
        self.space = space
        self.seed = int(seed)
        self.max_queries = max_queries
        self.rng = np.random.default_rng(self.seed)
        self._cache: dict[str, float] = {}
        self._pending: dict[str, Choices] = {}
        self._repeats: list[tuple[Choices, float]] = []
        self._exhausted = False
        self._best: tuple[Choices, float] | None = None
        #: generation counter for population methods (``None`` for streaming methods)
        self.generation: int | None = None

    # ------------------------------------------------------------------ accounting
    @property
    def num_queries(self) -> int:
        """Distinct architectures evaluated so far (the budget spent)."""
        return len(self._cache)

    @property
    def num_pending(self) -> int:
        return len(self._pending)

    @property
    def remaining(self) -> int | None:
        """Queries that may still be asked, or ``None`` without a budget."""
        if self.max_queries is None:
            return None
        return max(0, self.max_queries - self.num_queries - self.num_pending)

    @property
    def finished(self) -> bool:
        """True once the budget is spent (or the space exhausted) and nothing is pending."""
        if self._pending:
            return False
        if self.max_queries is not None and self.num_queries >= self.max_queries:
            return True
        return self._exhausted

    def lookup(self, choices: Choices) -> float | None:
        """Cached fitness of an evaluated architecture, else ``None`` (costs nothing)."""
        return self._cache.get(self.space.key(choices))

    def is_pending(self, choices: Choices) -> bool:
        return self.space.key(choices) in self._pending

    def best(self) -> tuple[Choices, float] | None:
        """The best architecture evaluated so far and its fitness."""
        return self._best

    # ------------------------------------------------------------------ ask / tell
    def ask(self) -> list[Choices]:
        """New architectures to evaluate now (each one query); ``[]`` = wait or finished."""
        if self.finished:
            return []
        remaining = self.remaining
        if remaining == 0:
            return []
        proposed = self._propose(remaining)
        out: list[Choices] = []
        for choices in proposed:
            key = self.space.key(choices)
            if key in self._cache or key in self._pending:
                raise RuntimeError(
                    f"{type(self).__name__} proposed {self.space.to_native(choices)!r}, which "
                    "is already evaluated or pending; use lookup() for repeats"
                )
            self._pending[key] = choices
            out.append(choices)
            if remaining is not None and len(out) >= remaining:
                break
        if not out and not self._pending:
            # nothing new to propose and nothing to wait for: the search is over
            self._exhausted = True
        return out

    def tell(self, results: Sequence[tuple[Choices, float]]) -> None:
        """Report fitness for architectures returned by :meth:`ask`."""
        clean: list[tuple[Choices, float]] = []
        for choices, fitness in results:
            key = self.space.key(choices)
            if key not in self._pending:
                raise BudgetError(
                    f"tell() got {self.space.to_native(choices)!r}, which was not asked "
                    "(or was already told)"
                )
            del self._pending[key]
            clean.append((choices, self._record(key, choices, fitness)))
        if clean:
            self._observe(clean)

    def _record(self, key: str, choices: Choices, fitness: float | None) -> float:
        """Cache one result (NaN/inf/None -> WORST_FITNESS) and keep the best; the value."""
        value = float(fitness) if fitness is not None else math.nan
        if not math.isfinite(value):
            value = WORST_FITNESS
        self._cache[key] = value
        if self._best is None or value > self._best[1]:
            self._best = (choices, value)
        return value

    def reserve(self, choices: Choices) -> bool:
        """Hold an architecture that is evaluated outside :meth:`ask` (a user's
        ``points_to_evaluate``) as pending until :meth:`tell_external` brings its result: it
        counts against the budget and is never proposed meanwhile. ``False`` (nothing held)
        when it is evaluated or pending already, or no query is left."""
        key = self.space.key(choices)
        if key in self._cache or key in self._pending or self.remaining == 0:
            return False
        self._pending[key] = choices
        self._reserved = self._reserved | {key}
        return True

    def is_reserved(self, choices: Choices) -> bool:
        """Whether :meth:`reserve` holds ``choices`` (its result not yet told)."""
        return self.space.key(choices) in self._reserved

    #: keys held by :meth:`reserve` (a class default, so states pickled before it load)
    _reserved: frozenset[str] = frozenset()

    def tell_external(self, results: Sequence[tuple[Choices, float]]) -> None:
        """Results of architectures evaluated outside :meth:`ask` (a user's
        ``points_to_evaluate``, known rewards): each new or :meth:`reserve`-held key joins the
        cache as a query and is never proposed again; repeats and other pending keys are
        ignored."""
        clean: list[tuple[Choices, float]] = []
        for choices, fitness in results:
            key = self.space.key(choices)
            if key in self._reserved:
                del self._pending[key]
                self._reserved = self._reserved - {key}
            elif key in self._cache or key in self._pending:
                continue
            clean.append((choices, self._record(key, choices, fitness)))
        if clean:
            self._observe_external(clean)

    def _observe_external(self, results: list[tuple[Choices, float]]) -> None:  # noqa: B027
        """Hook for :meth:`tell_external` results (default: only the cache knows them)."""

    def _unseen(self, choices: Choices) -> bool:
        """Neither evaluated nor pending: asking it would be a new query."""
        return self.lookup(choices) is None and not self.is_pending(choices)

    def _first_unseen(self) -> list[Choices]:
        """The first architecture (in enumeration order) neither evaluated nor pending, as a
        one-element list; ``[]`` when the space is exhausted. A fallback for algorithms whose
        own proposals keep landing on known architectures."""
        for choices in self.space.enumerate():
            if self._unseen(choices):
                return [choices]
        return []

    def _sample_unseen(self, n: int) -> list[Choices]:
        """Up to ``n`` distinct random unseen architectures (``space.sample``), or the first
        unseen one when random draws find none."""
        return random_unseen(self.space, self.rng, n, self._unseen) or self._first_unseen()

    def pop_repeats(self) -> list[tuple[Choices, float]]:
        """Members the algorithm re-visited since the last call, answered from the cache."""
        out, self._repeats = self._repeats, []
        return out

    def _record_repeat(self, choices: Choices, fitness: float) -> None:
        self._repeats.append((choices, fitness))

    # ------------------------------------------------------------------ to implement
    @abstractmethod
    def _propose(self, remaining: int | None) -> list[Choices]:
        """Architectures to query now: never cached or pending (check with :meth:`lookup`
        and :meth:`is_pending`); at most ``remaining`` are used. Return ``[]`` to wait."""

    @abstractmethod
    def _observe(self, results: list[tuple[Choices, float]]) -> None:
        """Results of earlier proposals (failed ones carry :data:`WORST_FITNESS`)."""

    # ------------------------------------------------------------------ state
    #: attributes that are configuration, not state: shared by snapshots, never copied
    _shared_state: tuple[str, ...] = ("space",)

    def state_dict(self) -> dict[str, Any]:
        """Everything needed to continue this run exactly: a deep copy (RNG included), so
        the snapshot never changes when the optimizer goes on; picklable."""
        shared = {k: v for k, v in self.__dict__.items() if k in self._shared_state}
        rest = {k: v for k, v in self.__dict__.items() if k not in self._shared_state}
        return {**copy.deepcopy(rest), **shared}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Continue from a :meth:`state_dict` snapshot (copied: the snapshot stays usable)."""
        shared = {k: v for k, v in state.items() if k in self._shared_state}
        rest = {k: v for k, v in state.items() if k not in self._shared_state}
        self.__dict__.update(copy.deepcopy(rest))
        self.__dict__.update(shared)
