"""Table specs: a ``.parquet`` path, or the name of an embedded table (see
:data:`ednag.registry.TABLES`)."""

from __future__ import annotations

import os
from pathlib import Path

from ednag.registry import BENCHMARKS, TABLES, RegistryError
from ednag.tables.table import Table, TableError


def load_table(spec: str | os.PathLike) -> Table:
    """A table from a spec: a ``.parquet`` path or an embedded table name."""
    text = str(spec)
    if text in TABLES.names():
        return TABLES.get(text).loader.load()()
    path = Path(text)
    if not path.exists():
        raise TableError(
            f"table {text!r} not found; give a .parquet path or one of: "
            f"{', '.join(TABLES.names())}"
        )
    return Table.load(path)


def import_table(benchmark: str, source: str | os.PathLike | None = None) -> Table:
    """Build the table of ``benchmark`` from its own files ``source`` with the benchmark's
    registered importer (see ``ednag list``)."""
    try:
        entry = BENCHMARKS.get(benchmark)
    except RegistryError as err:
        raise TableError(str(err)) from None
    if entry.importer is None:
        raise TableError(f"benchmark {benchmark!r} has no importer; give {entry.source_hint}")
    return entry.importer.load()(source)
