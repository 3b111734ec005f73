"""Architecture encodings for predictors: an (n, d) float array for n architectures.

``onehot`` (every space): the space's one-hot matrix (:meth:`SearchSpace.encode_matrix`),
flattened; for a Ray Tune ``param_space`` (a :class:`~ednag.spaces.MixedSpace`) a one-hot block
per categorical parameter and one coordinate in [0, 1] per ordinal one (the level's position:
a continuous range is a grid of ~1,000 levels, and a one-hot row of those would cost a predictor
thousands of inputs and tell it nothing about neighbouring levels). ``path`` (NAS-Bench-201
only): the path encoding of White et al. (BANANAS) -- one feature per sequence of operations
along an input-to-output path of the cell, counting the paths that carry it; a path through a
``none`` edge carries nothing (4 + 16 + 64 = 84 features). ``onehot+counts`` (a benchmark
space whose decisions share options, as NB201's six edges share five operations): the one-hot
code followed by how many decisions take each shared option (:func:`option_counts`; of a
``param_space``, its categorical parameters), so a predictor sees what a cell is made of as well
as where each part sits.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import product

import numpy as np

from ednag.predictors.base import PredictorError
from ednag.spaces.base import Choices, SearchSpace
from ednag.spaces.mixed import MixedEncoding, MixedSpace

#: encodings of :func:`make_encoder`
ENCODINGS: tuple[str, ...] = ("onehot", "path", "onehot+counts")

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


def _counted(space: SearchSpace) -> list[int]:
    """The decisions whose options are counted: every one, or a ``param_space``'s categorical
    parameters (an ordinal level is a number, not a part)."""
    if isinstance(space, MixedSpace):
        return [i for i, p in enumerate(space.params) if p.kind == "categorical"]
    return list(range(space.num_decisions))


def shared_options(space: SearchSpace) -> tuple[str, ...]:
    """The option names that two or more (categorical) decisions of ``space`` offer, in
    first-seen order.

    >>> from ednag.spaces import make_space
    >>> shared_options(make_space("nb201"))
    ('none', 'skip_connect', 'nor_conv_1x1', 'nor_conv_3x3', 'avg_pool_3x3')
    """
    offered: dict[str, int] = {}
    for i in _counted(space):
        for name in dict.fromkeys(space.decisions[i].options):
            offered[name] = offered.get(name, 0) + 1
    return tuple(name for name, n in offered.items() if n >= 2)


def option_counts(space: SearchSpace, archs: Sequence[Choices]) -> np.ndarray:
    """How many decisions of each architecture take each of :func:`shared_options`, shape
    (n, number of shared options).

    >>> from ednag.spaces import make_space
    >>> option_counts(make_space("nb201"), [(3, 3, 3, 1, 3, 2)]).tolist()
    [[0.0, 1.0, 1.0, 4.0, 0.0]]
    """
    column = {name: j for j, name in enumerate(shared_options(space))}
    out = np.zeros((len(archs), len(column)))
    if not archs or not column:
        return out
    idx = np.asarray(archs, dtype=np.int64)
    rows = np.arange(len(archs))
    for i in _counted(space):
        # the count column of each option of decision i (-1: an option no other offers)
        cols = np.array([column.get(o, -1) for o in space.decisions[i].options])[idx[:, i]]
        hit = cols >= 0
        out[rows[hit], cols[hit]] += 1.0
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
        if name == "onehot+counts" and not shared_options(space):
            raise PredictorError(
                f"encoding 'onehot+counts' needs a space whose decisions share options (as "
                f"nb201's edges share its operations); {space.name!r} has none; use 'onehot'"
            )
        self.space = space
        self.name = name

    def __call__(self, archs: Sequence[Choices]) -> np.ndarray:
        if self.name == "path":
            return nb201_path_encode(archs)
        if self.name == "onehot+counts":
            return np.hstack([onehot_encode(self.space, archs), option_counts(self.space, archs)])
        return onehot_encode(self.space, archs)


def make_encoder(space: SearchSpace, name: str = "onehot") -> Encoder:
    """The encoding ``name`` (one of :data:`ENCODINGS`) of ``space``."""
    return Encoder(space, name)
