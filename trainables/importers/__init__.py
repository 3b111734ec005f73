"""Importers: convert a benchmark's own files into an ednag :class:`~trainables.table.Table`.

- :mod:`.nb201_shared`: the compact NAS-Bench-201 CSVs (a folder).
- :mod:`.nb201_official`: the official ``NAS-Bench-201-v1_*.pth`` through ``nas_201_api``.
- :mod:`.nasbench_graph`: the tables shipped inside the ``nas-bench-graph`` wheel.
"""

from __future__ import annotations

import os
from pathlib import Path

from trainables.table import Table, TableError

BENCHMARKS: tuple[str, ...] = ("nb201", "nasbench_graph")


def import_table(benchmark: str, source: str | os.PathLike | None = None) -> Table:
    """Build the table of ``benchmark`` from ``source`` (a folder of CSVs or an official .pth
    for nb201; ignored for nasbench_graph, whose data ship with its pip package)."""
    if benchmark == "nb201":
        if source is None:
            raise TableError("nb201: give the folder of the shared CSVs or an official .pth file")
        path = Path(source)
        if path.is_dir():
            from trainables.importers.nb201_shared import import_nb201_shared

            return import_nb201_shared(path)
        if path.suffix == ".pth" or path.is_file():
            from trainables.importers.nb201_official import import_nb201_official

            return import_nb201_official(path)
        raise TableError(
            f"nb201: source {str(path)!r} not found; give the folder of the shared CSVs "
            "(valid200_perseed.csv, ...) or an official NAS-Bench-201-v1_*.pth file"
        )
    if benchmark == "nasbench_graph":
        from trainables.importers.nasbench_graph import import_nasbench_graph

        return import_nasbench_graph()
    raise TableError(f"unknown benchmark {benchmark!r}; allowed: {', '.join(BENCHMARKS)}")


__all__ = ["BENCHMARKS", "import_table"]
