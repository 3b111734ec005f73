"""Ask/tell optimizers (pure numpy, no Ray); each is registered in
:data:`ednag.registry.OPTIMIZERS`."""

from ednag.optimizers.base import WORST_FITNESS, BudgetError, Optimizer
from ednag.optimizers.evo_diffusion.optimizer import EDNAG
from ednag.optimizers.random_search import RandomSearch
from ednag.optimizers.regularized_evolution import RegularizedEvolution

__all__ = [
    "EDNAG",
    "WORST_FITNESS",
    "BudgetError",
    "Optimizer",
    "RandomSearch",
    "RegularizedEvolution",
]
