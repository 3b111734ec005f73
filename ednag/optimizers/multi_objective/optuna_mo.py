"""Optuna's NSGA-II and multi-objective TPE as ask/tell optimizers (Optuna's own ask/tell API;
no Ray).

Each decision is one categorical parameter ``d0 .. dN`` over its option indices. Optuna's
samplers repeat architectures in a finite space: a repeat is told its cached values at once
(logged as a free repeat, never a query) and Optuna is asked again; a proposal that is still
being evaluated waits and is told with it; invalid architectures are told ``PRUNED`` without a
query. After ``max_consecutive_repeats`` such proposals in a row, a random unseen architecture
is queried and added to the study as a finished trial. Constraint violations reach the sampler
as one Optuna constraint per trial (``Trial.set_constraint``, <= 0 feasible); failures are ``FAIL``.
Optuna is imported only when such an optimizer is built.
"""

from __future__ import annotations

from typing import Any

from ednag.optimizers.base import Optimizer
from ednag.optimizers.multi_objective.base import MultiObjective
from ednag.pareto import Evaluation
from ednag.spaces.base import Choices, SearchSpace

#: the constraint every told trial carries (Optuna's ``Trial.set_constraint``; <= 0 feasible)
CONSTRAINT = "violation"


def _tell(study: Any, trial: Any, values: list[float] | None = None, state: Any = None) -> None:
    """``study.tell`` without the deep copy of the told trial that it returns (with repeats,
    one per proposal; we never read it): Optuna 5's own telling, else ``study.tell``."""
    try:
        from optuna.study._tell import _tell_with_warning
    except ImportError:  # another Optuna
        study.tell(trial, values, state=state)
        return
    _tell_with_warning(study=study, trial=trial, value_or_values=values, state=state)


class _OptunaMultiObjective(MultiObjective, Optimizer):
    """Shared ask/tell bridge; subclasses build the sampler in :meth:`_sampler`."""

    def __init__(
        self,
        space: SearchSpace,
        seed: int = 0,
        max_queries: int | None = None,
        num_objectives: int = 1,
        max_consecutive_repeats: int = 500,
        **sampler_params: Any,
    ) -> None:
        import optuna

        super().__init__(space, seed, max_queries)
        self._setup_objectives(num_objectives)
        self.max_consecutive_repeats = int(max_consecutive_repeats)
        self._distributions = {
            f"d{i}": optuna.distributions.CategoricalDistribution(list(range(n)))
            for i, n in enumerate(space.num_choices)
        }
        verbosity = optuna.logging.get_verbosity()
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        try:
            self.study = optuna.create_study(
                directions=["maximize"] * num_objectives,
                sampler=self._sampler(optuna, seed, **sampler_params),
            )
        finally:
            optuna.logging.set_verbosity(verbosity)
        self._open: dict[str, list[Any]] = {}  # key -> Optuna trials waiting for its result
        self.num_proposals = 0

    def _sampler(self, optuna: Any, seed: int, **params: Any) -> Any:
        raise NotImplementedError

    def _choices(self, params: dict[str, Any]) -> Choices:
        return tuple(int(params[f"d{i}"]) for i in range(self.space.num_decisions))

    def _tell_study(self, trial: Any, ev: Evaluation) -> None:
        from optuna.trial import TrialState

        if ev.failed:
            _tell(self.study, trial, state=TrialState.FAIL)
            return
        trial.set_constraint(CONSTRAINT, float(ev.violation))
        _tell(self.study, trial, list(ev.objectives))

    def _propose(self, remaining: int | None) -> list[Choices]:
        from optuna.trial import TrialState

        for _ in range(self.max_consecutive_repeats):
            trial = self.study.ask(self._distributions)
            self.num_proposals += 1
            choices = self._choices(trial.params)
            if not self.space.is_valid(choices):
                _tell(self.study, trial, state=TrialState.PRUNED)
                continue
            key = self.space.key(choices)
            if key in self._open:  # being evaluated: told together with it
                self._open[key].append(trial)
                continue
            ev = self.evaluation(choices)
            if ev is not None:  # a repeat: free, answered from the cache
                self._tell_study(trial, ev)
                self._record_repeat(choices, self.lookup(choices))
                continue
            self._open[key] = [trial]
            return [choices]
        found = self._sample_unseen(1)
        for choices in found:
            self._open[self.space.key(choices)] = []
        return found

    def _observe(self, results: list[tuple[Choices, Evaluation]]) -> None:
        import optuna

        for choices, ev in results:
            trials = self._open.pop(self.space.key(choices), [])
            if not trials:  # not proposed by Optuna (the random fallback): add it as done
                self._add_finished(optuna, choices, ev)
            for trial in trials:
                self._tell_study(trial, ev)

    def _observe_external(self, results: list[tuple[Choices, Evaluation]]) -> None:
        import optuna

        for choices, ev in results:
            self._add_finished(optuna, choices, ev)

    def _add_finished(self, optuna: Any, choices: Choices, ev: Evaluation) -> None:
        params = {f"d{i}": int(c) for i, c in enumerate(choices)}
        if ev.failed:
            state, values = optuna.trial.TrialState.FAIL, None
        else:
            state, values = optuna.trial.TrialState.COMPLETE, list(ev.objectives)
        self.study.add_trial(
            optuna.trial.create_trial(
                params=params,
                distributions=self._distributions,
                values=values,
                state=state,
                system_attrs={}
                if ev.failed
                else {f"constraints:{CONSTRAINT}": float(ev.violation)},
            )
        )


