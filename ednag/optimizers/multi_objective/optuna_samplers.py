"""Optuna samplers that survive pickling and deep copies, and that know their search space.

Optuna 5.1's genetic samplers (``NSGAIISampler``) hold a ``threading.Lock`` and define no
``__getstate__``, so a study using one cannot be deep-copied (our snapshots) or pickled (Tune's
searcher checkpoints). The subclass here leaves the lock out of its state and makes a new one
when restored; sampling is unchanged.

Optuna's samplers find their relative search space as the intersection of the distributions of
every finished trial, recomputed over all trials since the oldest running one at each ask; with
the repeats of a finite space (each one a trial) that made a run quadratic in its proposals
(64 architectures of a test space: 1,780 asks, 90 s). Every trial here has the same
distributions, so :class:`FixedSearchSpace` returns what that intersection is, at once.
Imported only when such an optimizer is built.
"""

from __future__ import annotations

import copy
import threading
from typing import Any

import optuna
from optuna.distributions import BaseDistribution
from optuna.trial import TrialState


class FixedSearchSpace:
    """Stands in for ``optuna.search_space.IntersectionSearchSpace`` when every trial of the
    study uses ``distributions``: empty until a trial has finished (``COMPLETE``, and with
    ``include_pruned`` ``PRUNED``), then ``distributions`` sorted by name, as Optuna returns it."""

    def __init__(self, distributions: dict[str, BaseDistribution],
                 include_pruned: bool) -> None:
        self._space = dict(sorted(distributions.items(), key=lambda item: item[0]))
        self._states = ((TrialState.COMPLETE, TrialState.PRUNED) if include_pruned
                        else (TrialState.COMPLETE,))
        self._any_finished = False

    def calculate(self, study: optuna.Study, use_cache: bool = False) -> dict[str, Any]:  # noqa: ARG002
        if not self._any_finished:
            self._any_finished = bool(study.get_trials(deepcopy=False, states=self._states))
        return copy.deepcopy(self._space) if self._any_finished else {}


class PicklableNSGAIISampler(optuna.samplers.NSGAIISampler):
    """``NSGAIISampler`` whose state leaves out its thread lock (a fresh one on restore), with
    the :class:`FixedSearchSpace` of ``distributions``."""

    def __init__(self, distributions: dict[str, BaseDistribution], **params: Any) -> None:
        super().__init__(**params)
        self._search_space = FixedSearchSpace(distributions, include_pruned=False)

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state.pop("_thread_lock", None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._thread_lock = threading.Lock()


class FixedSpaceTPESampler(optuna.samplers.TPESampler):
    """``TPESampler`` with the :class:`FixedSearchSpace` of ``distributions`` (Optuna's TPE
    counts pruned trials in its intersection)."""

    def __init__(self, distributions: dict[str, BaseDistribution], **params: Any) -> None:
        super().__init__(**params)
        self._search_space = FixedSearchSpace(distributions, include_pruned=True)
