"""Argument checks shared by the optimizers, predictors and data: one message per kind of fault."""

from __future__ import annotations

import math


def int_at_least(name: str, value: object, low: int,
                 error: type[ValueError] = ValueError, *, optional: bool = False) -> None:
    """Raise ``error`` naming ``name`` unless ``value`` is an int (not a bool) >= ``low``
    (or ``None`` when ``optional``).

    >>> int_at_least("batch_size", 0, 1)
    Traceback (most recent call last):
    ...
    ValueError: batch_size must be an int >= 1, got 0
    >>> int_at_least("patience", 0, 1, optional=True)
    Traceback (most recent call last):
    ...
    ValueError: patience must be an int >= 1 or None, got 0
    """
    if optional and value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise error(f"{name} must be an int >= {low}{' or None' if optional else ''}, "
                    f"got {value!r}")


def finite_at_least(name: str, value: object, low: int = 0, error: type[ValueError] = ValueError,
                    *, strict: bool = False) -> None:
    """Raise ``error`` naming ``name`` unless ``value`` is a finite int or float (not a bool)
    ``>= low`` (``> low`` when ``strict``).

    >>> finite_at_least("lr", 0.0, strict=True)
    Traceback (most recent call last):
    ...
    ValueError: lr must be a finite number > 0, got 0.0
    """
    if (isinstance(value, bool) or not isinstance(value, (int, float))
            or not math.isfinite(value) or value < low or (strict and value == low)):
        raise error(f"{name} must be a finite number {'>' if strict else '>='} {low}, "
                    f"got {value!r}")
