"""Experiment configs: load a YAML file, apply ``--set key=value`` overrides, validate.

Pure: no Ray, no table loading. Every error is a :class:`ConfigError` naming the key and the
values it accepts. Checks that need the table (dataset and metric names) or the optimizer
classes (their parameters) live in :mod:`trainables.run`, before any Ray worker starts.

A config (all keys but ``benchmark`` and ``optimizers`` optional)::

    name: nb201-cifar10             # default: the file name without .yaml
    benchmark: nb201                # a registered benchmark (ednag list)
    table: ../../shared/benchmarks/nb201   # .parquet, the benchmark's own files, or embedded
    dataset: cifar10
    fitness: accuracy@200           # metric[@fidelity]; default: the table's default
    reported: test_accuracy@200
    optimizers: {ednag: {population: 20}, random: {}, regularized_evolution: {}, optuna_tpe: {}}
                                    # or "all": every registered optimizer with its defaults
                                    # (with several objectives: every multi-objective one)
    seeds: 5                        # a count n (seeds 0..n-1) or a list of ints
    budget: {queries: 200, sim_seconds: 36000}
    mode: tabular                   # tabular | trial
    trainable: lookup               # trial mode: a registered trainable (ednag list), or
                                    # your own Tune function trainable as module:function
    param_space: {lr: {loguniform: [1.0e-4, 1.0e-1]}, width: {choice: [32, 64]}}
                                    # with your own trainable, instead of benchmark: what to
                                    # search (Tune's domains by name: ednag.spaces.param_spec)
    fitness_mode: max               # with param_space: max or min (fitness names your metric;
                                    # default: the mode of the objective it names, else max)
    workers: 1                      # simulated workers (tabular) / concurrent trials (trial)
    sim_time_per_eval: 1.0          # simulated seconds per evaluation without a time metric
    sleep_scale: 0.0                # trial mode: sleep this fraction of the training time
    max_failures: 2                 # retries of a run / trial whose worker died or raised
    ray: {address: null, num_cpus: null}
    objectives: {valid_acc@200: max, latency_ms_pixel3: min}   # multi-objective
    constraints: {latency_ms_pixel3: "<= 10"}                  # "<= x" or ">= x"

With ``objectives``, ``fitness`` (the row column the optimizer's first objective fills) is the
first objective's metric; ``reported`` stays the table's default when the first objective is the
table's default fitness (validation accuracy -> test accuracy), else the first objective itself.
Several objectives need optimizers registered as multi-objective (``ednag list``). Objectives
work in both modes: with a table (tabular mode, or trial mode with the ``lookup`` trainable) they
name table metrics, checked against the table before Ray starts; with your own trainable
(``param_space``) they name metrics your function reports, without a fidelity, and ``fitness``
defaults to the first objective (``fitness_mode`` to its mode).
"""

from __future__ import annotations

import copy
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ednag.experiment.training import (
    TrainingConfigError,
    parse_resources,
    parse_scheduler,
    parse_training,
)
from ednag.registry import (
    BENCHMARKS,
    OPTIMIZERS,
    TABLES,
    TRAINABLES,
    multi_objective_optimizers,
    single_objective_optimizers,
)

MODES: tuple[str, ...] = ("tabular", "trial")
TOP_LEVEL_KEYS: tuple[str, ...] = (
    "name", "description", "benchmark", "table", "dataset", "fitness", "reported",
    "optimizers", "seeds", "budget", "mode", "trainable", "workers", "sim_time_per_eval",
    "sleep_scale", "max_failures", "training", "scheduler", "resources", "ray",
    "param_space", "fitness_mode", "objectives", "constraints",
)
#: the benchmark name of an experiment over a config's own ``param_space``
PARAM_SPACE_BENCHMARK = "param_space"
FITNESS_MODES: tuple[str, ...] = ("max", "min")
OBJECTIVE_MODES: tuple[str, ...] = ("max", "min")
CONSTRAINT_OPS: tuple[str, ...] = ("<=", ">=")
BUDGET_KEYS: tuple[str, ...] = ("queries", "sim_seconds")
RAY_KEYS: tuple[str, ...] = ("address", "num_cpus", "num_gpus", "object_store_memory")
DEFAULT_SIM_TIME_PER_EVAL = 1.0
#: retries of a run (tabular) or a trial (trial mode) whose worker died or that raised
DEFAULT_MAX_FAILURES = 2

