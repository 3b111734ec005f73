"""Optuna's TPE through Ray's ``OptunaSearch``, de-duplicated to honest distinct queries.

Each decision of the space is one categorical Optuna parameter named ``d0 .. dN`` (safe names,
whatever the space calls its decisions) over the option indices. Invalid architectures (e.g.
all-``skip`` in NAS-Bench-Graph) are not resampled: :class:`~searchers.dedupe.DedupeSearcher`
tells TPE at once, without a trial and without spending a query, that they were pruned (TPE
ranks pruned trials below every completed one, so it learns to avoid them) while its sequence
of proposals stays seeded and reproducible. Failed evaluations reach Optuna as ``FAIL``.
"""

from __future__ import annotations

from typing import Any

from ednag.spaces.base import Choices, SearchSpace
from searchers.dedupe import INNER_METRIC, DedupeSearcher


def param_name(index: int) -> str:
    """The Optuna parameter name of decision ``index``."""
    return f"d{index}"


class DecodeParams:
    """Map an Optuna config ``{"d0": 3, ...}`` to choices (a picklable callable)."""

    def __init__(self, num_decisions: int) -> None:
        self.num_decisions = num_decisions

    def __call__(self, config: dict[str, Any]) -> Choices:
        missing = [param_name(i) for i in range(self.num_decisions) if param_name(i) not in config]
        if missing:
            raise ValueError(f"Optuna config {config!r} lacks the parameters {missing}")
        return tuple(int(config[param_name(i)]) for i in range(self.num_decisions))


def make_optuna_tpe(
    space: SearchSpace,
    *,
    seed: int,
    max_queries: int | None,
    metric: str | None = "fitness",
    mode: str | None = "max",
    n_startup_trials: int = 10,
    multivariate: bool | None = None,
    max_consecutive_repeats: int = 500,
) -> DedupeSearcher:
    """A seeded ``TPESampler`` over the space's decisions, in a :class:`DedupeSearcher`.

    ``multivariate=None`` keeps Optuna's own default (multivariate TPE in Optuna 5). The
    independent sampler (``False``) proposes far more repeats in a finite space: on NB201 it
    needed about 2,300 proposals for 300 distinct architectures, against about 1,340 for 1,000
    with the default, and TPE's cost per proposal grows with every trial, repeats included.
    """
    import optuna
    from ray.tune.search.optuna import OptunaSearch

    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ValueError(f"seed must be an int, got {seed!r}")
    if isinstance(n_startup_trials, bool) or not isinstance(n_startup_trials, int):
        raise ValueError(f"n_startup_trials must be an int, got {n_startup_trials!r}")
    distributions = {
        param_name(i): optuna.distributions.CategoricalDistribution(list(range(n)))
        for i, n in enumerate(space.num_choices)
    }
    sampler = optuna.samplers.TPESampler(
        seed=seed,
        n_startup_trials=n_startup_trials,
        multivariate=None if multivariate is None else bool(multivariate),
    )
    verbosity = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.WARNING)  # no "A new study created" per run
    try:
        inner = OptunaSearch(
            space=distributions,
            metric=INNER_METRIC,
            mode="max",
            sampler=sampler,
            study_name=f"ednag-tpe-{seed}",
        )
    finally:
        optuna.logging.set_verbosity(verbosity)
    return DedupeSearcher(
        inner,
        space,
        DecodeParams(space.num_decisions),
        max_queries=max_queries,
        metric=metric,
        mode=mode,
        max_consecutive_repeats=max_consecutive_repeats,
    )
