"""A generic mixed space: named categorical and ordinal (integer, quantized, continuous)
parameters, as a Ray Tune ``param_space`` describes them (conversion: ``searchers.param_space``).

Every parameter is a decision over a finite, ordered tuple of values:

* **categorical**: the options as given; EDNAG encodes it as a one-hot block;
* **ordinal**: sorted numeric levels -- every integer of a small range, the multiples of ``q``
  of a quantized range, or a grid of ``resolution`` points for a continuous range, spaced
  evenly in the log of the value for log domains. EDNAG encodes it as one coordinate (the
  level's position, scaled to [-1, 1]) and denoises that coordinate directly.

The native form is a canonical JSON object ``{name: value}``; two configurations are one query
exactly when every value is the same.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from ednag.spaces.base import Choices, Decision, SearchSpace, SpaceError, row_normalise

_PLAIN = (str, int, float, bool, type(None))


@dataclass(frozen=True)
class Param:
    """One parameter: its (flattened) name, kind and values (ordinal: sorted numbers)."""

    name: str
    kind: Literal["categorical", "ordinal"]
    values: tuple[Any, ...]

    def __post_init__(self) -> None:
        if self.kind not in ("categorical", "ordinal"):
            raise SpaceError(f"parameter {self.name!r}: kind must be categorical or ordinal, "
                             f"got {self.kind!r}")
        if not self.values:
            raise SpaceError(f"parameter {self.name!r} has no values")
        if self.kind == "ordinal" and list(self.values) != sorted(self.values):
            raise SpaceError(f"parameter {self.name!r}: ordinal values must be sorted")


class MixedSpace(SearchSpace):
    """The space of a list of :class:`Param` (see the module docstring)."""

    def __init__(self, params: Sequence[Param], name: str = "param_space") -> None:
        if not params:
            raise SpaceError("a mixed space needs at least one sampled parameter")
        names = [p.name for p in params]
        if len(set(names)) != len(names):
            raise SpaceError(f"parameter names repeat: {names}")
        self.name = name
        self.params = tuple(params)
        self.decisions = tuple(
            Decision(p.name, tuple(_label(v) for v in p.values)) for p in self.params)
        self._index = [
            {_hashable(v): i for i, v in enumerate(p.values)} for p in self.params]

    @property
    def size(self) -> int:
        return math.prod(self.num_choices)

    # ------------------------------------------------------------------ values
    def values(self, choices: Choices) -> dict[str, Any]:
        """``{name: value}`` of a choice tuple."""
        choices = self.check(choices)
        return {p.name: p.values[c] for p, c in zip(self.params, choices, strict=True)}

    def choices_of(self, values: dict[str, Any], snap: bool = True) -> Choices:
        """The choice tuple of ``{name: value}``: a categorical value must be one of the
        options; an ordinal value snaps to its nearest level (``snap=False``: must be one)."""
        out = []
        for param, index in zip(self.params, self._index, strict=True):
            if param.name not in values:
                raise SpaceError(f"configuration lacks parameter {param.name!r}")
            value = values[param.name]
            found = index.get(_hashable(value))
            if found is None and param.kind == "ordinal" and snap and _is_number(value):
                levels = np.asarray(param.values, dtype=np.float64)
                found = int(np.argmin(np.abs(levels - float(value))))
            if found is None:
                shown = ", ".join(map(repr, param.values[:8]))
                more = ", ..." if len(param.values) > 8 else ""
                raise SpaceError(
                    f"parameter {param.name!r}: value {value!r} is not one of {shown}{more}")
            out.append(found)
        return tuple(out)

    # ------------------------------------------------------------------ native form
    def to_native(self, choices: Choices) -> str:
        values = {}
        for name, value in self.values(choices).items():
            values[name] = value if isinstance(value, _PLAIN) else {"#": self._position(name,
                                                                                       value)}
        return json.dumps(values, sort_keys=True)

    def _position(self, name: str, value: Any) -> int:
        i = [p.name for p in self.params].index(name)
        return self._index[i][_hashable(value)]

    def from_native(self, native: str) -> Choices:
        if not isinstance(native, str):
            raise SpaceError(f"{self.name}: native form must be a str, got {native!r}")
        try:
            raw = json.loads(native)
        except json.JSONDecodeError as err:
            raise SpaceError(f"{self.name}: {native!r} is not a JSON configuration ({err})") from None
        if not isinstance(raw, dict):
            raise SpaceError(f"{self.name}: {native!r} is not a JSON object")
        values = {}
        for param in self.params:
            value = raw.get(param.name)
            if isinstance(value, dict) and set(value) == {"#"}:
                value = param.values[int(value["#"])]
            values[param.name] = value
        return self.choices_of(values, snap=False)

    # ------------------------------------------------------------------ neighbours
    def neighbours(self, choices: Choices) -> list[Choices]:
        """Categorical: every other option. Ordinal: a few steps either way (one level, 1 %,
        10 % and 25 % of the levels), so a neighbourhood stays small on a fine grid."""
        choices = self.check(choices)
        out: list[Choices] = []
        for i, (param, c) in enumerate(zip(self.params, choices, strict=True)):
            n = len(param.values)
            if param.kind == "categorical":
                targets = [v for v in range(n) if v != c]
            else:
                steps = sorted({1, max(1, n // 100), max(1, n // 10), max(1, n // 4)})
                targets = sorted({min(n - 1, max(0, c + s * d)) for s in steps
                                  for d in (-1, 1)} - {c})
            out += [choices[:i] + (t,) + choices[i + 1:] for t in targets]
        return out

    def enumerate(self) -> Iterator[Choices]:
        for idx in np.ndindex(*self.num_choices):
            yield tuple(int(v) for v in idx)


class MixedEncoding:
    """EDNAG's continuous encoding of a :class:`MixedSpace`: a one-hot block per categorical
    parameter (+1 for the option, -1 elsewhere) and one coordinate in [-1, 1] per ordinal."""

    name = "mixed"

    def __init__(self, space: MixedSpace) -> None:
        self.space = space
        self.blocks: list[tuple[int, int, str, int]] = []  # (start, width, kind, levels)
        start = 0
        for param in space.params:
            width = len(param.values) if param.kind == "categorical" else 1
            self.blocks.append((start, width, param.kind, len(param.values)))
            start += width
        self._dim = start
        self._onehot = np.zeros(start, dtype=bool)
        for begin, width, kind, _ in self.blocks:
            self._onehot[begin:begin + width] = kind == "categorical"

    @property
    def dim(self) -> int:
        return self._dim

    @property
    def shape(self) -> tuple[int, int]:
        return (1, self._dim)

    def encode(self, choices: Choices) -> np.ndarray:
        x = np.empty(self._dim, dtype=np.float64)
        for (start, width, kind, n), c in zip(self.blocks, choices, strict=True):
            if kind == "categorical":
                x[start:start + width] = -1.0
                x[start + c] = 1.0
            else:
                x[start] = 2.0 * c / (n - 1) - 1.0 if n > 1 else 0.0
        return x

    def noise(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """``n`` members of pure noise for a diffusion's start: standard normal one-hot blocks
        (a uniform argmax) and uniform coordinates (a uniform level; a normal coordinate would
        pile a third of its mass on the two clipped ends)."""
        x = rng.standard_normal((n, self._dim))
        for start, _, kind, _ in self.blocks:
            if kind == "ordinal":
                x[:, start] = rng.uniform(-1.0, 1.0, n)
        return x

    def normalise(self, x: np.ndarray) -> np.ndarray:
        """Per member, the one-hot columns together mapped affinely onto [-1, 1] (as EDNAG
        does for a whole one-hot matrix, so a space of choices alone behaves exactly like a
        benchmark space; every argmax kept); coordinates clipped to [-1, 1]."""
        x = np.array(x, dtype=np.float64, ndmin=2)
        if self._onehot.any():
            x[:, self._onehot] = row_normalise(x[:, self._onehot])
        x[:, ~self._onehot] = np.clip(x[:, ~self._onehot], -1.0, 1.0)
        return x

    def decode(self, x: np.ndarray) -> Choices:
        return self.decode_batch(np.asarray(x).reshape(1, -1))[0]

    def decode_batch(self, flat: np.ndarray) -> list[Choices | None]:
        flat = np.asarray(flat, dtype=np.float64).reshape(-1, self._dim)
        columns = []
        for start, width, kind, n in self.blocks:
            if kind == "categorical":
                columns.append(flat[:, start:start + width].argmax(axis=1))
            else:
                pos = (np.clip(flat[:, start], -1.0, 1.0) + 1.0) / 2.0 * (n - 1)
                columns.append(np.rint(pos).astype(np.int64))
        return [tuple(int(v) for v in row) for row in np.stack(columns, axis=1).tolist()]


def _label(value: Any) -> str:
    return repr(value) if not isinstance(value, str) else value


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)


def _hashable(value: Any) -> Any:
    if isinstance(value, (np.integer, np.floating)):
        value = value.item()
    try:
        hash(value)
    except TypeError:
        return ("unhashable", repr(value))
    return (type(value).__name__ if isinstance(value, bool) else "v", value)
