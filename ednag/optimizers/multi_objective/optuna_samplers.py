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
:class:`FixedSpaceTPESampler` splits once per ask and reads each trial's parameters once.
With several objectives on categorical decisions it goes further and computes each ask from
counts (:mod:`.tpe_counts`): a few passes over a table of the trials and work in proportion to
the good set, instead of one kernel per trial for every candidate of every decision.
Either way it proposes the same architectures as Optuna's own sampler (tested ask by ask;
``bench/mo_tpe_speed.py`` times the two). Imported only when such an optimizer is built.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable
from typing import Any

import numpy as np
import optuna
from optuna.distributions import BaseDistribution
from optuna.study import Study
from optuna.trial import FrozenTrial, TrialState

from ednag.optimizers.multi_objective import tpe_counts

try:  # Optuna's private TPE helpers, as in the Optuna 5 the shortcut below was tested on
    from optuna._hypervolume.hssp import _solve_hssp
    from optuna.samplers._tpe.parzen_estimator import _ParzenEstimator
    from optuna.samplers._tpe.sampler import (
        _get_infeasible_trial_score,
        _get_reference_point,
        _split_complete_trials,
        _split_infeasible_trials,
        _split_pruned_trials,
        default_gamma,
        default_gamma_multiobjective,
        default_weights,
    )
    from optuna.storages import InMemoryStorage
    from optuna.study._multi_objective import _calculate_nondomination_rank

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
    Optuna other than 5 (:data:`ONE_SPLIT_PER_ASK`), whose private helpers may differ.

    With several objectives, independent sampling, Optuna's default estimator, weights and
    gamma, an in-memory study and categorical decisions (``mo_tpe``), an ask takes the counts
    path instead (:meth:`_counts_apply`): a table of the finished trials grows by one row per
    trial, the split is made on its distinct objective vectors, and each estimator is summed
    per choice (:mod:`.tpe_counts`). Candidates are drawn with Optuna's calls to the random
    state; where two choices' acquisitions come within rounding of each other, Optuna's own
    estimators decide, so the proposals stay Optuna's."""

    def __init__(self, distributions: dict[str, BaseDistribution], **params: Any) -> None:
        super().__init__(**params)
        self._search_space = FixedSearchSpace(distributions, include_pruned=True)
        self._distributions = dict(distributions)
        self._all_categorical = all(isinstance(d, optuna.distributions.CategoricalDistribution)
                                    for d in self._distributions.values())
        self._clear_caches()

    def _clear_caches(self) -> None:
        self._counts: _CountsState | None = None  # the counts path's table and split
        self._split_key: int | None = None  # the number of the trial the split was made for
        self._split: tuple[list[FrozenTrial], list[FrozenTrial]] = ([], [])
        self._split_observed: list[dict[str, np.ndarray] | None] = [None, None]
        self._rows: dict[int, tuple[float, ...] | None] = {}  # trial number -> internal values
        self._violations: dict[int, float] = {}  # finished trial number -> its violation

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        for name in ("_counts", "_split_key", "_split", "_split_observed", "_rows",
                     "_violations"):
            state.pop(name)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        if "_all_categorical" not in state:  # pickled by an earlier release
            self._all_categorical = all(
                isinstance(d, optuna.distributions.CategoricalDistribution)
                for d in self._distributions.values())
        self._clear_caches()

    def sample_independent(self, study: Study, trial: FrozenTrial, param_name: str,
                           param_distribution: BaseDistribution) -> Any:
        if self._counts_apply(study, param_name, param_distribution):
            counts = self._counts_for(study, trial)
            if counts is not None:
                if len(counts.table) < self._n_startup_trials:  # as Optuna: a random start
                    return self._random_sampler.sample_independent(
                        study, trial, param_name, param_distribution)
                return self._sample_from_counts(counts, param_name, param_distribution)
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

    def _counts_apply(self, study: Study, param_name: str,
                      distribution: BaseDistribution) -> bool:
        """Whether this decision can take the counts path (:mod:`.tpe_counts`): Optuna 5's
        independent multi-objective TPE with its default estimator, weights and gamma, on an
        in-memory study of categorical decisions."""
        mine = self._distributions.get(param_name)
        return (ONE_SPLIT_PER_ASK and self._all_categorical and len(study.directions) > 1
                and (mine is distribution or mine == distribution)
                and not self._is_multivariate(study)
                and isinstance(study._storage, InMemoryStorage)
                and self._gamma in (None, default_gamma_multiobjective)
                and self._parzen_estimator_parameters.weights is default_weights
                and self._parzen_estimator_cls is _ParzenEstimator
                and type(self)._compute_acquisition_func
                is optuna.samplers.TPESampler._compute_acquisition_func)

    def _counts_for(self, study: Study, trial: FrozenTrial) -> _CountsState | None:
        """The table read up to this ask and its split (made once per ask), or None when a
        trial cannot be put in the table (then Optuna's path, for the study's life)."""
        counts = self._counts
        if counts is None:
            counts = self._counts = _CountsState(self._distributions, len(study.directions))
        if counts.broken:
            return None
        if counts.key != trial.number:
            if not counts.read(_live_trials(study), _get_infeasible_trial_score,
                               self._internal):
                return None
            if self._gamma is None:
                self._gamma = default_gamma_multiobjective
            if len(counts.table) >= self._n_startup_trials:
                counts.make_split(study.directions, self._gamma(len(counts.table)))
            counts.running = ([] if not self._constant_liar else  # the liar's bad trials
                              [(t.number, t.params) for t in counts.running_trials()
                               if t.number != trial.number])
            counts.key = trial.number
        return counts

    def _sample_from_counts(self, counts: _CountsState, param_name: str,
                            distribution: BaseDistribution) -> Any:
        """Optuna's ``_sample`` of one categorical decision, from the counts."""
        column = list(self._distributions).index(param_name)
        choices = counts.table.choices[:, column]
        parameters = self._parzen_estimator_parameters
        prior = parameters.prior_weight
        num_choices = len(distribution.choices)
        counts.prepare(prior)
        below = counts.below
        mpe_below = tpe_counts.CategoricalParzen(
            counts.below_totals[column], counts.below_prior, below.size, num_choices, prior,
            counts.below_weights, lambda kernels: choices[below[kernels]])
        running = [(number, distribution.to_internal_repr(params[param_name]))
                   for number, params in counts.running if param_name in params]
        if running:  # the constant liar: running trials join the bad set, by number
            at = np.searchsorted(counts.table.numbers[counts.above], [n for n, _ in running])
            observed_above = np.insert(choices[counts.above], at, [int(c) for _, c in running])
            mpe_above = tpe_counts.CategoricalParzen.of(
                observed_above, counts.kernel_weights(observed_above.size, prior,
                                                      parameters.weights), num_choices, prior)
        else:
            observed_above = None
            mpe_above = tpe_counts.CategoricalParzen(
                counts.above_totals[column], counts.above_prior, counts.above.size,
                num_choices, prior)
        samples = mpe_below.sample(self._rng.rng, self._n_ei_candidates)
        acquisition = mpe_below.log_pdf(samples) - mpe_above.log_pdf(samples)
        if tpe_counts.near_tie(samples, acquisition):  # Optuna's own sums decide
            space = {param_name: distribution}
            if observed_above is None:
                observed_above = choices[counts.above]
            exact_below = _ParzenEstimator({param_name: choices[below]}, space, parameters,
                                           np.ones(below.size))
            exact_above = _ParzenEstimator({param_name: observed_above}, space, parameters)
            candidates = {param_name: samples}
            acquisition = self._compute_acquisition_func(candidates, exact_below, exact_above)
        return distribution.to_external_repr(samples[np.argmax(acquisition)].item())


