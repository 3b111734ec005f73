"""Search spaces: the protocol (:mod:`.base`) and the benchmark spaces registered in
:data:`ednag.registry.BENCHMARKS`."""

from __future__ import annotations

from ednag.registry import BENCHMARKS, RegistryError
from ednag.spaces.base import Choices, Decision, MatrixEncoding, SearchSpace, SpaceError
from ednag.spaces.mixed import MixedEncoding, MixedSpace, Param
from ednag.spaces.nasbench_graph import GRAPH_DATASETS, NasBenchGraphSpace
from ednag.spaces.nb201 import NB201_OPS, NB201PaperEncoding, NB201Space

#: encodings of :func:`make_encoding`
ENCODINGS: tuple[str, ...] = ("onehot", "nb201_paper")


def make_space(name: str, dataset: str | None = None) -> SearchSpace:
    """The space of registered benchmark ``name`` (``dataset`` matters for spaces that differ
    per dataset, e.g. NAS-Bench-Graph)."""
    try:
        entry = BENCHMARKS.get(name)
    except RegistryError as err:
        raise SpaceError(str(err).replace("benchmark", "search space", 1)) from None
    return entry.space.load()(dataset)


def make_encoding(space: SearchSpace, kind: str = "onehot") -> MatrixEncoding | MixedEncoding:
    """The continuous matrix encoding ``kind`` of ``space``: ``onehot`` (every space) or
    ``nb201_paper`` (the EDNAG paper's 8x7 NB201 matrix)."""
    if kind == "onehot":
        # a mixed (param_space) space: one-hot blocks for categoricals, one coordinate per
        # ordinal parameter
        return MixedEncoding(space) if isinstance(space, MixedSpace) else MatrixEncoding(space)
    if kind == "nb201_paper":
        if not isinstance(space, NB201Space):
            raise SpaceError(f"encoding 'nb201_paper' needs the nb201 space, not {space.name!r}")
        return NB201PaperEncoding(space)
    raise SpaceError(f"unknown encoding {kind!r}; allowed: {', '.join(ENCODINGS)}")


__all__ = [
    "Choices",
    "Decision",
    "ENCODINGS",
    "GRAPH_DATASETS",
    "MatrixEncoding",
    "MixedEncoding",
    "MixedSpace",
    "Param",
    "NB201_OPS",
    "NB201PaperEncoding",
    "NB201Space",
    "NasBenchGraphSpace",
    "SearchSpace",
    "SpaceError",
    "make_encoding",
    "make_space",
]
