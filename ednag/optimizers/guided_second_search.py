"""The second search of :class:`~ednag.optimizers.ednag_guided.GuidedEDNAG`.

After ``restart_rounds`` rounds in a row without a better result, once ``restart_after``
queries are told, a second search starts beside the first: it forgets every earlier query,
starts from random cells of its own, fits ``restart_predictor`` on its own queries only and
takes part of each round's picks (``restart_takes``), until any query beats the best before
the stall; it starts afresh after ``restart_patience`` stale rounds of its own. Meanwhile
one of the first search's stall-quota picks is the cell its model rates best near its best
cells (``restart_nearby``). A mixin: the host class holds the settings and runs the rounds
(:meth:`_search_round`, ...).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

from ednag.optimizers.unseen import unseen_within
from ednag.predictors.base import FAILED_BELOW
from ednag.spaces.base import Choices, SearchSpace

#: the second search: stale rounds in a row before it starts (``restart_rounds``), the
#: queries before which it never starts (``restart_after``: a stall before them is part of the
#: climb) and the predictor it fits (``restart_predictor``: Gaussian processes, nearly free on
#: its few queries). Screened on seeds 1000-1059, confirmed on seeds 0-99 (``docs/ednag.md``,
#: "A second search after a stall" and the two sections after it)
RESTART_ROUNDS = 6
RESTART_AFTER = 100
RESTART_PREDICTOR = "gp"
#: which of the first search's picks a running second search takes (``restart_takes``): the
#: round's picks outside the stall quota (``plain``: the first keeps only its quota), all of
#: the quota's but one (``quota``: the first keeps its plain picks and one of the quota) or
#: one plain pick (``one``: the first keeps the rest)
RESTART_TAKES: tuple[str, ...] = ("plain", "quota", "one")
#: while a second search runs, one of the first search's stall-quota picks is the unseen cell
#: its model rates best (predicted mean) within ``restart_nearby`` decisions of its
#: :data:`NEARBY_PARENTS` best cells (screened on seeds 1000-1059, 3000-3099 and 0-99:
#: ``docs/ednag.md``, "The first search's best guess near its best cells"), among at most
#: :data:`NEARBY_LIMIT` of them, the nearer first
RESTART_NEARBY = 2
NEARBY_PARENTS = 3
NEARBY_LIMIT = 5000


class SecondSearchRounds:
    """A second search beside the first after a stall, for a predictor-rounds search.

    ``restart_rounds`` (:data:`RESTART_ROUNDS`, 6; ``None``: off): once that many rounds in
    a row found nothing better, and at least ``restart_after`` (:data:`RESTART_AFTER`, 100)
    queries are told, a second search starts beside the first and takes each round's queries
    outside the stall quota (which the first search keeps): it forgets every earlier query
    (``num_init`` random queries of its own, then rounds like these on its own queries only,
    never asking a known architecture again) and starts afresh when it stalls as long
    itself; as soon as any query beats the best before the stall, one search goes on, on
    every query (``docs/ednag.md``, "A second search after a stall"). Before
    ``restart_after`` queries every query is the one search's, as without the second search
    (``restart_after=0``: the option as it was). ``restart_predictor``
    (:data:`RESTART_PREDICTOR`, ``"gp"``; ``None``: ``predictor``) is the predictor the
    second search fits (Gaussian processes cost almost nothing on its few queries; the
    ensemble's second search costs about 7 % more time over 500 queries). ``restart_takes``
    (one of :data:`RESTART_TAKES`, ``"plain"``) says which of the first search's picks the
    second takes: those outside its stall quota, or all of the quota's but one (at least one
    query), the first keeping its plain picks (``"quota"``: ``docs/ednag.md``, "Which picks
    the second search takes"), or one query, the first keeping the round's other picks
    (``"one"``). ``restart_patience`` (``None``: ``restart_rounds``) is how many stale
    rounds of its own a second search runs before it starts afresh. ``restart_nearby``
    (:data:`RESTART_NEARBY`, 2; ``None``: off): while a second search runs, one of the first
    search's stall-quota picks (the spread model's first; with a pool that has none, the
    pool's last) is instead the unseen cell the first search's model rates best, by its
    predicted mean, within that many decisions of the :data:`NEARBY_PARENTS` best cells: a
    first search stalled near a better cell it already rates high (ImageNet16-120's
    second-best cell, four decisions from the optimum) asks it without waiting for its
    Thompson draws or spread picks to meet it (``docs/ednag.md``, "The first search's best
    guess near its best cells").
    """

    space: SearchSpace
    history: list[tuple[Choices, float]]
    num_init: int
    _best_seen: float
    _stale_rounds: int
    #: an optimizer pickled before ``restart_rounds`` existed runs without a second search
    #: (one pickled before ``restart_after`` existed starts its second search as it did: at once)
    restart_rounds: int | None = None
    restart_after: int = 0
    restart_predictor: str | None = None
    restart_takes: str = "plain"
    #: ... and one pickled before ``restart_patience`` existed with ``restart_rounds`` there
    restart_patience: int | None = None
    #: ... and one pickled before ``restart_nearby`` existed without it
    restart_nearby: int | None = None
    #: the keys of the architectures the second search asked (``None``: none runs), its
    #: (best fitness, stale rounds), and how many have begun
    _restart_keys: set[str] | None = None
    _restart_progress: tuple[float, int] = (-np.inf, 0)
    restarts: int = 0

    def _restart_running(self) -> bool:
        """Whether a second search runs this round, starting or ending it first: it starts
        after ``restart_rounds`` stale rounds of the search on every query, once
        ``restart_after`` queries are told, and ends when any query beats that search's best
        (then the first search takes the whole round)."""
        if self.restart_rounds is None:
            return False
        if self._restart_keys is not None:
            if max(f for _, f in self.history) <= self._best_seen:
                return True
            self._restart_keys = None  # a better result: one search again, on every query
            return False
        if not self._restart_due(self._stale_rounds):
            return False
        self._start_restart()
        return True

    def _restart_due(self, stale_rounds: int) -> bool:
        """Whether a second search starts now, after ``stale_rounds`` rounds in a row without
        progress: at least ``restart_rounds`` of them, once ``restart_after`` queries are told
        (the rule of ``mo_ednag_guided``'s second search too)."""
        return stale_rounds >= self.restart_rounds and len(self.history) >= self.restart_after

    def _nearby_picks(self, model: Any, archive: list[tuple[float, Choices]],
                      taken: list[Choices]) -> list[Choices]:
        """The unseen architecture (not in ``taken``) ``model`` rates best by its predicted mean
        within ``restart_nearby`` decisions of the :data:`NEARBY_PARENTS` best of ``archive``
        (best first), as a one-element list; ``[]`` when there is none."""
        exclude = {self.space.key(a) for a in taken}
        cands = unseen_within(
            self.space, [a for _, a in archive[:NEARBY_PARENTS]], self.restart_nearby,
            lambda a: self.space.key(a) not in exclude and self._unseen(a), NEARBY_LIMIT)
        if not cands:
            return []
        mean, _ = model.predict(self.encoder(cands))
        return [cands[int(np.argmax(mean))]]

    def _start_restart(self) -> None:
        """A fresh second search: no query of its own yet, no best, no stale round."""
        self._restart_keys, self._restart_progress = set(), (-np.inf, 0)
        self.restarts += 1

    def _restart_round(self, k: int, taken: list[Choices]) -> list[Choices]:
        """``k`` unseen architectures (not in ``taken``) from the second search, on its own
        queries: random until it has ``num_init`` (two usable), then a round like the first
        search's with its own stall count; a fresh second search follows one that stalled
        ``restart_patience`` rounds (``None``: ``restart_rounds``)."""
        if k < 1:
            return []
        keys = self._restart_keys
        own = [(a, f) for a, f in self.history if self.space.key(a) in keys]
        exclude = {self.space.key(a) for a in taken}
        if len(own) < self.num_init or sum(f > FAILED_BELOW for _, f in own) < 2:
            picks = []
        else:
            picks, self._restart_progress = self._as_second(
                self._restart_progress, lambda: self._search_round(own, k))
        # its random start, or a pick the first search took: random ones
        picks = self._topped_up(picks, k, exclude)
        keys.update(self.space.key(a) for a in picks)
        patience = self.restart_rounds if self.restart_patience is None else self.restart_patience
        if self._restart_progress[1] >= patience:
            self._start_restart()  # it stalled ``patience`` rounds: start afresh
        return picks

    def _progress(self) -> tuple[Any, ...]:
        """The counters a round of the search updates (its stall quota and its second search
        read them): the best fitness so far and the stale rounds in a row."""
        return self._best_seen, self._stale_rounds

    def _set_progress(self, progress: tuple[Any, ...]) -> None:
        """Put back counters :meth:`_progress` returned."""
        self._best_seen, self._stale_rounds = progress

    def _as_second(self, progress: tuple[Any, ...], search_round: Callable[[], list[Choices]]
                   ) -> tuple[list[Choices], tuple[Any, ...]]:
        """``search_round()`` run as the second search: on its ``progress`` counters (as
        :meth:`_progress` returns them) and its predictor. Returns the picks and the counters
        the round left; the first search's counters are as they were."""
        first = self._progress()
        self._set_progress(progress)
        try:
            with self._second_predictor():
                picks = search_round()
        finally:
            progress = self._progress()
            self._set_progress(first)
        return picks, progress

    @contextmanager
    def _second_predictor(self) -> Iterator[None]:
        """While open, :meth:`_fit` fits ``restart_predictor`` (with its own defaults) instead
        of ``predictor``: the second search's models."""
        with self._predictor_kind(self.restart_predictor):
            stall, self.stall_predictor = self.stall_predictor, None  # its quota fits its kind
            try:
                yield
            finally:
                self.stall_predictor = stall

    def _topped_up(self, picks: list[Choices], k: int, exclude: set[str] | frozenset[str]
                   ) -> list[Choices]:
        """The first ``k`` of ``picks`` outside ``exclude``, topped up to ``k`` with random
        unseen architectures outside it (a second search's round)."""
        picks = [a for a in picks if self.space.key(a) not in exclude][:k]
        if len(picks) < k:
            skip = set(exclude) | {self.space.key(a) for a in picks}
            picks += [a for a in self._sample_unseen(k + len(skip))
                      if self.space.key(a) not in skip][: k - len(picks)]
        return picks
