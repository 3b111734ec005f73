"""An experiment plan: a validated config checked against its table, and the settings of every
run (no Ray).

The table is loaded in the driver to check the dataset and the metrics and to record the
optimum; the optimizer parameters are checked by the runner (which may import Ray).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ednag.atomic import atomic_write_text
from ednag.experiment.config import ConfigError, ExperimentConfig, config_summary
from ednag.experiment.settings import RunSettings
from ednag.pareto import FrontScale, pareto_mask
from ednag.registry import BENCHMARKS, OPTIMIZERS, TABLES, TRAINABLES
from ednag.spaces import SpaceError, make_space
from ednag.tables import Table, TableError, import_table, load_table

#: the Tune trainable that runs a user's own function (``trainable: module:function``)
USER_TRAINABLE_WRAPPER = "trainables.user_function:user_trainable"


@dataclass(frozen=True)
class Plan:
    """A validated experiment ready to run."""

    config: ExperimentConfig
    out_dir: Path
    table_spec: str  # what the BenchmarkTable actor loads
    metadata: dict[str, Any]  # the run config stored in every Parquet file
    settings: list[RunSettings]
    space: Any
    run_id: str


def run_id_of(out_dir: Path) -> str:
    """A short id of an experiment (its result directory): names its table actors."""
    return hashlib.sha1(str(Path(out_dir).resolve()).encode()).hexdigest()[:10]


def load_driver_table(config: ExperimentConfig, state_dir: Path) -> tuple[Table, str]:
    """The table (for validation and the optimum) and the spec the actor will load.

    A benchmark's own files (a folder, an official file) are imported in memory; the actor gets
    a Parquet copy in ``DIR/state/`` (the actor loads tables from Parquet or embedded names).
    """
    spec = config.table
    is_table = spec in TABLES.names() or (Path(spec).is_file() and spec.endswith(".parquet"))
    if not is_table:
        try:
            table = import_table(config.benchmark, spec)
        except TableError as err:
            raise ConfigError(f"table: {err}") from None
        digest = hashlib.sha1(spec.encode()).hexdigest()[:10]
        copy = state_dir / f"table-{config.benchmark}-{digest}.parquet"
        if not copy.is_file():
            table.save(copy)
        return table, str(copy)
    try:
        return load_table(spec), spec
    except TableError as err:
        raise ConfigError(f"table: {err}") from None


def _metric(table: Table, config: ExperimentConfig, role: str) -> tuple[str, Any] | None:
    given = getattr(config, role) if role != "time" else None
    ref = given or table.defaults(config.dataset)[role]
    if ref is None:
        return None
    try:
        table.column_index(config.dataset, ref[0], ref[1])
    except TableError as err:
        raise ConfigError(f"{role}: {err}") from None
    return (ref[0], ref[1])


def make_plan(config: ExperimentConfig, out_dir: Path, chunk_rows: int = 2000,
              checkpoint_seconds: float = 10.0) -> Plan:
    """Validate ``config`` against its table; build the run settings."""
    out_dir = Path(out_dir)
    state_dir = out_dir / "state"
    state_dir.mkdir(parents=True, exist_ok=True)
    if config.table is None:
        return _plan_without_table(config, out_dir, chunk_rows)
    table, actor_spec = load_driver_table(config, state_dir)
    if table.benchmark != config.benchmark:
        raise ConfigError(
            f"benchmark: the table {config.table!r} holds {table.benchmark!r}, but the config "
            f"says {config.benchmark!r}"
        )
    try:
        table.metrics(config.dataset)
    except TableError as err:
        raise ConfigError(f"dataset: {err}") from None
    if config.objectives:
        fitness, reported = _objective_metrics(table, config)
    else:
        fitness = _metric(table, config, "fitness")
        reported = _metric(table, config, "reported")
    time_ref = _metric(table, config, "time")
    try:
        space = make_space(config.benchmark, config.dataset)
    except SpaceError as err:
        raise ConfigError(f"dataset: {err}") from None
    max_queries = config.max_queries or len(set(table.keys))  # distinct queries the table holds
    best_arch, best_value = table.best(config.dataset, *reported)
    best_fit_arch, best_fit = table.best(config.dataset, *fitness)
    metadata = config_summary(config)
    metadata.update(
        fitness=list(fitness), reported=list(reported),
        time=None if time_ref is None else list(time_ref),
        table_source=table.source,
        optimum={"value": best_value, "arch": best_arch, "metric": reported[0],
                 "fidelity": reported[1]},
        optimum_fitness={"value": best_fit, "arch": best_fit_arch, "metric": fitness[0],
                         "fidelity": fitness[1]},
    )
    if config.objectives:
        metadata["front"] = true_front(table, config, fitness, reported)
    run_id = run_id_of(out_dir)
    settings = _run_settings(config, actor_spec, max_queries, fitness, reported, time_ref,
                             run_id, chunk_rows, checkpoint_seconds)
    return Plan(config, out_dir, actor_spec, metadata, settings, space, run_id)


def _objective_metrics(table: Table, config: ExperimentConfig
                       ) -> tuple[tuple[str, Any], tuple[str, Any]]:
    """Check every objective and constraint metric against the table (the error lists the
    table's metrics), check that some architecture meets every constraint (the error says how
    close the best one gets); (fitness, reported) of a multi-objective run."""
    for role, items in (("objectives", config.objectives), ("constraints", config.constraints)):
        for item in items:
            metric, fidelity = item[0], item[1]
            try:
                table.column_index(config.dataset, metric, fidelity)
            except TableError as err:
                name = metric if fidelity is None else f"{metric}@{fidelity}"
                raise ConfigError(f"{role}.{name}: not in the table: {err}") from None
    if config.constraints:
        ok = np.ones(len(table), dtype=bool)
        gaps = np.zeros(len(table))
        for metric, fidelity, op, bound in config.constraints:
            col = table.column(config.dataset, metric, fidelity)
            ok &= (col <= bound) if op == "<=" else (col >= bound)
            gaps += np.nan_to_num(np.maximum(col - bound, 0) if op == "<="
                                  else np.maximum(bound - col, 0), nan=np.inf)
        if not ok.any():
            best = int(np.argmin(gaps))
            closest = ", ".join(
                f"{m}{'' if f is None else '@' + str(f)} = "
                f"{table.column(config.dataset, m, f)[best]:.6g} (needs {op} {bound:g})"
                for m, f, op, bound in config.constraints)
            raise ConfigError(
                f"constraints: no architecture in the table satisfies them all; the closest "
                f"one ({table.archs[best]}) has {closest}"
            )
    first = (config.objectives[0][0], config.objectives[0][1])
    default = table.defaults(config.dataset)
    fitness = first if config.fitness is None else config.fitness
    if config.reported is not None:
        reported = config.reported
    elif tuple(fitness) == tuple(default["fitness"]):
        reported = default["reported"]
    else:
        reported = fitness
    for role, ref in (("fitness", fitness), ("reported", reported)):
        try:
            table.column_index(config.dataset, ref[0], ref[1])
        except TableError as err:
            raise ConfigError(f"{role}: {err}") from None
    return (fitness[0], fitness[1]), (reported[0], reported[1])


def reported_objectives(config: ExperimentConfig, fitness: tuple[str, Any],
                        reported: tuple[str, Any]) -> list[tuple[str, Any, str]]:
    """The objectives a multi-objective run is reported on: each objective, the fitness metric
    replaced by the reported one (search on validation, report test)."""
    return [((reported[0], reported[1], mode) if (m, f) == tuple(fitness) else (m, f, mode))
            for m, f, mode in config.objectives]


def true_front(table: Table, config: ExperimentConfig, fitness: tuple[str, Any],
               reported: tuple[str, Any]) -> dict[str, Any]:
    """The table's true Pareto front of the reported objectives (feasible architectures only)
    and its :class:`~ednag.pareto.FrontScale` (stored in the metadata for the analysis)."""
    objectives = reported_objectives(config, fitness, reported)
    pts = np.column_stack([table.column(config.dataset, m, f) * (1.0 if mode == "max" else -1.0)
                           for m, f, mode in objectives])
    ok = np.all(np.isfinite(pts), axis=1)
    for metric, fidelity, op, bound in config.constraints:
        col = table.column(config.dataset, metric, fidelity)
        ok &= (col <= bound) if op == "<=" else (col >= bound)
    return {"objectives": [list(o) for o in objectives], **front_record(pts[ok])}


def front_record(pts: np.ndarray) -> dict[str, Any]:
    """The Pareto front of ``pts`` (maximised units; rows with a NaN left out) and its
    :class:`~ednag.pareto.FrontScale`, as the metadata stores them for the analysis."""
    scale = FrontScale.from_points(pts)
    pts = pts[np.all(np.isfinite(pts), axis=1)]
    front = pts[pareto_mask(pts)]
    front = front[np.argsort(front[:, 0])]
    return {
        "ideal": list(scale.ideal), "nadir": list(scale.nadir), "margin": scale.margin,
        "true_hv": scale.true_hv, "reference_point": list(scale.reference_point),
        "points": front.tolist(),  # maximised units
    }


def _plan_without_table(config: ExperimentConfig, out_dir: Path, chunk_rows: int) -> Plan:
    """A training run: metrics come from the trainable (fitness ``valid_acc``, reported
    ``test_acc`` unless the config names others), the optimum is unknown."""
    try:
        space = config_space(config)
    except SpaceError as err:
        raise ConfigError(f"dataset: {err}") from None
    fitness = config.fitness or ("valid_acc", None)
    reported = config.reported or (fitness if config.user_trainable else ("test_acc", None))
    metadata = config_summary(config)
    metadata.update(fitness=list(fitness), reported=list(reported), time=None,
                    table_source=None, optimum=None, optimum_fitness=None)
    if config.objectives:  # no table, no true front: the analysis uses the best one found
        metadata["front"] = {"objectives": [[m, f, mode] for m, f, mode in config.objectives],
                             "empirical": True}
    run_id = run_id_of(out_dir)
    settings = _run_settings(config, "", config.max_queries, fitness, reported, None, run_id,
                             chunk_rows, checkpoint_seconds=10.0)
    return Plan(config, out_dir, "", metadata, settings, space, run_id)


def config_space(config: ExperimentConfig) -> Any:
    """The search space of a config: its benchmark's, or its own ``param_space``."""
    if config.param_space is not None:
        from ednag.spaces.param_spec import space_from_spec

        return space_from_spec(config.param_space)[0]
    return make_space(config.benchmark, config.dataset)


