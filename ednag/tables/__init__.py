"""Benchmark tables: the Parquet format (:mod:`.table`), specs and embedded tables
(:mod:`.load`), and the importers of each benchmark's own files (:mod:`.importers`)."""

from ednag.tables.load import import_table, load_table
from ednag.tables.table import MetricRef, Table, TableError, column_name, make_meta

__all__ = ["MetricRef", "Table", "TableError", "column_name", "import_table", "load_table",
           "make_meta"]
