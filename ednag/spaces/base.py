"""The search-space protocol shared by EDNAG and every baseline.

An architecture is a tuple of integer *choices*, one per *decision* (``choices[i]`` is in
``range(space.num_choices[i])``). Everything else -- the space's native form (an NB201 arch
string, a NAS-Bench-Graph link+ops pair), the continuous matrix that EDNAG denoises, the key
that identifies a benchmark row -- is derived from those integers by the space.

Nothing in this module (or in any optimizer) knows about a particular benchmark.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np

Choices = tuple[int, ...]


class SpaceError(ValueError):
    """Raised for an architecture that does not belong to a space (names the offending part)."""


@dataclass(frozen=True)
class Decision:
    """One decision slot: its name and the names of its options."""

    name: str
    options: tuple[str, ...]

    @property
    def size(self) -> int:
        return len(self.options)


class SearchSpace(ABC):
    """A finite, discrete architecture space.

    Subclasses define ``name``, ``decisions`` and the native-form codec; the defaults here
    give sampling, neighbours, enumeration and the one-hot matrix codec for free.
    """

    name: str
    decisions: tuple[Decision, ...]

    # ------------------------------------------------------------------ structure
    @property
    def num_decisions(self) -> int:
        return len(self.decisions)

    @property
    def num_choices(self) -> tuple[int, ...]:
        return tuple(d.size for d in self.decisions)

    @property
    def size(self) -> int:
        """Number of raw choice tuples, invalid ones included."""
        return int(np.prod(self.num_choices, dtype=np.int64))

    # ------------------------------------------------------------------ validity
    @cached_property
    def _sizes(self) -> tuple[int, ...]:
        """:attr:`num_choices`, computed once (:meth:`check` runs on every key)."""
        return self.num_choices

    def check(self, choices: Sequence[int]) -> Choices:
        """Return ``choices`` as a tuple, or raise :class:`SpaceError` naming the bad slot."""
        sizes = self._sizes
        if (type(choices) is tuple and len(choices) == len(sizes)
                and all(type(v) is int and 0 <= v < n for v, n in zip(choices, sizes, strict=True))):
            return choices  # already a tuple of in-range ints: the common case, made fast
        if len(choices) != self.num_decisions:
            raise SpaceError(
                f"{self.name}: expected {self.num_decisions} choices "
                f"({', '.join(d.name for d in self.decisions)}), got {len(choices)}"
            )
        out = []
        for value, decision in zip(choices, self.decisions, strict=True):
            if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
                raise SpaceError(
                    f"{self.name}: choice for {decision.name!r} must be an int, got {value!r}"
                )
            if not 0 <= int(value) < decision.size:
                raise SpaceError(
                    f"{self.name}: choice {int(value)} for {decision.name!r} is out of range "
                    f"0..{decision.size - 1} ({', '.join(decision.options)})"
                )
            out.append(int(value))
        return tuple(out)

    def is_valid(self, choices: Choices) -> bool:
        """Whether this choice tuple is a real architecture of the space (default: always)."""
        return True

    # ------------------------------------------------------------------ sampling
    def sample(self, rng: np.random.Generator) -> Choices:
        """A uniformly random *valid* architecture."""
        while True:
            choices = tuple(int(rng.integers(n)) for n in self.num_choices)
            if self.is_valid(choices):
                return choices

    def neighbours(self, choices: Choices) -> list[Choices]:
        """All valid architectures that differ from ``choices`` in exactly one decision."""
        out = []
        for i, n in enumerate(self._sizes):
            for value in range(n):
                if value != choices[i]:
                    cand = choices[:i] + (value,) + choices[i + 1 :]
                    if self.is_valid(cand):
                        out.append(cand)
        return out

    def mutate(self, choices: Choices, rng: np.random.Generator) -> Choices:
        """A uniformly random neighbour (one decision changed)."""
        options = self.neighbours(choices)
        if not options:
            raise SpaceError(f"{self.name}: {choices} has no valid neighbour")
        return options[int(rng.integers(len(options)))]

    def enumerate(self) -> Iterator[Choices]:
        """Every valid choice tuple, in lexicographic order."""
        for idx in np.ndindex(*self.num_choices):
            choices = tuple(int(v) for v in idx)
            if self.is_valid(choices):
                yield choices

    # ------------------------------------------------------------------ native form and keys
    @abstractmethod
    def to_native(self, choices: Choices) -> str:
        """The space's own string form (e.g. an NB201 arch string)."""

    @abstractmethod
    def from_native(self, native: str) -> Choices:
        """Parse the native string form; raise :class:`SpaceError` on malformed input."""

    def key(self, choices: Choices) -> str:
        """The identity of a query: two architectures with the same key are one benchmark row
        and one query against the budget. Defaults to the native form."""
        return self.to_native(choices)

    def isomorphism_key(self, choices: Choices) -> str:
        """A key shared by architectures that compute the same function (default: :meth:`key`)."""
        return self.key(choices)

    # ------------------------------------------------------------------ continuous encoding
    @property
    def matrix_shape(self) -> tuple[int, int]:
        """(rows, cols) of the one-hot matrix: one row per decision, cols = max options."""
        return (self.num_decisions, max(self.num_choices))

    def encode_matrix(self, choices: Choices) -> np.ndarray:
        """One-hot matrix of ``choices`` (float32, shape :attr:`matrix_shape`)."""
        mat = np.zeros(self.matrix_shape, dtype=np.float32)
        mat[np.arange(self.num_decisions), np.asarray(choices)] = 1.0
        return mat

    def decode_matrix(self, matrix: np.ndarray) -> Choices | None:
        """Row-wise argmax over each decision's own options; ``None`` if the result is invalid.

        Columns beyond a decision's option count are ignored, so every matrix decodes.
        """
        mat = np.asarray(matrix).reshape(self.matrix_shape)
        choices = tuple(int(np.argmax(mat[i, :n])) for i, n in enumerate(self.num_choices))
        return choices if self.is_valid(choices) else None

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r})"


