"""Build a Ray Tune ``Searcher`` for a registered optimizer (see :data:`ednag.registry.OPTIMIZERS`).

An ``optimizer`` entry (an ask/tell :class:`~ednag.optimizers.base.Optimizer` class) is wrapped
in :class:`~searchers.ask_tell.AskTellSearcher`; a ``searcher`` entry is a factory that returns
the searcher itself. Importing this module does not import Ray.
"""

from __future__ import annotations

import inspect
from typing import Any

from ednag.registry import OPTIMIZERS, OptimizerEntry, Ref, RegistryError
from ednag.spaces.base import SearchSpace

# arguments the harness passes itself; never accepted as **params
_FIXED = ("self", "space", "seed", "max_queries", "metric", "mode")


def optimizer_names() -> tuple[str, ...]:
    """Every registered optimizer name."""
    return OPTIMIZERS.names()


def resolve(name: str) -> OptimizerEntry:
    """The registry entry of ``name`` (a ValueError names the allowed ones)."""
    try:
        return OPTIMIZERS.get(name)
    except RegistryError as err:
        raise ValueError(str(err)) from None


def target_params(target: Any) -> tuple[str, ...] | None:
    """The extra parameters a target accepts (``None``: anything, via ``**kwargs``)."""
    signature = inspect.signature(target)
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in signature.parameters.values()):
        return None
    return tuple(p for p in signature.parameters if p not in _FIXED)


def searcher_params(name: str) -> tuple[str, ...] | None:
    """The extra parameters optimizer ``name`` accepts (``None``: anything)."""
    return target_params(resolve(name).target.load())


def build_searcher(
    target: str | Ref,
    kind: str,
    space: SearchSpace,
    *,
    seed: int,
    max_queries: int | None,
    metric: str = "fitness",
    mode: str = "max",
    name: str | None = None,
    **params: Any,
):
    """A searcher from a resolved reference (what Ray workers do: no registry lookup)."""
    obj = Ref.parse(target).load()
    allowed = target_params(obj)
    if allowed is not None:
        unknown = sorted(set(params) - set(allowed))
        if unknown:
            raise ValueError(
                f"unknown parameter(s) {', '.join(map(repr, unknown))} for optimizer "
                f"{name or target!r}; allowed: {', '.join(allowed) or '(none)'}"
            )
    if kind == "searcher":
        return obj(space, seed=seed, max_queries=max_queries, metric=metric, mode=mode, **params)
    from searchers.ask_tell import AskTellSearcher

    optimizer = obj(space, seed=seed, max_queries=max_queries, **params)
    return AskTellSearcher(optimizer, metric=metric, mode=mode)


def make_searcher(
    name: str,
    space: SearchSpace,
    *,
    seed: int,
    max_queries: int | None,
    metric: str = "fitness",
    mode: str = "max",
    **params: Any,
):
    """Searcher of registered optimizer ``name`` over ``space`` with ``max_queries`` distinct
    queries.

    >>> from ednag.spaces import make_space
    >>> searcher = make_searcher("random", make_space("nb201"), seed=0, max_queries=5)
    >>> type(searcher).__name__
    'AskTellSearcher'
    """
    entry = resolve(name)
    return build_searcher(entry.target, entry.kind, space, seed=seed, max_queries=max_queries,
                          metric=metric, mode=mode, name=name, **params)