MetricRef = tuple[str, int | str | None]
#: (metric, fidelity, "max" | "min")
Objective = tuple[str, int | str | None, str]
#: (metric, fidelity, "<=" | ">=", bound)
Constraint = tuple[str, int | str | None, str, float]


class ConfigError(ValueError):
    """A bad experiment config: names the key and the allowed values."""


@dataclass(frozen=True)
class ExperimentConfig:
    """A validated experiment (table-dependent checks are done by the runner)."""

    name: str
    benchmark: str
    table: str | None  # an absolute path (file or folder), an embedded table name, or None
    # (a training trainable without a table)
    dataset: str
    fitness: MetricRef | None  # None: the table's default
    reported: MetricRef | None
    optimizers: dict[str, dict[str, Any]]
    seeds: tuple[int, ...]
    max_queries: int | None
    sim_seconds: float | None
    mode: str
    trainable: str
    workers: int
    sim_time_per_eval: float
    sleep_scale: float
    max_failures: int
    ray: dict[str, Any]
    raw: dict[str, Any] = field(repr=False)  # the merged config as given (for the metadata)
    training: dict[str, Any] | None = None  # trial mode with a training trainable
    scheduler: dict[str, Any] | None = None  # {"asha": {...}}
    resources: dict[str, float] | None = None  # per trial
    #: a user trainable's ``param_space`` (as written; see ednag.spaces.param_spec)
    param_space: dict[str, Any] | None = None
    fitness_mode: str = "max"  # of the fitness metric a user trainable reports
    #: folders searched for a user trainable's module: the config's, then the current one
    search_path: tuple[str, ...] = ()

    objectives: tuple[Objective, ...] = ()  # empty: single-objective on ``fitness``
    constraints: tuple[Constraint, ...] = ()

    @property
    def user_trainable(self) -> bool:
        """The trainable is the user's own function (``module:function``)."""
        return is_user_trainable(self.trainable)

    @property
    def multi_objective(self) -> bool:
        return len(self.objectives) > 1

    @property
    def runs(self) -> list[tuple[str, int]]:
        """Every (optimizer, seed) pair, in a stable order."""
        return [(opt, seed) for opt in self.optimizers for seed in self.seeds]