class NSGA2(_OptunaMultiObjective):
    """Optuna's ``NSGAIISampler`` (default population 50, Optuna's defaults otherwise).

    >>> from ednag.pareto import Evaluation
    >>> from ednag.spaces import make_space
    >>> opt = NSGA2(make_space("nb201"), seed=0, max_queries=12, num_objectives=2,
    ...             population_size=4)
    >>> while not opt.finished:
    ...     opt.tell([(a, Evaluation((float(sum(a)), -float(a[0])))) for a in opt.ask()])
    >>> opt.num_queries
    12
    """

    name = "nsga2"

    def __init__(
        self,
        space: SearchSpace,
        seed: int = 0,
        max_queries: int | None = None,
        num_objectives: int = 1,
        max_consecutive_repeats: int = 500,
        population_size: int = 50,
    ) -> None:
        super().__init__(
            space,
            seed,
            max_queries,
            num_objectives,
            max_consecutive_repeats,
            population_size=population_size,
        )

    def _sampler(self, optuna: Any, seed: int, **params: Any) -> Any:
        from ednag.optimizers.multi_objective.optuna_samplers import PicklableNSGAIISampler

        return PicklableNSGAIISampler(self._distributions, seed=seed, **params)


class MOTPE(_OptunaMultiObjective):
    """Optuna's ``TPESampler`` on several objectives (MO-TPE, ``n_startup_trials=10``). With
    ``multivariate=None`` Optuna 5 decides: independent TPE for several objectives (one
    Parzen estimator per decision), multivariate for one; ``multivariate=True`` asks for the
    joint model.

    >>> from ednag.pareto import Evaluation
    >>> from ednag.spaces import make_space
    >>> opt = MOTPE(make_space("nb201"), seed=0, max_queries=12, num_objectives=2)
    >>> while not opt.finished:
    ...     opt.tell([(a, Evaluation((float(sum(a)), -float(a[0])))) for a in opt.ask()])
    >>> opt.num_queries
    12
    """

    name = "mo_tpe"

    def __init__(
        self,
        space: SearchSpace,
        seed: int = 0,
        max_queries: int | None = None,
        num_objectives: int = 1,
        max_consecutive_repeats: int = 500,
        n_startup_trials: int = 10,
        multivariate: bool | None = None,
    ) -> None:
        super().__init__(
            space,
            seed,
            max_queries,
            num_objectives,
            max_consecutive_repeats,
            n_startup_trials=n_startup_trials,
            multivariate=multivariate,
        )

    def _sampler(self, optuna: Any, seed: int, **params: Any) -> Any:
        from ednag.optimizers.multi_objective.optuna_samplers import FixedSpaceTPESampler

        return FixedSpaceTPESampler(self._distributions, seed=seed, **params)
