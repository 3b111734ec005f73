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

Independent TPE (Optuna's choice with several objectives) then still split every earlier trial
into its good and bad sets once per decision of each ask, and read every trial's parameters
again each time: a profiled NAS-Bench-Macro run spent 80 % of its time there.
:class:`FixedSpaceTPESampler` splits once per ask and reads each trial's parameters once,
proposing the same architectures (tested against Optuna's own sampler;
``bench/mo_tpe_speed.py`` times the two). Imported only when such an optimizer is built.
"""

from __future__ import annotations

import copy
import threading
from typing import Any

import numpy as np
import optuna
from optuna.distributions import BaseDistribution
from optuna.study import Study
from optuna.trial import FrozenTrial, TrialState

try:  # Optuna's private TPE helpers, as in the Optuna 5 the shortcut below was tested on
    from optuna.samplers._tpe.sampler import (
        _get_infeasible_trial_score,
        _split_complete_trials,
        _split_infeasible_trials,
        _split_pruned_trials,
        default_gamma,
        default_gamma_multiobjective,
    )

    #: whether :class:`FixedSpaceTPESampler` splits once per ask (else Optuna's own path)
    ONE_SPLIT_PER_ASK = optuna.__version__.split(".")[0] == "5"
except ImportError:  # another Optuna: its own path, unchanged
    ONE_SPLIT_PER_ASK = False


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
    counts pruned trials in its intersection), and the work of one ask done once.

    Optuna's ``_sample`` runs once per decision with independent TPE; every run of one ask sees
    the same trials, so their split into the good and bad sets is kept for the ask (keyed by
    the asking trial's number), and each finished
    trial's internal parameter values are read once for the study's life. Each estimator,
    candidate draw and acquisition is Optuna's, in Optuna's order, so the proposals are the
    same. Trials that lack a parameter take Optuna's own path, and so does every ask with an
    Optuna other than 5 (:data:`ONE_SPLIT_PER_ASK`), whose private helpers may differ."""

    def __init__(self, distributions: dict[str, BaseDistribution], **params: Any) -> None:
        super().__init__(**params)
        self._search_space = FixedSearchSpace(distributions, include_pruned=True)
        self._distributions = dict(distributions)
        self._clear_caches()

    def _clear_caches(self) -> None:
        self._split_key: int | None = None  # the number of the trial the split was made for
        self._split: tuple[list[FrozenTrial], list[FrozenTrial]] = ([], [])
        self._split_observed: list[dict[str, np.ndarray] | None] = [None, None]
        self._rows: dict[int, tuple[float, ...] | None] = {}  # trial number -> internal values
        self._violations: dict[int, float] = {}  # finished trial number -> its violation

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        for name in ("_split_key", "_split", "_split_observed", "_rows", "_violations"):
            state.pop(name)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._clear_caches()

    def sample_independent(self, study: Study, trial: FrozenTrial, param_name: str,
                           param_distribution: BaseDistribution) -> Any:
        if (ONE_SPLIT_PER_ASK and trial.number == self._split_key
                and not self._is_multivariate(study)):
            # a later decision of an ask already past the random start: no need to count
            return self._sample(study, trial, {param_name: param_distribution})[param_name]
        return super().sample_independent(study, trial, param_name, param_distribution)

    def _sample(self, study: Study, trial: FrozenTrial,
                search_space: dict[str, BaseDistribution]) -> dict[str, Any]:
        if not ONE_SPLIT_PER_ASK:
            return super()._sample(study, trial, search_space)
        if trial.number != self._split_key:
            liar = self._constant_liar  # running trials join the bad set, as in Optuna
            states = ((TrialState.COMPLETE, TrialState.PRUNED, TrialState.RUNNING) if liar
                      else (TrialState.COMPLETE, TrialState.PRUNED))
            trials = study._get_trials(deepcopy=False, states=states, use_cache=not liar)
            if liar:
                trials = [t for t in trials if t.number != trial.number]
            if self._gamma is None:
                self._gamma = (default_gamma if len(study.directions) <= 1
                               else default_gamma_multiobjective)
            n = sum(t.state != TrialState.RUNNING for t in trials)
            self._split = self._split_trials(study, trials, self._gamma(n))
            self._split_observed = [None, None]
            self._split_key = trial.number
        below, above = self._split
        mpe_below = self._build_parzen_estimator(study, search_space, below, handle_below=True)
        mpe_above = self._build_parzen_estimator(study, search_space, above, handle_below=False)
        samples = mpe_below.sample(self._rng.rng, self._n_ei_candidates)
        best = self._compare(samples, self._compute_acquisition_func(samples, mpe_below,
                                                                     mpe_above))
        return {name: dist.to_external_repr(best[name]) for name, dist in search_space.items()}

    def _split_trials(self, study: Study, trials: list[FrozenTrial],
                      n_below: int) -> tuple[list[FrozenTrial], list[FrozenTrial]]:
        """Optuna's split into the good and the bad set (``_split_trials``: the best finished
        trials by non-domination rank and hypervolume, then pruned, then infeasible ones by
        their violation; running trials are bad), each trial's violation read once."""
        complete, pruned, infeasible, running = [], [], [], []
        for t in trials:
            if t.state == TrialState.RUNNING:  # before the violation: it has none yet
                running.append(t)
            elif self._violation(t) > 0:
                infeasible.append(t)
            elif t.state == TrialState.COMPLETE:
                complete.append(t)
            else:
                pruned.append(t)
        below, above = _split_complete_trials(complete, study, n_below)
        n_below = max(0, n_below - len(below))
        below_pruned, above_pruned = _split_pruned_trials(pruned, study, n_below)
        n_below = max(0, n_below - len(below_pruned))
        below_infeasible, above_infeasible = _split_infeasible_trials(infeasible, n_below)
        below = below + below_pruned + below_infeasible
        above = above + above_pruned + above_infeasible + running
        below.sort(key=lambda t: t.number)
        above.sort(key=lambda t: t.number)
        return below, above

    def _violation(self, trial: FrozenTrial) -> float:
        if trial.number not in self._violations:
            self._violations[trial.number] = _get_infeasible_trial_score(trial)
        return self._violations[trial.number]

    def _get_internal_repr(self, trials: list[FrozenTrial],
                           search_space: dict[str, BaseDistribution],
                           study: Study) -> dict[str, np.ndarray]:
        if not ONE_SPLIT_PER_ASK or any(self._distributions.get(name) != dist
                                        for name, dist in search_space.items()):
            return super()._get_internal_repr(trials, search_space, study)
        part = next((i for i, p in enumerate(self._split) if p is trials), None)
        if part is None:
            observed = self._observations(trials, study)
        else:  # the good or the bad set of this ask: read once for all its decisions
            if self._split_observed[part] is None:
                self._split_observed[part] = self._observations(trials, study)
            observed = self._split_observed[part]
        if observed is None:
            return super()._get_internal_repr(trials, search_space, study)
        return {name: observed[name] for name in search_space}

    def _observations(self, trials: list[FrozenTrial],
                      study: Study) -> dict[str, np.ndarray] | None:
        """Every distribution's internal values over ``trials``, or None when a trial lacks
        one (then Optuna leaves that trial out, decision by decision)."""
        rows = [self._row(t, study) for t in trials]
        if any(row is None for row in rows):
            return None
        columns = list(zip(*rows, strict=True)) if rows else [()] * len(self._distributions)
        return {name: np.asarray(column)
                for name, column in zip(self._distributions, columns, strict=True)}

    def _row(self, trial: FrozenTrial, study: Study) -> tuple[float, ...] | None:
        """``trial``'s internal values of every distribution in order, or None when it lacks
        one; kept for finished trials, whose parameters no longer change."""
        if not trial.state.is_finished():
            return self._internal(self._get_params(trial, study))
        if trial.number not in self._rows:
            self._rows[trial.number] = self._internal(self._get_params(trial, study))
        return self._rows[trial.number]

    def _internal(self, params: dict[str, Any]) -> tuple[float, ...] | None:
        if not self._distributions.keys() <= params.keys():
            return None
        return tuple(dist.to_internal_repr(params[name])
                     for name, dist in self._distributions.items())
