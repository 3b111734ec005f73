"""Pairwise significance tests between optimizers over seeds.

Two optimizers run on the same seeds are compared with the Wilcoxon signed-rank test on the
paired per-seed values; when their seed sets differ (a missing seed, other seeds) the
Mann-Whitney U test compares the two samples unpaired. Both are two-sided. P-values are also
given Holm-adjusted over all pairs of one budget.
"""

from __future__ import annotations

import itertools
import math
import warnings

import numpy as np
import pandas as pd
from scipy import stats as sps

WILCOXON = "wilcoxon"
MANN_WHITNEY = "mann-whitney"

TEST_COLUMNS = ["a", "b", "test", "n_a", "n_b", "mean_diff", "statistic", "p", "note"]


def compare_two(a: pd.Series, b: pd.Series) -> dict[str, object]:
    """Test one pair of per-seed samples (``a`` and ``b`` are indexed by seed)."""
    a, b = a.dropna(), b.dropna()
    row: dict[str, object] = {
        "n_a": len(a),
        "n_b": len(b),
        "mean_diff": float(a.mean() - b.mean()) if len(a) and len(b) else math.nan,
        "statistic": math.nan,
        "p": math.nan,
        "note": "",
    }
    paired = len(a) > 0 and set(a.index) == set(b.index)
    row["test"] = WILCOXON if paired else MANN_WHITNEY
    if len(a) < 2 or len(b) < 2:
        row["note"] = "too few seeds for a test"
        return row
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=RuntimeWarning)
        warnings.simplefilter("ignore", category=UserWarning)
        if paired:
            diff = a.sort_index().to_numpy() - b.reindex(a.sort_index().index).to_numpy()
            if np.all(diff == 0):
                row.update(statistic=0.0, p=1.0, note="identical on every seed")
                return row
            result = sps.wilcoxon(diff, zero_method="wilcox", alternative="two-sided")
        else:
            result = sps.mannwhitneyu(a.to_numpy(), b.to_numpy(), alternative="two-sided")
    row["statistic"] = float(result.statistic)
    row["p"] = float(result.pvalue)
    return row


def holm(pvalues: np.ndarray) -> np.ndarray:
    """Holm-Bonferroni adjusted p-values (NaN stays NaN and is not counted)."""
    p = np.asarray(pvalues, dtype=float)
    out = np.full_like(p, np.nan)
    ok = np.flatnonzero(~np.isnan(p))
    if len(ok) == 0:
        return out
    order = ok[np.argsort(p[ok], kind="stable")]
    m = len(order)
    adjusted = np.maximum.accumulate((m - np.arange(m)) * p[order])
    out[order] = np.minimum(adjusted, 1.0)
    return out


def pairwise_tests(values: pd.DataFrame, by: str = "optimizer", seed: str = "seed",
                   value: str = "value") -> pd.DataFrame:
    """All pairs of ``by`` groups in ``values`` (one row per seed and group), tested on
    ``value``; columns :data:`TEST_COLUMNS` and ``p_holm``."""
    samples = {
        name: grp.set_index(seed)[value]
        for name, grp in values.groupby(by, observed=True, sort=True)
    }
    rows = []
    for left, right in itertools.combinations(samples, 2):
        row = compare_two(samples[left], samples[right])
        rows.append({"a": left, "b": right, **row})
    out = pd.DataFrame(rows, columns=TEST_COLUMNS)
    out["p_holm"] = holm(out["p"].to_numpy()) if len(out) else []
    return out
