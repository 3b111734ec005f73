"""NAS-Bench-Macro from ``shared/benchmarks/nas-bench-macro/nas-bench-macro_cifar10.json``.

The JSON maps each of the 6,561 encodings to ``test_acc`` (CIFAR-10 test accuracy of three
independent trainings), ``mean_acc``, ``std``, ``params`` and ``flops``. The table keeps one row
per encoding (in encoding order) with ``arch_key`` = the network
(:meth:`~ednag.spaces.nasbench_macro.NasBenchMacroSpace.key`); the encodings of one network
must carry identical values (they do: the benchmark copied one training's result to each).

There is no validation split, so the first training plays the validation run and the other two
the test: dataset ``cifar10`` with ``test_acc_seed0`` (the fitness), ``test_acc_seeds12`` (the
mean of trainings 1 and 2: the reported value, never shown to the optimizer),
``test_acc_seed1``, ``test_acc_seed2``, ``test_acc`` (the mean of all three), ``params`` and
``flops``. No training time.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

import numpy as np

from ednag.spaces.base import SpaceError
from ednag.spaces.nasbench_macro import NBM_DATASETS, NasBenchMacroSpace
from ednag.tables.table import Table, TableError, column_name, make_meta

FILE_NAME = "nas-bench-macro_cifar10.json"
NUM_ENCODINGS = 3**8
RUNS = 3
FIELDS: tuple[str, ...] = ("test_acc", "params", "flops")
DEFAULTS = {
    "fitness": ("test_acc_seed0", None),
    "reported": ("test_acc_seeds12", None),
    "time": None,
}


def _locate(source: str | os.PathLike | None) -> Path:
    if source is None:
        raise TableError(f"nasbench_macro: give the nas-bench-macro folder or its {FILE_NAME}")
    path = Path(source)
    if path.is_dir():
        path = path / FILE_NAME
    if not path.is_file():
        raise TableError(
            f"nasbench_macro: {str(path)!r} not found; give the nas-bench-macro folder "
            f"(e.g. ../shared/benchmarks/nas-bench-macro) or its {FILE_NAME}"
        )
    return path


def _number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise TableError(f"{where} must be a finite number, got {value!r}")
    return float(value)


def _record(entry: Any, where: str) -> list[float]:
    """``[acc0, acc1, acc2, params, flops]`` of one JSON entry."""
    if not isinstance(entry, dict):
        raise TableError(f"{where} must be an object with {', '.join(FIELDS)}, got {entry!r}")
    missing = [f for f in FIELDS if f not in entry]
    if missing:
        raise TableError(f"{where} lacks {', '.join(missing)}")
    accs = entry["test_acc"]
    if not isinstance(accs, list) or len(accs) != RUNS:
        raise TableError(f"{where}: 'test_acc' must be a list of {RUNS} numbers, got {accs!r}")
    return [
        *(_number(a, f"{where}: test_acc[{i}]") for i, a in enumerate(accs)),
        _number(entry["params"], f"{where}: 'params'"),
        _number(entry["flops"], f"{where}: 'flops'"),
    ]


def import_source(source: str | os.PathLike | None) -> Table:
    """The NAS-Bench-Macro table (6,561 rows, 3,969 networks) from the folder or the JSON."""
    path = _locate(source)
    where = f"nasbench_macro: {str(path)!r}"
    try:
        with path.open(encoding="utf-8") as handle:
            data = json.load(handle)
    except (ValueError, OSError) as err:
        raise TableError(f"{where} is not readable JSON ({err})") from None
    if not isinstance(data, dict) or len(data) != NUM_ENCODINGS:
        size = len(data) if isinstance(data, (dict, list)) else "no"
        raise TableError(
            f"{where} must be an object of {NUM_ENCODINGS} encodings, got {size} entries"
        )
    space = NasBenchMacroSpace()
    archs = sorted(data)
    try:
        keys = [space.key(space.from_native(a)) for a in archs]
    except SpaceError as err:
        raise TableError(f"{where}: bad encoding: {err}") from None
    records = np.array(
        [_record(data[a], f"{where}: entry {a!r}") for a in archs], dtype=np.float64
    )
    first: dict[str, int] = {}
    for i, key in enumerate(keys):
        j = first.setdefault(key, i)
        if not np.array_equal(records[i], records[j]):
            raise TableError(
                f"{where}: encodings {archs[j]!r} and {archs[i]!r} are one network ({key!r}) "
                "but carry different values"
            )
    ds = NBM_DATASETS[0]
    columns = {
        column_name(ds, "test_acc_seed0"): records[:, 0],
        column_name(ds, "test_acc_seeds12"): records[:, 1:3].mean(axis=1),
        column_name(ds, "test_acc_seed1"): records[:, 1],
        column_name(ds, "test_acc_seed2"): records[:, 2],
        column_name(ds, "test_acc"): records[:, 0:3].mean(axis=1),
        column_name(ds, "params"): records[:, 3],
        column_name(ds, "flops"): records[:, 4],
    }
    meta = make_meta(
        "nasbench_macro",
        space.name,
        NBM_DATASETS,
        {ds: DEFAULTS},
        source=(
            f"NAS-Bench-Macro CIFAR-10 JSON from {path.resolve()}; {len(archs)} encodings, "
            f"{len(first)} networks (arch_key); no validation split: fitness = the test "
            "accuracy of training 0, reported = the mean of trainings 1 and 2"
        ),
    )
    return Table(archs, keys, columns, meta)
