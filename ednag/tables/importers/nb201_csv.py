"""NAS-Bench-201 from the compact CSVs in ``shared/benchmarks/nb201/`` (see its README).

Row i of every file is NB201 index i; the arch strings must agree row by row.

Metrics per dataset (``cifar10``, ``cifar100``, ``ImageNet16-120``):
``valid_acc@200`` (cifar10: the cifar10-valid validation accuracy; cifar100 and
ImageNet16-120: x-valid derived as 2 x full-test - x-test), ``test_acc@200``, ``valid_acc@12``,
``test_acc@12``, ``train_time_s@200``, ``params_mb``, ``latency_ms_<device>``; per-seed
``valid_acc_seed<k>@200`` (cifar10) or ``fulltest_acc_seed<k>@200`` and ``fulltest_acc@200``
(cifar100, ImageNet16-120; per-seed x-valid cannot be derived).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ednag.spaces import SpaceError, make_space
from ednag.tables.table import Table, TableError, column_name, make_meta

NB201_DATASETS: tuple[str, ...] = ("cifar10", "cifar100", "ImageNet16-120")
NUM_ARCHS = 15625

# file -> (arch-string column, index column or None)
FILES: dict[str, tuple[str, str | None]] = {
    "valid200_perseed.csv": ("arch_str", "nb201_index"),
    "test200.csv": ("ArchitectureString", None),
    "acc12.csv": ("cellstr", "arch"),
    "latency.csv": ("arch_str", "nb201_index"),
}
# dataset -> column prefix in valid200_perseed.csv, test200.csv column, acc12.csv prefix
_PERSEED = {"cifar10": "c10valid", "cifar100": "c100", "ImageNet16-120": "in16"}
_TEST200 = {
    "cifar10": "CIFAR10TestAccuracy200Epochs",
    "cifar100": "CIFAR100TestAccuracy200Epochs",
    "ImageNet16-120": "ImageNetTestAccuracy200Epochs",
}
_ACC12 = {"cifar10": "cifar10", "cifar100": "cifar100", "ImageNet16-120": "imagenet"}
SEEDS = 3

DEFAULTS = {
    "fitness": ("valid_acc", 200),
    "reported": ("test_acc", 200),
    "time": ("train_time_s", 200),
}


def _read(folder: Path, name: str) -> pd.DataFrame:
    path = folder / name
    if not path.is_file():
        raise TableError(
            f"nb201: {name} not found in {str(folder)!r}; the folder needs "
            f"{', '.join(FILES)}"
        )
    try:
        frame = pd.read_csv(path)
    except (ValueError, OSError, UnicodeDecodeError) as err:
        raise TableError(f"nb201: cannot parse {str(path)!r} as CSV ({err})") from None
    arch_col, index_col = FILES[name]
    if len(frame) != NUM_ARCHS:
        raise TableError(f"nb201: {name} has {len(frame)} rows, expected {NUM_ARCHS}")
    for col in (arch_col, index_col):
        if col is not None and col not in frame.columns:
            raise TableError(f"nb201: {name} lacks column {col!r}")
    if index_col is not None and not np.array_equal(
        pd.to_numeric(frame[index_col], errors="coerce").to_numpy(), np.arange(NUM_ARCHS)
    ):
        raise TableError(f"nb201: column {index_col!r} of {name} is not 0..{NUM_ARCHS - 1}")
    return frame


def _numeric(frame: pd.DataFrame, name: str, col: str) -> np.ndarray:
    if col not in frame.columns:
        raise TableError(f"nb201: {name} lacks column {col!r}")
    values = pd.to_numeric(frame[col], errors="coerce").to_numpy(dtype=np.float64)
    bad = np.isnan(values) & frame[col].notna().to_numpy()
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise TableError(
            f"nb201: non-numeric value {frame[col].iloc[row]!r} in {name} column {col!r} "
            f"(row {row})"
        )
    return values


def import_nb201_csv(folder: str | Path) -> Table:
    """The NB201 table from the shared CSV folder; TableError for a missing or bad file."""
    folder = Path(folder)
    if not folder.is_dir():
        raise TableError(f"nb201: {str(folder)!r} is not a folder")
    frames = {name: _read(folder, name) for name in FILES}

    archs = frames["valid200_perseed.csv"]["arch_str"].astype(str).tolist()
    for name, (arch_col, _) in FILES.items():
        other = frames[name][arch_col].astype(str).tolist()
        if other != archs:
            row = next(i for i, (a, b) in enumerate(zip(archs, other, strict=True)) if a != b)
            raise TableError(
                f"nb201: arch string of row {row} differs between valid200_perseed.csv "
                f"({archs[row]!r}) and {name} ({other[row]!r})"
            )
    space = make_space("nb201")
    try:
        keys = [space.key(space.from_native(a)) for a in archs]
    except SpaceError as err:
        raise TableError(f"nb201: bad arch string in valid200_perseed.csv: {err}") from None
    if len(set(keys)) != len(keys):
        raise TableError("nb201: valid200_perseed.csv lists an architecture twice")

    perseed, test200 = frames["valid200_perseed.csv"], frames["test200.csv"]
    acc12, latency = frames["acc12.csv"], frames["latency.csv"]
    lat_cols = [c for c in latency.columns if c.startswith("lat_")]
    if not lat_cols:
        raise TableError("nb201: latency.csv has no 'lat_<device>' columns")
    columns: dict[str, np.ndarray] = {}
    for ds in NB201_DATASETS:
        pre = _PERSEED[ds]

        def put(metric: str, values: np.ndarray, fidelity: int | None = None, ds: str = ds):
            columns[column_name(ds, metric, fidelity)] = values

        test = _numeric(test200, "test200.csv", _TEST200[ds])
        if ds == "cifar10":
            put("valid_acc", _numeric(perseed, "valid200_perseed.csv", f"{pre}_validacc_mean"), 200)
            for k in range(SEEDS):
                col = f"{pre}_validacc_run{k}"
                put(f"valid_acc_seed{k}", _numeric(perseed, "valid200_perseed.csv", col), 200)
        else:
            full = _numeric(perseed, "valid200_perseed.csv", f"{pre}_oritestacc_mean")
            put("valid_acc", 2.0 * full - test, 200)  # x-valid = 2 x full-test - x-test
            put("fulltest_acc", full, 200)
            for k in range(SEEDS):
                col = f"{pre}_oritestacc_run{k}"
                put(f"fulltest_acc_seed{k}", _numeric(perseed, "valid200_perseed.csv", col), 200)
        put("test_acc", test, 200)
        put("valid_acc", _numeric(acc12, "acc12.csv", f"{_ACC12[ds]}-val"), 12)
        put("test_acc", _numeric(acc12, "acc12.csv", f"{_ACC12[ds]}-test"), 12)
        put("train_time_s", _numeric(perseed, "valid200_perseed.csv", f"{pre}_train_time_s"), 200)
        put("params_mb", _numeric(perseed, "valid200_perseed.csv", f"{pre}_size_mb"))
        for col in lat_cols:
            put("latency_ms_" + col.removeprefix("lat_"), _numeric(latency, "latency.csv", col))

    meta = make_meta(
        "nb201",
        "nb201",
        NB201_DATASETS,
        {ds: DEFAULTS for ds in NB201_DATASETS},
        source=(
            f"NAS-Bench-201 compact CSVs ({', '.join(FILES)}) from {folder.resolve()}; "
            "cifar100/ImageNet16-120 valid_acc@200 = 2 x full-test - x-test; latency (ms, "
            "HELP, one measurement per device) repeated under every dataset"
        ),
    )
    return Table(archs, keys, columns, meta)
