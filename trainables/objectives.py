"""Multi-objective trial results: what one evaluation adds to its Tune result and its row.

Both the ``lookup`` trainable (values read from the table) and the driver (a user function's
reported metrics) build them here from the values in ``settings.metrics()`` order, with the
simulator's own :func:`~ednag.experiment.settings.objective_vector`, so trial mode tells the
searcher and writes the rows exactly as tabular mode does.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from ednag.experiment.settings import (
    VIOLATION_COLUMN,
    RunSettings,
    metric_column,
    objective_columns,
    objective_vector,
)
from searchers.base import OBJECTIVES_KEY, VIOLATION_KEY, evaluation_from_result


def objective_result(settings: RunSettings, values: list[float]) -> dict[str, Any]:
    """The objectives (maximised) and the total violation under the keys the searchers read,
    and the row columns (``metric.<name>``, ``metric.violation``)."""
    objectives, violation = objective_vector(settings, values)
    return {OBJECTIVES_KEY: objectives, VIOLATION_KEY: violation,
            **objective_columns(settings, values)}


def row_columns(settings: RunSettings) -> tuple[str, ...]:
    """The row columns :func:`objective_result` fills, in order."""
    return (*(metric_column(m, f) for m, f in settings.extra_metrics()), VIOLATION_COLUMN)


def measured(result: Mapping[str, Any]) -> bool:
    """Whether a result holds every objective as a finite number (else the evaluation failed,
    as :func:`searchers.base.evaluation_from_result` decides)."""
    return not evaluation_from_result(dict(result)).failed


def reported_values(settings: RunSettings, result: Mapping[str, Any]) -> list[float]:
    """A user function's reported metrics in ``settings.metrics()`` order (NaN for a missing
    or non-numeric one)."""
    return [_float(result.get(metric)) for metric, _ in settings.metrics()]


def failed_result(settings: RunSettings) -> dict[str, Any]:
    """:func:`objective_result` of an evaluation that measured nothing (a trial that raised)."""
    return objective_result(settings, [math.nan] * len(settings.metrics()))


def _float(value: Any) -> float:
    if isinstance(value, bool):
        return math.nan
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan
