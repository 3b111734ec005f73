"""EDNAG's building blocks (pure numpy) and the ask/tell optimizer built from them.

``schedule`` (cosine alphas), ``mappings`` (fitness -> weights), ``estimator`` (x0 estimate),
``ddim`` (DDIM step, row normalisation), ``mutation`` (polynomial mutation), ``selection``
(elites, diversity picks, roulette), ``config`` (hyper-parameters, presets) and ``optimizer``
(:class:`~ednag.optimizers.evo_diffusion.optimizer.EDNAG`).
"""

from ednag.optimizers.evo_diffusion.config import (
    DEFAULT,
    PAPER,
    PRESETS,
    EDNAGConfig,
    resolve_config,
)

__all__ = ["DEFAULT", "PAPER", "PRESETS", "EDNAGConfig", "resolve_config"]
