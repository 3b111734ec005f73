"""Matplotlib figures of the report (object API on the Agg canvas: no pyplot state).

Every figure is returned as a :class:`matplotlib.figure.Figure`; :func:`save` writes it as
PNG and SVG.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, NullFormatter

from analysis.diagnostics import DIAGNOSTIC_METRICS
from analysis.optimum import OPTIMUM_TOLERANCE, Optimum

AXIS_LABELS = {
    "queries": "queries (distinct architectures)",
    "time": "simulated time (s)",
    "wall": "wall-clock time (s)",
}
_PALETTE = [
    "#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd",
    "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf",
]


def colours(optimizers: list[str]) -> dict[str, str]:
    """A fixed colour per optimizer (sorted names), the same in every figure."""
    return {name: _PALETTE[i % len(_PALETTE)] for i, name in enumerate(sorted(optimizers))}


def _new_figure(width: float, height: float) -> Figure:
    fig = Figure(figsize=(width, height), dpi=110, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _plain_log(axis, span: tuple[float, float]) -> None:
    """Plain numbers (1, 10, 200) on a log axis; minor ticks labelled only over < 2 decades."""
    plain = FuncFormatter(lambda v, _: f"{v:g}")
    axis.set_major_formatter(plain)
    lo, hi = span
    few_decades = lo > 0 and np.isfinite(hi) and hi / lo < 100
    axis.set_minor_formatter(plain if few_decades else NullFormatter())


def _span(values: np.ndarray) -> tuple[float, float]:
    finite = values[np.isfinite(values) & (values > 0)]
    return (float(finite.min()), float(finite.max())) if finite.size else (1.0, 1.0)


def regret_floor(curves: pd.DataFrame) -> float:
    """Where a regret of 0 is drawn on the log axis: half the smallest positive regret."""
    values = curves[["regret_center", "regret_low", "regret_high"]].to_numpy(dtype=float)
    positive = values[values > OPTIMUM_TOLERANCE]
    return float(positive.min() / 2) if positive.size else 1e-3


def anytime_figure(
    curves: pd.DataFrame,
    optimum: Optimum,
    metric_label: str,
    title: str,
    colour_of: dict[str, str],
) -> Figure:
    """Two panels: the incumbent's reported metric and its regret (log), against the curves'
    axis, one line (centre) and band per optimizer."""
    axis = curves.attrs.get("axis", "queries")
    stat = curves.attrs.get("stat", "median")
    band = "inter-quartile range" if stat == "median" else "± 1 standard error"
    fig = _new_figure(12.5, 4.8)
    left, right = fig.subplots(1, 2)
    floor = regret_floor(curves)
    for name, part in curves.groupby("optimizer", sort=True, observed=True):
        colour = colour_of.get(str(name), "black")
        x = part["x"].to_numpy()
        seeds = int(part["n"].max()) if len(part) else 0
        label = f"{name} (n={seeds})"
        left.plot(x, part["center"], color=colour, lw=2, label=label, drawstyle="steps-post")
        left.fill_between(x, part["low"], part["high"], color=colour, alpha=0.18, lw=0,
                          step="post")
        r_center, r_low, r_high = (
            np.maximum(part[c].to_numpy(dtype=float), floor)
            for c in ("regret_center", "regret_low", "regret_high")
        )
        right.plot(x, r_center, color=colour, lw=2, label=label, drawstyle="steps-post")
        right.fill_between(x, r_low, r_high, color=colour, alpha=0.18, lw=0, step="post")
    left.axhline(optimum.value, color="black", ls="--", lw=1,
                 label=f"optimum {optimum.value:g}" + (" (best seen)" if
                                                       optimum.source == "best seen" else ""))
    pct = "(%)" in metric_label
    unit = "percentage points" if pct else metric_label.split(" (")[0]
    x_span = _span(curves["x"].to_numpy(dtype=float))
    for ax in (left, right):
        ax.set_xscale("log")
        _plain_log(ax.xaxis, x_span)
        ax.set_xlabel(AXIS_LABELS[axis] + ", log scale")
        ax.grid(True, which="major", alpha=0.3)
    left.set_ylabel(f"{metric_label} of best-by-fitness architecture")
    left.set_title(f"{stat} over seeds, band = {band}", fontsize=10)
    _zoom_to_late_values(left, curves)
    right.set_yscale("log")
    regrets = curves[["regret_low", "regret_high"]].to_numpy(dtype=float).ravel()
    _plain_log(right.yaxis, _span(np.maximum(regrets, floor)))
    right.set_ylabel(f"regret to optimum ({unit}, log scale)")
    right.set_title(f"regret; 0 is drawn at {floor:.2g}", fontsize=10)
    left.legend(loc="best", fontsize=9)
    right.legend(loc="best", fontsize=9)
    fig.suptitle(title, fontsize=12)
    return fig


def _zoom_to_late_values(ax, curves: pd.DataFrame) -> None:
    """Start the y axis near the band's low edge after the first third of the (log) x range,
    so the poor first queries do not flatten the interesting part."""
    x = curves["x"].to_numpy(dtype=float)
    low = curves["low"].to_numpy(dtype=float)
    high = curves["high"].to_numpy(dtype=float)
    if not np.isfinite(high).any() or not np.isfinite(x).any():
        return
    x_min = max(float(np.nanmin(x)), 1e-9)
    late = x >= x_min * (float(np.nanmax(x)) / x_min) ** (1 / 3)
    late_low = low[late & np.isfinite(low)]
    if not late_low.size:
        return
    bottom = float(late_low.min())
    top = max(float(np.nanmax(high)), ax.get_ylim()[1])
    if top > bottom:
        pad = 0.06 * (top - bottom)
        ax.set_ylim(bottom - pad, top + pad)


def budget_figure(
    per_seed: pd.DataFrame, metric_label: str, title: str, colour_of: dict[str, str],
    optimum: Optimum,
) -> Figure:
    """Per budget, the per-seed values of each optimizer as box plots with the seeds on top."""
    budgets = sorted(per_seed["budget"].unique())
    names = sorted(map(str, per_seed["optimizer"].unique()))
    fig = _new_figure(max(6.0, 1.2 + 0.55 * len(budgets) * len(names)), 4.6)
    ax = fig.subplots()
    width = 0.8 / max(len(names), 1)
    rng = np.random.default_rng(0)  # jitter only
    for i, name in enumerate(names):
        colour = colour_of.get(name, "black")
        data, pos = [], []
        for j, budget in enumerate(budgets):
            sel = (per_seed["optimizer"] == name) & (per_seed["budget"] == budget)
            values = per_seed.loc[sel, "value"].dropna().to_numpy()
            data.append(values)
            pos.append(j + (i - (len(names) - 1) / 2) * width)
        ax.boxplot(data, positions=pos, widths=width * 0.8, patch_artist=True, showfliers=False,
                   boxprops={"facecolor": colour, "alpha": 0.3, "edgecolor": colour},
                   medianprops={"color": colour, "lw": 2},
                   whiskerprops={"color": colour}, capprops={"color": colour})
        for p, values in zip(pos, data, strict=True):
            ax.scatter(p + rng.uniform(-width / 5, width / 5, len(values)), values, s=10,
                       color=colour, zorder=3)
        ax.plot([], [], color=colour, lw=6, alpha=0.5, label=name)
    ax.axhline(optimum.value, color="black", ls="--", lw=1, label=f"optimum {optimum.value:g}")
    ax.set_xticks(range(len(budgets)), [str(b) for b in budgets])
    ax.set_xlabel("query budget (distinct architectures)")
    ax.set_ylabel(f"{metric_label} of best-by-fitness architecture")
    ax.grid(True, axis="y", alpha=0.3)
    ax.legend(fontsize=9, loc="lower right")
    ax.set_title(title, fontsize=12)
    return fig


def diagnostics_figure(summary: pd.DataFrame, title: str, colour_of: dict[str, str]) -> Figure:
    """Per generation (median over seeds, inter-quartile band): best and mean fitness, the
    fraction of new architectures and the mean pairwise Hamming distance."""
    fig = _new_figure(12.0, 7.5)
    axes = fig.subplots(2, 2, sharex=True).ravel()
    for ax, (col, label) in zip(axes, DIAGNOSTIC_METRICS.items(), strict=True):
        for name, part in summary.groupby("optimizer", sort=True, observed=True):
            colour = colour_of.get(str(name), "black")
            gen = part["generation"].to_numpy()
            ax.plot(gen, part[col], color=colour, lw=1.8,
                    label=f"{name} (n={int(part['seeds'].max())})")
            ax.fill_between(gen, part[f"{col}_q25"], part[f"{col}_q75"], color=colour,
                            alpha=0.18, lw=0)
        ax.set_ylabel(label)
        ax.grid(True, alpha=0.3)
    _zoom_fitness(axes[0], summary, "best_fitness")
    _zoom_fitness(axes[1], summary, "mean_fitness")
    axes[2].set_ylim(-0.03, 1.03)
    for ax in axes[2:]:
        ax.set_xlabel("generation")
    axes[0].legend(fontsize=9, loc="lower right")
    fig.suptitle(title + " (median over seeds, band = inter-quartile range)", fontsize=12)
    return fig


def _zoom_fitness(ax, summary: pd.DataFrame, col: str) -> None:
    values = summary[[f"{col}_q25", col, f"{col}_q75"]].to_numpy(dtype=float)
    values = values[np.isfinite(values) & (values > -1e11)]  # ignore failed-eval sentinels
    if values.size:
        bottom, top = np.percentile(values, 5), values.max()
        if top > bottom:
            pad = 0.05 * (top - bottom)
            ax.set_ylim(bottom - pad, top + pad)


def save(fig: Figure, path_stem: Path) -> list[Path]:
    """Write ``<stem>.png`` and ``<stem>.svg``; return both paths."""
    paths = [path_stem.with_suffix(".png"), path_stem.with_suffix(".svg")]
    for path in paths:
        fig.savefig(path)
    return paths
