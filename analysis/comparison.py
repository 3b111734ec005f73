"""One analysis of a comparison: everything the report shows, computed once."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from analysis import text
from analysis.load import ResultSet
from analysis.optimum import Optimum


@dataclass(frozen=True)
class Analysis:
    """Everything the report shows, computed once."""

    results: ResultSet
    optimum: Optimum
    metric_label: str
    stat: str
    budgets: list[int]
    runs: pd.DataFrame
    per_seed: pd.DataFrame
    table: pd.DataFrame
    tests: pd.DataFrame
    curves: dict[str, pd.DataFrame]
    generations: pd.DataFrame
    generation_summary: pd.DataFrame
    notes: list[str] = field(default_factory=list)

    @property
    def title(self) -> str:
        return f"{self.results.benchmark} / {self.results.dataset}"

    def summary_cells(self) -> pd.DataFrame:
        return text.summary_cells(self.table, self.tests, text.cell_digits(self.table["mean"]))
