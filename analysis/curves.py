"""Anytime curves: the reported metric of the incumbent (best so far by fitness) of each run.

The incumbent changes only when a strictly higher fitness arrives, so among fitness ties the
first architecture found is kept. Repeat rows cost no query and are left out; failed
evaluations (NaN fitness) count as queries but never become the incumbent.

Curves are sampled on a grid of queries (``query_index``) or simulated seconds
(``sim_time_s``). A run that stopped before the end of the grid keeps its final incumbent
(the same policy as the budget tables). Across seeds a curve is the median with the
inter-quartile band, or the mean with one standard error.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis.errors import ResultsError
from analysis.load import ResultSet
from analysis.optimum import OPTIMUM_TOLERANCE, Optimum
from ednag.results.optimum import found_optimum

AXES = ("queries", "time", "wall")
STATS = ("median", "mean")
_AXIS_COLUMN = {"queries": "query_index", "time": "sim_time_s", "wall": "wall_time_s"}


@dataclass(frozen=True)
class Trace:
    """Per new architecture of every run, in search order: the incumbent after it.

    Arrays are aligned; ``starts[r]:starts[r + 1]`` is run ``r``'s slice, where the runs are
    ``runs`` (a frame with ``run``, ``optimizer``, ``seed``).
    """

    axis: str
    x: np.ndarray  # query_index or sim_time_s
    best_reported: np.ndarray  # reported metric of the incumbent (NaN before the first success)
    best_is_optimum: np.ndarray  # bool: the incumbent is the optimum
    is_optimum: np.ndarray  # bool: this row's architecture is the optimum
    starts: np.ndarray
    runs: pd.DataFrame

    def run_slice(self, r: int) -> slice:
        return slice(int(self.starts[r]), int(self.starts[r + 1]))


def optimum_mask(frame: pd.DataFrame, optimum: Optimum) -> np.ndarray:
    """Rows whose architecture is the optimum: the table's best fitness when known (the one
    definition, :func:`ednag.results.optimum.found_optimum`), else the reported optimum (by
    value within tolerance, or by key)."""
    if optimum.fitness is not None:
        return found_optimum(frame["fitness"].to_numpy(dtype=float), optimum.fitness)
    hit = np.abs(frame["reported"].to_numpy(dtype=float) - optimum.value) <= OPTIMUM_TOLERANCE
    if optimum.arch:
        hit |= (frame["arch_key"] == optimum.arch).to_numpy()
        hit |= (frame["arch"] == optimum.arch).to_numpy()
    return hit


def incumbent_trace(results: ResultSet, optimum: Optimum, axis: str = "queries") -> Trace:
    """The incumbent after every new architecture, ordered along ``axis``."""
    if axis not in AXES:
        raise ResultsError(f"unknown curve axis {axis!r}; allowed: {', '.join(AXES)}")
    frame = results.frame
    fresh = ~frame["repeat"].to_numpy()
    column = _AXIS_COLUMN[axis]
    x_all = frame[column].to_numpy(dtype=float)
    keep = fresh & ~np.isnan(x_all)
    run = frame["run"].to_numpy()[keep]
    x = x_all[keep]
    # rows come sorted by run and eval_index; re-sort only if x is not already in that order
    same_run = run[1:] == run[:-1]
    if np.any(run[1:] < run[:-1]) or np.any(same_run & (x[1:] < x[:-1])):
        order = np.lexsort((frame["eval_index"].to_numpy()[keep], x, run))
    else:
        order = slice(None)
    run, x = run[order], x[order]
    fitness = frame["fitness"].to_numpy(dtype=float)[keep][order]
    reported = frame["reported"].to_numpy(dtype=float)[keep][order]
    is_opt = optimum_mask(frame, optimum)[keep][order]

    n_runs = int(frame["run"].max()) + 1 if len(frame) else 0
    counts = np.bincount(run, minlength=n_runs)
    starts = np.r_[0, np.cumsum(counts)]
    position = np.arange(len(run))
    group_start = np.repeat(starts[:-1], counts)

    fit = np.where(np.isnan(fitness), -np.inf, fitness)
    running = pd.Series(fit).groupby(run).cummax().to_numpy()
    previous = np.r_[-np.inf, running[:-1]]
    previous[starts[:-1][counts > 0]] = -np.inf  # each run starts afresh
    new_best = fit > previous  # strict: among ties the first found stays
    last_best = np.maximum.accumulate(np.where(new_best, position, -1)) if len(run) else position
    valid = last_best >= group_start
    index = np.where(valid, last_best, 0)
    best_reported = np.where(valid, reported[index] if len(run) else reported, np.nan)
    best_is_opt = valid & (is_opt[index] if len(run) else is_opt)

    runs = (
        frame[["run", "optimizer", "seed"]]
        .drop_duplicates("run")
        .sort_values("run")
        .reset_index(drop=True)
    )
    return Trace(axis, x, best_reported, best_is_opt, is_opt, starts, runs)


def sample(trace: Trace, grid: np.ndarray, values: np.ndarray | None = None) -> np.ndarray:
    """``values`` (default: the incumbent's reported metric) of every run at each grid point,
    shape (runs, grid); NaN before a run's first row, its last value after its end."""
    values = trace.best_reported if values is None else values
    out = np.full((len(trace.runs), len(grid)), np.nan, dtype=float)
    for r in range(len(trace.runs)):
        part = trace.run_slice(r)
        xs = trace.x[part]
        if len(xs) == 0:
            continue
        pos = np.searchsorted(xs, grid, side="right") - 1
        ok = pos >= 0
        out[r, ok] = values[part][pos[ok]].astype(float)
    return out


def default_grid(trace: Trace, points: int = 400) -> np.ndarray:
    """Queries 1..max (all of them up to ``points``*4, else a log + linear mix), or
    simulated seconds from the first completion to the last (log + linear mix)."""
    if len(trace.x) == 0:
        return np.array([], dtype=float)
    top = float(np.nanmax(trace.x))
    if trace.axis == "queries":
        if top <= 4 * points:
            return np.arange(1, int(top) + 1, dtype=float)
        mix = np.r_[np.geomspace(1, top, points), np.linspace(1, top, points)]
        return np.unique(np.round(mix))
    positive = trace.x[trace.x > 0]
    low = float(positive.min()) if len(positive) else top
    if low >= top:
        return np.array([top])
    return np.unique(np.r_[np.geomspace(low, top, points), np.linspace(low, top, points)])


def nan_quantiles(matrix: np.ndarray, qs: tuple[float, ...]) -> np.ndarray:
    """Quantiles over axis 0 ignoring NaN, linear interpolation as ``np.nanpercentile``
    (vectorised: numpy's nan version loops over the columns in Python)."""
    ordered = np.sort(matrix, axis=0)  # NaN sort last
    n = np.sum(~np.isnan(matrix), axis=0)
    cols = np.arange(matrix.shape[1])
    out = np.full((len(qs), matrix.shape[1]), np.nan)
    has = n > 0
    for i, q in enumerate(qs):
        pos = q * np.maximum(n - 1, 0)
        below = np.floor(pos).astype(int)
        above = np.minimum(below + 1, np.maximum(n - 1, 0))
        frac = pos - below
        lo = ordered[below, cols]
        hi = ordered[above, cols]
        out[i] = np.where(has, lo + (hi - lo) * frac, np.nan)
    return out


def aggregate(matrix: np.ndarray, stat: str = "median") -> tuple[np.ndarray, ...]:
    """(center, low, high, n) over the seeds (rows) at each grid point (columns)."""
    if stat not in STATS:
        raise ResultsError(f"unknown curve statistic {stat!r}; allowed: {', '.join(STATS)}")
    n = np.sum(~np.isnan(matrix), axis=0)
    if matrix.shape[0] == 0:
        empty = np.full(matrix.shape[1], np.nan)
        return empty, empty, empty, n
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", category=RuntimeWarning)  # all-NaN grid points
        if stat == "median":
            low, center, high = nan_quantiles(matrix, (0.25, 0.5, 0.75))
        else:
            center = np.nanmean(matrix, axis=0)
            sem = np.nanstd(matrix, axis=0, ddof=1) / np.sqrt(np.maximum(n, 1))
            sem = np.where(n > 1, sem, 0.0)
            low, high = center - sem, center + sem
    return center, low, high, n


def anytime_curves(
    results: ResultSet,
    optimum: Optimum,
    axis: str = "queries",
    stat: str = "median",
    grid: np.ndarray | None = None,
    trace: Trace | None = None,
) -> pd.DataFrame:
    """Long table of the curves: ``optimizer, x, center, low, high, n`` for the reported
    metric, plus ``regret_center, regret_low, regret_high`` (optimum minus the metric).
    ``trace`` reuses an :func:`incumbent_trace` along the same axis."""
    if trace is None or trace.axis != axis:
        trace = incumbent_trace(results, optimum, axis)
    grid = default_grid(trace) if grid is None else np.asarray(grid, dtype=float)
    matrix = sample(trace, grid)
    parts = []
    for name, rows in trace.runs.groupby("optimizer", observed=True, sort=True).groups.items():
        sub = matrix[np.asarray(rows)]
        center, low, high, n = aggregate(sub, stat)
        r_center, r_low, r_high, _ = aggregate(optimum.value - sub, stat)
        parts.append(
            pd.DataFrame(
                {
                    "optimizer": name,
                    "x": grid,
                    "center": center,
                    "low": low,
                    "high": high,
                    "n": n,
                    "regret_center": r_center,
                    "regret_low": r_low,
                    "regret_high": r_high,
                }
            )
        )
    if not parts:
        return pd.DataFrame(columns=["optimizer", "x", "center", "low", "high", "n"])
    out = pd.concat(parts, ignore_index=True)
    out.attrs.update(axis=axis, stat=stat)
    return out

