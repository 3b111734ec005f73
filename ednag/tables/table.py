"""Benchmark tables: one Parquet file per benchmark, one row per architecture.

Columns: ``arch`` (the space's native string), ``arch_key`` (``space.key``), then one float64
column per ``{dataset}/{metric}@{fidelity}`` (or ``{dataset}/{metric}`` for a metric without
fidelity). The file's schema metadata ``ednag.table`` holds a JSON description: benchmark, space,
datasets, per-dataset defaults (fitness / reported / time metric) and the source.

This module does not import Ray.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from ednag.atomic import atomic_write

FORMAT_VERSION = 1
METADATA_KEY = b"ednag.table"

Fidelity = int | str | None
MetricRef = tuple[str, Fidelity]


class TableError(ValueError):
    """A bad table file or a query for something the table does not hold (names it)."""


# ---------------------------------------------------------------------------- column names
def column_name(dataset: str, metric: str, fidelity: Fidelity = None) -> str:
    """``{dataset}/{metric}@{fidelity}``, or ``{dataset}/{metric}`` without a fidelity."""
    return f"{dataset}/{metric}" if fidelity is None else f"{dataset}/{metric}@{fidelity}"


def parse_column(name: str) -> tuple[str, str, Fidelity]:
    """Split a value column name into (dataset, metric, fidelity); TableError if malformed."""
    dataset, sep, rest = name.partition("/")
    metric, at, fid = rest.partition("@")
    if not sep or not dataset or not metric or (at and not fid):
        raise TableError(
            f"bad value column {name!r}; expected 'dataset/metric@fidelity' or 'dataset/metric'"
        )
    return dataset, metric, (_parse_fidelity(fid) if at else None)


def _parse_fidelity(text: str) -> int | str:
    return int(text) if text.isdigit() else text


def _fid_text(fidelity: Fidelity) -> str | None:
    return None if fidelity is None else str(fidelity)


def _show(items: Iterable[Any], limit: int = 30) -> str:
    items = [str(i) for i in items]
    more = f", ... ({len(items) - limit} more)" if len(items) > limit else ""
    return ", ".join(items[:limit]) + more


# ---------------------------------------------------------------------------- the table
class Table:
    """An immutable in-memory benchmark table (values as one float64 matrix)."""

    def __init__(
        self,
        archs: Sequence[str],
        keys: Sequence[str],
        columns: Mapping[str, np.ndarray],
        meta: Mapping[str, Any],
    ) -> None:
        self.archs: list[str] = list(archs)
        self.keys: list[str] = list(keys)
        n = len(self.keys)
        if len(self.archs) != n:
            raise TableError(f"table has {len(self.archs)} archs but {n} arch keys")
        self.meta: dict[str, Any] = _check_meta(meta)
        self.column_names: list[str] = list(columns)
        self.values = np.empty((n, len(self.column_names)), dtype=np.float64, order="F")
        for j, name in enumerate(self.column_names):
            col = np.asarray(columns[name], dtype=np.float64)
            if col.shape != (n,):
                raise TableError(f"column {name!r} has shape {col.shape}, expected ({n},)")
            self.values[:, j] = col
        self._col_index = {name: j for j, name in enumerate(self.column_names)}
        self._layout = _layout(self.column_names, self.meta["datasets"])
        self._row_index: dict[str, int] | None = None
        _check_defaults(self)

    # ------------------------------------------------------------------ description
    @property
    def benchmark(self) -> str:
        return str(self.meta["benchmark"])

    @property
    def space(self) -> str:
        return str(self.meta["space"])

    @property
    def datasets(self) -> list[str]:
        return list(self.meta["datasets"])

    @property
    def source(self) -> str:
        return str(self.meta.get("source", ""))

    def __len__(self) -> int:
        return len(self.keys)

    def __repr__(self) -> str:
        return (
            f"Table({self.benchmark!r}, {len(self)} archs, datasets={self.datasets}, "
            f"{len(self.column_names)} columns)"
        )

    def _dataset(self, dataset: str) -> dict[str, list[Fidelity]]:
        if dataset not in self._layout:
            raise TableError(
                f"{self.benchmark}: unknown dataset {dataset!r}; available: {_show(self.datasets)}"
            )
        return self._layout[dataset]

    def metrics(self, dataset: str) -> list[str]:
        """The metrics recorded for ``dataset``."""
        return list(self._dataset(dataset))

    def fidelities(self, dataset: str, metric: str) -> list[Fidelity]:
        """The fidelities of ``metric`` on ``dataset`` (``[None]`` for a metric without one)."""
        metrics = self._dataset(dataset)
        if metric not in metrics:
            raise TableError(
                f"{self.benchmark}: unknown metric {metric!r} for dataset {dataset!r}; "
                f"available: {_show(metrics)}"
            )
        return list(metrics[metric])

    def column_index(self, dataset: str, metric: str, fidelity: Fidelity = None) -> int:
        """Index into :attr:`values` of one column; TableError names what is missing."""
        name = column_name(dataset, metric, _fid_text(fidelity))
        j = self._col_index.get(name)
        if j is not None:
            return j
        fids = self.fidelities(dataset, metric)
        if fids == [None]:
            raise TableError(
                f"{self.benchmark}: metric {metric!r} on {dataset!r} has no fidelity, "
                f"got fidelity {fidelity!r}; pass fidelity=None"
            )
        if fidelity is None:
            raise TableError(
                f"{self.benchmark}: metric {metric!r} on {dataset!r} needs a fidelity; "
                f"available: {_show(fids)}"
            )
        raise TableError(
            f"{self.benchmark}: unknown fidelity {fidelity!r} for {dataset}/{metric}; "
            f"available: {_show(fids)}"
        )

    def column(self, dataset: str, metric: str, fidelity: Fidelity = None) -> np.ndarray:
        """All values of one column (a read-only view, one per row)."""
        col = self.values[:, self.column_index(dataset, metric, fidelity)]
        col.flags.writeable = False
        return col

    def defaults(self, dataset: str) -> dict[str, MetricRef | None]:
        """``{"fitness": (metric, fidelity), "reported": ..., "time": ... or None}``."""
        self._dataset(dataset)
        raw = self.meta["defaults"][dataset]
        return {
            role: None if ref is None else (ref[0], ref[1]) for role, ref in raw.items()
        }

    # ------------------------------------------------------------------ lookups
    def rows(self, keys: Iterable[str]) -> np.ndarray:
        """Row index of each architecture key (int64); TableError for an unknown key."""
        if self._row_index is None:
            self._row_index = {k: i for i, k in enumerate(self.keys)}
        index = self._row_index
        keys = list(keys)
        try:
            return np.fromiter((index[k] for k in keys), dtype=np.int64, count=len(keys))
        except (KeyError, TypeError):
            bad = next(k for k in keys if not isinstance(k, str) or k not in index)
            raise TableError(
                f"{self.benchmark}: unknown architecture key {bad!r} ({len(self)} archs; "
                f"e.g. {_show(self.keys[:3])})"
            ) from None

    def check_rows(self, rows: Iterable[int]) -> np.ndarray:
        """``rows`` as an int64 array; TableError for an index outside the table."""
        arr = np.asarray(list(rows) if not isinstance(rows, np.ndarray) else rows)
        if arr.size == 0:
            return np.zeros(0, dtype=np.int64)
        if arr.ndim != 1 or not np.issubdtype(arr.dtype, np.integer):
            raise TableError(f"{self.benchmark}: row indices must be a 1-d list of ints")
        bad = arr[(arr < 0) | (arr >= len(self))]
        if bad.size:
            raise TableError(
                f"{self.benchmark}: row index {int(bad[0])} out of range 0..{len(self) - 1}"
            )
        return arr.astype(np.int64, copy=False)

    def query(
        self, keys: Iterable[str], dataset: str, metric: str, fidelity: Fidelity = None
    ) -> np.ndarray:
        """Values of one metric for the architectures ``keys`` (NaN where not recorded)."""
        j = self.column_index(dataset, metric, fidelity)
        return self.values[self.rows(keys), j]

    def query_many(
        self, keys_or_rows: Iterable[str] | Iterable[int], dataset: str,
        metrics: Sequence[MetricRef],
    ) -> np.ndarray:
        """An (n, m) float64 array: ``metrics`` [(metric, fidelity), ...] of n architectures,
        given by key or by row index."""
        rows = self.resolve(keys_or_rows)
        cols = self.column_indices(dataset, metrics)
        return self.values[np.ix_(rows, cols)]

    def column_indices(self, dataset: str, metrics: Sequence[MetricRef]) -> np.ndarray:
        """Column indices of [(metric, fidelity), ...] on ``dataset``."""
        out = []
        for ref in metrics:
            if isinstance(ref, str):
                ref = (ref, None)
            if not isinstance(ref, (tuple, list)) or len(ref) != 2:
                raise TableError(f"metric reference {ref!r} must be (metric, fidelity)")
            out.append(self.column_index(dataset, ref[0], ref[1]))
        return np.asarray(out, dtype=np.int64)

    def resolve(self, keys_or_rows: Iterable[str] | Iterable[int]) -> np.ndarray:
        """Row indices of architecture keys (str) or row indices (int)."""
        if isinstance(keys_or_rows, np.ndarray) and np.issubdtype(keys_or_rows.dtype, np.integer):
            return self.check_rows(keys_or_rows)
        items = list(keys_or_rows)
        if items and all(isinstance(i, (int, np.integer)) for i in items):
            return self.check_rows(items)
        return self.rows(items)

    def best(
        self, dataset: str, metric: str, fidelity: Fidelity = None, mode: str = "max"
    ) -> tuple[str, float]:
        """(arch, value) of the best architecture by one metric, NaNs ignored."""
        if mode not in ("max", "min"):
            raise TableError(f"mode must be 'max' or 'min', got {mode!r}")
        col = self.column(dataset, metric, fidelity)
        if np.isnan(col).all():
            raise TableError(f"{self.benchmark}: {dataset}/{metric} has no values")
        i = int(np.nanargmax(col) if mode == "max" else np.nanargmin(col))
        return self.archs[i], float(col[i])

    def count(self, dataset: str, metric: str, fidelity: Fidelity = None) -> int:
        """Number of architectures with a value (non-NaN) for one column."""
        return int(np.count_nonzero(~np.isnan(self.column(dataset, metric, fidelity))))

    # ------------------------------------------------------------------ files
    def to_arrow(self) -> pa.Table:
        arrays = [pa.array(self.archs, pa.string()), pa.array(self.keys, pa.string())]
        arrays += [pa.array(self.values[:, j]) for j in range(len(self.column_names))]
        schema = pa.schema(
            [pa.field("arch", pa.string()), pa.field("arch_key", pa.string())]
            + [pa.field(name, pa.float64()) for name in self.column_names],
            metadata={METADATA_KEY: json.dumps(self.meta).encode()},
        )
        return pa.Table.from_arrays(arrays, schema=schema)

    def save(self, path: str | os.PathLike) -> Path:
        """Write the table to ``path`` atomically (temp file in the same folder + rename)."""
        arrow = self.to_arrow()
        # uncompressed: fastest to load
        return atomic_write(path, lambda tmp: pq.write_table(arrow, tmp, compression="none"))

    @classmethod
    def load(cls, path: str | os.PathLike) -> Table:
        """Read a table written by :meth:`save`; TableError for a missing or bad file."""
        path = Path(path)
        if not path.is_file():
            raise TableError(f"table file {str(path)!r} not found")
        try:
            arrow = pq.read_table(path)
        except (pa.ArrowException, OSError) as err:
            raise TableError(
                f"table file {str(path)!r} is not a readable Parquet file ({err})"
            ) from None
        try:
            return cls.from_arrow(arrow)
        except TableError as err:
            raise TableError(f"table file {str(path)!r}: {err}") from None

    @classmethod
    def from_arrow(cls, arrow: pa.Table) -> Table:
        raw = (arrow.schema.metadata or {}).get(METADATA_KEY)
        if raw is None:
            raise TableError(f"missing {METADATA_KEY.decode()!r} metadata (not an ednag table)")
        try:
            meta = json.loads(raw)
        except ValueError as err:
            raise TableError(f"{METADATA_KEY.decode()!r} metadata is not JSON ({err})") from None
        names = arrow.column_names
        for required in ("arch", "arch_key"):
            if required not in names:
                raise TableError(f"missing column {required!r}; columns: {_show(names)}")
            if not pa.types.is_string(arrow.schema.field(required).type):
                raise TableError(f"column {required!r} must be string")
        value_names = [n for n in names if n not in ("arch", "arch_key")]
        columns: dict[str, np.ndarray] = {}
        for name in value_names:
            if arrow.schema.field(name).type != pa.float64():
                raise TableError(
                    f"column {name!r} must be float64, not {arrow.schema.field(name).type}"
                )
            columns[name] = arrow.column(name).to_numpy()
        return cls(
            arrow.column("arch").to_pylist(), arrow.column("arch_key").to_pylist(), columns, meta
        )


# ---------------------------------------------------------------------------- validation
def make_meta(
    benchmark: str,
    space: str,
    datasets: Sequence[str],
    defaults: Mapping[str, Mapping[str, MetricRef | None]],
    source: str,
) -> dict[str, Any]:
    """The ``ednag.table`` metadata dict (validated when the Table is built)."""
    return {
        "format_version": FORMAT_VERSION,
        "benchmark": benchmark,
        "space": space,
        "datasets": list(datasets),
        "defaults": {
            ds: {role: None if ref is None else [ref[0], ref[1]] for role, ref in d.items()}
            for ds, d in defaults.items()
        },
        "source": source,
    }


def _check_meta(meta: Mapping[str, Any]) -> dict[str, Any]:
    if not isinstance(meta, Mapping):
        raise TableError("table metadata must be a JSON object")
    missing = [k for k in ("format_version", "benchmark", "space", "datasets", "defaults")
               if k not in meta]
    if missing:
        raise TableError(f"table metadata lacks {', '.join(missing)}")
    if meta["format_version"] != FORMAT_VERSION:
        raise TableError(
            f"unsupported table format_version {meta['format_version']!r}; "
            f"this ednag reads version {FORMAT_VERSION}"
        )
    datasets = meta["datasets"]
    if not isinstance(datasets, list) or not datasets or not all(
        isinstance(d, str) for d in datasets
    ):
        raise TableError("table metadata 'datasets' must be a non-empty list of names")
    return dict(meta)


def _layout(names: Sequence[str], datasets: Sequence[str]) -> dict[str, dict[str, list]]:
    layout: dict[str, dict[str, list]] = {ds: {} for ds in datasets}
    for name in names:
        dataset, metric, fidelity = parse_column(name)
        if dataset not in layout:
            raise TableError(
                f"column {name!r} names dataset {dataset!r}, not in the table's datasets "
                f"({_show(datasets)})"
            )
        layout[dataset].setdefault(metric, []).append(fidelity)
    for metrics in layout.values():
        for metric, fids in metrics.items():
            if None in fids and len(fids) > 1:
                raise TableError(f"metric {metric!r} has columns with and without a fidelity")
            metrics[metric] = sorted(fids, key=lambda f: (isinstance(f, str), f or 0))
    return layout


def _check_defaults(table: Table) -> None:
    defaults = table.meta["defaults"]
    if not isinstance(defaults, Mapping):
        raise TableError("table metadata 'defaults' must map dataset -> roles")
    for dataset in table.datasets:
        roles = defaults.get(dataset)
        if not isinstance(roles, Mapping) or "fitness" not in roles or "reported" not in roles:
            raise TableError(
                f"table metadata lacks defaults for dataset {dataset!r} "
                "(needs 'fitness', 'reported' and 'time')"
            )
        for role, ref in roles.items():
            if ref is None and role == "time":
                continue
            if not isinstance(ref, (list, tuple)) or len(ref) != 2:
                raise TableError(f"default {role!r} of {dataset!r} must be [metric, fidelity]")
            try:
                table.column_index(dataset, ref[0], ref[1])
            except TableError as err:
                raise TableError(f"default {role!r} of {dataset!r}: {err}") from None
