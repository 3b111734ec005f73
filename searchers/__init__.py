"""Ray Tune searchers over ednag search spaces (Ray is imported only when one is used).

``make_searcher(name, space, ...)`` builds the searcher of any optimizer registered in
:data:`ednag.registry.OPTIMIZERS`.
"""

from __future__ import annotations

from typing import Any

from searchers.factory import make_searcher, optimizer_names  # no Ray import

__all__ = ["AskTellSearcher", "DedupeSearcher", "EDNAGSearch", "ParamSpaceSearch",
           "make_optuna_tpe", "make_searcher", "optimizer_names"]

_LAZY = {
    "AskTellSearcher": "searchers.ask_tell",
    "DedupeSearcher": "searchers.dedupe",
    "make_optuna_tpe": "searchers.optuna_tpe",
    "EDNAGSearch": "searchers.param_space",
    "ParamSpaceSearch": "searchers.param_space",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'searchers' has no attribute {name!r}")
