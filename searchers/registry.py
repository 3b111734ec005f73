"""Searcher registry: a name -> a Ray Tune ``Searcher`` over a space (lazy imports).

Adding an optimizer is one module plus one :data:`REGISTRY` entry: an ask/tell
:class:`~ednag.optimizers.base.Optimizer` class (wrapped in
:class:`~searchers.ask_tell.AskTellSearcher`) or a factory that returns a searcher.
"""

from __future__ import annotations

import importlib
import inspect
from dataclasses import dataclass
from typing import Any, Literal

from ednag.spaces.base import SearchSpace


@dataclass(frozen=True)
class Entry:
    """Where a searcher comes from: ``module.attr`` is an optimizer class or a factory."""

    module: str
    attr: str
    kind: Literal["optimizer", "factory"]

    def load(self) -> Any:
        return getattr(importlib.import_module(self.module), self.attr)


REGISTRY: dict[str, Entry] = {
    "random": Entry("ednag.optimizers.random_search", "RandomSearch", "optimizer"),
    "regularized_evolution": Entry(
        "ednag.optimizers.regularized_evolution", "RegularizedEvolution", "optimizer"
    ),
    "optuna_tpe": Entry("searchers.optuna_tpe", "make_optuna_tpe", "factory"),
    "ednag": Entry("ednag.ednag_core.optimizer", "EDNAG", "optimizer"),
}

SEARCHERS: tuple[str, ...] = tuple(REGISTRY)

# arguments make_searcher passes itself; never accepted as **params
_FIXED = ("self", "space", "seed", "max_queries", "metric", "mode")


def searcher_params(name: str) -> tuple[str, ...] | None:
    """The extra parameters searcher ``name`` accepts (``None``: anything, via ``**kwargs``)."""
    target = _entry(name).load()
    signature = inspect.signature(target)
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in signature.parameters.values()):
        return None
    return tuple(p for p in signature.parameters if p not in _FIXED)


def make_searcher(
    name: str,
    space: SearchSpace,
    *,
    seed: int,
    max_queries: int,
    metric: str = "fitness",
    mode: str = "max",
    **params: Any,
):
    """Searcher ``name`` over ``space`` with ``max_queries`` distinct queries.

    >>> from ednag.spaces import make_space
    >>> searcher = make_searcher("random", make_space("nb201"), seed=0, max_queries=5)
    >>> type(searcher).__name__
    'AskTellSearcher'
    """
    entry = _entry(name)
    allowed = searcher_params(name)
    if allowed is not None:
        unknown = sorted(set(params) - set(allowed))
        if unknown:
            raise ValueError(
                f"unknown parameter(s) {', '.join(map(repr, unknown))} for searcher {name!r}; "
                f"allowed: {', '.join(allowed) or '(none)'}"
            )
    target = entry.load()
    if entry.kind == "factory":
        return target(
            space, seed=seed, max_queries=max_queries, metric=metric, mode=mode, **params
        )
    from searchers.ask_tell import AskTellSearcher

    optimizer = target(space, seed=seed, max_queries=max_queries, **params)
    return AskTellSearcher(optimizer, metric=metric, mode=mode)


def _entry(name: str) -> Entry:
    if name not in REGISTRY:
        raise ValueError(f"unknown searcher {name!r}; allowed: {', '.join(SEARCHERS)}")
    return REGISTRY[name]
