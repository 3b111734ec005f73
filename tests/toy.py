"""A toy benchmark for tests: a 4 x 4 x 4 space (64 architectures, native form "a-b-c") and its
table. Importable by Ray workers (the test session puts ``tests/`` on their PYTHONPATH)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ednag.spaces.base import Choices, Decision, SearchSpace
from ednag.tables.table import Table, make_meta


class ToySpace(SearchSpace):
    """3 decisions x 4 options = 64 architectures."""

    name = "toy"
    decisions = tuple(Decision(f"d{i}", ("w", "x", "y", "z")) for i in range(3))

    def to_native(self, choices: Choices) -> str:
        return "-".join(str(c) for c in self.check(choices))

    def from_native(self, native: str) -> Choices:
        return self.check(tuple(int(v) for v in native.split("-")))


def space_for(dataset: str | None = None) -> ToySpace:
    """The registry's space factory."""
    return ToySpace()


def toy_fitness(choices: Choices) -> float:
    """A smooth landscape with one optimum (3-3-3) and no ties."""
    return float(sum(choices) + 0.01 * choices[0] + 0.001 * choices[1])


def toy_table(path: Path, benchmark: str = "toy") -> Path:
    """Write the toy table (fitness ``acc``, reported ``test``, time ``time``) to ``path``."""
    space = ToySpace()
    archs = [space.to_native(c) for c in space.enumerate()]
    fit = np.array([toy_fitness(c) for c in space.enumerate()])
    cols = {"toyset/acc": fit, "toyset/test": 2 * fit,
            "toyset/time": np.array([10.0 + 3 * c[2] + c[0] for c in space.enumerate()])}
    meta = make_meta(benchmark, "toy", ["toyset"], {"toyset": {
        "fitness": ("acc", None), "reported": ("test", None), "time": ("time", None)}},
        "toy table for tests")
    Table(archs, archs, cols, meta).save(path)
    return path


class MergedToySpace(ToySpace):
    """The toy space whose query key ignores the order of the choices (as isomorphic cells
    share one key): 64 architectures, 20 distinct queries."""

    name = "toy_merged"

    def key(self, choices: Choices) -> str:
        return "-".join(str(c) for c in sorted(self.check(choices)))
