"""Analysis of multi-objective runs: normalised hypervolume against queries, Wilcoxon tests on
it at the budgets, and Pareto front plots with the table's true front.

A run is multi-objective when its config metadata holds ``front`` (written by the plan: the
reported objectives, the true front and its :class:`~ednag.pareto.FrontScale`). A run on your
own trainable has no table and so no true front (``empirical`` in the metadata): its
hypervolume is normalised by the front of every feasible evaluation of every run compared
(:func:`empirical_front`), and the report says so. Each run's
front is scored on the reported objectives of its feasible distinct queries (``metric.violation``
0): search on validation, report test. Single-objective results have no ``front`` and are
reported exactly as before.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from analysis.budget_tables import budget_tests
from analysis.errors import ResultsError
from analysis.load import ResultSet
from ednag.experiment.plan import front_record
from ednag.experiment.settings import VIOLATION_COLUMN, metric_column
from ednag.pareto import FrontScale, pareto_mask


def front_meta(results: ResultSet) -> dict[str, Any] | None:
    """The ``front`` metadata of a multi-objective comparison (``None`` otherwise). Every
    result directory must search the same objectives: a run without them would score a
    hypervolume of 0 (a :class:`ResultsError` names the directory instead)."""
    first_label, first = next(((label, config) for label, config in results.configs.items()
                               if config.get("front")), (None, None))
    if first is None:
        return None
    objectives = first["front"].get("objectives")
    for label, config in results.configs.items():
        other = (config.get("front") or {}).get("objectives")
        if other != objectives:
            what = ("is single-objective" if other is None
                    else f"searches {other}")
            raise ResultsError(
                f"result directory {label!r} {what}, but {first_label!r} searches the "
                f"objectives {objectives}: a hypervolume comparison needs the same objectives "
                "in every directory (analyse them separately)")
    return first["front"] | {"reported": first.get("reported")}


def scale_of(meta: dict[str, Any]) -> FrontScale:
    return FrontScale(tuple(meta["ideal"]), tuple(meta["nadir"]), float(meta["margin"]),
                      float(meta["true_hv"]))


def objective_label(objective: Sequence[Any]) -> str:
    metric, fidelity, mode = objective
    return f"{metric}{'' if fidelity is None else '@' + str(fidelity)} ({mode})"


def front_name(meta: dict[str, Any]) -> str:
    """What the hypervolume is divided by: the table's true front or the best found one."""
    return "best front found by any run" if meta.get("empirical") else "true front"


def empirical_front(points: dict[tuple[str, int], np.ndarray]) -> dict[str, Any] | None:
    """Without a table: the front of every feasible point of every run and its scale, in the
    form :func:`ednag.experiment.plan.true_front` writes (``None`` when nothing is feasible)."""
    finite = [p[np.all(np.isfinite(p), axis=1)] for p in points.values() if len(p)]
    if not sum(len(p) for p in finite):
        return None
    return front_record(np.vstack(finite))


def run_points(results: ResultSet, meta: dict[str, Any]) -> dict[tuple[str, int], np.ndarray]:
    """Per (optimizer, seed): the reported objectives (maximised) of its distinct queries in
    query order, NaN rows for infeasible or failed ones."""
    frame = results.frame
    fresh = frame[~frame["repeat"]].sort_values(["optimizer", "seed", "query_index"])
    reported = tuple(meta.get("reported") or ())
    cols = []
    for metric, fidelity, mode in meta["objectives"]:
        name = ("reported" if (metric, fidelity) == tuple(reported) and not meta.get("empirical")
                else metric_column(metric, fidelity))
        cols.append((name, 1.0 if mode == "max" else -1.0))
    out = {}
    for (opt, seed), grp in fresh.groupby(["optimizer", "seed"], observed=True):
        pts = np.column_stack([grp[c].to_numpy(dtype=np.float64) * s for c, s in cols])
        if VIOLATION_COLUMN in grp:
            pts[grp[VIOLATION_COLUMN].to_numpy() > 0] = np.nan
        pts[grp["status"].to_numpy() != "ok"] = np.nan
        out[(str(opt), int(seed))] = pts
    return out


def hv_per_seed(points: dict[tuple[str, int], np.ndarray], scale: FrontScale,
                budgets: Sequence[int]) -> pd.DataFrame:
    """Normalised hypervolume of the first B queries: optimizer, seed, budget, value."""
    rows = []
    for (opt, seed), pts in points.items():
        for b in budgets:
            rows.append({"optimizer": opt, "seed": seed, "budget": int(b),
                         "value": scale.normalised_hv(pts[: int(b)])})
    return pd.DataFrame(rows, columns=["optimizer", "seed", "budget", "value"])


def hv_table(per_seed: pd.DataFrame) -> pd.DataFrame:
    """Mean, standard error and seeds of the normalised hypervolume per budget and optimizer."""
    g = per_seed.groupby(["budget", "optimizer"], observed=True)["value"]
    out = g.agg(seeds="count", mean="mean", se="sem").reset_index()
    return out


def hv_curves(points: dict[tuple[str, int], np.ndarray], scale: FrontScale,
              num: int = 40) -> pd.DataFrame:
    """Mean normalised hypervolume against queries (``num`` points per run)."""
    longest = max((len(p) for p in points.values()), default=0)
    grid = np.unique(np.linspace(1, max(longest, 1), num).astype(int))
    rows = []
    for (opt, seed), pts in points.items():
        for q in grid:
            rows.append({"optimizer": opt, "seed": seed, "queries": int(q),
                         "hv": scale.normalised_hv(pts[: int(q)])})
    frame = pd.DataFrame(rows, columns=["optimizer", "seed", "queries", "hv"])
    return frame.groupby(["optimizer", "queries"], observed=True)["hv"].agg(
        ["mean", "sem"]).reset_index()


