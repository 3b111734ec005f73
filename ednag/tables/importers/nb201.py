"""NAS-Bench-201 from a folder of the compact CSVs or from an official ``.pth`` file."""

from __future__ import annotations

import os
from pathlib import Path

from ednag.tables.table import Table, TableError


def import_source(source: str | os.PathLike | None) -> Table:
    """A folder -> :func:`~ednag.tables.importers.nb201_csv.import_nb201_csv`; a file ->
    :func:`~ednag.tables.importers.nb201_pth.import_nb201_pth`."""
    if source is None:
        raise TableError("nb201: give the folder of the shared CSVs or an official .pth file")
    path = Path(source)
    if path.is_dir():
        from ednag.tables.importers.nb201_csv import import_nb201_csv

        return import_nb201_csv(path)
    if path.is_file():
        from ednag.tables.importers.nb201_pth import import_nb201_pth

        return import_nb201_pth(path)
    raise TableError(
        f"nb201: source {str(path)!r} not found; give the folder of the shared CSVs "
        "(valid200_perseed.csv, ...) or an official NAS-Bench-201-v1_*.pth file"
    )
