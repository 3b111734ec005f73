"""The results writer: rows of evaluations -> Parquet parts under ``DIR/results/``.

Layout of a result directory ``DIR``::

    DIR/results/optimizer=<name>/seed=<seed>-part-<k>.parquet   rows (schema: ednag.results.schema)
    DIR/state/done/optimizer=<name>/seed=<seed>.json             a finished run's marker

Each part is written to a hidden temp file in the same folder and renamed into place, so a
killed run leaves only whole parts (readers ignore names starting with ``.``). A run's rows
live only in its own parts, so a partial run can be cleared and redone without touching others.
The ``optimizer`` column lives in the folder name (hive partitioning, as ``pyarrow``'s
``write_dataset`` does), so ``pandas.read_parquet(DIR / "results")`` returns every schema column.
No Ray import.
"""

from __future__ import annotations

import json
import math
import os
import platform
import re
from collections.abc import Iterable, Mapping, Sequence
from importlib import metadata as importlib_metadata
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from ednag.atomic import atomic_write, atomic_write_text
from ednag.results.schema import (
    EXTRA_METRIC_PREFIX,
    META_CONFIG,
    META_SCHEMA_VERSION,
    META_VERSIONS,
    RESULT_SCHEMA,
    SCHEMA_VERSION,
)

#: hive partition columns: stored in the folder name (optimizer=<name>), not in the files
PARTITION_COLUMNS: tuple[str, ...] = ("optimizer",)
_PART_RE = re.compile(r"^seed=(-?\d+)-part-(\d+)\.parquet$")
_VERSIONED = ("ednag", "ray", "numpy", "pandas", "pyarrow", "optuna", "torch")


def library_versions() -> dict[str, str]:
    """Python and the versions of the libraries a result depends on."""
    out = {"python": platform.python_version()}
    for name in _VERSIONED:
        try:
            out[name] = importlib_metadata.version(name)
        except importlib_metadata.PackageNotFoundError:
            continue
    return out


def rows_to_table(
    rows: Sequence[Mapping[str, Any]],
    metadata: Mapping[bytes, bytes],
    partition_columns: Sequence[str] = (),
) -> pa.Table:
    """Rows (dicts with the schema's columns and optional ``metric.<name>`` floats) -> Arrow.

    ``partition_columns`` are left out: their value lives in the folder name (hive style).
    """
    names = dict.fromkeys(k for row in rows for k in row)
    columns = {name: [row.get(name) for row in rows] for name in names}
    return columns_to_table(columns, metadata, partition_columns, num_rows=len(rows))


def columns_to_table(
    columns: Mapping[str, Sequence[Any]],
    metadata: Mapping[bytes, bytes],
    partition_columns: Sequence[str] = (),
    num_rows: int | None = None,
) -> pa.Table:
    """Columns (name -> equally long value lists) -> Arrow, as :func:`rows_to_table` does for
    rows: schema columns (missing ones are null), ``metric.<name>`` floats; an unknown name is
    an error. Each column is converted in one call, without per-row work."""
    lengths = {name: len(values) for name, values in columns.items()}
    if len(set(lengths.values())) > 1:
        raise ValueError("result columns differ in length: "
                         + ", ".join(f"{k}={v}" for k, v in lengths.items()))
    n = next(iter(lengths.values()), 0) if num_rows is None else num_rows
    extras = sorted(k for k in columns if k.startswith(EXTRA_METRIC_PREFIX))
    unknown = sorted(set(columns) - set(RESULT_SCHEMA.names) - set(extras))
    if unknown:
        raise ValueError(f"result rows carry unknown column(s) {', '.join(unknown)}; allowed: "
                         f"{', '.join(RESULT_SCHEMA.names)} and {EXTRA_METRIC_PREFIX}<name>")
    fields = [f for f in RESULT_SCHEMA if f.name not in partition_columns]
    fields += [pa.field(name, pa.float64()) for name in extras]
    schema = pa.schema(fields, metadata=dict(metadata))
    arrays = []
    for fld in fields:
        values = columns.get(fld.name)
        arrays.append(_column_array([None] * n if values is None else values, fld.type))
    return pa.Table.from_arrays(arrays, schema=schema)


def _column_array(values: Sequence[Any], type_: pa.DataType) -> pa.Array:
    if pa.types.is_floating(type_):
        try:  # python / numpy floats and ints, None: converted in C
            return pa.array(values, type=type_)
        except (pa.ArrowInvalid, pa.ArrowTypeError):  # e.g. numeric strings: as float() reads them
            return pa.array([None if v is None else float(v) for v in values], type=type_)
    return pa.array(values, type=type_)


