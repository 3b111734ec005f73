"""Search diagnostics of population methods: rows with a ``generation``.

Per optimizer, seed and generation: the best and mean fitness of the generation's rows
(failed evaluations left out of both), the fraction of new architectures (``repeat=False``),
the distinct fraction (distinct ``arch_key`` / rows) and, where the benchmark's space can
decode the architectures, the mean pairwise Hamming distance between the rows' decisions.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.load import ResultSet

DIAGNOSTIC_COLUMNS = [
    "optimizer", "seed", "generation", "rows", "best_fitness", "mean_fitness",
    "new_frac", "distinct_frac", "mean_hamming",
]
#: the per-generation quantities that the summary and the figure show
DIAGNOSTIC_METRICS = {
    "best_fitness": "best fitness",
    "mean_fitness": "mean fitness",
    "new_frac": "new architectures (fraction)",
    "mean_hamming": "mean pairwise Hamming distance (decisions)",
}


def decode_choices(benchmark: str, dataset: str, archs: pd.Series) -> np.ndarray | None:
    """The decisions of each native string as an int matrix, or None if the benchmark's
    space is unknown or a string does not decode."""
    try:
        from ednag.spaces import make_space

        space = make_space(benchmark, dataset)
        codes, uniques = pd.factorize(archs)
        table = np.array([space.from_native(str(u)) for u in uniques], dtype=np.int64)
    except (ValueError, KeyError, TypeError, IndexError):
        return None
    if table.ndim != 2:
        return None
    return table[codes]


def _mean_hamming(group: np.ndarray, choices: np.ndarray) -> np.ndarray:
    """Mean pairwise Hamming distance per group id (rows with identical decisions count)."""
    n_groups = int(group.max()) + 1
    size = np.bincount(group, minlength=n_groups).astype(float)
    differing = np.zeros(n_groups)
    for d in range(choices.shape[1]):
        pair = pd.DataFrame({"g": group, "c": choices[:, d]})
        counts = pair.groupby(["g", "c"], sort=False).size()
        squares = (counts.astype(float) ** 2).groupby(level="g").sum()
        sum_sq = np.zeros(n_groups)
        sum_sq[squares.index.to_numpy()] = squares.to_numpy()
        differing += size**2 - sum_sq  # ordered pairs that differ at decision d
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(size > 1, differing / (size * (size - 1)), np.nan)


def generation_stats(results: ResultSet) -> pd.DataFrame:
    """One row per optimizer, seed and generation (empty if no row has a generation)."""
    frame = results.frame
    gen_mask = frame["generation"].notna().to_numpy()
    if not gen_mask.any():
        return pd.DataFrame(columns=DIAGNOSTIC_COLUMNS)
    rows = frame.loc[gen_mask, ["optimizer", "seed", "generation", "fitness", "repeat",
                                "arch_key", "arch"]]
    rows = rows.assign(
        fitness=rows["fitness"].where(np.isfinite(rows["fitness"].astype(float))),
        new=~rows["repeat"].astype(bool),
    )
    keys = ["optimizer", "seed", "generation"]
    grouped = rows.groupby(keys, observed=True, sort=True)
    out = grouped.agg(
        rows=("new", "size"),
        best_fitness=("fitness", "max"),
        mean_fitness=("fitness", "mean"),
        new_frac=("new", "mean"),
        distinct=("arch_key", "nunique"),
    )
    out["distinct_frac"] = out["distinct"] / out["rows"]
    choices = decode_choices(results.benchmark, results.dataset, rows["arch"])
    if choices is not None:
        group = grouped.ngroup().to_numpy()
        # ngroup numbers the groups in the sorted order of the aggregated index
        out["mean_hamming"] = _mean_hamming(group, choices)
    else:
        out["mean_hamming"] = np.nan
    out = out.reset_index()
    out["generation"] = out["generation"].astype(int)
    return out[DIAGNOSTIC_COLUMNS]


def generation_summary(stats: pd.DataFrame) -> pd.DataFrame:
    """Median over seeds per optimizer and generation, with the quartiles of each metric."""
    if stats.empty:
        return pd.DataFrame()
    grouped = stats.groupby(["optimizer", "generation"], observed=True, sort=True)
    parts = {"seeds": grouped["seed"].nunique()}
    for col in DIAGNOSTIC_METRICS:
        parts[col] = grouped[col].median()
        parts[f"{col}_q25"] = grouped[col].quantile(0.25)
        parts[f"{col}_q75"] = grouped[col].quantile(0.75)
    parts["distinct_frac"] = grouped["distinct_frac"].median()
    return pd.DataFrame(parts).reset_index()
