"""Reading result datasets: find the Parquet parts, check their schema version, join them.

A result directory ``DIR`` holds ``DIR/results/optimizer=<name>/*.parquet`` (hive
partitioning by optimizer, deeper ``key=value`` folders allowed). ``DIR`` may also be the
``results`` folder itself, a folder of ``optimizer=`` folders or of Parquet files, or one file.
Columns that hive partitioning moved into folder names are restored from the path.

One :class:`ResultSet` holds one comparison: a single benchmark and dataset. Optimizer names
that occur in more than one directory are told apart as ``name (dirname)``.
"""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from analysis.errors import ResultsError
from ednag.results.schema import (
    EXTRA_METRIC_PREFIX,
    META_CONFIG,
    META_SCHEMA_VERSION,
    REQUIRED_COLUMNS,
    RESULT_SCHEMA,
    SCHEMA_VERSION,
)

#: the run identity: one optimizer, one seed
RUN_COLUMNS = ("optimizer", "seed")
_REPORT_DIR_NAMES = frozenset({"report"})


@dataclass(frozen=True)
class ResultSet:
    """All rows of one comparison, sorted by optimizer, seed and ``eval_index``.

    ``frame`` has the schema's columns, any ``metric.<name>`` columns, ``source`` (the label of
    the directory a row came from) and ``run`` (an int per optimizer and seed).
    """

    frame: pd.DataFrame
    benchmark: str
    dataset: str
    configs: dict[str, dict[str, Any]]
    sources: tuple[Path, ...]
    notes: tuple[str, ...] = field(default=())

    @property
    def optimizers(self) -> list[str]:
        return list(self.frame["optimizer"].cat.categories)

    @property
    def extra_metrics(self) -> list[str]:
        return [c for c in self.frame.columns if c.startswith(EXTRA_METRIC_PREFIX)]


# ---------------------------------------------------------------------------- discovery
def find_result_files(path: str | Path) -> list[Path]:
    """The Parquet parts of one result directory (see the module docstring), sorted."""
    path = Path(path)
    if path.is_file():
        if path.suffix != ".parquet":
            raise ResultsError(f"{path} is not a .parquet file or a result directory")
        return [path]
    if not path.is_dir():
        raise ResultsError(f"result directory {path} does not exist")
    root = path / "results" if (path / "results").is_dir() else path
    files = sorted(root.glob("*.parquet"))
    for sub in sorted(root.iterdir()):
        if sub.is_dir() and "=" in sub.name:
            files.extend(sorted(p for p in sub.rglob("*.parquet") if p.is_file()))
    if not files:
        raise ResultsError(
            f"no Parquet result files under {path} (looked for "
            f"{path}/results/optimizer=<name>/*.parquet, {path}/optimizer=<name>/*.parquet "
            f"and {path}/*.parquet)"
        )
    return files


def _hive_values(path: Path, stop: Path) -> dict[str, str]:
    """``key=value`` folder names between ``stop`` and the file (inner folders win)."""
    values: dict[str, str] = {}
    parts = path.relative_to(stop).parts[:-1] if path.is_relative_to(stop) else ()
    for part in parts:
        key, sep, value = part.partition("=")
        if sep:
            values[urllib.parse.unquote(key)] = urllib.parse.unquote(value)
    return values


# ---------------------------------------------------------------------------- one file
def check_schema_version(metadata: dict[bytes, bytes] | None, path: Path) -> None:
    """ResultsError unless the file metadata carries this analysis' schema version."""
    raw = (metadata or {}).get(META_SCHEMA_VERSION)
    if raw is None:
        raise ResultsError(
            f"{path}: no '{META_SCHEMA_VERSION.decode()}' in the Parquet file metadata; this "
            f"analysis reads result schema version {SCHEMA_VERSION!r} (files written by the "
            "ednag results writer carry it)"
        )
    version = raw.decode("utf-8", "replace").strip().strip('"')
    if version != SCHEMA_VERSION:
        raise ResultsError(
            f"{path}: result schema version {version!r}, but this analysis reads version "
            f"{SCHEMA_VERSION!r}; use the ednag release that wrote the results"
        )


