"""TransNAS-Bench-101 macro: a ResNet-like skeleton of 4 to 6 modules (two residual blocks
each), every module choosing whether it halves the resolution and whether it doubles the
channels.

Native form: the benchmark's own string ``64-<digits>-basic``, one digit per module: ``1``
keeps both, ``2`` doubles the channels, ``3`` halves the resolution (stride 2), ``4`` does
both. The benchmark holds every network with 4 to 6 modules that halves the resolution 1 to 4
times and doubles the channels 1 to 3 times: 3,256 networks.

Choices: six decisions ``module0 .. module5``; option ``i`` is digit ``i + 1``, and the last
two modules have a fifth option, ``absent``. A choice tuple is valid when the absent modules
come last and the two counts are in range; then it is exactly one row of the table, and its
key is the native string. The other 3,144 of the 6,400 tuples are invalid.
"""

from __future__ import annotations

import re

from ednag.spaces.base import Choices, Decision, SearchSpace, SpaceError
from ednag.spaces.transnas_micro import check_task

MODULE_OPS: tuple[str, ...] = ("keep", "channel_x2", "stride_2", "stride_2+channel_x2")
ABSENT = "absent"
MIN_MODULES, MAX_MODULES = 4, 6
#: allowed numbers of modules that halve the resolution / double the channels
DOWNSAMPLES = range(1, 5)
CHANNEL_DOUBLINGS = range(1, 4)
_MACRO_RE = re.compile(r"^64-([1-4]{4,6})-basic$")


def _counts(digits: str) -> tuple[int, int]:
    """(resolution halvings, channel doublings) of a digit string."""
    return sum(d in "34" for d in digits), sum(d in "24" for d in digits)


def is_macro_code(digits: str) -> bool:
    """Whether a digit string is one of the benchmark's 3,256 networks."""
    if not MIN_MODULES <= len(digits) <= MAX_MODULES or set(digits) - set("1234"):
        return False
    down, wide = _counts(digits)
    return down in DOWNSAMPLES and wide in CHANNEL_DOUBLINGS


class TransNASMacroSpace(SearchSpace):
    """The 3,256 TransNAS-Bench-101 macro networks (the same networks for every task)."""

    name = "transnas_macro"
    decisions = tuple(
        Decision(f"module{i}", MODULE_OPS + ((ABSENT,) if i >= MIN_MODULES else ()))
        for i in range(MAX_MODULES)
    )

    def __init__(self, task: str | None = None) -> None:
        self.task = check_task(self.name, task)

    def _digits(self, choices: Choices) -> str | None:
        """The digit string of a choice tuple, or ``None`` if an absent module is followed by
        a present one."""
        absent = len(MODULE_OPS)
        present = [c for c in choices if c != absent]
        if any(c != absent for c in choices[len(present):]):
            return None
        return "".join(str(c + 1) for c in present)

    def is_valid(self, choices: Choices) -> bool:
        digits = self._digits(choices)
        return digits is not None and is_macro_code(digits)

    def to_native(self, choices: Choices) -> str:
        choices = self.check(choices)
        digits = self._digits(choices)
        if digits is None:
            raise SpaceError(
                f"transnas_macro: {choices} has a module after an absent one; absent modules "
                "must come last"
            )
        return f"64-{digits}-basic"

    def from_native(self, native: str) -> Choices:
        if not isinstance(native, str):
            raise SpaceError(
                f"transnas_macro: arch string must be a str, got {type(native).__name__}"
            )
        match = _MACRO_RE.match(native)
        if match is None:
            raise SpaceError(
                f"transnas_macro: malformed arch string {native!r}; expected '64-<digits>-basic' "
                "with 4 to 6 digits 1-4 (1 keep, 2 channels x2, 3 stride 2, 4 both)"
            )
        digits = match.group(1)
        if not is_macro_code(digits):
            down, wide = _counts(digits)
            raise SpaceError(
                f"transnas_macro: {native!r} halves the resolution {down} times and doubles the "
                f"channels {wide} times; the benchmark allows 1-4 and 1-3"
            )
        absent = len(MODULE_OPS)
        return tuple(int(d) - 1 for d in digits) + (absent,) * (MAX_MODULES - len(digits))

    def key(self, choices: Choices) -> str:
        """The arch string (one table row); :class:`SpaceError` for an invalid tuple."""
        if not self.is_valid(self.check(choices)):
            raise SpaceError(
                f"transnas_macro: {choices} is not a network of the benchmark (absent modules "
                "must come last; 1-4 resolution halvings and 1-3 channel doublings)"
            )
        return self.to_native(choices)

    def __repr__(self) -> str:
        return f"TransNASMacroSpace({self.task!r})"


def space_for(dataset: str | None = None) -> TransNASMacroSpace:
    """The macro space of TransNAS task ``dataset`` (default ``class_scene``)."""
    return TransNASMacroSpace(dataset)
