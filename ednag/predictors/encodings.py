"""Architecture encodings for predictors: an (n, d) float array for n architectures.

``onehot`` (every space): the space's one-hot matrix (:meth:`SearchSpace.encode_matrix`),
flattened; for a Ray Tune ``param_space`` (a :class:`~ednag.spaces.MixedSpace`) a one-hot block
per categorical parameter and one coordinate in [0, 1] per ordinal one (the level's position:
a continuous range is a grid of ~1,000 levels, and a one-hot row of those would cost a predictor
thousands of inputs and tell it nothing about neighbouring levels). ``path`` (NAS-Bench-201
only): the path encoding of White et al. (BANANAS) -- one feature per sequence of operations
along an input-to-output path of the cell, counting the paths that carry it; a path through a
``none`` edge carries nothing (4 + 16 + 64 = 84 features).
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import product

import numpy as np

from ednag.predictors.base import PredictorError
from ednag.spaces.base import Choices, SearchSpace
from ednag.spaces.mixed import MixedEncoding, MixedSpace

#: encodings of :func:`make_encoder`
ENCODINGS: tuple[str, ...] = ("onehot", "path")

# NB201 edge indices (arch-string order (1<-0), (2<-0), (2<-1), (3<-0), (3<-1), (3<-2)) along
# the four input-to-output paths 0->3, 0->1->3, 0->2->3, 0->1->2->3
_NB201_PATHS: tuple[tuple[int, ...], ...] = ((3,), (0, 4), (1, 5), (0, 2, 5))
_NB201_LIVE_OPS = (1, 2, 3, 4)  # every operation but "none" (index 0)


def _path_index() -> dict[tuple[int, ...], int]:
    index: dict[tuple[int, ...], int] = {}
    for length in (1, 2, 3):
        for ops in product(_NB201_LIVE_OPS, repeat=length):
            index[ops] = len(index)
    return index


_PATH_INDEX = _path_index()


def onehot_encode(space: SearchSpace, archs: Sequence[Choices]) -> np.ndarray:
    """The flattened one-hot matrices of ``archs``, shape (n, rows * cols); for a mixed space
    its :class:`~ednag.spaces.MixedEncoding` mapped from [-1, 1] onto [0, 1]."""
    if isinstance(space, MixedSpace):
        encoding = MixedEncoding(space)
        out = np.empty((len(archs), encoding.dim))
        for i, arch in enumerate(archs):
            out[i] = encoding.encode(arch)
        return (out + 1.0) / 2.0
    rows, cols = space.matrix_shape
    out = np.zeros((len(archs), rows, cols))
    if archs:
        idx = np.asarray(archs, dtype=np.int64)
        out[np.arange(len(archs))[:, None], np.arange(rows)[None, :], idx] = 1.0
    return out.reshape(len(archs), rows * cols)


def nb201_path_encode(archs: Sequence[Choices]) -> np.ndarray:
    """NB201 path encoding of ``archs``, shape (n, 84): counts of live operation sequences."""
    out = np.zeros((len(archs), len(_PATH_INDEX)))
    for i, arch in enumerate(archs):
        for path in _NB201_PATHS:
            ops = tuple(arch[e] for e in path)
            if 0 not in ops:
                out[i, _PATH_INDEX[ops]] += 1.0
    return out


class Encoder:
    """A named encoding of one space: ``encoder(archs) -> (n, d)`` float array."""

    def __init__(self, space: SearchSpace, name: str = "onehot") -> None:
        if name not in ENCODINGS:
            raise PredictorError(f"encoding must be one of {', '.join(ENCODINGS)}; got {name!r}")
        if name == "path" and space.name != "nb201":
            raise PredictorError(
                f"encoding 'path' needs the nb201 space, not {space.name!r}; use 'onehot'"
            )
        self.space = space
        self.name = name

    def __call__(self, archs: Sequence[Choices]) -> np.ndarray:
        if self.name == "path":
            return nb201_path_encode(archs)
        return onehot_encode(self.space, archs)


def make_encoder(space: SearchSpace, name: str = "onehot") -> Encoder:
    """The encoding ``name`` (one of :data:`ENCODINGS`) of ``space``."""
    return Encoder(space, name)