def _read_config(metadata: dict[bytes, bytes] | None, path: Path) -> dict[str, Any]:
    raw = (metadata or {}).get(META_CONFIG)
    if raw is None:
        return {}
    try:
        config = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ResultsError(
            f"{path}: metadata '{META_CONFIG.decode()}' is not valid JSON ({exc})"
        ) from exc
    if not isinstance(config, dict):
        raise ResultsError(f"{path}: metadata '{META_CONFIG.decode()}' must be a JSON object")
    return config


def _read_file(path: Path, root: Path) -> tuple[pa.Table, dict[str, Any]]:
    """One part, checked and cast to the result schema (extra metrics kept as float64)."""
    try:
        table = pq.ParquetFile(path).read()
    except (OSError, pa.ArrowException) as exc:
        raise ResultsError(f"{path}: cannot read as Parquet ({exc})") from exc
    metadata = table.schema.metadata
    check_schema_version(metadata, path)
    config = _read_config(metadata, path)
    hive = _hive_values(path, root)
    columns: dict[str, pa.Array | pa.ChunkedArray] = {}
    missing: list[str] = []
    for fld in RESULT_SCHEMA:
        if fld.name in table.column_names:
            column = table.column(fld.name)
        elif fld.name in hive:
            column = pa.array([hive[fld.name]] * table.num_rows, pa.string())
        else:
            missing.append(fld.name)
            continue
        try:
            columns[fld.name] = column.cast(fld.type)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
            raise ResultsError(
                f"{path}: column {fld.name!r} has type {column.type}, expected {fld.type}"
            ) from exc
    if missing:
        raise ResultsError(
            f"{path}: missing result columns {', '.join(missing)} (schema version "
            f"{SCHEMA_VERSION} needs {', '.join(REQUIRED_COLUMNS)})"
        )
    for name in table.column_names:
        if name.startswith(EXTRA_METRIC_PREFIX):
            columns[name] = table.column(name).cast(pa.float64())
    return pa.table(columns), config


# ---------------------------------------------------------------------------- many dirs
def _labels(paths: Sequence[Path]) -> list[str]:
    """A short, unique label per result directory."""
    names = [p.name if p.name != "results" else p.parent.name for p in paths]
    names = [n or str(p) for n, p in zip(names, paths, strict=True)]
    if len(set(names)) == len(names):
        return names
    return [f"{n}#{i + 1}" for i, n in enumerate(names)]


def load_results(paths: str | Path | Iterable[str | Path]) -> ResultSet:
    """Read one or many result directories into one checked :class:`ResultSet`."""
    if isinstance(paths, (str, Path)):
        paths = [paths]
    paths = [Path(p) for p in paths]
    if not paths:
        raise ResultsError("no result directories given")
    labels = _labels(paths)
    tables: list[pa.Table] = []
    configs: dict[str, dict[str, Any]] = {}
    for path, label in zip(paths, labels, strict=True):
        root = path / "results" if (path / "results").is_dir() else path
        for file in find_result_files(path):
            table, config = _read_file(file, root)
            configs.setdefault(label, config)
            tables.append(table.append_column("source", pa.array([label] * table.num_rows)))
    return _assemble(pa.concat_tables(tables, promote_options="default"), configs, paths)


def results_from_frame(frame: pd.DataFrame, config: dict[str, Any] | None = None) -> ResultSet:
    """A :class:`ResultSet` from rows already in memory (for ``ednag run`` and tests)."""
    missing = [c for c in REQUIRED_COLUMNS if c not in frame.columns]
    if missing:
        raise ResultsError(f"result rows lack columns {', '.join(missing)}")
    extra = [c for c in frame.columns if c.startswith(EXTRA_METRIC_PREFIX)]
    schema = pa.schema([*RESULT_SCHEMA, *(pa.field(c, pa.float64()) for c in extra)])
    try:
        table = pa.Table.from_pandas(frame[schema.names], schema=schema, preserve_index=False)
    except (pa.ArrowInvalid, pa.ArrowTypeError, ValueError) as exc:
        raise ResultsError(f"result rows do not fit the result schema: {exc}") from exc
    source = frame["source"].astype(str) if "source" in frame.columns else ["results"] * len(frame)
    table = table.append_column("source", pa.array(list(source), pa.string()))
    return _assemble(table, {"results": dict(config or {})}, ())


