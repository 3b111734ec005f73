"""NAS-Bench-201 from an official ``NAS-Bench-201-v1_0-e61699.pth`` / ``v1_1-096897.pth``.

The file is a dict ``{"meta_archs": [arch strings], "arch2infos": {index: {"full": ...,
"less": ...}}, "evaluated_indexes": ...}`` read through ``nas_201_api``. The package calls plain
``torch.load``, which refuses these pickles since torch 2.6, so we load the dict ourselves
(``weights_only=False``: only for a file you trust) and hand it to the API.

Metrics follow :mod:`.nb201_shared` (``@200`` from the 200-epoch "full" runs, ``@12`` from
the 12-epoch "less" runs), plus ``latency_ms_nb201`` (the official API's latency).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from ednag.spaces import SpaceError, make_space
from ednag.tables.importers.nb201_csv import DEFAULTS, NB201_DATASETS, SEEDS
from ednag.tables.table import Table, TableError, column_name, make_meta

REQUIRED_KEYS: tuple[str, ...] = ("meta_archs", "arch2infos", "evaluated_indexes")
_EPOCHS = {"200": "full", "12": "less"}


def load_official_dict(path: str | Path) -> dict:
    """The raw dict of an official .pth file; TableError if it is not one."""
    import torch

    path = Path(path)
    if not path.is_file():
        raise TableError(f"nb201: official benchmark file {str(path)!r} not found")
    try:
        data = torch.load(path, map_location="cpu", weights_only=False)
    except Exception as err:  # torch raises many types for a corrupt file
        raise TableError(
            f"nb201: {str(path)!r} is not a readable NAS-Bench-201 .pth file "
            f"({type(err).__name__}: {err})"
        ) from None
    if not isinstance(data, dict):
        raise TableError(f"nb201: {str(path)!r} holds a {type(data).__name__}, not a dict")
    missing = [k for k in REQUIRED_KEYS if k not in data]
    if missing:
        raise TableError(
            f"nb201: {str(path)!r} lacks {', '.join(map(repr, missing))}; an official "
            f"NAS-Bench-201 file has {', '.join(REQUIRED_KEYS)}"
        )
    return data


def _value(get: Callable[[], Any], scale: float = 1.0) -> float:
    """A metric from the API, NaN where the file does not record it."""
    try:
        value = get()
    except (KeyError, ValueError, AssertionError, TypeError, IndexError, ZeroDivisionError):
        return math.nan
    if value is None:
        return math.nan
    value = float(value)
    return value * scale if value >= 0 else math.nan  # the API uses -1 / None for "missing"


def _arch_metrics(hp2res: dict, ds: str) -> dict[tuple[str, int | None], float]:
    """All metrics of one architecture on one dataset, keyed by (metric, fidelity)."""
    out: dict[tuple[str, int | None], float] = {}
    valid_ds = "cifar10-valid" if ds == "cifar10" else ds
    test_set = "ori-test" if ds == "cifar10" else "x-test"
    for hp, part in _EPOCHS.items():
        res = hp2res.get(hp)
        fid = int(hp)
        if res is None:
            continue
        out[("valid_acc", fid)] = _value(lambda r=res: r.get_metrics(valid_ds, "x-valid")["accuracy"])
        out[("test_acc", fid)] = _value(lambda r=res: r.get_metrics(ds, test_set)["accuracy"])
        if part != "full":
            continue
        out[("train_time_s", fid)] = _value(
            lambda r=res: r.get_metrics(valid_ds, "train")["all_time"]
        )
        if ds == "cifar10":
            seeds = res.dataset_seed.get(valid_ds, [])
        else:
            seeds = res.dataset_seed.get(ds, [])
            out[("fulltest_acc", fid)] = _value(
                lambda r=res: r.get_metrics(ds, "ori-test")["accuracy"]
            )
        name = "valid_acc_seed" if ds == "cifar10" else "fulltest_acc_seed"
        setname = "x-valid" if ds == "cifar10" else "ori-test"
        for k in range(SEEDS):
            out[(f"{name}{k}", fid)] = (
                _value(lambda r=res, s=seeds[k], n=setname: r.get_metrics(
                    valid_ds, n, is_random=s)["accuracy"])
                if k < len(seeds) else math.nan
            )
        out[("params_mb", None)] = _value(lambda r=res: r.get_compute_costs(ds)["params"])
        out[("latency_ms_nb201", None)] = _value(
            lambda r=res: r.get_compute_costs(ds)["latency"], scale=1000.0
        )
    return out


def import_nb201_pth(path: str | Path) -> Table:
    """The NB201 table from an official .pth file (or a file of the same structure)."""
    from nas_201_api import NASBench201API

    data = load_official_dict(path)
    try:
        api = NASBench201API(data, verbose=False)
    except Exception as err:  # the API validates with asserts and bare indexing
        raise TableError(
            f"nb201: {str(path)!r} does not have the NAS-Bench-201 structure "
            f"({type(err).__name__}: {err})"
        ) from None
    archs = [str(a) for a in api.meta_archs]
    space = make_space("nb201")
    try:
        keys = [space.key(space.from_native(a)) for a in archs]
    except SpaceError as err:
        raise TableError(f"nb201: bad arch string in {str(path)!r}: {err}") from None

    columns: dict[str, np.ndarray] = {}
    for index in range(len(archs)):
        hp2res = api.arch2infos_dict.get(index, {})
        for ds in NB201_DATASETS:
            for (metric, fid), value in _arch_metrics(hp2res, ds).items():
                name = column_name(ds, metric, fid)
                if name not in columns:
                    columns[name] = np.full(len(archs), math.nan)
                columns[name][index] = value
    for ds in NB201_DATASETS:
        for metric, fid in DEFAULTS.values():
            if column_name(ds, metric, fid) not in columns:
                raise TableError(
                    f"nb201: {str(path)!r} records no {metric}@{fid} for {ds} "
                    "(no evaluated architecture has it)"
                )
    meta = make_meta(
        "nb201",
        "nb201",
        NB201_DATASETS,
        {ds: DEFAULTS for ds in NB201_DATASETS},
        source=f"official NAS-Bench-201 file {Path(path).resolve()} via nas_201_api",
    )
    return Table(archs, keys, dict(sorted(columns.items())), meta)