# ---------------------------------------------------------------------------- loading
def load_config(
    path: str | Path, overrides: Sequence[str] = (), cwd: str | Path | None = None
) -> ExperimentConfig:
    """Read ``path``, apply ``overrides`` ("dotted.key=yaml value") and validate."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"config file {str(path)!r} not found")
    try:
        raw = yaml.safe_load(path.read_text())
    except yaml.YAMLError as err:
        raise ConfigError(f"config file {str(path)!r} is not valid YAML: {err}") from None
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ConfigError(f"config file {str(path)!r} must hold a mapping of keys, not {raw!r}")
    raw = apply_overrides(raw, overrides)
    raw.setdefault("name", path.stem)
    return validate(raw, base_dirs=(path.resolve().parent, Path(cwd or Path.cwd())))


def apply_overrides(raw: Mapping[str, Any], overrides: Sequence[str]) -> dict[str, Any]:
    """A copy of ``raw`` with each "a.b.c=value" set (value parsed as YAML)."""
    out = copy.deepcopy(dict(raw))
    for item in overrides:
        key, sep, text = str(item).partition("=")
        key = key.strip()
        if not sep or not key:
            raise ConfigError(f"--set {item!r}: expected KEY=VALUE, e.g. --set seeds=20")
        try:
            value = yaml.safe_load(text) if text.strip() else None
        except yaml.YAMLError as err:
            raise ConfigError(f"--set {item!r}: the value is not valid YAML ({err})") from None
        parts = key.split(".")
        node = out
        for i, part in enumerate(parts[:-1]):
            child = node.get(part)
            if child is None:
                child = node[part] = {}
            if not isinstance(child, dict):
                where = ".".join(parts[: i + 1])
                raise ConfigError(
                    f"--set {item!r}: {where!r} is {child!r}, not a mapping, so it has no "
                    f"key {parts[i + 1]!r}"
                )
            node = child
        node[parts[-1]] = value
    return out


# ---------------------------------------------------------------------------- validation
def validate(
    raw: Mapping[str, Any], base_dirs: Sequence[Path] = (Path("."),)
) -> ExperimentConfig:
    """Check every key of a raw config; relative table paths resolve against ``base_dirs``."""
    unknown = sorted(set(raw) - set(TOP_LEVEL_KEYS))
    if unknown:
        raise ConfigError(
            f"unknown config key(s) {', '.join(unknown)}; allowed: {', '.join(TOP_LEVEL_KEYS)}"
        )
    if raw.get("param_space") is not None:
        return _validate_param_space(raw, base_dirs)
    if is_user_trainable(raw.get("trainable")):
        _trainable(raw["trainable"], "trial")  # names the missing param_space
    benchmark = _choice(raw, "benchmark", BENCHMARKS.names(), required=True)
    entry = BENCHMARKS.get(benchmark)
    name = _name(raw)
    if raw.get("fitness_mode") is not None:
        raise ConfigError("fitness_mode needs param_space (a table's fitness is always "
                          "maximised)")
    dataset = raw.get("dataset", entry.default_dataset)
    if not isinstance(dataset, str) or not dataset:
        raise ConfigError(f"dataset must be a dataset name (a string), got {dataset!r}")
    mode = _choice(raw, "mode", MODES, default="tabular")
    max_queries, sim_seconds = _budget(raw.get("budget"), mode)
    trainable = _trainable(raw.get("trainable"), mode)
    table_value = raw.get("table", entry.default_table)
    needs_table = mode == "tabular" or TRAINABLES.get(trainable).needs_table
    if not needs_table and max_queries is None:
        raise ConfigError(f"budget.queries is required with trainable {trainable!r} (no table "
                          "says how many architectures there are)")
    objectives, constraints, optimizers = _objectives_and_optimizers(raw)
    if (objectives or constraints) and mode == "trial" and trainable != "lookup":
        raise ConfigError(
            f"objectives and constraints in trial mode need trainable: lookup (the table's "
            f"metrics) or your own function (module:function with param_space); {trainable!r} "
            "reports only fitness and reported"
        )
    return ExperimentConfig(
        name=name,
        benchmark=benchmark,
        search_path=tuple(str(b) for b in base_dirs),
        table=(resolve_table(table_value, benchmark, base_dirs)
               if needs_table or table_value is not None else None),
        dataset=dataset,
        fitness=parse_metric(raw.get("fitness"), "fitness"),
        reported=parse_metric(raw.get("reported"), "reported"),
        optimizers=optimizers,
        seeds=_seeds(raw.get("seeds", 1)),
        max_queries=max_queries,
        sim_seconds=sim_seconds,
        mode=mode,
        trainable=trainable,
        workers=_positive_int(raw.get("workers", 1), "workers"),
        sim_time_per_eval=_positive_float(
            raw.get("sim_time_per_eval", DEFAULT_SIM_TIME_PER_EVAL), "sim_time_per_eval"
        ),
        sleep_scale=_non_negative_float(raw.get("sleep_scale", 0.0), "sleep_scale"),
        max_failures=_non_negative_int(raw.get("max_failures", DEFAULT_MAX_FAILURES),
                                       "max_failures"),
        ray=_ray_options(raw.get("ray")),
        raw=copy.deepcopy(dict(raw)),
        **_training_sections(raw, mode, base_dirs),
        objectives=objectives,
        constraints=constraints,
    )


def _objectives_and_optimizers(
    raw: Mapping[str, Any],
) -> tuple[tuple[Objective, ...], tuple[Constraint, ...], dict[str, dict[str, Any]]]:
    """The objectives, the constraints and the optimizers (multi-objective ones for several
    objectives), checked against each other."""
    objectives = parse_objectives(raw.get("objectives"))
    constraints = parse_constraints(raw.get("constraints"))
    optimizers = _optimizers(raw.get("optimizers"), multi=len(objectives) > 1)
    if constraints and not objectives:
        raise ConfigError("constraints need objectives: name them, e.g. objectives: "
                          "{valid_acc@200: max, latency_ms_pixel3: min}")
    if len(objectives) > 1:
        multi = multi_objective_optimizers()
        single = [n for n in optimizers if n not in multi]
        if single:
            raise ConfigError(
                f"optimizers: {', '.join(single)} optimize a single objective, but objectives "
                f"names {len(objectives)}; multi-objective optimizers: {', '.join(multi)}"
            )
    return objectives, constraints, optimizers


def _user_fitness(raw: Mapping[str, Any], objectives: Sequence[Objective],
                  constraints: Sequence[Constraint]) -> tuple[MetricRef, str]:
    """A user trainable's (fitness, fitness_mode): ``fitness`` defaults to the first objective
    and ``fitness_mode`` to the mode of the objective it names (else max)."""
    for role, items in (("objectives", objectives), ("constraints", constraints)):
        for metric, fidelity, *_ in items:
            if fidelity is not None:
                raise ConfigError(f"{role}.{metric}@{fidelity}: your trainable's metrics have "
                                  f"no fidelity; name the metric as it reports it ({metric})")
    fitness = parse_metric(raw.get("fitness"), "fitness")
    if fitness is None and objectives:
        fitness = (objectives[0][0], None)
    if fitness is None:
        raise ConfigError("fitness is required with param_space: the metric your trainable "
                          "reports (e.g. fitness: valid_acc, fitness_mode: max), or objectives")
    implied = next((mode for metric, _, mode in objectives if metric == fitness[0]), None)
    mode = _choice(raw, "fitness_mode", FITNESS_MODES, default=implied or "max")
    if implied is not None and mode != implied:
        raise ConfigError(f"fitness_mode: {mode!r} contradicts objectives.{fitness[0]}: "
                          f"{implied!r}; leave fitness_mode out")
    return (fitness[0], None), mode


def _name(raw: Mapping[str, Any]) -> str:
    name = raw.get("name") or "experiment"
    if not isinstance(name, str) or "/" in name:
        raise ConfigError(f"name must be a string without '/', got {name!r}")
    return name


def _validate_param_space(raw: Mapping[str, Any], base_dirs: Sequence[Path]) -> ExperimentConfig:
    """An experiment over the config's own ``param_space`` with a user trainable."""
    from ednag.spaces.param_spec import ParamSpecError, space_from_spec

    for key in ("benchmark", "table"):
        if raw.get(key) is not None:
            raise ConfigError(f"{key} and param_space exclude each other: param_space searches "
                              "your own trainable's configuration, not a benchmark")
    mode = _choice(raw, "mode", MODES, default="trial")
    if mode != "trial":
        raise ConfigError("param_space needs mode: trial (every configuration is a real trial "
                          "of your trainable)")
    trainable = raw.get("trainable")
    if not is_user_trainable(trainable):
        raise ConfigError(f"param_space needs trainable: module:function (your Tune function "
                          f"trainable, e.g. mypkg.train:fit), got {trainable!r}")
    try:
        space_from_spec(raw["param_space"])
    except ParamSpecError as err:
        raise ConfigError(str(err)) from None
    objectives, constraints, optimizers = _objectives_and_optimizers(raw)
    fitness, fitness_mode = _user_fitness(raw, objectives, constraints)
    dataset = raw.get("dataset", "custom")
    if not isinstance(dataset, str) or not dataset:
        raise ConfigError(f"dataset must be a label (a string), got {dataset!r}")
    max_queries, _ = _budget(raw.get("budget"), mode)
    if max_queries is None:
        raise ConfigError("budget.queries is required with param_space (how many "
                          "configurations each optimizer may train)")
    return ExperimentConfig(
        name=_name(raw), benchmark=PARAM_SPACE_BENCHMARK, table=None, dataset=dataset,
        fitness=fitness,
        reported=(None if raw.get("reported") is None
                  else (parse_metric(raw["reported"], "reported")[0], None)),
        optimizers=optimizers, seeds=_seeds(raw.get("seeds", 1)),
        max_queries=max_queries, sim_seconds=None, mode=mode, trainable=str(trainable),
        workers=_positive_int(raw.get("workers", 1), "workers"),
        sim_time_per_eval=DEFAULT_SIM_TIME_PER_EVAL,
        sleep_scale=_non_negative_float(raw.get("sleep_scale", 0.0), "sleep_scale"),
        max_failures=_non_negative_int(raw.get("max_failures", DEFAULT_MAX_FAILURES),
                                       "max_failures"),
        ray=_ray_options(raw.get("ray")), raw=copy.deepcopy(dict(raw)),
        scheduler=_user_scheduler(raw.get("scheduler")),
        resources=_user_resources(raw.get("resources")),
        param_space=copy.deepcopy(dict(raw["param_space"])),
        fitness_mode=fitness_mode,
        search_path=tuple(str(Path(b).resolve()) for b in base_dirs),
        objectives=objectives, constraints=constraints,
    )


