"""Ask/tell optimizers (pure numpy, no Ray)."""

from ednag.optimizers.base import WORST_FITNESS, BudgetError, Optimizer
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


def __getattr__(name: str):
    # lazy: ednag.ednag_core.optimizer imports ednag.optimizers.base, so an eager import here
    # would be circular
    if name == "EDNAG":
        from ednag.ednag_core.optimizer import EDNAG

        return EDNAG
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
