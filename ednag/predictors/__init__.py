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
    GradientPredictor,
    Predictor,
    PredictorError,
    transform_targets,
    usable,
)
from ednag.predictors.encodings import ENCODINGS, Encoder, make_encoder, shared_options
from ednag.predictors.gp import GaussianProcess
from ednag.predictors.mlp import MLPEnsemble
from ednag.spaces.base import SearchSpace
from ednag.spaces.mixed import MixedSpace

#: the predictor classes of :func:`make_predictor`, by name
PREDICTOR_CLASSES: dict[str, type] = {"mlp_ensemble": MLPEnsemble, "gp": GaussianProcess}
#: predictors of :func:`make_predictor`
PREDICTORS: tuple[str, ...] = tuple(PREDICTOR_CLASSES)


def predictor_param_names(name: str) -> tuple[str, ...]:
    """The keyword parameters predictor ``name`` takes besides its seed.

    >>> predictor_param_names("gp")
    ('prior_scale',)
    """
    if name not in PREDICTOR_CLASSES:
        raise PredictorError(f"predictor must be one of {', '.join(PREDICTORS)}; got {name!r}")
    return tuple(p for p in inspect.signature(PREDICTOR_CLASSES[name]).parameters if p != "seed")


def has_ordinal(space: SearchSpace) -> bool:
    """Whether ``space`` has an ordinal parameter (a Ray Tune ``param_space``'s numeric range,
    one smooth coordinate of the encoding)."""
    return isinstance(space, MixedSpace) and any(p.kind == "ordinal" for p in space.params)


def default_predictor(space: SearchSpace) -> str:
    """The predictor a predictor-based optimizer uses on ``space`` unless told: ``"gp"`` where
    it has an ordinal parameter (on the mixed ``param_space`` bench the ensemble's searches
    stall far from the optimum there and the Gaussian process's do not: ``docs/ednag.md``),
    else ``"mlp_ensemble"``.

    >>> from ednag.spaces import make_space
    >>> default_predictor(make_space("nb201"))
    'mlp_ensemble'
    """
    return "gp" if has_ordinal(space) else "mlp_ensemble"


def default_encoding(space: SearchSpace) -> str:
    """The encoding ``ednag_guided`` fits on ``space`` unless told: ``"onehot+counts"`` where
    decisions share options and no parameter is ordinal (on NB201 the counts free most
    searches trapped by 100 queries: ``docs/ednag.md``, "What a cell is made of"), else
    ``"onehot"``.

    >>> from ednag.spaces import make_space
    >>> default_encoding(make_space("nb201"))
    'onehot+counts'
    """
    return "onehot+counts" if shared_options(space) and not has_ordinal(space) else "onehot"


def make_predictor(name: str = "mlp_ensemble", seed: int = 0, **params: Any) -> Predictor:
    """The predictor ``name`` (one of :data:`PREDICTORS`), seeded, with its ``params``."""
    allowed = predictor_param_names(name)
    unknown = sorted(set(params) - set(allowed))
    if unknown:
        raise PredictorError(f"unknown {name} parameter(s) {', '.join(map(repr, unknown))}; "
                             f"allowed: {', '.join(allowed)}")
    return PREDICTOR_CLASSES[name](seed=seed, **params)


__all__ = [
    "ENCODINGS",
    "PREDICTORS",
    "TARGETS",
    "Encoder",
    "GaussianProcess",
    "GradientPredictor",
    "MLPEnsemble",
    "Predictor",
    "PredictorError",
    "default_encoding",
    "default_predictor",
    "has_ordinal",
    "make_encoder",
    "make_predictor",
    "predictor_param_names",
    "transform_targets",
    "usable",
]