def _run_settings(config: ExperimentConfig, table: str, max_queries: int | None,
                  fitness: tuple[str, Any], reported: tuple[str, Any],
                  time_ref: tuple[str, Any] | None, run_id: str, chunk_rows: int,
                  checkpoint_seconds: float) -> list[RunSettings]:
    """One :class:`RunSettings` per (optimizer, seed), every name resolved to its reference."""
    if config.user_trainable:  # the user's function, wrapped; its space is the param_space
        space_ref, trainable_ref = "", USER_TRAINABLE_WRAPPER
        user = {"param_space": config.param_space, "user_trainable": config.trainable,
                "fitness_mode": config.fitness_mode, "search_path": list(config.search_path)}
    else:
        space_ref = str(BENCHMARKS.get(config.benchmark).space)
        trainable_ref = str(TRAINABLES.get(config.trainable).target)
        user = {}
    settings = []
    for name, seed in config.runs:
        entry = OPTIMIZERS.get(name)
        params = dict(config.optimizers[name])
        if config.objectives and entry.multi_objective and _takes_num_objectives(entry):
            params["num_objectives"] = len(config.objectives)
        settings.append(RunSettings(
            benchmark=config.benchmark, dataset=config.dataset, table=table,
            optimizer=name, params=params, seed=seed,
            max_queries=max_queries, sim_seconds=config.sim_seconds, workers=config.workers,
            fitness=fitness, reported=reported, time=time_ref, space_ref=space_ref,
            optimizer_ref=str(entry.target), optimizer_kind=entry.kind,
            trainable_ref=trainable_ref, run_id=run_id,
            sim_time_per_eval=config.sim_time_per_eval, chunk_rows=chunk_rows,
            checkpoint_seconds=checkpoint_seconds,
            extra={"sleep_scale": config.sleep_scale, "max_failures": config.max_failures,
                   "training": config.training, "scheduler": config.scheduler,
                   "resources": config.resources, **user},
            objectives=tuple(config.objectives), constraints=tuple(config.constraints),
        ))
    return settings


def _takes_num_objectives(entry: Any) -> bool:
    import inspect

    return "num_objectives" in inspect.signature(entry.target.load()).parameters


def check_same_config(state_dir: Path, metadata: dict[str, Any], resume: bool) -> None:
    """Store the config on the first start; a resume must use the same one."""
    path = state_dir / "config.json"
    current = json.loads(json.dumps(metadata))
    if path.is_file():
        previous = json.loads(path.read_text())
        if resume and previous != current:
            keys = sorted(k for k in set(previous) | set(current)
                          if previous.get(k) != current.get(k))
            raise ConfigError(
                f"--resume: {state_dir.parent} was started with a different config (differs "
                f"in: {', '.join(keys)}); use the same config and --set values, or another --out"
            )
    atomic_write_text(path, json.dumps(current, indent=1, sort_keys=True))
