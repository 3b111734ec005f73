"""The one error type of the analysis package."""

from __future__ import annotations


class ResultsError(ValueError):
    """Result data that cannot be analysed as asked (names the file, field or value)."""
