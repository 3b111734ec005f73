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
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.fs as pafs

from analysis.errors import ResultsError
from ednag.results.schema import (
    EXTRA_METRIC_PREFIX,
    META_CONFIG,
    META_SCHEMA_VERSION,
    REQUIRED_COLUMNS,
    RESULT_SCHEMA,
    SCHEMA_VERSION,
)

#: result columns that may live in folder names (hive partitioning)
PARTITION_KEYS = ("optimizer", "benchmark", "dataset", "seed")
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
def _root(path: Path) -> Path:
    return path / "results" if (path / "results").is_dir() else path


def find_result_files(path: str | Path) -> list[Path]:
    """The Parquet parts of one result directory (see the module docstring), sorted; hidden
    files (``.``-prefixed temp files of a writer) and report folders are skipped."""
    path = Path(path)
    if path.is_file():
        if path.suffix != ".parquet":
            raise ResultsError(f"{path} is not a .parquet file or a result directory")
        return [path]
    if not path.is_dir():
        raise ResultsError(f"result directory {path} does not exist")
    root = _root(path)
    infos = pafs.LocalFileSystem().get_file_info(pafs.FileSelector(str(root), recursive=True))
    files = []
    for info in infos:
        rel = Path(info.path).relative_to(root)
        inside = rel.parts[:-1]
        if (info.type == pafs.FileType.File and info.path.endswith(".parquet")
                and not any(part.startswith((".", "_")) for part in rel.parts)
                and all("=" in part for part in inside)):
            files.append(Path(info.path))
    if not files:
        raise ResultsError(
            f"no Parquet result files under {path} (looked for "
            f"{path}/results/optimizer=<name>/*.parquet, {path}/optimizer=<name>/*.parquet "
            f"and {path}/*.parquet)"
        )
    return sorted(files)


def result_dataset(path: str | Path) -> tuple[ds.FileSystemDataset, list[dict[str, Any]]]:
    """The result directory as one ``pyarrow.dataset`` (hive partitions become columns, every
    file cast to the result schema plus the ``metric.*`` columns of any file) and each file's
    stored config. Every file's schema version and columns are checked first (footers only)."""
    path = Path(path)
    files = find_result_files(path)
    root = path.parent if path.is_file() else _root(path)
    partitioning = ds.partitioning(
        pa.schema([f for f in RESULT_SCHEMA if f.name in PARTITION_KEYS]), flavor="hive")
    # an explicit schema: nothing is read until each file's footer is checked below
    raw = ds.dataset([str(f) for f in files], schema=RESULT_SCHEMA, format="parquet",
                     partitioning=partitioning, partition_base_dir=str(root))
    configs = []
    extras: set[str] = set()
    for fragment in raw.get_fragments():
        file = Path(fragment.path)
        try:
            schema = fragment.physical_schema
        except (OSError, pa.ArrowException) as exc:
            raise ResultsError(f"{file}: cannot read as Parquet ({exc})") from exc
        check_schema_version(schema.metadata, file)
        configs.append(_read_config(schema.metadata, file))
        hive = set(ds.get_partition_keys(fragment.partition_expression))
        _check_columns(schema, hive, file)
        extras.update(n for n in schema.names if n.startswith(EXTRA_METRIC_PREFIX))
    unified = pa.schema([*RESULT_SCHEMA, *(pa.field(n, pa.float64()) for n in sorted(extras))])
    return ds.dataset([str(f) for f in files], schema=unified, format="parquet",
                      partitioning=partitioning, partition_base_dir=str(root)), configs


def _check_columns(schema: pa.Schema, hive: set[str], file: Path) -> None:
    missing = [f.name for f in RESULT_SCHEMA if f.name not in schema.names and f.name not in hive]
    if missing:
        raise ResultsError(
            f"{file}: missing result columns {', '.join(missing)} (schema version "
            f"{SCHEMA_VERSION} needs {', '.join(REQUIRED_COLUMNS)})"
        )
    for fld in RESULT_SCHEMA:
        if fld.name in schema.names:
            found = schema.field(fld.name).type
            if found != fld.type and not _castable(found, fld.type):
                raise ResultsError(
                    f"{file}: column {fld.name!r} has type {found}, expected {fld.type}"
                )


def _castable(source: pa.DataType, target: pa.DataType) -> bool:
    """Whether every value of ``source`` casts to ``target``: a text column never counts as
    numeric or boolean (an empty test cast would pass, and a bad value fail only later)."""
    text = pa.types.is_string(source) or pa.types.is_large_string(source)
    if text and not (pa.types.is_string(target) or pa.types.is_large_string(target)):
        return False
    try:
        pa.array([], source).cast(target)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return False
    return True


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
        dataset, file_configs = result_dataset(path)
        configs[label] = file_configs[0] if file_configs else {}
        try:
            table = dataset.to_table()
        except (OSError, pa.ArrowException) as exc:
            raise ResultsError(f"{path}: cannot read the result files ({exc})") from exc
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
    _orient_minimised(frame, configs, notes)
    return ResultSet(
        frame=frame,
        benchmark=benchmark,
        dataset=dataset,
        configs=configs,
        sources=tuple(paths),
        notes=tuple(notes),
    )


def minimised(configs: dict[str, dict[str, Any]]) -> bool:
    """The runs minimise their metric (a user trainable with ``fitness_mode: min``)."""
    return any(c.get("fitness_mode") == "min" for c in configs.values())


def _orient_minimised(frame: pd.DataFrame, configs: dict[str, dict[str, Any]],
                      notes: list[str]) -> None:
    """Analysis maximises: a minimised run's reported metric (stored as measured) is negated
    here, as its fitness already is in the rows."""
    if not minimised(configs):
        return
    modes = {c.get("fitness_mode", "max") for c in configs.values()}
    if len(modes) > 1:
        raise ResultsError("the result directories disagree on fitness_mode (min and max): "
                           "report them separately")
    frame["reported"] = -frame["reported"]
    notes.append("fitness_mode: min: lower is better, so the fitness and the reported metric "
                 "are shown negated (higher is better in every table and figure)")


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
