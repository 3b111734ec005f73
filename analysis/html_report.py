"""The self-contained HTML report: inline CSS, figures embedded as base64 PNG, no links out."""

from __future__ import annotations

import base64
import html
from pathlib import Path

import pandas as pd

from analysis.comparison import Analysis

_CSS = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1200px; color: #222; }
h1 { font-size: 1.6em; } h2 { font-size: 1.25em; margin-top: 1.6em; }
table { border-collapse: collapse; font-size: 0.9em; margin: 0.6em 0; }
th, td { border: 1px solid #ccc; padding: 3px 8px; text-align: right; }
th { background: #f0f0f0; } td:nth-child(2) { text-align: left; }
img { max-width: 100%; border: 1px solid #ddd; }
.notes li { margin: 0.3em 0; } details { margin: 0.5em 0; }
"""


def _table(frame: pd.DataFrame, floatfmt: str = "{:.4g}") -> str:
    if frame is None or frame.empty:
        return "<p>(none)</p>"
    return frame.to_html(index=False, escape=True, float_format=floatfmt.format, na_rep="",
                         border=0)


def _figure(caption: str, paths: list[Path]) -> str:
    png = next(p for p in paths if p.suffix == ".png")
    data = base64.b64encode(png.read_bytes()).decode("ascii")
    return (f'<figure><img alt="{html.escape(caption)}" src="data:image/png;base64,{data}">'
            f"<figcaption>{html.escape(caption)} (also {html.escape(png.stem)}.svg)"
            "</figcaption></figure>")


def render_html(
    analysis: Analysis, cells: pd.DataFrame, figs: dict[str, tuple[str, list[Path]]],
    sections: list[str] | None = None,
) -> str:
    """The whole report as one HTML string."""
    res = analysis.results
    runs = analysis.runs.groupby("optimizer", observed=True).agg(
        seeds=("seed", "nunique"), queries_min=("queries", "min"),
        queries_max=("queries", "max"), evaluations=("evaluations", "sum"),
        repeats=("repeats", "sum"),
    ).reset_index()
    sources = ", ".join(html.escape(str(s)) for s in res.sources) or "(in memory)"
    body = [
        f"<h1>{html.escape(analysis.title)}: optimizer comparison</h1>",
        f"<p>Results: {sources}. Reported metric: <b>{html.escape(analysis.metric_label)}</b> "
        "of the best-by-fitness architecture (ties in fitness: the first found). Budgets "
        "count queries (distinct architectures); repeats are free.</p>",
        *(sections or []),
        "<h2>Comparison at query budgets</h2>",
        _table(cells),
        "<h2>Notes</h2><ul class='notes'>",
        *[f"<li>{html.escape(n)}</li>" for n in analysis.notes],
        "</ul>",
        "<h2>Figures</h2>",
        *[_figure(caption, paths) for caption, paths in figs.values()],
        "<h2>Pairwise tests</h2>",
        _table(analysis.tests),
        "<h2>Budget table (all columns)</h2>",
        _table(analysis.table),
        "<h2>Runs</h2>",
        _table(runs),
        "<details><summary>Per-run detail</summary>",
        _table(analysis.runs),
        "</details>",
    ]
    if len(analysis.generation_summary):
        cols = ["optimizer", "generation", "seeds", "best_fitness", "mean_fitness", "new_frac",
                "distinct_frac", "mean_hamming"]
        body += ["<h2>Search diagnostics (median over seeds per generation)</h2>",
                 "<details><summary>table</summary>",
                 _table(analysis.generation_summary[cols]), "</details>"]
    return (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        f"<title>{html.escape(analysis.title)} report</title><style>{_CSS}</style></head>"
        "<body>\n" + "\n".join(body) + "\n</body></html>\n"
    )