def _check_single_comparison(frame: pd.DataFrame) -> tuple[str, str]:
    pairs = frame.groupby(["benchmark", "dataset"], observed=True)["source"].unique()
    if len(pairs) == 0:
        raise ResultsError("the result files hold no rows")
    if len(pairs) > 1:
        listing = "; ".join(
            f"{b}/{d} in {', '.join(sorted(map(str, srcs)))}" for (b, d), srcs in pairs.items()
        )
        raise ResultsError(
            "results from different benchmarks or datasets cannot be compared in one report: "
            f"{listing}; report each benchmark/dataset separately"
        )
    (benchmark, dataset) = pairs.index[0]
    return str(benchmark), str(dataset)


def _assemble(
    table: pa.Table, configs: dict[str, dict[str, Any]], paths: Sequence[Path]
) -> ResultSet:
    notes: list[str] = []
    frame = table.to_pandas()
    for col in ("benchmark", "dataset", "optimizer", "source", "status"):
        frame[col] = frame[col].astype("category")
    benchmark, dataset = _check_single_comparison(frame)
    frame = _relabel_shared_optimizers(frame)
    frame = frame.sort_values(["optimizer", "seed", "eval_index"], kind="stable")
    dup = frame.duplicated(["optimizer", "seed", "eval_index"], keep="first")
    if dup.any():
        notes.append(
            f"{int(dup.sum())} rows repeated an (optimizer, seed, eval_index) already seen and "
            "were dropped (the first copy is kept)"
        )
        frame = frame[~dup.to_numpy()]
    frame = frame.reset_index(drop=True)
    frame["optimizer"] = frame["optimizer"].cat.remove_unused_categories()
    frame["run"] = frame.groupby(list(RUN_COLUMNS), observed=True, sort=False).ngroup()
    _check_query_order(frame, notes)
    return ResultSet(
        frame=frame,
        benchmark=benchmark,
        dataset=dataset,
        configs=configs,
        sources=tuple(paths),
        notes=tuple(notes),
    )


def _relabel_shared_optimizers(frame: pd.DataFrame) -> pd.DataFrame:
    """``name (source)`` for optimizer names that occur in more than one directory."""
    per_opt = frame.groupby("optimizer", observed=True)["source"].nunique()
    shared = set(per_opt[per_opt > 1].index)
    if not shared:
        return frame
    names = frame["optimizer"].astype(str)
    mask = names.isin(shared).to_numpy()
    labelled = names.where(~mask, names + " (" + frame["source"].astype(str) + ")")
    frame = frame.copy()
    frame["optimizer"] = labelled.astype("category")
    return frame


def _check_query_order(frame: pd.DataFrame, notes: list[str]) -> None:
    """Non-repeat rows of a run must count queries 1, 2, 3, ... in ``eval_index`` order."""
    fresh = frame.loc[~frame["repeat"].to_numpy(), ["run", "query_index"]]
    q = fresh["query_index"].to_numpy()
    run = fresh["run"].to_numpy()
    same_run = np.r_[False, run[1:] == run[:-1]]
    step = np.r_[0, np.diff(q)]
    bad = same_run & (step != 1)
    if bad.any():
        runs = frame.loc[fresh.index[bad], ["optimizer", "seed"]].drop_duplicates().head(3)
        which = ", ".join(f"{o}/seed {s}" for o, s in runs.itertuples(index=False))
        notes.append(
            f"query_index does not count 1, 2, 3, ... over the new architectures of {which}"
            " (the curves and tables use query_index as given)"
        )
