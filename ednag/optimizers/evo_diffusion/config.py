"""All EDNAG hyper-parameters in one frozen, validated dataclass, plus named presets."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

from ednag.checks import finite_at_least, int_at_least
from ednag.optimizers.evo_diffusion.arch_mutation import ARCH_MUTATION_PARENTS
from ednag.optimizers.evo_diffusion.mappings import MAPPINGS, SHARPENINGS
from ednag.optimizers.evo_diffusion.mutation import MUTATION_MODES

ENCODINGS: tuple[str, ...] = ("onehot", "nb201_paper")
ELITE_IDENTITIES: tuple[str, ...] = ("fitness", "arch")
SELECTION_FITNESS: tuple[str, ...] = ("raw", "sharpened")


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _one_of(name: str, value: object, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(allowed)}; got {value!r}")


def _finite(name: str, value: object) -> None:
    if not (_is_number(value) and math.isfinite(value)):
        raise ValueError(f"{name} must be a finite number, got {value!r}")


def _unit_interval(name: str, value: object) -> None:
    if not (_is_number(value) and 0.0 <= value <= 1.0):
        raise ValueError(f"{name} must be a number in [0, 1], got {value!r}")


@dataclass(frozen=True)
class EDNAGConfig:
    """Hyper-parameters of one EDNAG run (see ``docs/ednag.md`` for the defaults chosen)."""

    #: continuous encoding of the space: ``onehot`` (every space) or ``nb201_paper`` (8x7)
    encoding: str = "onehot"
    #: T, points of the cosine schedule (T - 1 denoising steps per diffusion)
    num_steps: int = 100
    #: P, members per generation
    population_size: int = 30
    #: monotone sharpening before the mapping (``none``, ``paper_rescale``, ``spread``, ``rank``)
    sharpening: str = "none"
    #: dataset factor of ``paper_rescale`` (cifar10 1.0, cifar100 1.2, ImageNet16-120 2.0)
    rescale_factor: float = 1.0
    #: fitness -> weight map: ``energy``, ``power`` or ``identity``
    mapping: str = "energy"
    #: tau of ``energy`` and ``power``
    temperature: float = 1.0
    #: p of ``power``
    exponent: float = 1.0
    #: the best member's log-weight under ``energy`` (sets its ratio to the eps floor)
    energy_offset: float = 5.0
    #: the estimator's floors (load-bearing; 0 only for ablations)
    eps: float = 1e-9
    #: DDIM noise scale (0 = deterministic DDIM, 1 = DDPM)
    eta: float = 0.8
    #: probability that a member mutates
    mutation_rate: float = 0.6
    #: distribution index eta_m of the polynomial mutation
    mutation_eta: float = 5.0
    #: eta_m on the last step of each diffusion (``None``: same as ``mutation_eta``)
    mutation_eta_last: float | None = 8.0
    #: one draw per ``member`` (paper; never changes an argmax) or per ``gene``
    mutation_mode: str = "member"
    #: in ``gene`` mode, the probability that a gene of a mutating member is perturbed
    gene_rate: float = 1.0
    #: share of the population kept as elites
    elite_rate: float = 0.1
    #: share of the population picked for diversity
    diversity_rate: float = 0.2
    #: diversity picks need fitness >= this share of the best
    diversity_min_fraction: float = 0.1
    #: lowest roulette weight after min-max scaling
    roulette_floor: float = 0.1
    #: elites are distinct by ``fitness`` value (paper) or by ``arch``
    elite_identity: str = "fitness"
    #: selection ranks by ``raw`` fitness or by the ``sharpened`` one (paper: ReScaled)
    selection_fitness: str = "sharpened"
    #: row-normalise the initial Gaussian population (the paper does not)
    normalise_init: bool = False
    #: best members carried into a restarted diffusion (0 = fresh noise only)
    restart_elites: int = 0
    #: noisiest steps skipped at the start of each diffusion (it begins at step ``skip_steps``)
    skip_steps: int = 0
    #: best evaluated architectures (distinct, clean encodings) added to the estimator's
    #: candidate clean points (0 = the population only, as in the paper)
    archive_size: int = 0
    #: probability that a denoised member is replaced by the encoding of a one-decision
    #: mutation of a decoded parent architecture (0 = off, as in the paper)
    arch_mutation_rate: float = 0.0
    #: that parent: the member's own decoded architecture (``member``) or a tournament
    #: winner among the ``population`` or the ``archive`` (falls back to the population
    #: while the archive is empty)
    arch_mutation_parent: str = "member"
    #: candidates per tournament (``population`` and ``archive`` parents)
    tournament_size: int = 3
    #: redraws of a child that is already evaluated (0 = take the first draw)
    arch_mutation_tries: int = 0

    def __post_init__(self) -> None:
        _one_of("encoding", self.encoding, ENCODINGS)
        _one_of("sharpening", self.sharpening, SHARPENINGS)
        _one_of("mapping", self.mapping, MAPPINGS)
        _one_of("mutation_mode", self.mutation_mode, MUTATION_MODES)
        _one_of("elite_identity", self.elite_identity, ELITE_IDENTITIES)
        _one_of("selection_fitness", self.selection_fitness, SELECTION_FITNESS)
        _one_of("arch_mutation_parent", self.arch_mutation_parent, ARCH_MUTATION_PARENTS)
        int_at_least("tournament_size", self.tournament_size, 1)
        int_at_least("arch_mutation_tries", self.arch_mutation_tries, 0)
        int_at_least("num_steps", self.num_steps, 2)
        int_at_least("population_size", self.population_size, 2)
        int_at_least("restart_elites", self.restart_elites, 0)
        int_at_least("archive_size", self.archive_size, 0)
        int_at_least("skip_steps", self.skip_steps, 0)
        if isinstance(self.num_steps, int) and self.skip_steps > self.num_steps - 2:
            raise ValueError(
                f"skip_steps must be in [0, num_steps - 2 = {self.num_steps - 2}], "
                f"got {self.skip_steps}"
            )
        for name in ("temperature", "exponent", "rescale_factor", "mutation_eta"):
            finite_at_least(name, getattr(self, name), strict=True)
        if self.mutation_eta_last is not None:
            finite_at_least("mutation_eta_last", self.mutation_eta_last, strict=True)
        _finite("energy_offset", self.energy_offset)
        for name in (
            "eta",
            "mutation_rate",
            "gene_rate",
            "elite_rate",
            "diversity_rate",
            "diversity_min_fraction",
            "roulette_floor",
            "arch_mutation_rate",
        ):
            _unit_interval(name, getattr(self, name))
        if not (_is_number(self.eps) and 0.0 <= self.eps < 1e-3):
            raise ValueError(f"eps must be a number in [0, 1e-3), got {self.eps!r}")
        if not isinstance(self.normalise_init, bool):
            raise ValueError(f"normalise_init must be a bool, got {self.normalise_init!r}")
        picked = self.num_elites + self.num_diverse
        if picked > self.population_size:
            raise ValueError(
                f"population_size={self.population_size} is smaller than its elites "
                f"({self.num_elites}) + diversity picks ({self.num_diverse}); allowed: "
                "elite_rate + diversity_rate <= 1"
            )
        if self.restart_elites > self.population_size:
            raise ValueError(
                f"restart_elites must be in [0, population_size={self.population_size}], "
                f"got {self.restart_elites}"
            )

    @property
    def num_elites(self) -> int:
        return int(math.floor(self.elite_rate * self.population_size + 1e-9))

    @property
    def num_diverse(self) -> int:
        return int(math.floor(self.diversity_rate * self.population_size + 1e-9))

    def replace(self, **changes: Any) -> EDNAGConfig:
        """A copy with ``changes`` (validated; unknown names raise ``ValueError``).

        Short aliases are accepted: ``population`` for ``population_size`` and ``steps`` for
        ``num_steps`` (as in ``--set optimizers.ednag.population=20``).
        """
        changes = dict(changes)
        for alias, field_name in PARAMETER_ALIASES.items():
            if alias in changes:
                if field_name in changes:
                    raise ValueError(f"give either {alias!r} or {field_name!r}, not both")
                changes[field_name] = changes.pop(alias)
        names = {f.name for f in dataclasses.fields(self)}
        unknown = sorted(set(changes) - names)
        if unknown:
            raise ValueError(
                f"unknown EDNAG parameter(s) {', '.join(unknown)}; allowed: {', '.join(sorted(names))}"
            )
        return dataclasses.replace(self, **changes)


#: short names accepted by :meth:`EDNAGConfig.replace`
PARAMETER_ALIASES: dict[str, str] = {"population": "population_size", "steps": "num_steps"}

#: the paper's NB201 settings (validation fitness stretched by its ReScale, 8x7 encoding)
PAPER = EDNAGConfig(
    encoding="nb201_paper",
    num_steps=100,
    population_size=30,
    sharpening="paper_rescale",
    rescale_factor=1.0,
    mapping="energy",
    temperature=1.0,
    energy_offset=5.0,
    eps=1e-9,
    eta=0.8,
    mutation_rate=0.6,
    mutation_eta=5.0,
    mutation_eta_last=8.0,
    mutation_mode="member",
    elite_rate=0.1,
    diversity_rate=0.2,
    elite_identity="fitness",
    selection_fitness="sharpened",
    normalise_init=False,
    restart_elites=0,
    skip_steps=0,
    archive_size=0,
    arch_mutation_rate=0.0,
)

#: budget-aware settings for 100-500 distinct queries (measured in docs/ednag.md)
DEFAULT = PAPER.replace(
    encoding="onehot",
    num_steps=8,
    skip_steps=2,
    population_size=8,
    sharpening="spread",
    temperature=0.005,
    mutation_mode="gene",
    mutation_rate=1.0,
    gene_rate=0.05,
    mutation_eta=1.0,
    mutation_eta_last=None,
    restart_elites=2,
    archive_size=10,
    arch_mutation_rate=0.85,
    arch_mutation_parent="archive",
    tournament_size=3,
)

PRESETS: dict[str, EDNAGConfig] = {"paper": PAPER, "default": DEFAULT}


def resolve_config(config: EDNAGConfig | str | None = None, **overrides: Any) -> EDNAGConfig:
    """A preset name, a config or ``None`` (= ``default``), with ``overrides`` applied."""
    if config is None:
        config = "default"
    if isinstance(config, str):
        if config not in PRESETS:
            raise ValueError(f"unknown EDNAG preset {config!r}; allowed: {', '.join(PRESETS)}")
        config = PRESETS[config]
    if not isinstance(config, EDNAGConfig):
        raise ValueError(
            f"config must be an EDNAGConfig, a preset name ({', '.join(PRESETS)}) or None, "
            f"got {type(config).__name__}"
        )
    return config.replace(**overrides) if overrides else config
