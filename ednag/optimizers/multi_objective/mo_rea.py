"""Multi-objective regularized (aging) evolution (as Syne Tune's MO-REA baseline)."""

from __future__ import annotations

import numpy as np

from ednag.optimizers.multi_objective.base import MultiObjective
from ednag.optimizers.regularized_evolution import RegularizedEvolution
from ednag.pareto import Evaluation
from ednag.spaces.base import Choices, SearchSpace


class MORegularizedEvolution(MultiObjective, RegularizedEvolution):
    """Aging evolution whose tournament winner is the member with the best (feasibility,
    Pareto rank, crowding distance or hypervolume contribution) within the current population.

    >>> from ednag.pareto import Evaluation
    >>> from ednag.spaces import make_space
    >>> opt = MORegularizedEvolution(make_space("nb201"), seed=0, max_queries=30,
    ...                              num_objectives=2)
    >>> while not opt.finished:
    ...     opt.tell([(a, Evaluation((float(sum(a)), -float(a[0])))) for a in opt.ask()])
    >>> opt.num_queries
    30
    """

    name = "mo_rea"

    def __init__(
        self,
        space: SearchSpace,
        seed: int = 0,
        max_queries: int | None = None,
        population_size: int = 10,
        tournament_size: int = 3,
        num_objectives: int = 1,
        score: str = "crowding",
    ) -> None:
        super().__init__(space, seed, max_queries, population_size, tournament_size)
        self._setup_objectives(num_objectives, score)

    def _winner(self, idx: np.ndarray) -> Choices:
        scores = self.scores_of([m[1] for m in self.population])
        best = max(idx.tolist(), key=lambda i: (scores[i], -i))
        return self.population[best][0]

    def _add(self, choices: Choices, fitness: object) -> None:
        """Population members carry their Evaluation (a repeat arrives as its cached scalar)."""
        ev = fitness if isinstance(fitness, Evaluation) else self.evaluation(choices)
        super()._add(choices, ev)  # type: ignore[arg-type]
