"""EDNAG as an ask/tell optimizer: fitness-guided DDIM denoising plus an evolutionary corrector.

One *generation* is one batch of members whose fitness must be known: the initial noise of a
diffusion, then the output of each predictor + corrector step. Its new distinct valid
architectures are returned by one :meth:`ask` (each one query); :meth:`ask` then returns
``[]`` until every one of them has been told (the generation barrier). Members that decode to
an evaluated architecture are answered from the cache for free (and logged as repeats);
invalid ones get the worst fitness without a query. When a diffusion's schedule ends before
the budget is spent, a new one starts from fresh noise (the cache is kept), so a run always
stops at exactly ``max_queries``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ednag.optimizers.base import WORST_FITNESS, Optimizer
from ednag.optimizers.evo_diffusion.arch_mutation import mutate_decoded, novel_mutation, tournament
from ednag.optimizers.evo_diffusion.config import EDNAGConfig, resolve_config
from ednag.optimizers.evo_diffusion.generation import denoise, select
from ednag.spaces import make_encoding
from ednag.spaces.base import Choices, SearchSpace

#: generations in a row without a new architecture before falling back to a random unseen one
MAX_IDLE_GENERATIONS = 1_000
_RANDOM_TRIES = 10_000


def floor_failures(fitness: np.ndarray) -> np.ndarray:
    """Replace failed / invalid entries (``WORST_FITNESS``) by ``min(0, lowest real fitness)``,
    so an invalid accuracy counts as 0 (as in the paper) without wrecking min-max scalings."""
    f = np.asarray(fitness, dtype=np.float64).copy()
    failed = f <= WORST_FITNESS / 2
    floor = min(0.0, float(f[~failed].min())) if (~failed).any() else 0.0
    f[failed] = floor
    return f


class EDNAG(Optimizer):
    """Evolutionary Diffusion-based Neural Architecture Generation (arXiv 2504.17827).

    ``config`` is an :class:`EDNAGConfig`, a preset name (``"default"``, ``"paper"``) or
    ``None`` (= ``"default"``); keyword ``overrides`` replace single fields.

    >>> from ednag.spaces import make_space
    >>> opt = EDNAG(make_space("nb201"), seed=0, max_queries=40, population_size=10)
    >>> while not opt.finished:
    ...     opt.tell([(arch, float(sum(arch))) for arch in opt.ask()])
    >>> opt.num_queries
    40
    """

    name = "ednag"
    _shared_state = ("space", "encoding")

    def __init__(
        self,
        space: SearchSpace,
        seed: int = 0,
        max_queries: int | None = None,
        config: EDNAGConfig | str | None = None,
        **overrides: Any,
    ) -> None:
        super().__init__(space, seed, max_queries)
        self.config = resolve_config(config, **overrides)
        self.encoding = make_encoding(space, self.config.encoding)
        self.generation = -1
        #: current population (P, d), its architectures (None = invalid) and fitness
        self.population: np.ndarray | None = None
        self._pop_archs: list[Choices | None] = []
        self._pop_fitness = np.zeros(0)
        #: the generation being evaluated: its members, architectures and kind
        self._batch: np.ndarray | None = None
        self._batch_archs: list[Choices | None] = []
        self._batch_is_init = True
        self._waiting: set[str] = set()
        #: index of the next denoising step in the current diffusion, and diffusions started
        self.step_index = self.config.skip_steps
        self.restarts = 0
        self._needs_init = True
        #: the best evaluated architectures, ``(fitness, choices)``, best first
        self.archive: list[tuple[float, Choices]] = []
        #: per-generation statistics: generation, restart, step, best, mean, valid, unique, new
        self.history: list[dict[str, float]] = []

    # ------------------------------------------------------------------ ask / tell hooks
    def _propose(self, remaining: int | None) -> list[Choices]:
        if self._waiting:
            return []  # generation barrier
        for _ in range(MAX_IDLE_GENERATIONS):
            if self._batch is None:
                self._make_batch()
            new = self._new_members(remaining)
            if new:
                self._waiting = {self.space.key(c) for c in new}
                return new
            self._complete_batch()
        return self._random_unseen()

    def _observe(self, results: list[tuple[Choices, float]]) -> None:
        for choices, fitness in results:
            self._waiting.discard(self.space.key(choices))
            self._update_archive(choices, fitness)
        if not self._waiting and self._batch is not None:
            self._complete_batch()

    # ------------------------------------------------------------------ generations
    def _make_batch(self) -> None:
        cfg = self.config
        if self._needs_init or self.population is None:
            x = self.encoding.noise(self.rng, cfg.population_size)
            if cfg.normalise_init:
                x = self.encoding.normalise(x)
            self._batch_is_init = True
        else:
            x = self._denoise(self.population, self._pop_fitness)
            self._batch_is_init = False
        archs = self.encoding.decode_batch(x)
        if not self._batch_is_init and self.config.arch_mutation_rate > 0:
            x, archs = self._mutate_architectures(x, archs)
        self._batch = x
        self._batch_archs = archs
        self.generation += 1

    def _denoise(self, x: np.ndarray, fitness: np.ndarray) -> np.ndarray:
        """One predictor (estimator + DDIM) and corrector (mutation) step."""
        ref_x = ref_f = None
        if self.archive:
            ref_x, ref_f = self._archive_points(), np.array([f for f, _ in self.archive])
        if ref_f is not None:  # failures floored over the population and the archive together
            both = floor_failures(np.concatenate([fitness, ref_f]))
            fitness, ref_f = both[:len(fitness)], both[len(fitness):]
        else:
            fitness = floor_failures(fitness)
        return denoise(x, fitness, ref_x, ref_f, self.step_index, self.config, self.rng,
                       self.encoding.normalise)

    def _mutate_architectures(
        self, x: np.ndarray, archs: list[Choices | None]
    ) -> tuple[np.ndarray, list[Choices | None]]:
        """The corrector's decoded-architecture mutation (``arch_mutation_rate`` > 0)."""
        cfg = self.config
        pool: list[tuple[float, Choices]] = []
        if cfg.arch_mutation_parent == "archive":
            pool = list(self.archive)
        if cfg.arch_mutation_parent != "member" and not pool:
            pool = [
                (float(f), a)
                for f, a in zip(self._pop_fitness.tolist(), self._pop_archs, strict=True)
                if a is not None and f > WORST_FITNESS / 2
            ]

        def pick_parent(i: int) -> Choices | None:
            if cfg.arch_mutation_parent == "member" or not pool:
                return archs[i]
            return pool[tournament([f for f, _ in pool], cfg.tournament_size, self.rng)][1]

        def make_child(parent: Choices) -> Choices:
            return novel_mutation(
                parent,
                self.space.mutate,
                lambda c: self.lookup(c) is not None,
                self.rng,
                cfg.arch_mutation_tries,
            )

        children = mutate_decoded(archs, self.rng, cfg.arch_mutation_rate, pick_parent, make_child)
        if not children:
            return x, archs
        x, archs = x.copy(), list(archs)
        for i, child in children.items():
            x[i] = self.encoding.normalise(self.encoding.encode(child).reshape(1, -1))[0]
            archs[i] = child
        return x, archs

    def _observe_external(self, results: list[tuple[Choices, float]]) -> None:
        for choices, fitness in results:  # known points become candidate clean points
            self._update_archive(choices, fitness)

    def _update_archive(self, choices: Choices, fitness: float) -> None:
        size = self.config.archive_size
        if size == 0 or fitness <= WORST_FITNESS / 2:
            return
        if len(self.archive) == size and fitness <= self.archive[-1][0]:
            return
        pos = next((i for i, (f, _) in enumerate(self.archive) if fitness > f), len(self.archive))
        self.archive.insert(pos, (float(fitness), choices))
        del self.archive[size:]

    def _archive_points(self) -> np.ndarray:
        mats = [self.encoding.encode(c).reshape(-1) for _, c in self.archive]
        return self.encoding.normalise(np.asarray(mats, dtype=np.float64))

    def _new_members(self, remaining: int | None) -> list[Choices]:
        """Distinct, never-evaluated valid architectures of the batch (at most ``remaining``)."""
        new: list[Choices] = []
        keys: set[str] = set()
        for arch in self._batch_archs:
            if arch is None:
                continue
            key = self.space.key(arch)
            if key in keys:
                continue
            cached = self.lookup(arch)
            if cached is not None:
                self._record_repeat(arch, cached)
                continue
            if remaining is not None and len(new) >= remaining:
                continue
            keys.add(key)
            new.append(arch)
        return new

    def _batch_fitness(self) -> np.ndarray:
        out = np.full(len(self._batch_archs), WORST_FITNESS)
        for i, arch in enumerate(self._batch_archs):
            if arch is not None:
                value = self.lookup(arch)
                if value is not None:  # None: not asked, the budget ran out
                    out[i] = value
        return out

    def _complete_batch(self) -> None:
        """All members of the batch are known: select the next population, advance the schedule."""
        cfg = self.config
        x, archs, fitness = self._batch, self._batch_archs, self._batch_fitness()
        self._log(archs, fitness)
        if self._batch_is_init:
            keep = min(cfg.restart_elites, len(self._pop_archs))
            self._needs_init = False
            if keep:
                top = np.argsort(-self._pop_fitness, kind="stable")[:keep]
                x = np.vstack([self.population[top], x[keep:]])
                archs = [self._pop_archs[i] for i in top] + archs[keep:]
                fitness = np.concatenate([self._pop_fitness[top], fitness[keep:]])
            self.population, self._pop_archs, self._pop_fitness = x, archs, fitness
        else:
            self._select(x, archs, fitness)
            self.step_index += 1
        self._batch, self._batch_archs = None, []
        if self.step_index >= cfg.num_steps - 1:  # schedule done: restart the diffusion
            self.step_index = cfg.skip_steps
            self.restarts += 1
            self._needs_init = True  # the old population stays for ``restart_elites``

    def _select(self, x_new: np.ndarray, archs_new: list[Choices | None], f_new: np.ndarray) -> None:
        assert self.population is not None
        x = np.vstack([self.population, x_new])
        archs = self._pop_archs + archs_new
        raw = floor_failures(np.concatenate([self._pop_fitness, f_new]))
        idx = select(x, archs, raw, self.config, self.rng, self.space.key)
        full = np.concatenate([self._pop_fitness, f_new])
        self.population = x[idx]
        self._pop_archs = [archs[i] for i in idx.tolist()]
        self._pop_fitness = full[idx]

    def _log(self, archs: list[Choices | None], fitness: np.ndarray) -> None:
        valid = [a for a in archs if a is not None]
        real = fitness[fitness > WORST_FITNESS / 2]
        self.history.append(
            {
                "generation": float(self.generation),
                "restart": float(self.restarts),
                "step": float(self.step_index),
                "best": float(real.max()) if real.size else float("nan"),
                "mean": float(real.mean()) if real.size else float("nan"),
                "valid_rate": len(valid) / max(len(archs), 1),
                "uniqueness": len({self.space.key(a) for a in valid}) / max(len(archs), 1),
            }
        )

    def _random_unseen(self) -> list[Choices]:
        """Fallback when the diffusion keeps producing known architectures: one unseen one."""
        found: list[Choices] = []
        for _ in range(_RANDOM_TRIES):
            arch = self.space.sample(self.rng)
            if self.lookup(arch) is None and not self.is_pending(arch):
                found = [arch]
                break
        else:
            found = self._first_unseen()
        self._waiting = {self.space.key(arch) for arch in found}
        return found
