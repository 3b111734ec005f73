"""Search spaces: the protocol and the concrete benchmark spaces."""

from __future__ import annotations

from ednag.spaces.base import Choices, Decision, MatrixEncoding, SearchSpace, SpaceError
from ednag.spaces.nasbench_graph import GRAPH_DATASETS, NasBenchGraphSpace
from ednag.spaces.nb201 import NB201_OPS, NB201PaperEncoding, NB201Space

SPACES: tuple[str, ...] = ("nb201", "nasbench_graph")


def make_space(name: str, dataset: str | None = None) -> SearchSpace:
    """The space of benchmark ``name`` (``dataset`` matters for NAS-Bench-Graph only)."""
    if name == "nb201":
        return NB201Space()
    if name == "nasbench_graph":
        return NasBenchGraphSpace(dataset or "arxiv")
    raise SpaceError(f"unknown search space {name!r}; allowed: {', '.join(SPACES)}")


def make_encoding(space: SearchSpace, kind: str = "onehot") -> MatrixEncoding:
    """The continuous matrix encoding ``kind`` of ``space``: ``onehot`` (every space) or
    ``nb201_paper`` (the EDNAG paper's 8x7 NB201 matrix)."""
    if kind == "onehot":
        return MatrixEncoding(space)
    if kind == "nb201_paper":
        if not isinstance(space, NB201Space):
            raise SpaceError(f"encoding 'nb201_paper' needs the nb201 space, not {space.name!r}")
        return NB201PaperEncoding(space)
    raise SpaceError(f"unknown encoding {kind!r}; allowed: onehot, nb201_paper")


__all__ = [
    "Choices",
    "Decision",
    "GRAPH_DATASETS",
    "MatrixEncoding",
    "NB201_OPS",
    "NB201PaperEncoding",
    "NB201Space",
    "NasBenchGraphSpace",
    "SPACES",
    "SearchSpace",
    "SpaceError",
    "make_encoding",
    "make_space",
]
