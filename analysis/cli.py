"""``ednag report`` and the short summary that ``ednag run`` prints at its end."""

from __future__ import annotations

import argparse
import sys
import textwrap
from collections.abc import Sequence
from pathlib import Path

import pandas as pd
from rich.console import Console

from analysis.errors import ResultsError
from analysis.load import ResultSet, load_results, results_from_frame
from analysis.report import Analysis, analyse, write_report
from analysis.text import rich_table


def _console(console: Console | None) -> Console:
    return console if console is not None else Console(width=140)


def print_table(analysis: Analysis, console: Console | None = None) -> None:
    """The comparison table with its notes, on the terminal."""
    out = _console(console)
    out.print(rich_table(analysis.summary_cells(),
                         title=f"{analysis.title}: {analysis.metric_label} at query budgets"))
    for note in analysis.notes:
        text = textwrap.fill(note, width=max(out.width - 2, 40), initial_indent="  - ",
                             subsequent_indent="    ")
        out.print(text, highlight=False, markup=False)


def print_summary(
    results: str | Path | Sequence[str | Path] | pd.DataFrame | ResultSet,
    budgets: str | Sequence[int] | None = None,
    console: Console | None = None,
    optimum: float | None = None,
) -> Analysis:
    """Print the short comparison table of result directories or rows; return the analysis."""
    if isinstance(results, pd.DataFrame):
        results = results_from_frame(results)
    elif not isinstance(results, ResultSet):
        results = load_results(results)
    analysis = analyse(results, budgets, optimum=optimum, with_curves=False,
                       with_diagnostics=False)
    print_table(analysis, console)
    return analysis


def report_command(args: argparse.Namespace) -> int:
    """Load ``args.results``, print the table, write the report folder (default DIR/report)."""
    try:
        results = load_results(args.results)
        analysis = analyse(results, args.budgets, stat="mean" if args.mean else "median")
        first = Path(args.results[0])
        out = Path(args.out) if args.out else (first.parent if first.is_file() else first) / "report"
        console = Console(width=140)
        print_table(analysis, console)
        written = write_report(analysis, out)
    except ResultsError as exc:
        print(f"ednag report: error: {exc}", file=sys.stderr)
        return 2
    console.print(f"report: {out / 'report.html'} ({len(written)} files in {out})",
                  highlight=False)
    return 0