def _user_scheduler(raw: Any) -> dict[str, Any] | None:
    """ASHA over a user trainable's reports (``training_iteration``); max_t is required."""
    if raw is None:
        return None
    max_t = raw.get("asha", {}).get("max_t") if isinstance(raw, dict) and isinstance(
        raw.get("asha"), dict) else None
    if max_t is None:
        raise ConfigError("scheduler.asha.max_t is required with param_space (the most "
                          "training iterations, i.e. tune.report calls, of a trial)")
    try:
        return parse_scheduler(raw, int(max_t))
    except TrainingConfigError as err:
        raise ConfigError(str(err)) from None


def _user_resources(raw: Any) -> dict[str, float] | None:
    try:
        return parse_resources(raw)
    except TrainingConfigError as err:
        raise ConfigError(str(err)) from None


def is_user_trainable(name: Any) -> bool:
    """``module:function`` names a user's own trainable (registered names have no colon)."""
    return isinstance(name, str) and ":" in name


def resolve_table(value: Any, benchmark: str, base_dirs: Sequence[Path]) -> str:
    """An embedded table name, or the absolute path of an existing file or folder (a relative
    path is looked up in ``base_dirs`` in order: the config file's folder, then the current
    directory)."""
    embedded = TABLES.names()
    hint = BENCHMARKS.get(benchmark).source_hint
    if value is None:
        raise ConfigError(f"table is required for benchmark {benchmark!r}: {hint}")
    if not isinstance(value, (str, Path)) or not str(value):
        raise ConfigError(f"table must be a path or one of {', '.join(embedded)}, got {value!r}")
    text = str(value)
    if text in embedded:
        return text
    path = Path(text).expanduser()
    tried = [path] if path.is_absolute() else [Path(base) / path for base in base_dirs]
    for candidate in tried:
        if candidate.exists():
            return str(candidate.resolve())
    raise ConfigError(
        f"table {text!r} not found (looked at {', '.join(str(p) for p in tried)}); give "
        f"{hint}, a .parquet table, or one of: {', '.join(embedded)}"
    )


