"""NAS-Bench-Graph: a GNN macro space (one of 9 link patterns, 4 layers from 9 operations).

Follows the encoding documented by the ``nas-bench-graph`` package (Apache-2.0,
``nas_bench_graph/architecture.py``): ``link[i]`` is the input of layer ``i`` (0 = the
pre-processed input, ``k`` = the output of layer ``k``), and the benchmark's rows are keyed by
the package's isomorphism-aware hash, so isomorphic architectures are one row and one query.
"""

from __future__ import annotations

from functools import cache

from ednag.spaces.base import Choices, Decision, SearchSpace, SpaceError

GRAPH_LINKS: tuple[tuple[int, int, int, int], ...] = (
    (0, 0, 0, 0),
    (0, 0, 0, 1),
    (0, 0, 1, 1),
    (0, 0, 1, 2),
    (0, 0, 1, 3),
    (0, 1, 1, 1),
    (0, 1, 1, 2),
    (0, 1, 2, 2),
    (0, 1, 2, 3),
)
GRAPH_OPS: tuple[str, ...] = ("gat", "gcn", "gin", "cheb", "sage", "arma", "graph", "fc", "skip")
GRAPH_OPS_PROTEINS: tuple[str, ...] = ("gcn", "sage", "arma", "fc", "skip")

GRAPH_DATASETS: tuple[str, ...] = (
    "cora",
    "citeseer",
    "pubmed",
    "cs",
    "physics",
    "photo",
    "computers",
    "arxiv",
    "proteins",
)


def _link_name(link: tuple[int, ...]) -> str:
    return "-".join(str(v) for v in link)


class NasBenchGraphSpace(SearchSpace):
    """Native form: ``"0-0-1-2:gcn,gat,skip,fc"`` (link pattern, then the four layer ops).

    ``proteins`` uses its own five operations, as in the benchmark. All-``skip`` architectures
    are invalid (the benchmark has no row for them).
    """

    def __init__(self, dataset: str = "arxiv") -> None:
        if dataset not in GRAPH_DATASETS:
            raise SpaceError(
                f"nasbench_graph: unknown dataset {dataset!r}; allowed: {', '.join(GRAPH_DATASETS)}"
            )
        self.dataset = dataset
        self.ops = GRAPH_OPS_PROTEINS if dataset == "proteins" else GRAPH_OPS
        self.name = "nasbench_graph"
        self.decisions = (
            Decision("link", tuple(_link_name(lk) for lk in GRAPH_LINKS)),
            *(Decision(f"op{i}", self.ops) for i in range(4)),
        )

    def is_valid(self, choices: Choices) -> bool:
        return any(self.ops[c] != "skip" for c in choices[1:])

    def to_native(self, choices: Choices) -> str:
        choices = self.check(choices)
        ops = ",".join(self.ops[c] for c in choices[1:])
        return f"{_link_name(GRAPH_LINKS[choices[0]])}:{ops}"

    def from_native(self, native: str) -> Choices:
        if not isinstance(native, str) or native.count(":") != 1:
            raise SpaceError(
                f"nasbench_graph: malformed architecture {native!r}; expected "
                "'LINK:OP,OP,OP,OP' such as '0-0-1-2:gcn,gat,skip,fc'"
            )
        link, ops = native.split(":")
        names = [d for d in self.decisions[0].options]
        if link not in names:
            raise SpaceError(
                f"nasbench_graph: unknown link pattern {link!r}; allowed: {', '.join(names)}"
            )
        op_list = ops.split(",")
        if len(op_list) != 4:
            raise SpaceError(f"nasbench_graph: expected 4 operations in {native!r}")
        for op in op_list:
            if op not in self.ops:
                raise SpaceError(
                    f"nasbench_graph: unknown operation {op!r} for {self.dataset}; "
                    f"allowed: {', '.join(self.ops)}"
                )
        choices = (names.index(link), *(self.ops.index(op) for op in op_list))
        if not self.is_valid(choices):
            raise SpaceError(f"nasbench_graph: {native!r} is invalid (all layers are 'skip')")
        return choices

    def key(self, choices: Choices) -> str:
        """The benchmark's own hash (isomorphic architectures share it), as a string."""
        choices = self.check(choices)
        if not self.is_valid(choices):
            raise SpaceError(f"nasbench_graph: {self.to_native(choices)!r} is invalid")
        return str(_graph_hash(choices[0], tuple(self.ops[c] for c in choices[1:])))

    def __repr__(self) -> str:
        return f"NasBenchGraphSpace({self.dataset!r})"


@cache
def _graph_hash(link_index: int, ops: tuple[str, ...]) -> int:
    from nas_bench_graph.architecture import Arch  # the benchmark's own canonicaliser

    return int(Arch(list(GRAPH_LINKS[link_index]), list(ops)).valid_hash())


def space_for(dataset: str | None = None) -> NasBenchGraphSpace:
    """The NAS-Bench-Graph space of ``dataset`` (default ``arxiv``)."""
    return NasBenchGraphSpace(dataset or "arxiv")
