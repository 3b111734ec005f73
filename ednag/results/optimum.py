"""What "found the optimum" means, once, for the benches and ``analysis`` alike.

A run has found the optimum when its incumbent -- the best architecture by fitness (the
validation metric the optimizer sees) among its queries so far -- has the best fitness in the
whole table. Fitness ties all count: several architectures may share the best validation value.
The reported (test) metric never decides it: on NB201 ImageNet16-120 the best-by-validation cell
is not the best-by-test cell, and an optimizer cannot be asked to find what it never sees.

>>> found_optimum([91.0, 91.61, 90.2], 91.61).tolist()
[False, True, False]
"""

from __future__ import annotations

import numpy as np

#: fitness values within this distance of the table's best fitness count as reaching it
OPTIMUM_TOLERANCE = 1e-9


def found_optimum(fitness: np.ndarray | list[float] | float, optimum_fitness: float,
                  tolerance: float = OPTIMUM_TOLERANCE) -> np.ndarray:
    """Element-wise: ``fitness`` reaches the table's best fitness (NaN never does)."""
    values = np.asarray(fitness, dtype=float)
    return np.nan_to_num(values, nan=-np.inf) >= optimum_fitness - tolerance