def parse_metric(value: Any, key: str) -> MetricRef | None:
    """``"metric@fidelity"`` / ``"metric"`` / ``[metric, fidelity]`` -> (metric, fidelity)."""
    if value is None:
        return None
    if isinstance(value, (list, tuple)) and len(value) == 2 and isinstance(value[0], str):
        metric, fidelity = value[0], value[1]
    elif isinstance(value, str) and value:
        metric, at, fid = value.partition("@")
        if at and not fid:
            raise ConfigError(f"{key}: {value!r} has an empty fidelity after '@'")
        fidelity = (int(fid) if fid.isdigit() else fid) if at else None
    else:
        raise ConfigError(
            f"{key} must be 'metric' or 'metric@fidelity' (e.g. accuracy@200), got {value!r}"
        )
    if not metric or (fidelity is not None and not isinstance(fidelity, (int, str))):
        raise ConfigError(f"{key}: bad metric reference {value!r}")
    return metric, fidelity


def parse_objectives(value: Any) -> tuple[Objective, ...]:
    """``{metric[@fidelity]: max|min, ...}`` -> ((metric, fidelity, mode), ...) in order."""
    if value is None:
        return ()
    if not isinstance(value, dict) or not value:
        raise ConfigError(
            f"objectives must map metrics to max or min, e.g. {{valid_acc@200: max, "
            f"latency_ms_pixel3: min}}, got {value!r}"
        )
    out = []
    for name, mode in value.items():
        metric, fidelity = parse_metric(name, f"objectives.{name}")
        if mode not in OBJECTIVE_MODES:
            raise ConfigError(f"objectives.{name}: mode must be one of "
                              f"{', '.join(OBJECTIVE_MODES)}, got {mode!r}")
        out.append((metric, fidelity, str(mode)))
    return tuple(out)


