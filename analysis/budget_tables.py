"""Tables at query budgets: the incumbent's reported metric, hits of the optimum, tests.

At budget ``b`` a run's value is the reported metric of its best-by-fitness architecture
among its first ``b`` queries. A run that stopped before ``b`` queries (a crash, a smaller
budget, an exhausted space) is counted with its final incumbent and flagged: ``short``
counts such seeds, and the terminal and Markdown tables mark the row with ``*``.
Budgets that no run reached are left out; when no requested budget was reached the largest
query count reached stands in.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

from analysis.curves import Trace, incumbent_trace, sample
from analysis.errors import ResultsError
from analysis.load import ResultSet
from analysis.optimum import Optimum
from analysis.stats import pairwise_tests

DEFAULT_BUDGETS: tuple[int, ...] = (50, 100, 200, 500, 1000)

TABLE_COLUMNS = [
    "budget", "optimizer", "seeds", "mean", "se", "std", "median", "found", "found_frac",
    "median_queries_to_optimum", "n_found", "queried_optimum_frac", "short",
]


def parse_budgets(text: str | Sequence[int] | None) -> tuple[int, ...]:
    """``"50,100"`` or a sequence of ints to sorted positive budgets (None: the defaults)."""
    if text is None:
        return DEFAULT_BUDGETS
    items: Iterable[object] = text.split(",") if isinstance(text, str) else text
    budgets = []
    for item in items:
        raw = item.strip() if isinstance(item, str) else item
        if raw == "":
            continue
        try:
            value = int(raw)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            value = 0
        if value < 1 or (isinstance(raw, float) and raw != value) or isinstance(raw, bool):
            raise ResultsError(
                f"budgets must be positive integers (queries), e.g. '50,100,200'; got {raw!r}"
            )
        budgets.append(value)
    if not budgets:
        raise ResultsError("budgets must name at least one positive integer, e.g. '50,100'")
    return tuple(sorted(set(budgets)))


def run_summary(results: ResultSet) -> pd.DataFrame:
    """One row per run: optimizer, seed, queries (distinct architectures), evaluations."""
    frame = results.frame
    grouped = frame.groupby("run", sort=True)
    out = pd.DataFrame(
        {
            "queries": grouped["query_index"].max(),
            "evaluations": grouped.size(),
            "repeats": grouped["repeat"].sum(),
        }
    )
    ids = frame[["run", "optimizer", "seed"]].drop_duplicates("run").set_index("run")
    return ids.join(out).reset_index()


def reached_budgets(runs: pd.DataFrame, budgets: Sequence[int]) -> tuple[list[int], str | None]:
    """The budgets some run reached, and a note about any left out."""
    top = int(runs["queries"].max()) if len(runs) else 0
    kept = [b for b in budgets if b <= top]
    dropped = [b for b in budgets if b > top]
    if not kept:
        return [top], (
            f"no run reached the budgets {', '.join(map(str, budgets))}: the table uses the "
            f"largest query count reached, {top}"
        )
    note = None
    if dropped:
        note = f"budgets {', '.join(map(str, dropped))} not reached by any run: left out"
    return kept, note


def per_seed_values(
    results: ResultSet, optimum: Optimum, budgets: Sequence[int], trace: Trace | None = None
) -> pd.DataFrame:
    """One row per run and budget: ``value`` (incumbent's reported metric), ``found``,
    ``first_hit`` (queries until the incumbent is the optimum), ``queried`` and ``short``.
    ``trace`` reuses an :func:`incumbent_trace` along queries."""
    if trace is None or trace.axis != "queries":
        trace = incumbent_trace(results, optimum, "queries")
    grid = np.asarray(budgets, dtype=float)
    value = sample(trace, grid)
    found = sample(trace, grid, trace.best_is_optimum) == 1.0
    first_hit = _first_x(trace, trace.best_is_optimum)
    first_query = _first_x(trace, trace.is_optimum)
    runs = run_summary(results)
    rows = []
    for j, budget in enumerate(budgets):
        part = trace.runs[["run", "optimizer", "seed"]].copy()
        part["budget"] = budget
        part["value"] = value[:, j]
        part["found"] = found[:, j]
        part["first_hit"] = np.where(found[:, j], first_hit, np.nan)
        part["queried"] = first_query <= budget
        part["short"] = runs["queries"].to_numpy() < budget
        rows.append(part)
    return pd.concat(rows, ignore_index=True)


def _first_x(trace: Trace, flags: np.ndarray) -> np.ndarray:
    """Per run: the first ``x`` where ``flags`` holds (NaN if never)."""
    out = np.full(len(trace.runs), np.nan)
    for r in range(len(trace.runs)):
        part = trace.run_slice(r)
        hits = np.flatnonzero(flags[part])
        if len(hits):
            out[r] = trace.x[part][hits[0]]
    return out


def budget_table(per_seed: pd.DataFrame) -> pd.DataFrame:
    """Aggregate :func:`per_seed_values` per budget and optimizer (columns
    :data:`TABLE_COLUMNS`)."""
    grouped = per_seed.groupby(["budget", "optimizer"], observed=True, sort=True)
    table = grouped.agg(
        seeds=("value", "count"),
        mean=("value", "mean"),
        se=("value", "sem"),  # the standard error over seeds (what the tables show)
        std=("value", "std"),
        median=("value", "median"),
        found=("found", "sum"),
        found_frac=("found", "mean"),
        median_queries_to_optimum=("first_hit", "median"),
        n_found=("first_hit", "count"),
        queried_optimum_frac=("queried", "mean"),
        short=("short", "sum"),
    ).reset_index()
    table["found"] = table["found"].astype(int)
    table["short"] = table["short"].astype(int)
    return table[TABLE_COLUMNS]


def budget_tests(per_seed: pd.DataFrame) -> pd.DataFrame:
    """Pairwise tests of the per-seed values at every budget (see :mod:`analysis.stats`)."""
    parts = []
    for budget, group in per_seed.groupby("budget", sort=True):
        tests = pairwise_tests(group[["optimizer", "seed", "value"]])
        tests.insert(0, "budget", budget)
        parts.append(tests)
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
