"""Synthetic result datasets in the result schema, for tests and benchmarks (no tables needed).

* :func:`optimizer_rows` runs real ask/tell optimizers on NB201 over a synthetic, fixed
  landscape (fitness = a validation-like score, reported = a correlated test-like score).
* :func:`random_rows` draws a large dataset directly with numpy (for speed benchmarks).
* :func:`write_results` writes rows as ``DIR/results/optimizer=<name>/part-seed<s>.parquet``
  with the schema version and config in the file metadata, as the harness does.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from ednag.results.schema import (
    EXTRA_METRIC_PREFIX,
    META_CONFIG,
    META_SCHEMA_VERSION,
    RESULT_SCHEMA,
    SCHEMA_VERSION,
)
from ednag.spaces import NB201Space


class Landscape:
    """A fixed synthetic NB201 landscape: additive op scores plus per-architecture noise."""

    def __init__(self, seed: int = 0) -> None:
        rng = np.random.default_rng(seed)
        self.space = NB201Space()
        self.archs = [self.space.to_native(c) for c in self.space.enumerate()]
        choices = np.array(list(self.space.enumerate()))
        weights = rng.normal(0.0, 1.0, size=(6, 5))
        score = weights[np.arange(6), choices].sum(axis=1)
        score = (score - score.min()) / (score.max() - score.min())
        noise = rng.normal(0, 0.5, len(score))
        self.valid = 60.0 + 30.0 * score + noise
        self.test = 62.0 + 30.0 * score + 0.8 * noise + rng.normal(0, 0.2, len(score))
        self.test = np.round(self.test, 2)
        self.train_time = 20.0 + 80.0 * score + rng.uniform(0, 10, len(score))
        self.index = {a: i for i, a in enumerate(self.archs)}

    @property
    def optimum(self) -> tuple[float, str]:
        i = int(np.argmax(self.test))
        return float(self.test[i]), self.archs[i]


def optimizer_rows(
    make_optimizer: Callable[[int], Any],
    name: str,
    seeds: list[int],
    landscape: Landscape,
    generation_size: int | None = None,
    dataset: str = "cifar10",
) -> pd.DataFrame:
    """Run ``make_optimizer(seed)`` to its budget on ``landscape``, one row per evaluation
    (repeats included); ``generation_size`` labels consecutive asks as generations."""
    rows: list[dict[str, Any]] = []
    for seed in seeds:
        opt = make_optimizer(seed)
        clock = 0.0
        eval_index = 0
        seen: set[str] = set()
        while not opt.finished:
            asked = opt.ask()
            if not asked:
                break
            told = []
            for choices in asked:
                i = landscape.index[landscape.space.to_native(choices)]
                told.append((choices, float(landscape.valid[i])))
            opt.tell(told)
            events = [(c, f, False) for c, f in told]
            events += [(c, f, True) for c, f in opt.pop_repeats()]
            for choices, fitness, repeat in events:
                arch = landscape.space.to_native(choices)
                i = landscape.index[arch]
                if not repeat:
                    clock += float(landscape.train_time[i])
                    seen.add(arch)
                query = len(seen)
                rows.append({
                    "benchmark": "nb201", "dataset": dataset, "optimizer": name,
                    "seed": seed, "eval_index": eval_index, "query_index": query,
                    "arch": arch, "arch_key": arch, "fitness": fitness,
                    "reported": float(landscape.test[i]), "repeat": repeat,
                    "generation": (None if generation_size is None
                                   else eval_index // generation_size),
                    "status": "ok", "sim_time_s": clock, "wall_time_s": eval_index * 1e-3,
                })
                eval_index += 1
    return pd.DataFrame(rows)


def random_rows(
    optimizers: int = 5, seeds: int = 10, evals: int = 20_000, seed: int = 0,
    repeat_rate: float = 0.1, with_generation: tuple[int, ...] = (0,),
) -> pd.DataFrame:
    """A large random dataset (``optimizers * seeds * evals`` rows), vectorised."""
    rng = np.random.default_rng(seed)
    landscape_archs = np.array(Landscape(seed).archs, dtype=object)
    n = evals
    parts = []
    for o in range(optimizers):
        for s in range(seeds):
            repeat = rng.random(n) < repeat_rate
            repeat[0] = False
            query = np.cumsum(~repeat)
            pick = rng.integers(0, len(landscape_archs), n)
            fitness = 60 + 30 * rng.beta(2 + o, 5, n)
            parts.append(pd.DataFrame({
                "optimizer": f"opt{o}", "seed": s, "eval_index": np.arange(n),
                "query_index": query, "arch": landscape_archs[pick], "fitness": fitness,
                "reported": fitness + rng.normal(0, 0.5, n), "repeat": repeat,
                "generation": (np.arange(n) // 50) if o in with_generation else None,
                "sim_time_s": np.cumsum(rng.uniform(10, 100, n)),
            }))
    frame = pd.concat(parts, ignore_index=True)
    frame["arch_key"] = frame["arch"]
    frame["benchmark"] = "nb201"
    frame["dataset"] = "cifar10"
    frame["status"] = "ok"
    frame["wall_time_s"] = frame["eval_index"] * 1e-3
    frame[EXTRA_METRIC_PREFIX + "train_time"] = frame["sim_time_s"] * 0 + 1.0
    return frame


def to_table(frame: pd.DataFrame, config: Mapping[str, Any] | None = None,
             version: str | None = SCHEMA_VERSION) -> pa.Table:
    """Rows as an Arrow table in the result schema with ednag's file metadata."""
    extra = [c for c in frame.columns if c.startswith(EXTRA_METRIC_PREFIX)]
    schema = pa.schema([*RESULT_SCHEMA, *(pa.field(c, pa.float64()) for c in extra)])
    table = pa.Table.from_pandas(frame[schema.names], schema=schema, preserve_index=False)
    metadata = {META_CONFIG: json.dumps(dict(config or {})).encode()}
    if version is not None:
        metadata[META_SCHEMA_VERSION] = version.encode()
    return table.replace_schema_metadata(metadata)


def write_results(
    frame: pd.DataFrame, directory: str | Path, config: Mapping[str, Any] | None = None,
    version: str | None = SCHEMA_VERSION,
) -> Path:
    """Write ``DIR/results/optimizer=<name>/part-seed<s>.parquet``; return ``DIR``."""
    directory = Path(directory)
    for (name, seed), part in frame.groupby(["optimizer", "seed"], sort=True):
        folder = directory / "results" / f"optimizer={name}"
        folder.mkdir(parents=True, exist_ok=True)
        pq.write_table(to_table(part, config, version), folder / f"part-seed{seed}.parquet")
    return directory
