"""Multi-objective EDNAG: EDNAG's denoising and selection, with each member's fitness taken
from its place among everything evaluated so far (feasibility, Pareto rank, then crowding
distance or hypervolume contribution).

The fitness that weights the x0-estimate, drives selection and ranks the archive is
:func:`ednag.pareto.rank_scores` over every evaluated architecture, recomputed when a
generation completes (scores are relative, so the population's and the archive's are refreshed
together and stay on one scale). The archive holds the ``archive_size`` best-scored
architectures or, with ``front_archive`` (the default), the whole first front when that is
larger: a front grows to tens of points, and the archive is both the estimator's clean points
and the parents of the decoded-architecture mutation. Everything else -- the schedule, the
generation barrier, repeats, restarts -- is
:class:`~ednag.optimizers.evo_diffusion.optimizer.EDNAG` unchanged.

The defaults differ from the single-objective ``default`` preset in three fields, chosen on
screening seeds 100-129 of ``bench/multi_objective.py`` (README, "Multi-objective search"):
``archive_size`` 10, ``arch_mutation_rate`` 0.8 and ``arch_mutation_tries`` 10 (a child that is
already evaluated is drawn again, up to 10 times).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ednag.optimizers.base import WORST_FITNESS
from ednag.optimizers.evo_diffusion.config import EDNAGConfig
from ednag.optimizers.evo_diffusion.optimizer import EDNAG
from ednag.optimizers.multi_objective.base import MultiObjective
from ednag.spaces.base import Choices, SearchSpace

#: EDNAG fields whose multi-objective defaults differ from the ``default`` preset
MO_DEFAULTS: dict[str, Any] = {"archive_size": 10, "arch_mutation_rate": 0.8,
                               "arch_mutation_tries": 10}


class MOEDNAG(MultiObjective, EDNAG):
    """EDNAG on Pareto-rank fitness (``score="crowding"``) or hypervolume-contribution fitness
    (``score="hv"``). ``config`` ``None`` or ``"default"`` is the ``default`` preset with
    :data:`MO_DEFAULTS` (``overrides`` still win); another preset or an ``EDNAGConfig`` is
    taken as it is. ``front_archive=False`` caps the archive at ``archive_size``.

    >>> from ednag.pareto import Evaluation
    >>> from ednag.spaces import make_space
    >>> opt = MOEDNAG(make_space("nb201"), seed=0, max_queries=30, num_objectives=2)
    >>> while not opt.finished:
    ...     opt.tell([(a, Evaluation((float(sum(a)), -float(a[0])))) for a in opt.ask()])
    >>> opt.num_queries
    30
    """

    name = "mo_ednag"

    def __init__(
        self,
        space: SearchSpace,
        seed: int = 0,
        max_queries: int | None = None,
        config: EDNAGConfig | str | None = None,
        num_objectives: int = 1,
        score: str = "crowding",
        front_archive: bool = True,
        **overrides: Any,
    ) -> None:
        if not isinstance(front_archive, bool):
            raise ValueError(f"front_archive must be a bool, got {front_archive!r}")
        if config is None or config == "default":
            overrides = {**MO_DEFAULTS, **overrides}
        super().__init__(space, seed, max_queries, config, **overrides)
        self._setup_objectives(num_objectives, score)
        self.front_archive = front_archive
        self._scores: dict[str, float] = {}

    # the archive is rebuilt from the scores when a generation completes
    def _update_archive(self, choices: Choices, fitness: Any) -> None:
        return

    def _score_of(self, arch: Choices | None) -> float:
        if arch is None:
            return WORST_FITNESS
        return self._scores.get(self.space.key(arch), WORST_FITNESS)

    def _rescore(self) -> None:
        keys = list(self._evaluated)
        scores = self.scores_of([self._evaluated[k][1] for k in keys]) if keys else []
        self._scores = dict(zip(keys, np.asarray(scores).tolist(), strict=True))
        if self._pop_archs:
            self._pop_fitness = np.array([self._score_of(a) for a in self._pop_archs])
        size = self.config.archive_size
        if size and self.front_archive and keys:
            size = max(size, len(self.pareto_archive()))
        if size:
            order = sorted(keys, key=lambda k: -self._scores[k])[:size]
            self.archive = [(self._scores[k], self._evaluated[k][0]) for k in order]

    def _batch_fitness(self) -> np.ndarray:
        return np.array([self._score_of(a) for a in self._batch_archs], dtype=np.float64)

    def _complete_batch(self) -> None:
        self._rescore()
        super()._complete_batch()

    def _observe_external(self, results: list[tuple[Choices, Any]]) -> None:
        return  # known points are scored with everything else at the next generation
