"""Ray Tune searchers over ednag search spaces (Ray is imported only when one is used)."""

from __future__ import annotations

from typing import Any

__all__ = ["SEARCHERS", "AskTellSearcher", "DedupeSearcher", "make_optuna_tpe", "make_searcher"]

from searchers.registry import SEARCHERS, make_searcher  # no Ray import

_LAZY = {
    "AskTellSearcher": "searchers.ask_tell",
    "DedupeSearcher": "searchers.dedupe",
    "make_optuna_tpe": "searchers.optuna_tpe",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'searchers' has no attribute {name!r}")