def write_parquet_part(table: pa.Table, path: Path) -> Path:
    """Write one Parquet part atomically (zstd-compressed)."""
    return atomic_write(path, lambda tmp: pq.write_table(table, tmp, compression="zstd"))


def _json_default(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    if isinstance(value, (set, tuple, Path)):
        return list(value) if not isinstance(value, Path) else str(value)
    raise TypeError(f"not JSON serialisable: {value!r}")


class ResultsWriter:
    """Writes the Parquet parts and done-markers of one result directory."""

    def __init__(self, out_dir: str | os.PathLike, config: Mapping[str, Any]) -> None:
        self.out_dir = Path(out_dir)
        self.results_dir = self.out_dir / "results"
        self.done_dir = self.out_dir / "state" / "done"
        self.metadata: dict[bytes, bytes] = {
            META_SCHEMA_VERSION: SCHEMA_VERSION.encode(),
            META_CONFIG: json.dumps(dict(config), default=_json_default).encode(),
            META_VERSIONS: json.dumps(library_versions()).encode(),
        }

    # ------------------------------------------------------------------ paths
    def run_dir(self, optimizer: str) -> Path:
        return self.results_dir / f"optimizer={optimizer}"

    def parts(self, optimizer: str, seed: int) -> list[Path]:
        """The parts of one run, in write order."""
        folder = self.run_dir(optimizer)
        if not folder.is_dir():
            return []
        found = []
        for path in folder.iterdir():
            match = _PART_RE.match(path.name)
            if match and int(match.group(1)) == seed:
                found.append((int(match.group(2)), path))
        return [p for _, p in sorted(found)]

    def _marker(self, optimizer: str, seed: int) -> Path:
        return self.done_dir / f"optimizer={optimizer}" / f"seed={seed}.json"

    def has_results(self) -> bool:
        """Whether anything was written here before (parts or markers)."""
        return any(self.results_dir.rglob("*.parquet")) or any(self.done_dir.rglob("*.json"))

    # ------------------------------------------------------------------ writing
    def write_rows(self, optimizer: str, seed: int, rows: Sequence[Mapping[str, Any]]) -> Path | None:
        """Append one part with ``rows`` to run (optimizer, seed); ``None`` for no rows."""
        if not rows:
            return None
        names = dict.fromkeys(k for row in rows for k in row)
        return self.write_columns(optimizer, seed,
                                  {name: [row.get(name) for row in rows] for name in names})

    def write_columns(self, optimizer: str, seed: int,
                      columns: Mapping[str, Sequence[Any]]) -> Path | None:
        """Append one part with the rows given as columns (name -> value list) to run
        (optimizer, seed); ``None`` for no rows."""
        n = len(next(iter(columns.values()), ()))
        if n == 0:
            return None
        bad = sorted({str(v) for v in set(columns.get("optimizer", (None,)))} - {optimizer})
        if bad:
            raise ValueError(f"rows of optimizer {', '.join(bad)} written to run {optimizer!r}")
        table = columns_to_table(columns, self.metadata, partition_columns=PARTITION_COLUMNS)
        existing = self.parts(optimizer, seed)
        index = int(_PART_RE.match(existing[-1].name).group(2)) + 1 if existing else 0
        path = self.run_dir(optimizer) / f"seed={seed}-part-{index:05d}.parquet"
        return write_parquet_part(table, path)

    def clear_run(self, optimizer: str, seed: int, keep: Iterable[str | Path] = ()) -> list[Path]:
        """Delete the parts of one run (except ``keep``) and its marker; returns what went."""
        keep_names = {Path(p).name for p in keep}
        removed = [p for p in self.parts(optimizer, seed) if p.name not in keep_names]
        for path in removed:
            path.unlink(missing_ok=True)
        self._marker(optimizer, seed).unlink(missing_ok=True)
        return removed

    def mark_done(self, optimizer: str, seed: int, summary: Mapping[str, Any]) -> None:
        """Record that run (optimizer, seed) finished and all its rows are written."""
        atomic_write_text(self._marker(optimizer, seed),
                           json.dumps(dict(summary), default=_json_default))

    def is_done(self, optimizer: str, seed: int) -> bool:
        return self._marker(optimizer, seed).is_file()

    def done_summary(self, optimizer: str, seed: int) -> dict[str, Any]:
        """What :meth:`mark_done` recorded for a finished run (``{}`` if not finished)."""
        marker = self._marker(optimizer, seed)
        return json.loads(marker.read_text()) if marker.is_file() else {}
