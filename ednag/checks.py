"""Argument checks shared by the optimizers, predictors and data: one message per kind of fault."""

from __future__ import annotations


def int_at_least(name: str, value: object, low: int,
                 error: type[ValueError] = ValueError) -> None:
    """Raise ``error`` naming ``name`` unless ``value`` is an int (not a bool) >= ``low``.

    >>> int_at_least("batch_size", 0, 1)
    Traceback (most recent call last):
    ...
    ValueError: batch_size must be an int >= 1, got 0
    """
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise error(f"{name} must be an int >= {low}, got {value!r}")
