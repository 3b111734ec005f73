"""NAS-Bench-Graph from the tables inside the ``nas-bench-graph`` wheel (``light/*.bench``).

Each ``.bench`` file is a pickled dict ``{valid_hash: {"valid_perf", "perf", "latency",
"para"}}``: 26,206 architectures for each of 8 datasets, 2,021 for proteins (a subset of the
same keys). Keys are the package's ``valid_hash`` as a string (``NasBenchGraphSpace.key``);
``arch`` is the native string of the lexicographically first choice tuple with that key.
"""

from __future__ import annotations

import math
import pickle
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from ednag.spaces import GRAPH_DATASETS, NasBenchGraphSpace
from ednag.tables.table import Table, TableError, column_name, make_meta

# our metric name -> field of the package's record
METRICS: dict[str, str] = {
    "valid_perf": "valid_perf",
    "test_perf": "perf",
    "latency_s": "latency",
    "params_m": "para",
}
DEFAULTS = {"fitness": ("valid_perf", None), "reported": ("test_perf", None), "time": None}


def bench_folder() -> Path:
    """The folder of the package's ``*.bench`` files."""
    import nas_bench_graph

    return Path(nas_bench_graph.__file__).resolve().parent / "light"


def read_bench(path: Path) -> dict[str, Mapping[str, float]]:
    """One ``.bench`` file as ``{key: record}``; TableError for a missing or bad file."""
    if not path.is_file():
        raise TableError(f"nasbench_graph: benchmark file {str(path)!r} not found")
    try:
        with path.open("rb") as fh:
            bench = pickle.load(fh)  # the package's own data file, shipped in its wheel
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError) as err:
        raise TableError(f"nasbench_graph: {str(path)!r} is not a readable bench file ({err})") from None
    if not isinstance(bench, dict) or not bench:
        raise TableError(f"nasbench_graph: {str(path)!r} does not hold a dict of records")
    out = {}
    for key, record in bench.items():
        if not isinstance(record, Mapping) or not all(f in record for f in METRICS.values()):
            raise TableError(
                f"nasbench_graph: record {key!r} of {path.name} lacks one of "
                f"{', '.join(METRICS.values())}"
            )
        out[str(key)] = record
    return out


def representatives(space: NasBenchGraphSpace) -> dict[str, str]:
    """key -> native string of the lexicographically first valid choice tuple with that key."""
    out: dict[str, str] = {}
    for choices in space.enumerate():  # lexicographic order
        key = space.key(choices)
        if key not in out:
            out[key] = space.to_native(choices)
    return out


def import_nasbench_graph(folder: str | Path | None = None) -> Table:
    """The NAS-Bench-Graph table for all nine datasets (built in memory in about a second)."""
    folder = Path(folder) if folder is not None else bench_folder()
    archs_by_key = representatives(NasBenchGraphSpace("arxiv"))
    keys = sorted(archs_by_key, key=int)
    row = {k: i for i, k in enumerate(keys)}
    columns: dict[str, np.ndarray] = {}
    for ds in GRAPH_DATASETS:
        bench = read_bench(folder / f"{ds}.bench")
        unknown = [k for k in bench if k not in row]
        if unknown:
            raise TableError(
                f"nasbench_graph: {ds}.bench has {len(unknown)} keys outside the space "
                f"(e.g. {unknown[0]})"
            )
        idx = np.fromiter((row[k] for k in bench), dtype=np.int64, count=len(bench))
        for metric, field in METRICS.items():
            col = np.full(len(keys), math.nan)
            col[idx] = np.fromiter((float(r[field]) for r in bench.values()), np.float64)
            columns[column_name(ds, metric)] = col
    meta = make_meta(
        "nasbench_graph",
        "nasbench_graph",
        GRAPH_DATASETS,
        {ds: DEFAULTS for ds in GRAPH_DATASETS},
        source=f"nas-bench-graph package tables ({folder}); keys = Arch.valid_hash()",
    )
    return Table([archs_by_key[k] for k in keys], keys, columns, meta)


def import_source(source: str | Path | None = None) -> Table:
    """The registry's importer: ``source`` is the package's ``light/`` folder, or ``None`` (or
    ``nas-bench-graph``) for the one inside the installed wheel."""
    if source is not None and str(source) == "nas-bench-graph":
        source = None
    return import_nasbench_graph(source)
