"""The registries: the one source of the names of optimizers, benchmarks, embedded tables and
trainables.

Config validation, ``ednag list``, CLI help, error messages, the README check and the contract
tests all read their names from here. An entry points at its implementation lazily, as a
:class:`Ref` (``"module:attr"``), so this module imports nothing heavy and never Ray.

Adding an optimizer is one module plus one entry below (or, for a plugin package, an entry
point in the group ``ednag.optimizers`` / ``ednag.benchmarks`` / ``ednag.tables`` /
``ednag.trainables`` whose object is the entry). At run time one registers from code:

>>> from ednag.registry import OPTIMIZERS, OptimizerEntry
>>> with OPTIMIZERS.temporarily("my_random", OptimizerEntry(
...         "ednag.optimizers.random_search:RandomSearch", summary="random, again")):
...     "my_random" in OPTIMIZERS.names()
True
>>> "my_random" in OPTIMIZERS.names()
False

The harness resolves names to :class:`Ref` strings in the driver and ships those to Ray
workers, so a worker never needs the registration itself, only an importable module (an
installed package, or a folder on the workers' ``PYTHONPATH``).
"""

from __future__ import annotations

import contextlib
import importlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from importlib import metadata as importlib_metadata
from typing import Any, Generic, Literal, TypeVar


class RegistryError(ValueError):
    """An unknown name, a clash, or a reference that cannot be imported (names them)."""


@dataclass(frozen=True)
class Ref:
    """A lazy reference ``module:attr`` to a class or function."""

    module: str
    attr: str

    @classmethod
    def parse(cls, text: str | Ref) -> Ref:
        """``"pkg.mod:Name"`` -> Ref; a Ref is returned as it is."""
        if isinstance(text, Ref):
            return text
        module, sep, attr = str(text).partition(":")
        if not sep or not module or not attr:
            raise RegistryError(f"reference {text!r} must look like 'package.module:name'")
        return cls(module, attr)

    @classmethod
    def of(cls, obj: Any) -> Ref:
        """The reference of an importable class or function (its module and qualified name)."""
        module, qualname = getattr(obj, "__module__", None), getattr(obj, "__qualname__", None)
        if not module or not qualname or "<locals>" in qualname or module == "__main__":
            raise RegistryError(
                f"{obj!r} is not importable by name (define it at the top level of a module "
                "that every Ray worker can import)"
            )
        return cls(module, qualname)

    def load(self) -> Any:
        """Import the module and return the object."""
        try:
            obj: Any = importlib.import_module(self.module)
        except ImportError as err:
            raise RegistryError(f"cannot import {self}: {err}") from None
        for part in self.attr.split("."):
            try:
                obj = getattr(obj, part)
            except AttributeError:
                raise RegistryError(f"cannot import {self}: no attribute {part!r}") from None
        return obj

    def __str__(self) -> str:
        return f"{self.module}:{self.attr}"


def _ref(value: str | Ref | Any) -> Ref:
    if isinstance(value, (str, Ref)):
        return Ref.parse(value)
    return Ref.of(value)


@dataclass(frozen=True)
class OptimizerEntry:
    """An optimizer: an ask/tell :class:`~ednag.optimizers.base.Optimizer` subclass
    (``kind="optimizer"``, wrapped in a Tune searcher by ``searchers``) or a factory returning
    a Tune ``Searcher`` (``kind="searcher"``), called as
    ``factory(space, seed=, max_queries=, metric=, mode=, **params)``."""

    target: str | Ref | Any
    kind: Literal["optimizer", "searcher"] = "optimizer"
    summary: str = ""
    #: it runs with several ``objectives:`` (told :class:`~ednag.pareto.Evaluation` vectors;
    #: it then also takes ``num_objectives=``, unless it ignores fitness like random search)
    multi_objective: bool = False
    #: it belongs in single-objective comparisons (``optimizers: all`` with one objective);
    #: the multi-objective methods run with one objective too, but are listed only with several
    single_objective: bool = True

    def __post_init__(self) -> None:
        object.__setattr__(self, "target", _ref(self.target))
        if self.kind not in ("optimizer", "searcher"):
            raise RegistryError(f"kind must be 'optimizer' or 'searcher', got {self.kind!r}")


