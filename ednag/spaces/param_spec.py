"""A search space written as plain data (a config's ``param_space:``), without Ray.

Each sampled key is a mapping with one of Ray Tune's domain names and its arguments, as Tune's
functions take them::

    param_space:
      lr: {loguniform: [1.0e-4, 1.0e-1]}
      width: {choice: [32, 64, 128]}
      depth: {randint: [1, 5]}          # 1..4: upper exclusive, as tune.randint
      dropout: {uniform: [0.0, 0.5]}
      optimizer: {name: sgd, nesterov: true}   # a nested dict: its keys are searched or constant

The same domains as Tune objects are converted by :mod:`searchers.param_space`; both build the
same :class:`~ednag.spaces.mixed.Param` through :func:`make_param`, so a YAML space and its Tune
twin are one space.

>>> space, constants = space_from_spec({"lr": {"loguniform": [1e-3, 1e-1]},
...                                     "depth": {"qrandint": [2, 8, 2]}, "act": "relu"})
>>> space.params[1].values, constants
((2, 4, 6, 8), {'act': 'relu'})
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from ednag.spaces.base import SpaceError
from ednag.spaces.mixed import MixedSpace, Param

#: flattened names join nested keys with this separator
SEP = "/"
#: grid points of a continuous range (ordinal levels)
DEFAULT_RESOLUTION = 1025
#: domain name -> (argument names, integer domain?, log scale?, quantized?)
DOMAINS: dict[str, tuple[tuple[str, ...], bool, bool, bool]] = {
    "randint": (("lower", "upper"), True, False, False),
    "qrandint": (("lower", "upper", "q"), True, False, True),
    "lograndint": (("lower", "upper"), True, True, False),
    "qlograndint": (("lower", "upper", "q"), True, True, True),
    "uniform": (("lower", "upper"), False, False, False),
    "quniform": (("lower", "upper", "q"), False, False, True),
    "loguniform": (("lower", "upper"), False, True, False),
    "qloguniform": (("lower", "upper", "q"), False, True, True),
}
REFUSED = {
    "grid_search": "it enumerates, it does not search; use choice",
    "sample_from": "its values are not known in advance; use choice, randint, uniform, ...",
    "randn": "a normal distribution has no bounds; use uniform or loguniform",
    "qrandn": "a normal distribution has no bounds; use uniform or loguniform",
}
ALLOWED = ("choice", *DOMAINS)


class ParamSpecError(SpaceError):
    """A ``param_space`` that cannot be searched (names the key and the allowed domains)."""


def integer_levels(lower: int, upper: int, q: int | None, log: bool,
                   resolution: int = DEFAULT_RESOLUTION) -> tuple[int, ...]:
    """The values of an integer domain: ``lower..upper-1`` without ``q`` (Tune's randint),
    the multiples of ``q`` in ``[lower, upper]`` with it (quantizing makes the upper bound
    inclusive, as in Tune); at most ``resolution`` of them, log-spaced for log domains."""
    step = 1 if q is None else int(q)
    hi = upper - 1 if q is None else upper
    lo = lower if step == 1 else int(math.ceil(lower / step) * step)
    if hi < lo:
        raise ValueError(f"the range [{lower}, {upper}{']' if q else ')'} holds no value")
    values = np.arange(lo, hi + 1, step, dtype=np.int64)
    if len(values) > resolution:
        grid = (np.geomspace(max(lo, 1), hi, resolution) if log and lo > 0
                else np.linspace(lo, hi, resolution))
        values = np.unique(np.clip(np.rint(grid / step) * step, lo, hi).astype(np.int64))
    return tuple(int(v) for v in values)


def float_levels(lower: float, upper: float, q: float | None, log: bool,
                 resolution: int = DEFAULT_RESOLUTION) -> tuple[float, ...]:
    """A grid of ``resolution`` points over ``[lower, upper]`` (even in the log for log
    domains); with ``q``, the multiples of ``q`` in the range (or the grid rounded to them)."""
    if not lower < upper:
        raise ValueError(f"lower ({lower}) must be below upper ({upper})")
    if log and lower <= 0:
        raise ValueError(f"a log domain needs lower > 0, got {lower}")
    grid = np.geomspace(lower, upper, resolution) if log else np.linspace(lower, upper, resolution)
    if q is not None:
        count = int(np.floor(upper / q) - np.ceil(lower / q)) + 1
        if count <= resolution:
            grid = np.arange(np.ceil(lower / q), np.floor(upper / q) + 1) * q
        else:
            grid = np.rint(grid / q) * q
        grid = np.unique(np.round(grid, 12))
    return tuple(float(v) for v in grid)


def make_param(path: str, domain: str, args: Any,
               resolution: int = DEFAULT_RESOLUTION) -> Param:
    """One parameter from a domain name and its arguments (a list, or a mapping of the
    argument names; ``choice`` takes the list of options)."""
    if domain in REFUSED:
        raise ParamSpecError(f"param_space[{path!r}]: {domain} is not supported ({REFUSED[domain]})")
    if domain == "choice":
        options = args.get("categories") if isinstance(args, Mapping) else args
        if not isinstance(options, (list, tuple)) or not options:
            raise ParamSpecError(f"param_space[{path!r}]: choice needs a non-empty list of "
                                 f"options, got {args!r}")
        return Param(path, "categorical", tuple(options))
    if domain not in DOMAINS:
        raise ParamSpecError(f"param_space[{path!r}]: unknown domain {domain!r}; allowed: "
                             f"{', '.join(ALLOWED)}")
    names, integer, log, quantized = DOMAINS[domain]
    values = _arguments(path, domain, names, args)
    try:
        if integer:
            for name, value in values.items():
                if not float(value).is_integer():
                    raise ValueError(f"{name} must be an integer, got {value!r}")
            q = int(values["q"]) if quantized else None
            levels: tuple[Any, ...] = integer_levels(int(values["lower"]), int(values["upper"]),
                                                     q, log, resolution)
        else:
            q = float(values["q"]) if quantized else None
            levels = float_levels(float(values["lower"]), float(values["upper"]), q, log,
                                  resolution)
        if quantized and values["q"] <= 0:
            raise ValueError(f"q must be > 0, got {values['q']!r}")
    except ValueError as err:
        raise ParamSpecError(f"param_space[{path!r}]: {domain}: {err}") from None
    return Param(path, "ordinal", levels)


def _arguments(path: str, domain: str, names: tuple[str, ...], args: Any) -> dict[str, float]:
    usage = f"{domain}: [{', '.join(names)}]"
    if isinstance(args, Mapping):
        unknown = sorted(set(map(str, args)) - set(names))
        if unknown or set(args) != set(names):
            raise ParamSpecError(f"param_space[{path!r}]: expected {usage}, got {dict(args)!r}")
        args = [args[n] for n in names]
    if not isinstance(args, (list, tuple)) or len(args) != len(names):
        raise ParamSpecError(f"param_space[{path!r}]: expected {usage}, got {args!r}")
    out = {}
    for name, value in zip(names, args, strict=True):
        if isinstance(value, str):  # YAML 1.1 reads 1e-4 as a string
            with contextlib.suppress(ValueError):
                value = float(value)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(
                value):
            raise ParamSpecError(f"param_space[{path!r}]: {domain} {name} must be a number, "
                                 f"got {value!r}")
        out[name] = value
    return out


def is_domain(value: Any) -> bool:
    """A mapping of one key that names a domain (``{uniform: [0, 1]}``)."""
    return (isinstance(value, Mapping) and len(value) == 1
            and next(iter(value)) in (*ALLOWED, *REFUSED))


def _misspelt(key: Any) -> str | None:
    """The domain name ``key`` is a near miss of, if any (a nested constant otherwise)."""
    import difflib

    close = difflib.get_close_matches(str(key), ALLOWED, n=1, cutoff=0.8)
    return close[0] if close else None


def space_from_spec(spec: Any, resolution: int = DEFAULT_RESOLUTION,
                    name: str = "param_space") -> tuple[MixedSpace, dict[str, Any]]:
    """``(space, constants)`` of a ``param_space`` written as data (see the module docstring);
    keys are flattened to ``a/b`` paths."""
    if not isinstance(spec, Mapping):
        raise ParamSpecError(f"param_space must be a mapping of keys to domains, got {spec!r}")
    params: list[Param] = []
    constants: dict[str, Any] = {}

    def walk(node: Mapping[str, Any], prefix: str) -> None:
        for key, value in node.items():
            if not isinstance(key, str) or not key or SEP in key:
                raise ParamSpecError(f"param_space key {key!r} must be a non-empty string "
                                     f"without {SEP!r}")
            path = prefix + key
            if is_domain(value):
                domain, args = next(iter(value.items()))
                params.append(make_param(path, domain, args, resolution))
            elif isinstance(value, Mapping) and len(value) == 1 and _misspelt(next(iter(value))):
                raise ParamSpecError(
                    f"param_space[{path!r}]: unknown domain {next(iter(value))!r} (did you "
                    f"mean {_misspelt(next(iter(value)))}?); allowed: {', '.join(ALLOWED)}")
            elif isinstance(value, Mapping):
                walk(value, path + SEP)
            else:
                constants[path] = value

    walk(spec, "")
    if not params:
        raise ParamSpecError(f"param_space has no search domain; give each searched key one of: "
                             f"{', '.join(ALLOWED)} (e.g. lr: {{loguniform: [1e-4, 1e-1]}})")
    return MixedSpace(params, name=name), constants


def unflatten(flat: Mapping[str, Any]) -> dict[str, Any]:
    """``{"a/b": 1}`` -> ``{"a": {"b": 1}}``."""
    out: dict[str, Any] = {}
    for path, value in flat.items():
        node = out
        *parents, leaf = path.split(SEP)
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value
    return out


def config_of(space: MixedSpace, constants: Mapping[str, Any], native: str) -> dict[str, Any]:
    """The nested configuration (constants included) of a native form of ``space``."""
    return unflatten({**constants, **space.values(space.from_native(native))})
