"""Optuna samplers that survive pickling and deep copies.

Optuna 5.1's genetic samplers (``NSGAIISampler``) hold a ``threading.Lock`` and define no
``__getstate__``, so a study using one cannot be deep-copied (our snapshots) or pickled (Tune's
searcher checkpoints). The subclass here leaves the lock out of its state and makes a new one
when restored; sampling is unchanged. Imported only when such an optimizer is built.
"""

from __future__ import annotations

import threading
from typing import Any

import optuna


class PicklableNSGAIISampler(optuna.samplers.NSGAIISampler):
    """``NSGAIISampler`` whose state leaves out its thread lock (a fresh one on restore)."""

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state.pop("_thread_lock", None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._thread_lock = threading.Lock()
