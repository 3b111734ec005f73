"""Multi-objective ask/tell optimizers: they are told an :class:`~ednag.pareto.Evaluation`
(objectives maximised, a constraint violation) per architecture, or a plain float when they run
with one objective (``num_objectives=1``)."""

from ednag.optimizers.multi_objective.base import MultiObjective, to_evaluation
from ednag.optimizers.multi_objective.mo_ednag import MOEDNAG
from ednag.optimizers.multi_objective.mo_rea import MORegularizedEvolution
from ednag.optimizers.multi_objective.nag import NAG

__all__ = ["MOEDNAG", "MORegularizedEvolution", "MultiObjective", "NAG", "to_evaluation"]