@dataclass(frozen=True)
class BenchmarkEntry:
    """A search space with its table: ``space(dataset)`` builds the space; ``importer(source)``
    builds a :class:`~ednag.tables.table.Table` from the benchmark's own files (``None``: the
    benchmark ships only as an embedded table); ``default_table`` is an embedded table name."""

    space: str | Ref | Any
    default_dataset: str
    importer: str | Ref | Any | None = None
    default_table: str | None = None
    source_hint: str = "a .parquet table"
    summary: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "space", _ref(self.space))
        if self.importer is not None:
            object.__setattr__(self, "importer", _ref(self.importer))


@dataclass(frozen=True)
class TableEntry:
    """A table that needs no file: ``loader()`` returns the Table (e.g. from a pip package)."""

    loader: str | Ref | Any
    benchmark: str
    summary: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "loader", _ref(self.loader))


@dataclass(frozen=True)
class TrainableEntry:
    """A trial-mode trainable: a Tune function ``trainable(config, run)`` where ``run`` is the
    run's settings as a dict (see :class:`~ednag.experiment.settings.RunSettings`).
    ``needs_table=False``: it trains for real, so a config may leave out the table."""

    target: str | Ref | Any
    summary: str = ""
    needs_table: bool = True

    def __post_init__(self) -> None:
        object.__setattr__(self, "target", _ref(self.target))


E = TypeVar("E")


@dataclass
class Registry(Generic[E]):
    """Names -> entries of one kind, plus the entry points of installed plugins."""

    kind: str
    entry_type: type
    group: str
    _entries: dict[str, E] = field(default_factory=dict)
    _plugins_loaded: bool = False

    def register(self, name: str, entry: E, *, replace: bool = False) -> E:
        """Add ``entry`` under ``name``; a clash is an error unless ``replace``."""
        if not isinstance(name, str) or not name or not name.replace("_", "").replace(
            "-", ""
        ).isalnum():
            raise RegistryError(
                f"{self.kind} name must be letters, digits, '_' or '-', got {name!r}"
            )
        if not isinstance(entry, self.entry_type):
            raise RegistryError(
                f"a {self.kind} entry must be a {self.entry_type.__name__}, got {entry!r}"
            )
        if name in self._entries and not replace and self._entries[name] != entry:
            raise RegistryError(f"{self.kind} {name!r} is already registered")
        self._entries[name] = entry
        return entry

    def unregister(self, name: str) -> None:
        self._entries.pop(name, None)

    @contextlib.contextmanager
    def temporarily(self, name: str, entry: E) -> Iterator[E]:
        """Register ``entry`` for the duration of a ``with`` block (tests, notebooks)."""
        previous = self._entries.get(name)
        self.register(name, entry, replace=True)
        try:
            yield entry
        finally:
            if previous is None:
                self.unregister(name)
            else:
                self._entries[name] = previous

    def _load_plugins(self) -> None:
        if self._plugins_loaded:
            return
        self._plugins_loaded = True
        for point in importlib_metadata.entry_points(group=self.group):
            if point.name not in self._entries:
                self.register(point.name, point.load())

    def names(self) -> tuple[str, ...]:
        """Every registered name, in registration order."""
        self._load_plugins()
        return tuple(self._entries)

    def __contains__(self, name: object) -> bool:
        return name in self.names()

    def get(self, name: str) -> E:
        """The entry of ``name``; :class:`RegistryError` names the allowed ones."""
        names = self.names()
        if name not in self._entries:
            raise RegistryError(f"unknown {self.kind} {name!r}; allowed: {', '.join(names)}")
        return self._entries[name]

    def items(self) -> list[tuple[str, E]]:
        return [(name, self._entries[name]) for name in self.names()]