def parse_constraints(value: Any) -> tuple[Constraint, ...]:
    """``{metric[@fidelity]: "<= 10", ...}`` -> ((metric, fidelity, op, bound), ...)."""
    if value is None:
        return ()
    if not isinstance(value, dict) or not value:
        raise ConfigError(f'constraints must map metrics to "<= x" or ">= x", e.g. '
                          f'{{latency_ms_pixel3: "<= 10"}}, got {value!r}')
    out = []
    for name, text in value.items():
        metric, fidelity = parse_metric(name, f"constraints.{name}")
        op, bound = str(text).strip()[:2], str(text).strip()[2:].strip()
        try:
            number = float(bound)
        except ValueError:
            number = math.nan
        if op not in CONSTRAINT_OPS or not math.isfinite(number):
            raise ConfigError(f'constraints.{name}: expected "<= x" or ">= x" with a number '
                              f"x, got {text!r}")
        out.append((metric, fidelity, op, number))
    return tuple(out)


def _choice(raw: Mapping[str, Any], key: str, allowed: Sequence[str], *, default: str | None = None,
            required: bool = False) -> str:
    if key not in raw or raw[key] is None:
        if required:
            raise ConfigError(f"{key} is required; allowed: {', '.join(allowed)}")
        return str(default)
    value = raw[key]
    if value not in allowed:
        raise ConfigError(f"{key}: unknown value {value!r}; allowed: {', '.join(allowed)}")
    return str(value)


def _training_sections(raw: Mapping[str, Any], mode: str,
                       base_dirs: Sequence[Path]) -> dict[str, Any]:
    given = [k for k in ("training", "scheduler", "resources") if raw.get(k) is not None]
    if given and mode != "trial":
        raise ConfigError(f"{', '.join(given)} need mode: trial (tabular mode replays a table)")
    try:
        training = parse_training(raw.get("training"), tuple(Path(b) for b in base_dirs))
        return {
            "training": training.to_dict() if raw.get("training") is not None else None,
            "scheduler": parse_scheduler(raw.get("scheduler"), training.epochs),
            "resources": parse_resources(raw.get("resources")),
        }
    except TrainingConfigError as err:
        raise ConfigError(str(err)) from None


def _trainable(value: Any, mode: str) -> str:
    if value is None:
        return "lookup"
    if mode != "trial":
        raise ConfigError("trainable needs mode: trial (tabular mode replays the table itself)")
    names = TRAINABLES.names()
    if is_user_trainable(value):
        raise ConfigError(f"trainable {value!r} (your own function) needs param_space: the "
                          "configuration space to search")
    if value not in names:
        raise ConfigError(f"trainable: unknown value {value!r}; allowed: {', '.join(names)}, "
                          "or your own function as module:function with a param_space")
    return str(value)


def _optimizers(value: Any, multi: bool = False) -> dict[str, dict[str, Any]]:
    allowed = OPTIMIZERS.names()
    if value == "all":  # every registered single- (or multi-)objective optimizer, defaults
        return {name: {} for name in (multi_objective_optimizers() if multi
                                      else single_objective_optimizers())}
    if isinstance(value, str):
        value = [value]
    if isinstance(value, list):
        value = {name: {} for name in value}
    if not isinstance(value, dict) or not value:
        raise ConfigError(
            f"optimizers must map optimizer names to parameters (or list names); allowed "
            f"names: {', '.join(allowed)}; got {value!r}"
        )
    out: dict[str, dict[str, Any]] = {}
    for name, params in value.items():
        if name not in allowed:
            raise ConfigError(f"optimizers: unknown optimizer {name!r}; allowed: "
                              f"{', '.join(allowed)}")
        if params is None:
            params = {}
        if not isinstance(params, dict) or not all(isinstance(k, str) for k in params):
            raise ConfigError(f"optimizers.{name} must be a mapping of parameters, got {params!r}")
        reserved = sorted({"seed", "max_queries", "metric", "mode", "space",
                           "num_objectives"} & set(params))
        if reserved:
            raise ConfigError(
                f"optimizers.{name}: {', '.join(reserved)} are set by the harness (use the "
                "seeds and budget keys)"
            )
        out[name] = dict(params)
    return out


def _seeds(value: Any) -> tuple[int, ...]:
    if _is_int(value):
        if value < 1:
            raise ConfigError(f"seeds must be a count >= 1 or a list of ints, got {value!r}")
        return tuple(range(int(value)))
    if isinstance(value, list) and value and all(_is_int(v) and v >= 0 for v in value):
        if len(set(value)) != len(value):
            raise ConfigError(f"seeds: the list repeats a seed: {value!r}")
        return tuple(int(v) for v in value)
    raise ConfigError(
        f"seeds must be a count n >= 1 (seeds 0..n-1) or a non-empty list of distinct ints "
        f">= 0, got {value!r}"
    )


