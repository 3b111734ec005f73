"""The comparison table as text: formatted cells, Markdown and a rich terminal table."""

from __future__ import annotations

import math

import pandas as pd
from rich.table import Table

SHORT_MARK = "*"


def _p(value: float) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    return "<0.001" if value < 0.001 else f"{value:.3f}"


def _num(value: float, digits: int) -> str:
    return "n/a" if value is None or math.isnan(value) else f"{value:.{digits}f}"


def summary_cells(table: pd.DataFrame, tests: pd.DataFrame, digits: int = 2) -> pd.DataFrame:
    """Display strings of the budget table; ``p vs best`` tests each optimizer against the
    one with the highest mean at that budget (test named in the cell)."""
    rows = []
    for budget, part in table.groupby("budget", sort=True):
        leader = part.loc[part["mean"].idxmax(), "optimizer"] if part["mean"].notna().any() else None
        at_budget = tests[tests["budget"] == budget] if len(tests) else tests
        for rec in part.itertuples(index=False):
            p_cell = "best" if rec.optimizer == leader else ""
            if leader is not None and rec.optimizer != leader and len(at_budget):
                pair = at_budget[
                    ((at_budget["a"] == rec.optimizer) & (at_budget["b"] == leader))
                    | ((at_budget["a"] == leader) & (at_budget["b"] == rec.optimizer))
                ]
                if len(pair):
                    test = pair.iloc[0]
                    short = "W" if test["test"] == "wilcoxon" else "MWU"
                    p_cell = f"{_p(test['p'])} ({short})"
            seeds = f"{rec.seeds}" + (f" ({rec.short}{SHORT_MARK})" if rec.short else "")
            if math.isnan(rec.median_queries_to_optimum):
                to_opt = "-"
            else:
                to_opt = f"{rec.median_queries_to_optimum:g} (n={rec.n_found})"
            rows.append(
                {
                    "budget": str(budget),
                    "optimizer": str(rec.optimizer),
                    "seeds": seeds,
                    "mean ± SE": f"{_num(rec.mean, digits)} ± {_num(rec.se, digits)}",
                    "found optimum": f"{rec.found}/{rec.seeds}",
                    "queries to optimum (median)": to_opt,
                    "p vs best": p_cell,
                }
            )
    return pd.DataFrame(rows)


def cell_digits(values: pd.Series) -> int:
    """Two decimals for percentages, four for fractions."""
    top = values.abs().max()
    return 2 if isinstance(top, float) and top > 1.5 else 4


def to_markdown(frame: pd.DataFrame, floatfmt: str = ".4g") -> str:
    """A GitHub-flavoured Markdown table (no tabulate dependency)."""
    def cell(value: object) -> str:
        if isinstance(value, float):
            text = "" if math.isnan(value) else format(value, floatfmt)
        else:
            text = str(value)
        return text.replace("|", "\\|").replace("\n", " ")

    header = "| " + " | ".join(map(str, frame.columns)) + " |"
    rule = "|" + "|".join("---" for _ in frame.columns) + "|"
    body = ["| " + " | ".join(cell(v) for v in row) + " |" for row in frame.itertuples(index=False)]
    return "\n".join([header, rule, *body]) + "\n"


def rich_table(cells: pd.DataFrame, title: str, caption: str | None = None) -> Table:
    """The formatted cells as a rich table, one horizontal rule between budgets."""
    table = Table(title=title, caption=caption, caption_justify="left")
    for col in cells.columns:
        table.add_column(col, justify="left" if col in ("optimizer", "p vs best") else "right")
    previous = None
    for row in cells.itertuples(index=False):
        if previous is not None and row[0] != previous:
            table.add_section()
        table.add_row(*[str(v) for v in row])
        previous = row[0]
    return table