def _registry(kind: str, entry_type: type, group: str,
              builtins: dict[str, Any]) -> Registry[Any]:
    reg: Registry[Any] = Registry(kind, entry_type, group)
    for name, entry in builtins.items():
        reg.register(name, entry)
    return reg


OPTIMIZERS: Registry[OptimizerEntry] = _registry("optimizer", OptimizerEntry, "ednag.optimizers", {
    "random": OptimizerEntry(
        "ednag.optimizers.random_search:RandomSearch", summary="uniform random search",
        multi_objective=True),
    "regularized_evolution": OptimizerEntry(
        "ednag.optimizers.regularized_evolution:RegularizedEvolution",
        summary="regularized (aging) evolution, Real et al. 2019"),
    "optuna_tpe": OptimizerEntry(
        "searchers.optuna_tpe:make_optuna_tpe", kind="searcher",
        summary="Optuna's multivariate TPE through Ray's OptunaSearch, de-duplicated"),
    "ednag": OptimizerEntry(
        "ednag.optimizers.evo_diffusion.optimizer:EDNAG",
        summary="evolutionary diffusion-based generation (arXiv 2504.17827)"),
    "local_search": OptimizerEntry(
        "ednag.optimizers.local_search:LocalSearch",
        summary="hill climbing over one-decision neighbours with random restarts (White et al.)"),
    "bananas": OptimizerEntry(
        "ednag.optimizers.bananas:Bananas",
        summary="MLP-ensemble predictor + independent Thompson sampling over mutations (BANANAS)"),
    "ednag_guided": OptimizerEntry(
        "ednag.optimizers.ednag_guided:GuidedEDNAG",
        summary="EDNAG denoising on predicted fitness; queries the top-k unseen per round"),
    "diffusionnag": OptimizerEntry(
        "ednag.optimizers.diffusionnag:DiffusionNAG",
        summary="score model trained on sampled architectures, predictor-guided sampling and "
                "re-ranking (DiffusionNAG, table-only)"),
    "mo_ednag": OptimizerEntry(
        "ednag.optimizers.multi_objective.mo_ednag:MOEDNAG", multi_objective=True,
        single_objective=False,
        summary="multi-objective EDNAG: fitness from Pareto rank + crowding (or HV "
                "contribution)"),
    "mo_ednag_guided": OptimizerEntry(
        "ednag.optimizers.multi_objective.mo_ednag_guided:MOGuidedEDNAG", multi_objective=True,
        single_objective=False,
        summary="multi-objective EDNAG denoising on predicted objective vectors; queries the "
                "unseen that push the front furthest"),
    "mo_rea": OptimizerEntry(
        "ednag.optimizers.multi_objective.mo_rea:MORegularizedEvolution", multi_objective=True,
        single_objective=False,
        summary="multi-objective aging evolution: tournaments by Pareto rank + crowding"),
    "nsga2": OptimizerEntry(
        "ednag.optimizers.multi_objective.optuna_mo:NSGA2", multi_objective=True,
        single_objective=False,
        summary="Optuna's NSGAIISampler (ask/tell), repeats free"),
    "nag": OptimizerEntry(
        "ednag.optimizers.multi_objective.nag:NAG", multi_objective=True,
        single_objective=False,
        summary="NAG-style generator conditioned on target objectives, trained on the queries, "
                "sampled toward the gaps of the front"),
    "mo_tpe": OptimizerEntry(
        "ednag.optimizers.multi_objective.optuna_mo:MOTPE", multi_objective=True,
        single_objective=False,
        summary="Optuna's multi-objective TPESampler (ask/tell), repeats free"),
})


def multi_objective_optimizers() -> tuple[str, ...]:
    """The registered optimizers that accept several objectives."""
    return tuple(name for name, entry in OPTIMIZERS.items() if entry.multi_objective)