def _budget(value: Any, mode: str) -> tuple[int | None, float | None]:
    if not isinstance(value, dict):
        raise ConfigError(
            f"budget must be a mapping with queries and/or sim_seconds, got {value!r}"
        )
    unknown = sorted(set(value) - set(BUDGET_KEYS))
    if unknown:
        raise ConfigError(
            f"unknown budget key(s) {', '.join(map(str, unknown))}; allowed: "
            f"{', '.join(BUDGET_KEYS)}"
        )
    queries = value.get("queries")
    seconds = value.get("sim_seconds")
    if queries is None and seconds is None:
        raise ConfigError("budget needs budget.queries and/or budget.sim_seconds")
    if queries is not None:
        queries = _positive_int(queries, "budget.queries")
    if seconds is not None:
        seconds = _positive_float(seconds, "budget.sim_seconds")
        if mode != "tabular":
            raise ConfigError(
                "budget.sim_seconds needs mode: tabular (trial mode has no simulated clock); "
                "use budget.queries"
            )
    return queries, seconds


def _ray_options(value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ConfigError(f"ray must be a mapping of options ({', '.join(RAY_KEYS)}), got {value!r}")
    unknown = sorted(set(value) - set(RAY_KEYS))
    if unknown:
        raise ConfigError(
            f"unknown ray option(s) {', '.join(map(str, unknown))}; allowed: {', '.join(RAY_KEYS)}"
        )
    out = {k: v for k, v in value.items() if v is not None}
    if "address" in out and not isinstance(out["address"], str):
        raise ConfigError(f"ray.address must be a string (e.g. auto), got {out['address']!r}")
    for key in ("num_cpus", "num_gpus"):
        if key in out:
            out[key] = _non_negative_int(out[key], f"ray.{key}")
    if "num_cpus" in out and out["num_cpus"] < 1:
        raise ConfigError(f"ray.num_cpus must be >= 1, got {out['num_cpus']}")
    if "object_store_memory" in out:
        out["object_store_memory"] = _positive_int(out["object_store_memory"],
                                                   "ray.object_store_memory")
    return out


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _positive_int(value: Any, key: str) -> int:
    if not _is_int(value) or value < 1:
        raise ConfigError(f"{key} must be an integer >= 1, got {value!r}")
    return int(value)


def _non_negative_int(value: Any, key: str) -> int:
    if not _is_int(value) or value < 0:
        raise ConfigError(f"{key} must be an integer >= 0, got {value!r}")
    return int(value)


def _number(value: Any) -> Any:
    """YAML 1.1 reads ``1e4`` as a string: accept numeric strings for float keys."""
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return value
    return value


def _positive_float(value: Any, key: str) -> float:
    value = _number(value)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not (
        math.isfinite(value) and value > 0
    ):
        raise ConfigError(f"{key} must be a number > 0, got {value!r}")
    return float(value)


def _non_negative_float(value: Any, key: str) -> float:
    value = _number(value)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not (
        math.isfinite(value) and value >= 0
    ):
        raise ConfigError(f"{key} must be a number >= 0, got {value!r}")
    return float(value)


def config_summary(config: ExperimentConfig) -> dict[str, Any]:
    """The validated config as plain JSON-able data (stored in the result metadata)."""
    summary = {
        "name": config.name,
        "benchmark": config.benchmark,
        "table": config.table,
        "dataset": config.dataset,
        "fitness": None if config.fitness is None else list(config.fitness),
        "reported": None if config.reported is None else list(config.reported),
        "optimizers": config.optimizers,
        "seeds": list(config.seeds),
        "budget": {"queries": config.max_queries, "sim_seconds": config.sim_seconds},
        "mode": config.mode,
        "trainable": config.trainable,
        "workers": config.workers,
        "sim_time_per_eval": config.sim_time_per_eval,
        "sleep_scale": config.sleep_scale,
        "max_failures": config.max_failures,
        "training": config.training,
        "scheduler": config.scheduler,
        "resources": config.resources,
    }
    if config.param_space is not None:  # a user trainable's space; table metadata as it was
        summary.update(param_space=config.param_space, fitness_mode=config.fitness_mode)
    if config.objectives:  # single-objective metadata stays as it was
        summary["objectives"] = [list(o) for o in config.objectives]
        summary["constraints"] = [list(c) for c in config.constraints]
    return summary