def _live_trials(study: Study) -> list[FrozenTrial]:
    """The in-memory study's own list of trials, not copied (``get_trials`` copies it, which
    costs more than the rest of an ask in a study of 100,000 trials); read, never changed."""
    studies = getattr(study._storage, "_studies", None)
    if isinstance(studies, dict) and study._study_id in studies:
        return studies[study._study_id].trials
    return study.get_trials(deepcopy=False)


class _CountsState:
    """What :class:`FixedSpaceTPESampler`'s counts path keeps: the table of finished trials,
    the trials still to read, and the split of the current ask."""

    def __init__(self, distributions: dict[str, BaseDistribution], num_objectives: int) -> None:
        self.table = tpe_counts.TrialTable(
            [len(d.choices) for d in distributions.values()], num_objectives)
        self.ranks = tpe_counts.RankCache()
        self.scanned = 0  # trials before this one were read or are in ``pending``
        self.pending: list[int] = []  # positions of trials not finished when read
        self.broken = False
        self.key: int | None = None  # the trial number of the ask the split is for
        self.below = self.above = np.zeros(0, dtype=np.int64)
        self.below_weights: tpe_counts.KernelWeights | None = None  # this ask's good set
        self.below_totals: list[np.ndarray] = []  # per decision, weight on each choice
        self.above_totals: list[np.ndarray] = []
        self.below_prior = self.above_prior = 1.0  # the prior kernel's weight
        self._other_weights: dict[int, tpe_counts.KernelWeights] = {}  # bad sets with liars
        self.running: list[tuple[int, dict[str, Any]]] = []  # other running trials' params
        self._trials: list[FrozenTrial] = []

    def read(self, trials: list[FrozenTrial], violation: Callable[[FrozenTrial], float],
             internal: Callable[[dict[str, Any]], tuple[float, ...] | None]) -> bool:
        """Add the trials finished since the last read; False (and broken) when one lacks a
        decision or a pruned one has intermediate values."""
        self._trials = trials
        waiting = [*self.pending, *range(self.scanned, len(trials))]
        self.pending, self.scanned = [], len(trials)
        for position in waiting:
            t = trials[position]
            if not t.state.is_finished():
                self.pending.append(position)
                continue
            if t.state == TrialState.FAIL:
                continue
            row = internal(t.params)
            if row is None or (t.state == TrialState.PRUNED and t.intermediate_values):
                self.broken = True
                return False
            state = tpe_counts.COMPLETE if t.state == TrialState.COMPLETE else tpe_counts.PRUNED
            self.table.add(t.number, state, violation(t), [int(c) for c in row],
                           t.values if state == tpe_counts.COMPLETE else None)
        return True

    def running_trials(self) -> list[FrozenTrial]:
        """The trials running at the last :meth:`read`, in number order."""
        return [self._trials[p] for p in sorted(self.pending)
                if self._trials[p].state == TrialState.RUNNING]

    def make_split(self, directions: list[Any], n_below: int) -> None:
        """This ask's good and bad rows (Optuna's ``_split_trials`` on the table)."""
        signs = np.asarray([-1.0 if d == optuna.study.StudyDirection.MAXIMIZE else 1.0
                            for d in directions])
        self.below, self.above = tpe_counts.split(
            self.table, signs, n_below, self.ranks, _calculate_nondomination_rank,
            _solve_hssp, _get_reference_point)
        self.below_weights = None
        self._other_weights = {}

    def kernel_weights(self, size: int, prior_weight: float,
                       weights: Callable[[int], np.ndarray]) -> tpe_counts.KernelWeights:
        """Optuna's mixture weights of a bad set of ``size`` kernels (made once per ask)."""
        if size not in self._other_weights:
            self._other_weights[size] = tpe_counts.KernelWeights(
                _ParzenEstimator._call_weights_func(weights, size), prior_weight)
        return self._other_weights[size]

    def prepare(self, prior_weight: float) -> None:
        """This ask's mixture weights totalled per choice (once per ask): the good set's
        kernels weigh the same (Optuna's choice with several objectives), the bad set's as
        Optuna's ``default_weights`` says, oldest lightest."""
        if self.below_weights is not None:
            return
        n = self.below.size
        self.below_weights = tpe_counts.KernelWeights(np.ones(n), prior_weight)
        self.below_prior = float(self.below_weights.normalized[n]) if n else 1.0
        self.above_totals, self.above_prior, good_counts = tpe_counts.bad_set_weights(
            self.table, self.below, prior_weight)
        self.below_totals = self.table.split_totals(
            good_counts * (self.below_weights.normalized[0] if n else 0.0))