def single_objective_optimizers() -> tuple[str, ...]:
    """The registered optimizers of single-objective comparisons (``optimizers: all``, the
    headline tables)."""
    return tuple(name for name, entry in OPTIMIZERS.items() if entry.single_objective)


BENCHMARKS: Registry[BenchmarkEntry] = _registry("benchmark", BenchmarkEntry, "ednag.benchmarks", {
    "nasbench_graph": BenchmarkEntry(
        "ednag.spaces.nasbench_graph:space_for", default_dataset="arxiv",
        importer="ednag.tables.importers.nasbench_graph:import_source",
        default_table="nas-bench-graph", source_hint="'nas-bench-graph' (embedded)",
        summary="NAS-Bench-Graph: 26,206 GNNs on nine graph datasets"),
    "nb201": BenchmarkEntry(
        "ednag.spaces.nb201:space_for", default_dataset="cifar10",
        importer="ednag.tables.importers.nb201:import_source",
        source_hint="the NAS-Bench-201 CSV folder (e.g. ../shared/benchmarks/nb201) or an "
                    "official NAS-Bench-201-v1_*.pth",
        summary="NAS-Bench-201: 15,625 cells on cifar10, cifar100, ImageNet16-120"),
    "transnas_micro": BenchmarkEntry(
        "ednag.spaces.transnas_micro:space_for", default_dataset="class_scene",
        importer="ednag.tables.importers.transnas:import_micro",
        source_hint="the TransNAS-Bench-101 folder (e.g. ../shared/benchmarks/transnas-bench-101) "
                    "or its transbench101_micro_final_valid_metric.csv",
        summary="TransNAS-Bench-101 micro: 4,096 cells on seven tasks (final validation metric)"),
    "transnas_macro": BenchmarkEntry(
        "ednag.spaces.transnas_macro:space_for", default_dataset="class_scene",
        importer="ednag.tables.importers.transnas:import_macro",
        source_hint="the TransNAS-Bench-101 folder (e.g. ../shared/benchmarks/transnas-bench-101) "
                    "or its transbench101_macro_final_valid_metric.csv",
        summary="TransNAS-Bench-101 macro: 3,256 networks on seven tasks (final validation "
                "metric)"),
    "nasbench_macro": BenchmarkEntry(
        "ednag.spaces.nasbench_macro:space_for", default_dataset="cifar10",
        importer="ednag.tables.importers.nasbench_macro:import_source",
        source_hint="the NAS-Bench-Macro folder (e.g. ../shared/benchmarks/nas-bench-macro) or "
                    "its nas-bench-macro_cifar10.json",
        summary="NAS-Bench-Macro: 6,561 encodings (3,969 networks) on CIFAR-10, test accuracy of "
                "three trainings"),
})

TABLES: Registry[TableEntry] = _registry("embedded table", TableEntry, "ednag.tables", {
    "nas-bench-graph": TableEntry(
        "ednag.tables.importers.nasbench_graph:import_nasbench_graph", benchmark="nasbench_graph",
        summary="built in memory from the nas-bench-graph pip package"),
})

TRAINABLES: Registry[TrainableEntry] = _registry("trainable", TrainableEntry, "ednag.trainables", {
    "lookup": TrainableEntry(
        "trainables.lookup:lookup_trainable",
        summary="reads the architecture's metrics from the benchmark table (optionally sleeps "
                "a fraction of its training time)"),
    "nb201_train": TrainableEntry(
        "trainables.nb201_train:nb201_train", needs_table=False,
        summary="trains the NAS-Bench-201 network of the cell in PyTorch (SGD, cosine "
                "schedule), reports validation accuracy every epoch, checkpoints every epoch"),
})


def load_space_factory(ref: str | Ref) -> Callable[[str | None], Any]:
    """The ``space(dataset)`` callable of a benchmark entry's reference."""
    return Ref.parse(ref).load()