def row_normalise(x: np.ndarray) -> np.ndarray:
    """Map each member (row of ``x``) affinely onto ``[-1, 1]`` (a constant row becomes 0).

    The map has a positive scale, so it keeps every argmax of the member's matrix.
    """
    x = np.asarray(x, dtype=np.float64)
    lo = x.min(axis=1, keepdims=True)
    span = x.max(axis=1, keepdims=True) - lo
    safe = np.where(span > 0, span, 1.0)
    return np.where(span > 0, 2.0 * (x - lo) / safe - 1.0, 0.0)


class MatrixEncoding:
    """A continuous encoding of a space as a real matrix, decoded by row-wise argmax.

    The default delegates to the space's one-hot codec. Subclasses (such as the EDNAG paper's
    8x7 NB201 matrix) may add dead rows or invalid columns.
    """

    name = "onehot"

    def __init__(self, space: SearchSpace) -> None:
        self.space = space

    @property
    def shape(self) -> tuple[int, int]:
        return self.space.matrix_shape

    @property
    def dim(self) -> int:
        rows, cols = self.shape
        return rows * cols

    def encode(self, choices: Choices) -> np.ndarray:
        return self.space.encode_matrix(choices)

    def noise(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """``n`` members of pure noise (a diffusion's start): standard normal."""
        return rng.standard_normal((n, self.dim))

    def normalise(self, x: np.ndarray) -> np.ndarray:
        """Each member mapped affinely onto [-1, 1] (:func:`row_normalise`)."""
        return row_normalise(x)

    def decode(self, matrix: np.ndarray) -> Choices | None:
        return self.space.decode_matrix(matrix)

    def decode_batch(self, flat: np.ndarray) -> list[Choices | None]:
        """Decode a (P, rows*cols) array, one architecture (or ``None``) per row (vectorised)."""
        rows, cols = self.shape
        mats = np.asarray(flat, dtype=np.float64).reshape(-1, rows, cols).copy()
        sizes = np.asarray(self.space.num_choices)
        mats[:, np.arange(cols)[None, :] >= sizes[:, None]] = -np.inf
        idx = mats.argmax(axis=2)
        out: list[Choices | None] = []
        for row in idx.tolist():
            choices = tuple(row)
            out.append(choices if self.space.is_valid(choices) else None)
        return out
