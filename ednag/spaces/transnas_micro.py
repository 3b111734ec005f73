"""TransNAS-Bench-101 micro: one 4-node cell, one of four operations on each of its six edges.

The cell has the NB201 topology (node ``j`` sums ``op(node i)`` over ``i < j``); the benchmark
stacks it in a fixed ``64-41414`` macro skeleton and trains it on seven tasks. Native form: the
benchmark's own string ``64-41414-a_bc_def`` with one digit per edge (``0`` none, ``1`` skip,
``2`` conv 1x1, ``3`` conv 3x3) in the order ``1<-0 _ 2<-0 2<-1 _ 3<-0 3<-1 3<-2``. Every one of
the 4,096 choice tuples is a row of the table, and the key is the native string (one row).
"""

from __future__ import annotations

import re

from ednag.spaces.base import Choices, Decision, SearchSpace, SpaceError
from ednag.spaces.nb201 import NB201_EDGES, NB201Space

#: the operation of each digit (the first four NB201 operations, with the same indices)
MICRO_OPS: tuple[str, ...] = ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3")
#: the seven tasks of TransNAS-Bench-101 (the table's datasets)
TRANSNAS_TASKS: tuple[str, ...] = (
    "class_scene",
    "class_object",
    "jigsaw",
    "room_layout",
    "segmentsemantic",
    "normal",
    "autoencoder",
)
MICRO_PREFIX = "64-41414-"
_MICRO_RE = re.compile(r"^64-41414-([0-3])_([0-3]{2})_([0-3]{3})$")
_NB201 = NB201Space()  # its isomorphism form reads these choices as the same operations


def check_task(space: str, task: str | None) -> str:
    """``task`` (default ``class_scene``) or a :class:`SpaceError` naming the seven tasks."""
    task = task or TRANSNAS_TASKS[0]
    if task not in TRANSNAS_TASKS:
        raise SpaceError(
            f"{space}: unknown task {task!r}; allowed: {', '.join(TRANSNAS_TASKS)}"
        )
    return task


class TransNASMicroSpace(SearchSpace):
    """The 4,096 TransNAS-Bench-101 micro cells (the same cells for every task)."""

    name = "transnas_micro"
    decisions = tuple(Decision(f"edge_{to}<-{frm}", MICRO_OPS) for to, frm in NB201_EDGES)

    def __init__(self, task: str | None = None) -> None:
        self.task = check_task(self.name, task)

    def to_native(self, choices: Choices) -> str:
        c = self.check(choices)
        return f"{MICRO_PREFIX}{c[0]}_{c[1]}{c[2]}_{c[3]}{c[4]}{c[5]}"

    def from_native(self, native: str) -> Choices:
        if not isinstance(native, str):
            raise SpaceError(
                f"transnas_micro: arch string must be a str, got {type(native).__name__}"
            )
        match = _MICRO_RE.match(native)
        if match is None:
            raise SpaceError(
                f"transnas_micro: malformed arch string {native!r}; expected "
                "'64-41414-a_bc_def' with digits 0-3 (0 none, 1 skip, 2 conv1x1, 3 conv3x3)"
            )
        return tuple(int(d) for d in "".join(match.groups()))

    def isomorphism_key(self, choices: Choices) -> str:
        """The NB201 canonical form of the cell's graph of live operations (for analysis;
        queries are counted by :meth:`key`, the arch string)."""
        return _NB201.isomorphism_key(self.check(choices))

    def __repr__(self) -> str:
        return f"TransNASMicroSpace({self.task!r})"


def space_for(dataset: str | None = None) -> TransNASMicroSpace:
    """The micro space of TransNAS task ``dataset`` (default ``class_scene``)."""
    return TransNASMicroSpace(dataset)
