"""What makes an ask/tell optimizer multi-objective: it is told vectors.

:class:`MultiObjective` is a mixin placed before an :class:`~ednag.optimizers.base.Optimizer`
subclass. The value told for an architecture is an :class:`~ednag.pareto.Evaluation` (the
objectives in the maximise orientation, the total constraint violation) or, with one objective,
a plain float; a NaN/inf objective or :data:`~ednag.optimizers.base.WORST_FITNESS` is a failure.
The base class's scalar cache (``lookup``, ``best``, repeat logs) holds the first objective, so
budgets, repeats and snapshots work unchanged; :meth:`MultiObjective.evaluation` gives the
whole vector, and ``_observe`` receives Evaluations.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from ednag.checks import int_at_least
from ednag.optimizers.base import WORST_FITNESS
from ednag.pareto import (
    SCORE_KINDS,
    Evaluation,
    evaluation_arrays,
    non_dominated_ranks,
    rank_scores,
)
from ednag.spaces.base import Choices


def to_evaluation(value: Any, num_objectives: int) -> Evaluation:
    """A told value as an Evaluation of ``num_objectives`` objectives (ValueError when the
    number of objectives differs; failures become ``failed=True``)."""
    if value is None or isinstance(value, (int, float, np.floating, np.integer)):
        v = math.nan if value is None else float(value)
        if not math.isfinite(v) or v <= WORST_FITNESS / 2:  # a failure, whatever m is
            return Evaluation((), math.inf, failed=True)
        if num_objectives != 1:
            raise ValueError(
                f"told one value ({value!r}) but the optimizer has {num_objectives} objectives; "
                "tell an ednag.pareto.Evaluation"
            )
        return Evaluation((v,))
    if not isinstance(value, Evaluation):
        raise ValueError(f"told {value!r}; expected an ednag.pareto.Evaluation or a float")
    if value.failed:
        return Evaluation((), math.inf, failed=True)
    objs = tuple(float(v) for v in value.objectives)
    if len(objs) != num_objectives:
        raise ValueError(f"told {len(objs)} objectives, the optimizer has {num_objectives}")
    viol = float(value.violation)
    if not all(math.isfinite(v) and v > WORST_FITNESS / 2 for v in objs) or math.isnan(viol):
        return Evaluation((), math.inf, failed=True)
    return Evaluation(objs, max(0.0, viol))


class MultiObjective:
    """Mixin: call :meth:`_setup_objectives` in ``__init__`` after the optimizer's own."""

    multi_objective = True

    def _setup_objectives(self, num_objectives: int, score: str = "crowding") -> None:
        int_at_least("num_objectives", num_objectives, 1)
        if score not in SCORE_KINDS:
            raise ValueError(f"score must be one of {', '.join(SCORE_KINDS)}, got {score!r}")
        self.num_objectives = num_objectives
        self.score = score
        #: space key -> (choices, evaluation) of every evaluated architecture
        self._evaluated: dict[str, tuple[Choices, Evaluation]] = {}

    def _record(self, key: str, choices: Choices, fitness: Any) -> Evaluation:  # type: ignore[override]
        ev = to_evaluation(fitness, self.num_objectives)
        self._evaluated[key] = (choices, ev)
        scalar = math.nan if ev.failed else ev.objectives[0]
        super()._record(key, choices, scalar)  # type: ignore[misc]
        return ev

    def evaluation(self, choices: Choices) -> Evaluation | None:
        """The told evaluation of an evaluated architecture (``None`` if not evaluated)."""
        item = self._evaluated.get(self.space.key(choices))  # type: ignore[attr-defined]
        return None if item is None else item[1]

    def scores_of(self, evaluations: Sequence[Evaluation]) -> np.ndarray:
        """Scalar fitness in [0, 1] of a set of evaluations (front, then crowding / HV)."""
        pts, viol = evaluation_arrays(list(evaluations), self.num_objectives)
        return rank_scores(pts, viol, self.score)

    def pareto_archive(self) -> list[tuple[Choices, Evaluation]]:
        """The evaluated architectures on the first front (feasible ones first)."""
        items = list(self._evaluated.values())
        if not items:
            return []
        pts, viol = evaluation_arrays([ev for _, ev in items], self.num_objectives)
        ranks = non_dominated_ranks(pts, viol)
        return [items[i] for i in np.flatnonzero(ranks == 0)]
