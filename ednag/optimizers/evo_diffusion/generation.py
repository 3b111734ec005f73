"""One EDNAG generation as two pure steps, shared by EDNAG (true fitness) and the
predictor-guided EDNAG (predicted fitness for members never evaluated).

* :func:`denoise`: the predictor (fitness-weighted x0 estimate over the population plus the
  reference points, one DDIM step) and the corrector's polynomial mutation;
* :func:`select`: the next population among the old members and the new ones (elites,
  diversity picks, bounded roulette).

Both draw from the generator they are given, in a fixed order, so a run is reproducible.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ednag.optimizers.evo_diffusion.config import EDNAGConfig
from ednag.optimizers.evo_diffusion.ddim import ddim_step
from ednag.optimizers.evo_diffusion.estimator import estimate_x0
from ednag.optimizers.evo_diffusion.mappings import fitness_to_weights, sharpen
from ednag.optimizers.evo_diffusion.mutation import mutate_population
from ednag.optimizers.evo_diffusion.schedule import step_alphas
from ednag.optimizers.evo_diffusion.selection import select_population

Normalise = Callable[[np.ndarray], np.ndarray]


def denoise(x: np.ndarray, fitness: np.ndarray, ref_x: np.ndarray | None,
            ref_fitness: np.ndarray | None, step_index: int, cfg: EDNAGConfig,
            rng: np.random.Generator, normalise: Normalise) -> np.ndarray:
    """The population ``x`` (n, d) one step down the schedule: the x0 estimate weights the
    population and the reference points ``ref_x`` (m, d; ``None``: none) by their fitness,
    then DDIM and polynomial mutation. ``fitness`` holds no failure markers (floor them
    first)."""
    alpha, alpha_prev = step_alphas(cfg.num_steps, step_index)
    ref = None
    if ref_x is not None and len(ref_x):
        ref = np.vstack([x, ref_x])
        fitness = np.concatenate([fitness, ref_fitness])
    weights = fitness_to_weights(
        fitness, mapping=cfg.mapping, sharpening=cfg.sharpening, temperature=cfg.temperature,
        exponent=cfg.exponent, offset=cfg.energy_offset, rescale_factor=cfg.rescale_factor,
    )
    x0 = estimate_x0(x, weights, alpha, cfg.eps, ref)
    noise = rng.standard_normal(x.shape)
    x = normalise(ddim_step(x, x0, alpha, alpha_prev, cfg.eta, noise))
    last = step_index == cfg.num_steps - 2
    eta_m = cfg.mutation_eta_last if last and cfg.mutation_eta_last else cfg.mutation_eta
    return mutate_population(x, rng, cfg.mutation_rate, eta_m, cfg.mutation_mode,
                             cfg.gene_rate, normalise=normalise)


def select(x: np.ndarray, archs: Sequence[Any], fitness: np.ndarray, cfg: EDNAGConfig,
           rng: np.random.Generator, key: Callable[[Any], str]) -> np.ndarray:
    """Indices of the next population among the rows of ``x`` (old and new members together)
    with their architectures (``None``: invalid) and fitness (no failure markers)."""
    ranked = fitness if cfg.selection_fitness == "raw" else sharpen(
        fitness, cfg.sharpening, cfg.rescale_factor)
    ids = None
    if cfg.elite_identity == "arch":
        ids = [key(a) if a is not None else f"invalid:{i}" for i, a in enumerate(archs)]
    return select_population(
        x, ranked, cfg.population_size, cfg.num_elites, cfg.num_diverse, rng, ids=ids,
        min_fraction=cfg.diversity_min_fraction, roulette_floor=cfg.roulette_floor,
    )
