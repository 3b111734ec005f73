"""Performance predictors for predictor-based search (numpy only, no Ray, no torch).

:func:`make_predictor` builds a :class:`~ednag.predictors.base.Predictor` by name,
:func:`make_encoder` an architecture encoding by name; :func:`transform_targets` maps fitness to
regression targets. Failed evaluations never train a predictor.
"""

from __future__ import annotations

import inspect
from typing import Any

from ednag.predictors.base import (
    TARGETS,
    Predictor,
    PredictorError,
    transform_targets,
    usable,
)
from ednag.predictors.encodings import ENCODINGS, Encoder, make_encoder
from ednag.predictors.mlp import MLPEnsemble

#: predictors of :func:`make_predictor`
PREDICTORS: tuple[str, ...] = ("mlp_ensemble",)
#: the keyword parameters :class:`MLPEnsemble` takes besides its seed
MLP_ENSEMBLE_PARAMS: tuple[str, ...] = tuple(
    p for p in inspect.signature(MLPEnsemble).parameters if p != "seed")


def make_predictor(name: str = "mlp_ensemble", seed: int = 0, **params: Any) -> Predictor:
    """The predictor ``name`` (one of :data:`PREDICTORS`), seeded, with its ``params``."""
    if name != "mlp_ensemble":
        raise PredictorError(f"predictor must be one of {', '.join(PREDICTORS)}; got {name!r}")
    unknown = sorted(set(params) - set(MLP_ENSEMBLE_PARAMS))
    if unknown:
        raise PredictorError(f"unknown {name} parameter(s) {', '.join(map(repr, unknown))}; "
                             f"allowed: {', '.join(MLP_ENSEMBLE_PARAMS)}")
    return MLPEnsemble(seed=seed, **params)


__all__ = [
    "ENCODINGS",
    "PREDICTORS",
    "TARGETS",
    "Encoder",
    "MLPEnsemble",
    "Predictor",
    "PredictorError",
    "make_encoder",
    "make_predictor",
    "transform_targets",
    "usable",
]
