"""TransNAS-Bench-101 (micro and macro) from the CSVs in ``shared/benchmarks/transnas-bench-101/``
(see its README): ``transbench101_{micro,macro}_final_valid_metric.csv``.

Each CSV has one row per architecture (``arch_str``, the benchmark's own string) and one column
``valid_<task>`` per task: the final-epoch validation metric, the only metric recorded. Each
task is a dataset of the table with that one metric, named as the benchmark names it
(``valid_top1`` for the classification tasks and jigsaw, ``valid_neg_loss`` for room_layout,
``valid_acc`` for segmentsemantic, ``valid_ssim`` for normal and autoencoder); it is both the
fitness and the reported metric, and there is no training time. Every metric is maximised
(room_layout's is a negative L2 loss).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from ednag.spaces.base import SearchSpace, SpaceError
from ednag.spaces.transnas_macro import TransNASMacroSpace
from ednag.spaces.transnas_micro import TRANSNAS_TASKS, TransNASMicroSpace
from ednag.tables.table import Table, TableError, column_name, make_meta

#: task -> the benchmark's name of its final validation metric
TASK_METRICS: dict[str, str] = {
    "class_scene": "valid_top1",
    "class_object": "valid_top1",
    "jigsaw": "valid_top1",
    "room_layout": "valid_neg_loss",
    "segmentsemantic": "valid_acc",
    "normal": "valid_ssim",
    "autoencoder": "valid_ssim",
}
ARCH_COLUMN = "arch_str"
#: variant -> (file name, number of rows, space)
VARIANTS: dict[str, tuple[str, int, Callable[[], SearchSpace]]] = {
    "micro": ("transbench101_micro_final_valid_metric.csv", 4096, TransNASMicroSpace),
    "macro": ("transbench101_macro_final_valid_metric.csv", 3256, TransNASMacroSpace),
}


def csv_column(task: str) -> str:
    """The CSV column of ``task``."""
    return f"valid_{task}"


def _locate(variant: str, source: str | os.PathLike | None) -> Path:
    name = VARIANTS[variant][0]
    if source is None:
        raise TableError(
            f"transnas_{variant}: give the transnas-bench-101 folder or its {name}"
        )
    path = Path(source)
    if path.is_dir():
        path = path / name
    if not path.is_file():
        raise TableError(
            f"transnas_{variant}: {str(path)!r} not found; give the transnas-bench-101 folder "
            f"(e.g. ../shared/benchmarks/transnas-bench-101) or its {name}"
        )
    return path


def _read(variant: str, path: Path) -> tuple[list[str], dict[str, np.ndarray]]:
    """Arch strings and the value column of each task; TableError names the file and column."""
    _, rows, _ = VARIANTS[variant]
    where = f"transnas_{variant}: {str(path)!r}"
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (ValueError, OSError, UnicodeDecodeError) as err:
        raise TableError(f"{where} is not a readable CSV ({err})") from None
    needed = [ARCH_COLUMN, *(csv_column(t) for t in TRANSNAS_TASKS)]
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        raise TableError(
            f"{where} lacks column(s) {', '.join(missing)}; it needs {', '.join(needed)}"
        )
    if len(frame) != rows:
        raise TableError(f"{where} has {len(frame)} rows, expected {rows}")
    values: dict[str, np.ndarray] = {}
    for task in TRANSNAS_TASKS:
        col = csv_column(task)
        numbers = pd.to_numeric(frame[col], errors="coerce").to_numpy(dtype=np.float64)
        bad = ~np.isfinite(numbers)
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            raise TableError(
                f"{where}: value {frame[col].iloc[row]!r} in column {col!r} (row {row}) is not "
                "a finite number"
            )
        values[task] = numbers
    return frame[ARCH_COLUMN].tolist(), values


def import_transnas(variant: str, source: str | os.PathLike | None) -> Table:
    """The ``micro`` or ``macro`` table from the folder or the CSV ``source``."""
    if variant not in VARIANTS:
        raise TableError(f"unknown TransNAS variant {variant!r}; allowed: micro, macro")
    path = _locate(variant, source)
    archs, values = _read(variant, path)
    space = VARIANTS[variant][2]()
    try:
        keys = [space.key(space.from_native(a)) for a in archs]
    except SpaceError as err:
        raise TableError(f"transnas_{variant}: bad {ARCH_COLUMN} in {str(path)!r}: {err}") from None
    if len(set(keys)) != len(keys):
        dup = next(k for k in keys if keys.count(k) > 1)
        raise TableError(f"transnas_{variant}: {str(path)!r} lists {dup!r} twice")
    columns = {column_name(t, TASK_METRICS[t]): values[t] for t in TRANSNAS_TASKS}
    defaults = {
        t: {"fitness": (TASK_METRICS[t], None), "reported": (TASK_METRICS[t], None), "time": None}
        for t in TRANSNAS_TASKS
    }
    meta = make_meta(
        f"transnas_{variant}",
        space.name,
        TRANSNAS_TASKS,
        defaults,
        source=(
            f"TransNAS-Bench-101 {variant} final-epoch validation metrics from "
            f"{path.resolve()}; no test metric: fitness and reported are the same column"
        ),
    )
    return Table(archs, keys, columns, meta)


def import_micro(source: str | os.PathLike | None) -> Table:
    """The TransNAS-Bench-101 micro table (4,096 cells) from the folder or its CSV."""
    return import_transnas("micro", source)


def import_macro(source: str | os.PathLike | None) -> Table:
    """The TransNAS-Bench-101 macro table (3,256 networks) from the folder or its CSV."""
    return import_transnas("macro", source)
