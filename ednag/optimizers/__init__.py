"""Ask/tell optimizers (pure numpy, no Ray)."""

from ednag.optimizers.base import WORST_FITNESS, BudgetError, Optimizer
from ednag.optimizers.random_search import RandomSearch
from ednag.optimizers.regularized_evolution import RegularizedEvolution

__all__ = ["WORST_FITNESS", "BudgetError", "Optimizer", "RandomSearch", "RegularizedEvolution"]
