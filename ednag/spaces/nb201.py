"""NAS-Bench-201: a fixed 4-node cell, one of five operations on each of its six edges."""

from __future__ import annotations

import re
from functools import cache

import numpy as np

from ednag.spaces.base import Choices, Decision, MatrixEncoding, SearchSpace, SpaceError

NB201_OPS: tuple[str, ...] = (
    "none",
    "skip_connect",
    "nor_conv_1x1",
    "nor_conv_3x3",
    "avg_pool_3x3",
)
# (to, from) for the six edges, in arch-string order.
NB201_EDGES: tuple[tuple[int, int], ...] = ((1, 0), (2, 0), (2, 1), (3, 0), (3, 1), (3, 2))

_NODE_RE = re.compile(r"^\|(?:[^|~]+~\d+\|)+$")
_OP_RE = re.compile(r"^([^~]+)~(\d+)$")


class NB201Space(SearchSpace):
    """The 15,625 NB201 cells. Native form: ``|op~0|+|op~0|op~1|+|op~0|op~1|op~2|``."""

    name = "nb201"
    decisions = tuple(Decision(f"edge_{to}<-{frm}", NB201_OPS) for to, frm in NB201_EDGES)

    def to_native(self, choices: Choices) -> str:
        ops = [NB201_OPS[c] for c in self.check(choices)]
        return "|{}~0|+|{}~0|{}~1|+|{}~0|{}~1|{}~2|".format(*ops)

    def from_native(self, native: str) -> Choices:
        if not isinstance(native, str):
            raise SpaceError(f"nb201: arch string must be a str, got {type(native).__name__}")
        nodes = native.split("+")
        if len(nodes) != 3 or not all(_NODE_RE.match(node) for node in nodes):
            raise SpaceError(
                f"nb201: malformed arch string {native!r}; expected "
                "'|op~0|+|op~0|op~1|+|op~0|op~1|op~2|'"
            )
        choices = []
        for to, node in enumerate(nodes, start=1):
            parts = node.strip("|").split("|")
            if len(parts) != to:
                raise SpaceError(
                    f"nb201: node {to} of {native!r} has {len(parts)} inputs, expected {to}"
                )
            for frm, part in enumerate(parts):
                match = _OP_RE.match(part)
                if match is None or int(match.group(2)) != frm:
                    raise SpaceError(
                        f"nb201: edge {part!r} of node {to} in {native!r} must be 'op~{frm}'"
                    )
                op = match.group(1)
                if op not in NB201_OPS:
                    raise SpaceError(
                        f"nb201: unknown operation {op!r} in {native!r}; "
                        f"allowed: {', '.join(NB201_OPS)}"
                    )
                choices.append(NB201_OPS.index(op))
        return tuple(choices)

    def isomorphism_key(self, choices: Choices) -> str:
        """Canonical form of the computation graph of the cell (for analysis, not budgets).

        Each node is the sum of ``op(input)`` over its incoming edges; ``none`` drops an edge,
        ``skip_connect`` is the identity, sums are order-free (a node is the sorted multiset of
        its terms), and a branch fed only by a zero tensor is pruned as dead. That last rule
        is the usual convention of NB201 de-duplication; it ignores the constant a BatchNorm
        bias could add to a dead branch, so two cells with equal keys compute the same graph
        of live operations, not necessarily bit-identical functions. Queries are counted by
        :meth:`key` (the arch string), never by this key.
        """
        return _isomorphism_key(self.check(choices))


@cache
def _isomorphism_key(choices: Choices) -> str:
    # A node is a sorted tuple of terms (a multiset sum); () is the zero tensor.
    nodes: list[tuple[str, ...]] = [("x",)]
    for to in (1, 2, 3):
        terms: list[str] = []
        for edge_index, (edge_to, frm) in enumerate(NB201_EDGES):
            if edge_to != to:
                continue
            op = NB201_OPS[choices[edge_index]]
            src = nodes[frm]
            if op == "none" or not src:
                continue
            if op == "skip_connect":
                terms.extend(src)  # identity: its terms join this sum
            else:
                terms.append(f"{op}({'+'.join(src)})")
        nodes.append(tuple(sorted(terms)))
    return "+".join(nodes[3]) if nodes[3] else "zero"


class NB201PaperEncoding(MatrixEncoding):
    """The EDNAG paper's 8x7 NB201 matrix, for reproduction.

    Columns: ``input, output`` then the five operations; row 0 (input node) and row 7 (output
    node) are never read; rows 1..6 are the edges. A row whose argmax is ``input`` or
    ``output`` makes the architecture invalid (``decode`` returns ``None``).
    """

    name = "nb201_paper"
    COLUMNS: tuple[str, ...] = ("input", "output", *NB201_OPS)

    @property
    def shape(self) -> tuple[int, int]:
        return (8, 7)

    def encode(self, choices: Choices) -> np.ndarray:
        mat = np.zeros((8, 7), dtype=np.float32)
        mat[0, 0] = 1.0
        mat[7, 1] = 1.0
        mat[np.arange(1, 7), 2 + np.asarray(self.space.check(choices))] = 1.0
        return mat

    def decode(self, matrix: np.ndarray) -> Choices | None:
        return self.decode_batch(np.asarray(matrix).reshape(1, -1))[0]

    def decode_batch(self, flat: np.ndarray) -> list[Choices | None]:
        idx = np.asarray(flat).reshape(-1, 8, 7)[:, 1:7, :].argmax(axis=2)
        return [None if (row < 2).any() else tuple((row - 2).tolist()) for row in idx]


def space_for(dataset: str | None = None) -> NB201Space:
    """The NB201 space (the same cell space for every dataset)."""
    return NB201Space()