def found_front(pts: np.ndarray) -> np.ndarray:
    """The non-dominated feasible points of a run, sorted by the first objective."""
    pts = pts[np.all(np.isfinite(pts), axis=1)]
    if not len(pts):
        return pts.reshape(0, 2)
    front = pts[pareto_mask(pts)]
    return front[np.argsort(front[:, 0])]


def hv_figure(curves: pd.DataFrame, meta: dict[str, Any], title: str,
              colour_of: dict[str, str]):
    from analysis.figures import _new_figure

    fig = _new_figure(7.0, 4.2)
    ax = fig.add_subplot(1, 1, 1)
    for opt, grp in curves.groupby("optimizer", observed=True):
        c = colour_of.get(str(opt))
        ax.plot(grp["queries"], grp["mean"], label=str(opt), color=c)
        ax.fill_between(grp["queries"], grp["mean"] - grp["sem"], grp["mean"] + grp["sem"],
                        color=c, alpha=0.15)
    ref = ", ".join(f"{v:.4g}" for v in signed_reference(meta))
    ax.set_xlabel("queries (distinct architectures)")
    ax.set_ylabel(f"hypervolume / {front_name(meta)}'s")
    ax.set_title(f"{title}\nreference point ({ref}); mean ± SE over seeds", fontsize=9)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    return fig


def signed_reference(meta: dict[str, Any]) -> list[float]:
    """The reference point in the metrics' own units (a minimised metric un-negated)."""
    return [v if o[2] == "max" else -v for v, o in zip(meta["reference_point"],
                                                     meta["objectives"], strict=True)]


def front_figure(points: dict[tuple[str, int], np.ndarray], meta: dict[str, Any], title: str,
                 colour_of: dict[str, str], seed: int | None = None):
    """The true front and each optimizer's found front (first two objectives, one seed)."""
    from analysis.figures import _new_figure

    fig = _new_figure(7.0, 4.6)
    ax = fig.add_subplot(1, 1, 1)
    objs = meta["objectives"]
    sign = np.array([1.0 if o[2] == "max" else -1.0 for o in objs[:2]])
    true = np.asarray(meta["points"], dtype=np.float64)[:, :2] * sign
    ax.step(true[:, 1], true[:, 0], where="post", color="black", lw=1.5, label=front_name(meta))
    seeds = sorted({s for _, s in points})
    pick = seeds[0] if seed is None and seeds else seed
    for (opt, s), pts in points.items():
        if s != pick:
            continue
        front = found_front(pts[:, :2]) * sign if len(pts) else pts
        ax.plot(front[:, 1], front[:, 0], "o-", ms=3, lw=0.8, color=colour_of.get(opt),
                label=opt)
    ref = signed_reference(meta)
    ax.plot([ref[1]], [ref[0]], "x", color="grey", label=f"reference ({ref[0]:.4g}, "
                                                         f"{ref[1]:.4g})")
    ax.set_xlabel(objective_label(objs[1]))
    ax.set_ylabel(objective_label(objs[0]))
    ax.set_title(f"{title} (seed {pick})", fontsize=9)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    return fig


def write_front_report(results: ResultSet, out: Path, budgets: Sequence[int],
                       colour_of: dict[str, str], title: str
                       ) -> tuple[list[Path], list[tuple[str, list[Path]]], str] | None:
    """CSV tables, figures and the HTML section of a multi-objective comparison; ``None`` for
    a single-objective one."""
    from analysis import figures
    from analysis.html_report import _table

    meta = front_meta(results)
    if meta is None:
        return None
    points = run_points(results, meta)
    if meta.get("empirical"):
        found = empirical_front(points)
        if found is None:  # no feasible evaluation in any run: nothing to normalise by
            return None
        meta = meta | found
    scale = scale_of(meta)
    longest = max((len(p) for p in points.values()), default=0)
    kept = [b for b in budgets if b <= longest] or [longest]
    per_seed = hv_per_seed(points, scale, kept)
    table, tests = hv_table(per_seed), budget_tests(per_seed)  # Wilcoxon per budget
    written = []
    for frame, name in ((per_seed, "hv_per_seed.csv"), (table, "hv_summary.csv"),
                        (tests, "hv_tests.csv")):
        frame.to_csv(out / name, index=False)
        written.append(out / name)
    curves = hv_curves(points, scale)
    figs = [
        ("Normalised hypervolume against queries",
         figures.save(hv_figure(curves, meta, f"{title}: hypervolume", colour_of),
                      out / "hypervolume")),
        (f"Pareto fronts found, with the {front_name(meta)}",
         figures.save(front_figure(points, meta, f"{title}: fronts", colour_of),
                      out / "fronts")),
    ]
    ref = ", ".join(f"{v:.4g}" for v in signed_reference(meta))
    section = "\n".join([
        "<h2>Multi-objective: normalised hypervolume</h2>",
        "<p>Objectives (" + ("searched: with no table, the hypervolume is scored on the "
                             "metrics the optimizers saw, not on a held-out one"
                             if meta.get("empirical") else "reported") + "): "
        + ", ".join(objective_label(o) for o in meta["objectives"])
        + f". Hypervolume of the feasible distinct queries divided by the {front_name(meta)}'s "
          f"({scale.true_hv:.4g} after scaling each objective to [0, 1] over that front); "
          f"reference point ({ref}).</p>",
        _table(table),
        "<h3>Wilcoxon tests on the normalised hypervolume</h3>",
        _table(tests),
    ])
    return written, figs, section
