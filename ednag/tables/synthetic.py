"""A NAS-Bench-201 table with made-up values, for tests and benchmarks that need no data."""

from __future__ import annotations

import numpy as np

from ednag.spaces.nb201 import NB201Space
from ednag.tables.table import Table, make_meta


def synthetic_nb201(seed: int = 0) -> Table:
    """All 15,625 NB201 cells on ``cifar10``: validation accuracy uniform in [10, 90], test =
    validation + N(0, 1), training time uniform in [1000, 3000] s (the real table's metric
    names and default roles)."""
    space = NB201Space()
    archs = [space.to_native(c) for c in space.enumerate()]
    keys = [space.key(space.from_native(a)) for a in archs]
    rng = np.random.default_rng(seed)
    valid = rng.uniform(10, 90, len(archs))
    cols = {
        "cifar10/valid_acc@200": valid,
        "cifar10/test_acc@200": valid + rng.normal(0, 1, len(archs)),
        "cifar10/train_time_s@200": rng.uniform(1000, 3000, len(archs)),
    }
    meta = make_meta("nb201", "nb201", ["cifar10"], {"cifar10": {
        "fitness": ("valid_acc", 200), "reported": ("test_acc", 200),
        "time": ("train_time_s", 200)}}, f"synthetic NAS-Bench-201 table (seed {seed})")
    return Table(archs, keys, cols, meta)
